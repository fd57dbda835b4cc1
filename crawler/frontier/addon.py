"""The Scrapy add-on that puts a crawl on the shared frontier when ``THRIFTWATCH_FRONTIER``
is set (and does nothing otherwise), before the crawl's settings are frozen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.config import FrontierConfig

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


class FrontierAddon:
    def update_settings(self, settings: BaseSettings) -> None:
        config = FrontierConfig.from_settings(settings)
        if not config.enabled:
            return
        # Fixed now, so every component of the crawl reads the same run key (its default
        # is the hour the crawl started in).
        settings.set("THRIFTWATCH_FRONTIER_RUN", config.run, priority="cmdline")
        settings.set("SCHEDULER", "crawler.frontier.scheduler.FrontierScheduler",
                     priority="addon")
        # scrapy-redis's settings, stated: JSON not pickle; the queue outlives each
        # process; no blocking pop (crawler.frontier.idle decides when to end).
        settings.set("SCHEDULER_SERIALIZER", "crawler.frontier.serializer", priority="addon")
        settings.set("SCHEDULER_QUEUE_CLASS", "crawler.frontier.queue.LeasedQueue",
                     priority="addon")
        settings.set("DUPEFILTER_CLASS", "crawler.frontier.dupefilter.FrontierDupeFilter",
                     priority="addon")
        settings.set("SCHEDULER_PERSIST", True, priority="addon")
        settings.set("SCHEDULER_FLUSH_ON_START", False, priority="addon")
        settings.set("SCHEDULER_IDLE_BEFORE_CLOSE", 0, priority="addon")
        settings["EXTENSIONS"]["crawler.frontier.idle.FrontierIdle"] = 700
        # A page is acknowledged once its listings are with the recorder (crawler.frontier.acks):
        # counted next to the engine, and right after the store pipeline (300).
        settings["SPIDER_MIDDLEWARES"]["crawler.frontier.acks.FrontierAckMiddleware"] = 10
        settings["ITEM_PIPELINES"]["crawler.frontier.acks.FrontierAckPipeline"] = 310
