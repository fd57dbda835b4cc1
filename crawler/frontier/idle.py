"""When a process on the shared frontier ends.

Scrapy closes a spider the first time it is idle (nothing to download, nothing scheduled).
On a frontier that is too soon: another process may be about to queue the next page of a
search, or may die and leave its leased requests to be handed back. scrapy-redis's own
answers do not fit: its ``SCHEDULER_IDLE_BEFORE_CLOSE`` blocks the reactor in a BRPOP (and
its priority queue ignores it), and its ``RedisSpider`` keeps every spider open for ever
(``MAX_IDLE_TIME``) and reads start URLs from Redis, not from our spiders' ``start()``.

So this extension answers ``spider_idle``: it raises ``DontCloseSpider`` until the frontier
has been *drained* (no request waiting, none leased to any process, alive or dead) for
``THRIFTWATCH_FRONTIER_IDLE`` seconds without a break, then lets the spider close as
``finished``. A dead process's leases count as work until its lease expires and a live
process puts them back, so the last process standing waits for them and fetches them. A
Redis that does not answer for ``max(IDLE, LEASE)`` seconds closes the spider as
``frontier_unavailable``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import redis
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured

from crawler.config import Config
from crawler.frontier.scheduler import FrontierScheduler

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class FrontierIdle:
    def __init__(self, crawler: Crawler, idle: float, patience: float):
        self.crawler = crawler
        self.idle = idle
        self.patience = patience  # seconds to wait for a Redis that does not answer
        self.drained_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierIdle:
        config = Config.from_crawler(crawler).frontier
        if not config.enabled:
            raise NotConfigured("no shared frontier")
        extension = cls(crawler, config.idle, max(config.idle, config.lease))
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        return extension

    def spider_idle(self, spider: Spider) -> None:
        scheduler = self.crawler.engine.scheduler
        if not isinstance(scheduler, FrontierScheduler):
            return
        now = time.monotonic()
        try:
            state = scheduler.state()
        except redis.RedisError as error:
            scheduler.redis_failed(error)
            down = now - (scheduler.down_since or now)
            if down < self.patience:
                raise DontCloseSpider from None
            logger.error("frontier: Redis has not answered for %.0f s: closing", down)
            raise CloseSpider("frontier_unavailable") from None
        if not state.drained:
            if self.drained_since is not None:
                logger.info("frontier: work again (%d waiting, %d leased)", state.waiting,
                            state.leased)
            self.drained_since = None
            raise DontCloseSpider
        if self.drained_since is None:
            self.drained_since = now
            logger.info("frontier drained; this process ends if it stays so for %.0f s",
                        self.idle)
        if now - self.drained_since < self.idle:
            raise DontCloseSpider
        logger.info("frontier drained for %.0f s: closing", now - self.drained_since)
