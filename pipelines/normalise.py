"""Normalise pipeline: typed prices, sold counts, clean text and one spelling per city."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from crawler.items import Listing, ListingPage, item_fields, set_fields
from crawler.keys import Stats
from crawler.normalise import (
    INCOMPLETE,
    clean_identifier,
    clean_line,
    clean_text,
    normalise_listing,
)
from crawler.runtime.recorder import EvidenceRecorder

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

# What a listing cannot be stored without: it is found again by platform, id and URL.
REQUIRED = ("platform", "listing_id", "url")
# A listing page's fields by how they are cleaned; counts from 0 to below PAGE_MAX_COUNT.
_PAGE_IDENTIFYING = ("listing_id", "url", "seller_id", "seller_url")
_PAGE_ONE_LINE = ("title", "category", "condition", "seller_name", "seller_joined",
                  "seller_location")
_PAGE_MULTILINE = ("description", "seller_about")
_PAGE_COUNTS = ("seller_followers", "seller_sales", "stock", "price_idr")
PAGE_MAX_COUNT = 10**13
PAGE_MAX_RATING = 100.0
PAGE_MAX_IMAGES = 50  # photo URLs kept from one page
PAGE_MAX_VARIANTS = 20  # variant groups kept, each with at most PAGE_MAX_OPTIONS options
PAGE_MAX_OPTIONS = 100
PAGE_MAX_NAME = 200  # characters of a variant's or option's name


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
        if item.page is not None:
            item.refused_values.extend(normalise_page(item.page))
        normalised = normalise_listing(item_fields(item))
        missing = [name for name in REQUIRED if not normalised.get(name)]
        if missing:
            self._refuse(normalised, missing)
        set_fields(item, normalised)
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


def normalise_page(page: ListingPage) -> list[dict[str, str]]:
    """Clean a listing page in place, as listings are: storable text, counts and ratings in
    range, bounded lists of photos and variants. Returns the values set aside (each a
    ``field_out_of_range`` fault, the field named ``page.<name>``)."""
    refused: list[dict[str, str]] = []
    for names, clean in ((_PAGE_IDENTIFYING, clean_identifier), (_PAGE_ONE_LINE, clean_line),
                         (_PAGE_MULTILINE, clean_text)):
        for name in names:
            value = getattr(page, name)
            setattr(page, name, None if value is None else clean(str(value)))
    for name in _PAGE_COUNTS:
        value = getattr(page, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value < PAGE_MAX_COUNT):
            refused.append(_page_refusal(name, value,
                                         f"not a count from 0 to {PAGE_MAX_COUNT:.0e}"))
            setattr(page, name, None)
    rating = page.seller_rating
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, (int, float))
                               or not (math.isfinite(rating) and 0 <= rating <= PAGE_MAX_RATING)):
        refused.append(_page_refusal("seller_rating", rating, "not a rating from 0 to 100"))
        page.seller_rating = None
    elif rating is not None:
        page.seller_rating = float(rating)
    if page.imported is not None and not isinstance(page.imported, bool):
        page.imported = None
    urls = page.image_urls if isinstance(page.image_urls, list) else []
    page.image_urls = list(dict.fromkeys(
        url for url in (clean_identifier(u) for u in urls if isinstance(u, str)) if url))[
        :PAGE_MAX_IMAGES]
    page.variants = _variants(page.variants)
    return refused


def _variants(variants: Any) -> list[dict[str, Any]]:
    """At most PAGE_MAX_VARIANTS ``{"name", "options"}``, every name one clean short line."""
    def name(value: Any) -> str:
        return (clean_line(value) or "")[:PAGE_MAX_NAME] if isinstance(value, str) else ""

    groups = [v for v in variants if isinstance(v, dict)] if isinstance(variants, list) else []
    kept = []
    for variant in groups[:PAGE_MAX_VARIANTS]:
        options = variant.get("options")
        kept.append({"name": name(variant.get("name")), "options": [
            name(option) for option in (options if isinstance(options, list) else [])
            [:PAGE_MAX_OPTIONS]]})
    return kept


def _page_refusal(name: str, value: Any, why: str) -> dict[str, str]:
    shown = repr(value)
    return {"field": f"page.{name}", "value": shown if len(shown) <= 80 else f"{shown[:77]}...",
            "why": why}

