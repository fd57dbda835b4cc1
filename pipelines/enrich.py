"""Enrich pipeline: a listing's contacts, and its own page asked for.

After the flag pipeline, for each listing whose verdict reaches the floor
(``THRIFTWATCH_ENRICH_FLOOR``):

- the contacts written in it are read (:func:`crawler.sellers.contacts.extract`): from a
  search card's title, description, seller name and seller URL (source "card"), and from a
  listing page's title, description, seller name, seller URL and the shop's own
  description (source "page"); the store pipeline writes them with the capture they came
  from. Contacts are personal data: nothing here logs them.
- with ``THRIFTWATCH_ENRICH``, a search card has its listing page asked for from the spider
  (:meth:`spiders.base.SearchSpider.follow_listing_page`) and scheduled through the engine,
  so it shares the platform's AutoThrottle, concurrency, retries, fetch guard and capture:
  once per run, and again in the same run only when the card seen differs from the one
  the page was asked for (another keyword showed it with a new price, say). Each run asks
  again (a run's evidence is its own, and a seller can change a description without
  changing the card); a run resumed after a kill does not read again the pages it stored
  before. At most ``THRIFTWATCH_DETAIL_CAP`` pages a run; the listings left over are
  counted (``Stats.DETAIL_CAPPED``).

The page comes back as another listing (``source`` "listing_page"), normalised and flagged
again with everything known; one that a page flagged and its card had not is counted
(``Stats.FLAGGED_BY_PAGE``). A card seen again unchanged after its page was read carries
that page's sighting (``restated``), which the store pipeline writes again after the card:
a listing's latest sighting in a run is always the one with everything known.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from crawler.config import Config, EnrichConfig
from crawler.items import Listing
from crawler.keys import Stats
from crawler.runtime.recorder import EvidenceRecorder
from crawler.sellers.contacts import extract

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

LEVEL_ORDER = ("none", "weak", "medium", "strong")
CARD_FIELDS = ("title", "description", "seller_name", "seller_url")
PAGE_FIELDS = ("title", "description", "seller_name", "seller_url", "seller_about")
# What a card is compared by, to tell whether it changed since its page was asked for.
_CARD_STATE = ("title", "description", "price_idr", "seller_id", "seller_name", "seller_url",
               "category", "condition", "image_urls")


def reaches_floor(level: str | None, reasons: list[Any] | None, floor: str) -> bool:
    """Whether a verdict reaches ``floor`` (one of ``crawler.config.ENRICH_FLOORS``)."""
    if floor == "all":
        return True
    if floor == "reason":
        return bool(reasons)
    rank = LEVEL_ORDER.index(level) if level in LEVEL_ORDER else 0
    return rank >= LEVEL_ORDER.index(floor)


def contacts_in(listing: Listing) -> list[dict[str, Any]]:
    """The contacts written in one sighting, as the store's ``add_contacts`` takes them: a
    card's fields, or a listing page's (``listing.page``)."""
    if listing.page is None:
        source, holder, names = "card", listing, CARD_FIELDS
    else:
        source, holder, names = "page", listing.page, PAGE_FIELDS
    parts = listing.page.part_captures if listing.page is not None else {}
    found = []
    for name in names:
        text = getattr(holder, name)
        if not isinstance(text, str) or not text:
            continue
        found.extend({"platform": listing.platform, "listing_id": listing.listing_id,
                      "source": source, "field": name, "kind": contact.kind,
                      "value": contact.value, "raw": contact.raw,
                      "capture_sha256": parts.get(name, listing.capture_sha256)}
                     for contact in extract(text, name))
    return found


def card_state(listing: Listing) -> str:
    """A digest of what a card shows: equal for two sightings of an unchanged card."""
    shown = {name: getattr(listing, name) for name in _CARD_STATE}
    return hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()


class EnrichPipeline:
    """Reads contacts and follows listing pages (see the module's docstring)."""

    def __init__(self, crawler: Crawler, config: EnrichConfig):
        self.crawler = crawler
        self.config = config
        self.asked: dict[tuple[str, str], str] = {}  # listing → card state its page was asked for
        self.read: dict[tuple[str, str], Listing] = {}  # listing → its page's sighting
        self.pages_asked = 0
        self.read_before_resume: set[str] | None = None  # listing ids, once the run is open

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EnrichPipeline:
        return cls(crawler, Config.from_crawler(crawler).enrich)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Listing):
            return item
        if item.source == "listing_page":
            self.read[item.platform, item.listing_id] = item
            if item.flagged and not item.card_flagged:
                self.crawler.stats.inc_value(Stats.FLAGGED_BY_PAGE)
        elif not reaches_floor(item.level, item.reasons, self.config.floor):
            return item
        item.contacts = contacts_in(item)
        self.crawler.stats.inc_value(Stats.CONTACTS, len(item.contacts))
        if item.source == "search" and self.config.enabled:
            item.page_requested = self.follow(item)
        return item

    def follow(self, card: Listing) -> bool:
        """Ask for the card's listing page unless it was asked for this run as it is now, or
        the run's cap is reached; whether its page was (or is to be) fetched."""
        key = (card.platform, card.listing_id)
        state = card_state(card)
        if self.read_before_resume is None:
            recorder = self.crawler.get_extension(EvidenceRecorder)
            self.read_before_resume = (recorder.pages_read_in_run(card.platform)
                                       if recorder is not None else set())
        if card.listing_id in self.read_before_resume:
            return True  # read before this run was killed and resumed
        if self.asked.get(key) == state:
            card.restated = self.read.get(key)
            return True
        if self.pages_asked >= self.config.detail_cap:
            self.crawler.stats.inc_value(Stats.DETAIL_CAPPED)
            return False
        spider = self.crawler.spider
        follow = getattr(spider, "follow_listing_page", None)
        request = follow(card) if follow is not None else None
        if request is None:
            return False
        self.asked[key] = state
        self.pages_asked += 1
        self.crawler.engine.crawl(request)
        return True
