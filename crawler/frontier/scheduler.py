"""scrapy-redis's scheduler on the shared frontier, configured for thriftwatch.

- Requests go to the platform's and run's queue in Redis, past its shared duplicate filter
  (the first process to offer a request seeds it; the others' copies are filtered). A
  request that cannot be shared (:class:`~crawler.frontier.requests.NotShareable`: a listing
  page's request carries its search card) stays in this process, ahead of the shared ones,
  past a duplicate filter of this process's own (were it marked seen in the shared one, no
  other process would fetch it if this one died).
- A popped request is leased to this process (:mod:`.queue`) and acknowledged only once
  Scrapy is done with it (its callback ran and its items went through every pipeline) and
  the recorder has written its listings: then its page's evidence is in the node DB. A page
  with listings is acknowledged the moment they are written (:mod:`.acks`).
- This process holds at most twice ``CONCURRENT_REQUESTS_PER_DOMAIN`` requests at a time
  (one being fetched, one being parsed and stored, per download slot), so it does not hoard
  work other processes could do.
- Nothing blocks the reactor: scrapy-redis's ``SCHEDULER_IDLE_BEFORE_CLOSE`` (a blocking
  pop) is 0, the queue is kept (``SCHEDULER_PERSIST``: one process's end must not empty
  it for the others), and when to close is :mod:`crawler.frontier.idle`'s decision.
- A looping call keeps the lease, hands back dead processes' requests and wakes the engine
  while this process could take more (Scrapy itself would look again only every 5 s): it
  takes what other processes queued, or finds the frontier drained, within TICK.

Scrapy tells no component when it is done with a request; the scheduler reads the engine's
set of requests in progress (``engine._slot.inprogress``, Scrapy 2.19) and refuses to start
on an engine without it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from typing import TYPE_CHECKING, Any

import redis
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from crawler.config import Config
from crawler.frontier import serializer
from crawler.frontier.connection import connect
from crawler.frontier.dupefilter import FrontierDupeFilter
from crawler.frontier.keys import FrontierKeys
from crawler.frontier.lease import NodeLease, new_node_id
from crawler.frontier.queue import LeasedQueue
from crawler.frontier.requests import TOKEN_META, NotShareable, to_entry
from crawler.runtime.recorder import EvidenceRecorder

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

    from crawler.config import FrontierConfig
    from crawler.frontier.lease import FrontierState

logger = logging.getLogger(__name__)

TICK = 0.2  # seconds between looks at the queue while this process could take more


class FrontierStats:
    """The stats the frontier keeps (``frontier/...``), as a crawl's summary shows them."""

    POPPED = "thriftwatch/frontier/popped"  # requests this process took from the queue
    PUSHED = "thriftwatch/frontier/pushed"  # requests it put in the queue
    ACKED = "thriftwatch/frontier/acked"  # requests whose evidence it stored
    LOCAL = "thriftwatch/frontier/local"  # requests it kept to itself (not shareable)
    DUPLICATE = "thriftwatch/frontier/duplicate"  # requests the shared filter dropped
    RECOVERED = "thriftwatch/frontier/recovered"  # dead processes' requests it put back
    MALFORMED = "thriftwatch/frontier/malformed"  # queue entries it could not read
    REQUEUED = "thriftwatch/frontier/requeued"  # its own leases it handed back at its end


