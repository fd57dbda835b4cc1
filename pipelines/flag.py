"""Flag pipeline: the flagger's verdict (flagged, score, level, reasons) on every listing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.config import Config
from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import Lexicon, load_lexicon
from crawler.items import Listing, set_fields
from crawler.keys import Stats

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


class FlagPipeline:
    """Applies :func:`crawler.flagging.flagger.flag` with the shipped lexicon plus the
    investigator's."""

    def __init__(self, lexicon: Lexicon, stats: StatsCollector):
        self.lexicon = lexicon
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FlagPipeline:
        config = Config.from_crawler(crawler)
        return cls(load_lexicon(extra=config.flagging.lexicon_file), crawler.stats)

    def open_spider(self) -> None:
        self.stats.set_value(Stats.LEXICON_VERSION, self.lexicon.version)

    def process_item(self, item):
        if not isinstance(item, Listing):
            return item
        verdict = flag(vars(item), self.lexicon).as_dict()
        set_fields(item, verdict)
        self.stats.inc_value(Stats.level(verdict["level"]))
        if verdict["flagged"]:
            self.stats.inc_value(Stats.FLAGGED)
        return item
