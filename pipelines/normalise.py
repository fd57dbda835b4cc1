"""Normalise pipeline: typed prices, sold counts, clean text and one spelling per city."""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler.items import Listing
from crawler.normalise import normalise_listing

REQUIRED = ("platform", "listing_id", "url", "title")


class NormalisePipeline:
    """Refuses listings missing what identifies them; normalises the rest in place."""

    def process_item(self, item):
        if not isinstance(item, Listing):
            return item
        adapter = ItemAdapter(item)
        missing = [name for name in REQUIRED if not adapter.get(name)]
        if missing:
            raise DropItem(f"listing without {', '.join(missing)}: {dict(adapter)!r:.200}")
        for name, value in normalise_listing(dict(adapter)).items():
            adapter[name] = value
        return item
