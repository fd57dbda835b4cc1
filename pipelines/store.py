"""Store pipeline: every listing as an observation with its verdict (and, read from its own
page, the page and the contacts found), every recheck as a recheck, written through the
crawl's evidence recorder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.items import Listing, Recheck, item_fields
from crawler.runtime.recorder import EvidenceRecorder

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class StorePipeline:
    """Hands each item to :class:`~crawler.runtime.recorder.EvidenceRecorder`."""

    def __init__(self, recorder: EvidenceRecorder):
        self.recorder = recorder

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        recorder = crawler.get_extension(EvidenceRecorder)
        if recorder is None:
            raise NotConfigured("the store pipeline needs the EvidenceRecorder extension")
        return cls(recorder)

    def process_item(self, item: Any) -> Any:
        record = item_fields(item)
        if isinstance(item, Recheck):
            self.recorder.add_recheck(record)
            return item
        self.recorder.add_refused_values(record)
        self.recorder.add_observation(record)
        if isinstance(item, Listing) and item.page is not None:
            self.recorder.add_listing_page(record, vars(item.page))
        if isinstance(item, Listing) and item.contacts:
            self.recorder.add_contacts(record, item.contacts)
        if isinstance(item, Listing) and item.restated is not None:
            self.recorder.add_observation(item_fields(item.restated))
        return item

    def close_spider(self) -> None:
        self.recorder.flush()
