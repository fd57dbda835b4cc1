"""Normalise pipeline: typed prices, sold counts, clean text and one spelling per city."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler.items import Listing
from crawler.keys import Stats
from crawler.normalise import INCOMPLETE, normalise_listing
from crawler.runtime.recorder import EvidenceRecorder

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

# What a listing cannot be stored without: it is found again by platform, id and URL.
REQUIRED = ("platform", "listing_id", "url")


class NormalisePipeline:
    """Normalises every listing in place; refuses one that cannot be found again (no id or
    URL once cleaned), recording it as a ``listing_incomplete`` fault with its page's
    capture. A listing without a title is kept, with an empty one (see
    :func:`crawler.normalise.normalise_listing`)."""

    def __init__(self, crawler: Crawler | None = None):
        self.crawler = crawler
        self.recorder = crawler.get_extension(EvidenceRecorder) if crawler else None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Listing):
            return item
        adapter = ItemAdapter(item)
        normalised = normalise_listing(dict(adapter))
        missing = [name for name in REQUIRED if not normalised.get(name)]
        if missing:
            self._refuse(normalised, missing)
        for name, value in normalised.items():
            adapter[name] = value
        return item

    def _refuse(self, listing: dict[str, Any], missing: list[str]) -> None:
        """Record a listing that cannot be stored, then drop it."""
        shown = {name: listing.get(name) for name in (
            "listing_id", "url", "title", "seller_id", "seller_name", "price_text")
            if listing.get(name)}
        detail = f"not stored: no {' or '.join(missing)} ({shown!r:.300})"
        if self.crawler is not None and self.crawler.spider is not None:
            self.crawler.stats.inc_value(Stats.faults(INCOMPLETE, self.crawler.spider.name))
        if self.recorder is not None:
            self.recorder.listing_fault(listing, INCOMPLETE, detail)
        raise DropItem(f"listing {detail}")