class FrontierScheduler(Scheduler):
    def __init__(self, crawler: Crawler, config: FrontierConfig, server: Any):
        super().__init__(server, persist=True, flush_on_start=False,
                         queue_cls="crawler.frontier.queue.LeasedQueue",
                         dupefilter_cls="crawler.frontier.dupefilter.FrontierDupeFilter",
                         idle_before_close=0, serializer=serializer)
        self.crawler = crawler
        self.config = config
        self.stats = crawler.stats
        self.prefetch = 2 * max(1, crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 4))
        self.node_id = new_node_id(config.node)
        self.leased: dict[str, Request] = {}  # lease number -> request taken, not yet acked
        self.local: list[tuple[int, int, Request]] = []  # heap of requests kept here
        self.seen_here: set[str] = set()  # fingerprints of the requests kept here
        self._order = itertools.count()
        self._loop: task.LoopingCall | None = None
        self._last_beat = self._last_recovery = 0.0
        self._reasons: set[str] = set()
        self.down_since: float | None = None  # Redis has not answered since then

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        config = Config.from_crawler(crawler).frontier
        return cls(crawler, config, connect(config))

    # -- opening and closing ----------------------------------------------------------------

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.keys = FrontierKeys(spider.name, self.config.run)
        self.queue = LeasedQueue(self.server, spider, self.keys, self.node_id)
        self.df = FrontierDupeFilter(self.server, self.keys.dupefilter,
                                     debug=self.crawler.settings.getbool("DUPEFILTER_DEBUG"))
        self.lease = NodeLease(self.server, self.keys, self.node_id, self.config.lease)
        self._in_progress()  # fail now, not at the first page, on an engine without it
        self.recorder = self.crawler.get_extension(EvidenceRecorder)
        self.lease.start()
        self.lease.recover_dead(self.queue)
        logger.info("shared frontier %s, run %s, platform %s: node %s (this process %s); "
                    "%d requests waiting", self.config.public_url, self.config.run,
                    spider.name, self.config.node, self.node_id, len(self.queue))
        self._loop = task.LoopingCall(self.tick)
        self._loop.start(TICK, now=False)

    def close(self, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        try:
            self.collect_done()
            left = self.queue.requeue(self.leased)  # none after a clean end: all were acked
            self.lease.release()
        except redis.RedisError as error:
            logger.error("frontier: Redis does not answer at the end (%s); %d requests stay "
                         "leased to this process until its lease expires and another process "
                         "takes them back", error, len(self.leased))
            left = 0
        self.leased.clear()
        if left:
            self.stats.inc_value(FrontierStats.REQUEUED, left)
            logger.warning("frontier: %d unfinished requests handed back to the queue", left)
        if self.local:
            logger.warning("frontier: %d requests of this process were not fetched (%s)",
                           len(self.local), reason)
        self.stats.set_value(FrontierStats.MALFORMED, self.queue.malformed)

    # -- scheduling ---------------------------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        request.meta.pop(TOKEN_META, None)  # a retry carries its original's lease number
        try:
            entry = to_entry(request, self.spider)
        except NotShareable as why:
            return self._keep_local(request, str(why))
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                self.stats.inc_value(FrontierStats.DUPLICATE)
                return False
            self.queue.push_entry(entry, request.priority)
        except redis.RedisError as error:  # kept here: fetched by this process, not lost
            self.redis_failed(error)
            return self._keep_local(request, "Redis does not answer", filtered=True)
        self._redis_answered()
        self.stats.inc_value(FrontierStats.PUSHED)
        return True

    def _keep_local(self, request: Request, why: str, *, filtered: bool = False) -> bool:
        if not (request.dont_filter or filtered):
            fingerprint = self.df.request_fingerprint(request)
            if fingerprint in self.seen_here:
                return False
            self.seen_here.add(fingerprint)
        heapq.heappush(self.local, (-request.priority, next(self._order), request))
        self.stats.inc_value(FrontierStats.LOCAL)
        if why not in self._reasons and len(self._reasons) < 20:
            self._reasons.add(why)
            logger.info("frontier: a request kept in this process, not shared (%s): %s",
                        why, request)
        return True

    def next_request(self) -> Request | None:
        try:
            self.collect_done()
            if self.local:
                return heapq.heappop(self.local)[2]
            if len(self.leased) >= self.prefetch:
                return None
            request = self.queue.pop()
        except redis.RedisError as error:
            self.redis_failed(error)
            return heapq.heappop(self.local)[2] if self.local else None
        self._redis_answered()
        if request is not None:
            self.leased[request.meta[TOKEN_META]] = request
            self.stats.inc_value(FrontierStats.POPPED)
        return request

    def has_pending_requests(self) -> bool:
        if self.local:
            return True
        try:
            return len(self.queue) > 0
        except redis.RedisError as error:  # the idle extension decides how long to wait
            self.redis_failed(error)
            return False

    def redis_failed(self, error: Exception) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            logger.error("frontier: Redis at %s does not answer (%s: %s); leases and "
                         "acknowledgements wait", self.config.public_url,
                         type(error).__name__, error)

    def _redis_answered(self) -> None:
        if self.down_since is not None:
            logger.info("frontier: Redis answers again after %.0f s",
                        time.monotonic() - self.down_since)
            self.down_since = None

    def __len__(self) -> int:
        return len(self.local) + len(self.queue)

    # -- leases ---------------------------------------------------------------------------

    def _in_progress(self) -> set[Request]:
        slot = getattr(self.crawler.engine, "_slot", None)
        inprogress = getattr(slot, "inprogress", None)
        if not isinstance(inprogress, set):
            raise TypeError("the shared frontier needs Scrapy 2.19's engine (its set of "
                               "requests in progress); this Scrapy has none")
        return inprogress

    def collect_done(self) -> int:
        """Acknowledge the requests Scrapy is done with, once their listings are written."""
        if not self.leased:
            return 0
        inprogress = self._in_progress()
        done = [token for token, request in self.leased.items() if request not in inprogress]
        if not done:
            return 0
        if self.recorder is not None:
            self.recorder.flush()  # the listings of those pages, still waiting in memory
        self.queue.ack(done)
        for token in done:
            del self.leased[token]
        self.stats.inc_value(FrontierStats.ACKED, len(done))
        return len(done)

    def acknowledge(self, token: str) -> None:
        """A page's items all went through the pipelines (:mod:`.acks`): write them, then
        acknowledge its lease, in one step."""
        if token not in self.leased:
            return
        try:
            if self.recorder is not None:
                self.recorder.flush()
            self.queue.ack([token])
        except redis.RedisError as error:  # acknowledged later, by collect_done
            self.redis_failed(error)
            return
        del self.leased[token]
        self.stats.inc_value(FrontierStats.ACKED)

    def tick(self) -> None:
        """Every TICK: acknowledge, keep the lease, take back dead processes' requests, and
        wake the engine when the queue has work this process could take."""
        try:
            self.collect_done()
            now = time.monotonic()
            if now - self._last_beat >= min(2.0, self.config.lease / 3):
                self._last_beat = now
                self.lease.beat()
            if now - self._last_recovery >= min(5.0, self.config.lease / 2):
                self._last_recovery = now
                recovered = self.lease.recover_dead(self.queue)
                if recovered:
                    self.stats.inc_value(FrontierStats.RECOVERED, recovered)
            if len(self.leased) < self.prefetch:  # Scrapy's own look is every 5 s
                self.crawler.engine._slot.nextcall.schedule()
        except redis.RedisError as error:  # a Redis hiccup costs one tick, not the loop
            self.redis_failed(error)
        except Exception:  # the looping call must go on: it keeps the lease
            logger.exception("frontier: housekeeping failed; trying again in %s s", TICK)
        else:
            self._redis_answered()

    def state(self) -> FrontierState:
        self.collect_done()
        return self.lease.state()
