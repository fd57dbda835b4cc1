"""Run thriftwatch crawls in this process and summarise what they found."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from crawler.keys import Stats

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

LEVELS = ("strong", "medium", "weak", "none")


def project_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """thriftwatch's Scrapy settings, wherever the command runs from, plus ``overrides``."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.update(dict(overrides or {}), priority="cmdline")
    return settings


def available_platforms(settings: Settings) -> list[str]:
    """The spiders that search a platform (not helpers such as ``recheck``)."""
    from spiders.base import SearchSpider

    loader = SpiderLoader.from_settings(settings)
    return sorted(name for name in loader.list() if issubclass(loader.load(name), SearchSpider))


@dataclass
class PlatformSummary:
    platform: str
    finish_reason: str
    pages: int
    listings: int
    flagged: int
    levels: dict[str, int]
    blocks: int
    errors: int
    parse_errors: int

    @classmethod
    def from_stats(cls, platform: str, stats: Mapping[str, Any]) -> PlatformSummary:
        return cls(
            platform=platform,
            finish_reason=str(stats.get("finish_reason", "not started")),
            pages=int(stats.get(Stats.pages(platform), 0)),
            listings=int(stats.get(Stats.ITEMS, 0)),
            flagged=int(stats.get(Stats.FLAGGED, 0)),
            levels={level: int(stats.get(Stats.level(level), 0)) for level in LEVELS},
            blocks=int(stats.get(Stats.blocks(platform), 0)),
            errors=int(stats.get("log_count/ERROR", 0)),
            parse_errors=int(stats.get(Stats.faults("parse_error", platform), 0)),
        )


@dataclass
class CrawlSummary:
    platforms: list[PlatformSummary] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """Every platform finished and parsed at least one search page."""
        return bool(self.platforms) and all(
            p.finish_reason == "finished" and p.pages > 0 for p in self.platforms
        )

    def total(self, name: str) -> int:
        return sum(getattr(p, name) for p in self.platforms)

    def level_total(self, level: str) -> int:
        return sum(p.levels[level] for p in self.platforms)


def run_crawl(platforms: Iterable[str], settings: Settings, **spider_args: Any) -> CrawlSummary:
    """Crawl each platform with ``spider_args`` (keywords, max_pages) and wait for all."""
    process = CrawlerProcess(settings)
    crawlers = {}
    for platform in platforms:
        crawler = process.create_crawler(platform)
        crawlers[platform] = crawler
        process.crawl(crawler, **spider_args)
    started = time.monotonic()
    process.start()
    summary = CrawlSummary(elapsed=time.monotonic() - started)
    for platform, crawler in crawlers.items():
        stats = crawler.stats.get_stats() if crawler.stats else {}
        summary.platforms.append(PlatformSummary.from_stats(platform, stats))
    return summary
