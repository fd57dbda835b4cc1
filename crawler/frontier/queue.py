"""scrapy-redis's priority queue, with every popped entry leased to the process that took it.

scrapy-redis pops an entry (ZRANGE + ZREMRANGEBYRANK) before the request is fetched: a
process killed then loses it. Here one Lua script moves the entry from the queue into the
process's *processing* hash under a new lease number, atomically; the scheduler acknowledges
it (:meth:`LeasedQueue.ack`) once the page's evidence is in the node DB, and while it is not
acknowledged it can always be put back (:meth:`requeue`, :meth:`recover`).

An entry that cannot be read back (not JSON, not a request thriftwatch shares) is logged,
counted and dropped; the crawl goes on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy_redis.queue import PriorityQueue

from crawler.frontier import serializer
from crawler.frontier.requests import TOKEN_META, from_entry, to_entry
from crawler.frontier.serializer import EntryDecodeError
from crawler.normalise import printable

if TYPE_CHECKING:
    from collections.abc import Iterable

    import redis
    from scrapy import Request, Spider

    from crawler.frontier.keys import FrontierKeys

logger = logging.getLogger(__name__)

MAX_SKIPPED = 100  # malformed entries dropped in one pop, at most

# KEYS: queue, processing hash, sequence, nodes. ARGV: node id.
# -> {lease number, entry} or nil. The entry is kept as "score|entry" while leased.
_POP = """
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return nil end
redis.call('ZREM', KEYS[1], first[1])
local token = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], token, first[2] .. '|' .. first[1])
redis.call('SADD', KEYS[4], ARGV[1])
return {token, first[1]}
"""
# KEYS: queue, processing hash. ARGV: lease numbers. Puts those leased entries back.
_REQUEUE = """
local moved = 0
for _, token in ipairs(ARGV) do
  local kept = redis.call('HGET', KEYS[2], token)
  if kept then
    local bar = string.find(kept, '|', 1, true)
    redis.call('ZADD', KEYS[1], tonumber(string.sub(kept, 1, bar - 1)), string.sub(kept, bar + 1))
    redis.call('HDEL', KEYS[2], token)
    moved = moved + 1
  end
end
return moved
"""
# KEYS: queue, processing hash, lease, nodes. ARGV: node id. Only when the lease is gone:
# every entry the node held goes back to the queue, and the node is forgotten.
_RECOVER = """
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local kept = redis.call('HVALS', KEYS[2])
for _, value in ipairs(kept) do
  local bar = string.find(value, '|', 1, true)
  redis.call('ZADD', KEYS[1], tonumber(string.sub(value, 1, bar - 1)), string.sub(value, bar + 1))
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[4], ARGV[1])
return #kept
"""


class LeasedQueue(PriorityQueue):
    """The shared queue of one platform and run, as one process (``node_id``) sees it."""

    def __init__(self, server: redis.Redis, spider: Spider, keys: FrontierKeys, node_id: str):
        # scrapy-redis formats the key with the spider's name: no "%" may be left in it.
        super().__init__(server, spider, keys.queue.replace("%", "%%"), serializer=serializer)
        self.keys = keys
        self.node_id = node_id
        self.processing = keys.processing(node_id)
        self.malformed = 0  # entries dropped because they could not be read
        self._pop = server.register_script(_POP)
        self._requeue = server.register_script(_REQUEUE)
        self._recover = server.register_script(_RECOVER)

    def _encode_request(self, request: Request) -> bytes:
        return to_entry(request, self.spider)  # NotShareable: the scheduler keeps it

    def _decode_request(self, encoded_request: bytes) -> Request:
        return from_entry(encoded_request, self.spider)

    def push_entry(self, entry: bytes, priority: int) -> None:
        """Queue an entry :func:`~crawler.frontier.requests.to_entry` wrote (as ``push``)."""
        self.server.execute_command("ZADD", self.key, -priority, entry)

    def pop(self, timeout: float = 0) -> Request | None:
        """The next request, leased to this process (its lease number in its meta), or None.
        Never blocks: ``timeout`` (scrapy-redis's SCHEDULER_IDLE_BEFORE_CLOSE) is ignored."""
        for _ in range(MAX_SKIPPED):
            popped = self._pop(keys=[self.key, self.processing, self.keys.sequence,
                                     self.keys.nodes], args=[self.node_id])
            if not popped:
                return None
            token, entry = _text(popped[0]), popped[1]
            try:
                request = self._decode_request(entry)
            except EntryDecodeError as error:
                self.malformed += 1
                self.server.hdel(self.processing, token)
                logger.warning("frontier entry dropped, it is not a request thriftwatch "
                               "shares (%s): %s", error, printable(repr(entry[:200])))
                continue
            request.meta[TOKEN_META] = token
            return request
        return None

    def ack(self, tokens: Iterable[str]) -> None:
        """The pages of these leases are stored: forget them."""
        tokens = list(tokens)
        if tokens:
            self.server.hdel(self.processing, *tokens)

    def requeue(self, tokens: Iterable[str]) -> int:
        """Put these leased entries back in the queue for any process to take."""
        tokens = list(tokens)
        if not tokens:
            return 0
        return int(self._requeue(keys=[self.key, self.processing], args=tokens))

    def recover(self, node_id: str) -> int:
        """Put back every entry ``node_id`` held if its lease has expired (-1: it has not)."""
        return int(self._recover(keys=[self.key, self.keys.processing(node_id),
                                       self.keys.lease(node_id), self.keys.nodes],
                                 args=[node_id]))


def _text(value: bytes | int | str) -> str:
    return value.decode("ascii") if isinstance(value, bytes) else str(value)
