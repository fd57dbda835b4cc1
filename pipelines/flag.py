"""Flag pipeline: the flagger's verdict (flagged, score, level, reasons) on every listing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from itemadapter import ItemAdapter

from crawler.config import Config
from crawler.flagger import flag
from crawler.items import Listing
from crawler.lexicon import Lexicon, load_lexicon

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


class FlagPipeline:
    """Applies :func:`crawler.flagger.flag` with the shipped lexicon plus the investigator's."""

    def __init__(self, lexicon: Lexicon, stats: StatsCollector):
        self.lexicon = lexicon
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FlagPipeline:
        config = Config.from_settings(crawler.settings)
        return cls(load_lexicon(extra=config.lexicon_file), crawler.stats)

    def open_spider(self) -> None:
        self.stats.set_value("thriftwatch/lexicon_version", self.lexicon.version)

    def process_item(self, item):
        if not isinstance(item, Listing):
            return item
        adapter = ItemAdapter(item)
        verdict = flag(dict(adapter), self.lexicon).as_dict()
        for name, value in verdict.items():
            adapter[name] = value
        self.stats.inc_value(f"thriftwatch/level/{verdict['level']}")
        if verdict["flagged"]:
            self.stats.inc_value("thriftwatch/flagged")
        return item
