"""A process's lease on the requests it took from the frontier, and the hand-back of the
requests of processes that died.

A live process keeps its key ``lease:<node id>`` alive (it expires after
``THRIFTWATCH_FRONTIER_LEASE`` seconds without a heartbeat). Any live process that finds
another's lease gone puts that process's leased requests back in the queue (one Lua script:
only one process does it, and only once the lease has really expired).
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.frontier.keys import KEEP_SECONDS

if TYPE_CHECKING:
    import redis

    from crawler.frontier.keys import FrontierKeys
    from crawler.frontier.queue import LeasedQueue

logger = logging.getLogger(__name__)


def new_node_id(node: str) -> str:
    """This process's id in the frontier: its node name, pid and a random part."""
    return f"{node}.{os.getpid()}.{secrets.token_hex(3)}"


@dataclass(frozen=True)
class FrontierState:
    waiting: int  # requests in the queue
    leased: int  # requests leased to processes (this one included), alive or dead

    @property
    def drained(self) -> bool:
        return self.waiting == 0 and self.leased == 0


class NodeLease:
    def __init__(self, server: redis.Redis, keys: FrontierKeys, node_id: str, ttl: float):
        self.server = server
        self.keys = keys
        self.node_id = node_id
        self.ttl_ms = max(1000, int(ttl * 1000))
        self.lost = 0  # times this process found its own lease expired

    def start(self) -> None:
        pipe = self.server.pipeline()
        pipe.set(self.keys.lease(self.node_id), "1", px=self.ttl_ms)
        pipe.sadd(self.keys.nodes, self.node_id)
        self._keep(pipe)
        pipe.execute()

    def beat(self) -> None:
        """Keep the lease; if it had expired (this process stalled longer than the lease),
        say so: other processes may have taken back, and will fetch again, its requests."""
        if self.server.set(self.keys.lease(self.node_id), "1", px=self.ttl_ms, xx=True):
            pipe = self.server.pipeline()
            self._keep(pipe)
            pipe.execute()
            return
        self.lost += 1
        logger.warning("frontier lease of %s had expired (the process stalled for more than "
                       "%.0f s): requests it held may be fetched again by another process",
                       self.node_id, self.ttl_ms / 1000)
        self.start()

    def _keep(self, pipe: redis.client.Pipeline) -> None:
        for key in (*self.keys.shared(), self.keys.processing(self.node_id)):
            pipe.expire(key, KEEP_SECONDS)

    def recover_dead(self, queue: LeasedQueue) -> int:
        """Put back the requests of every process whose lease has expired; how many."""
        others = [node.decode() for node in self.server.smembers(self.keys.nodes)
                  if node.decode() != self.node_id]
        if not others:
            return 0
        pipe = self.server.pipeline()
        for node in others:
            pipe.exists(self.keys.lease(node))
        recovered = 0
        for node, alive in zip(others, pipe.execute(), strict=True):
            if alive:
                continue
            moved = queue.recover(node)
            if moved > 0:
                logger.warning("frontier: process %s stopped holding its lease; its %d "
                               "unfinished requests are back in the queue", node, moved)
                recovered += moved
        return recovered

    def state(self) -> FrontierState:
        nodes = [node.decode() for node in self.server.smembers(self.keys.nodes)]
        pipe = self.server.pipeline()
        pipe.zcard(self.keys.queue)
        for node in nodes:
            pipe.hlen(self.keys.processing(node))
        waiting, *leased = pipe.execute()
        return FrontierState(waiting=int(waiting), leased=sum(int(n) for n in leased))

    def release(self) -> None:
        """A clean end: the lease and the (empty) processing hash go."""
        pipe = self.server.pipeline()
        pipe.delete(self.keys.lease(self.node_id))
        pipe.srem(self.keys.nodes, self.node_id)
        pipe.execute()
