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

Which pages first: the ones that can tell the most (:func:`page_order`). A listing page shows
its *account* (the seller profile, the contacts and shared photos written on every listing
of that seller), so the first page of an account tells what an investigator links accounts
by, and a second page of the same account mostly tells it again. The first listing with a
strong verdict of an account the DB holds no page of yet (from this run or an earlier one)
is followed at once; every other listing above the floor waits until the searches are done
(the spider is idle), and the waiting ones are then followed in order, until the cap:
accounts with fewer pages first (every account gets one page before any gets a second; an
account the DB held a page of before this run counts one, so a new account, such as a
seller back under a new name, comes before it), then the stronger verdict, then the one
seen first. With a cap above the listings that reach the floor the order changes only when
pages are read; with a smaller one it decides which: one of each account's, strongest
first, rather than whichever came first. A waiting card's photos are fetched from the card
at once (the images pipeline); if its page is read later, that page adds its photos not
fetched yet. Limit: a run killed while listings wait loses them (a resumed run reads only
the pages of the cards it sees again).

The page comes back as another listing (``source`` "listing_page"), normalised and flagged
again with everything known; one that a page flagged and its card had not is counted
(``Stats.FLAGGED_BY_PAGE``). A card seen again unchanged after its page was read carries
that page's sighting (``restated``), which the store pipeline writes again after the card:
a listing's latest sighting in a run is always the one with everything known.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from crawler.config import Config, EnrichConfig
from crawler.items import Listing
from crawler.keys import Stats
from crawler.runtime.recorder import EvidenceRecorder
from crawler.sellers.contacts import extract

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    import scrapy
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


def account_of(listing: Listing) -> tuple[str, str]:
    """The account a listing's page would show: its platform and seller id, or the listing
    itself when the card names no seller (its page is the first to say who sells it)."""
    if listing.seller_id:
        return listing.platform, f"seller:{listing.seller_id}"
    return listing.platform, f"listing:{listing.listing_id}"


def verdict_rank(level: str | None) -> int:
    """0 (no level) to 3 (strong): how strong a verdict is, to read stronger ones first."""
    return LEVEL_ORDER.index(level) if level in LEVEL_ORDER else 0


def page_order(waiting: Sequence[tuple[Any, tuple[str, str], int]],
               asked: Mapping[tuple[str, str], int] | None = None) -> Iterator[Any]:
    """The waiting listings in the order their pages are read. ``waiting`` holds
    ``(listing, account, rank)`` in the order the listings were seen; ``asked``, the pages
    already asked for per account. Fewer pages asked for the listing's account first
    (counting the ones this order gives out), then the higher rank, then the one seen
    first. Pure and lazy: the enrich pipeline takes as many as its cap allows."""
    pages = Counter(asked or {})
    heap = [(pages[account], -rank, seq, account)
            for seq, (_, account, rank) in enumerate(waiting)]
    heapq.heapify(heap)
    while heap:
        count, rank, seq, account = heapq.heappop(heap)
        if count != pages[account]:  # its account was given a page since: queue it again
            heapq.heappush(heap, (pages[account], rank, seq, account))
            continue
        pages[account] += 1
        yield waiting[seq][0]


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
        self.account_pages: Counter[tuple[str, str]] = Counter()  # account → pages asked
        # Listings whose page waits for the searches to end: listing → (card state, request,
        # account, rank), in the order they were seen (a card seen again replaces its entry).
        self.waiting: dict[tuple[str, str], tuple[str, scrapy.Request, tuple[str, str], int]] = {}
        self.read_before_resume: set[str] | None = None  # listing ids, once the run is open
        # Accounts whose listing page the DB holds already (from an earlier run, or from this
        # one before it was resumed): they rank as if one page was asked for each this run.
        self.covered_before: set[tuple[str, str]] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EnrichPipeline:
        pipeline = cls(crawler, Config.from_crawler(crawler).enrich)
        crawler.signals.connect(pipeline.spider_idle, signal=signals.spider_idle)
        return pipeline

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
        """Ask for the card's listing page now, or have it wait for the searches to end (see
        the module's docstring), unless it was asked for this run as it is now or the run's
        cap is reached. True when its page was (or is to be) fetched; False when it waits
        (its card's photos are fetched meanwhile) or will not be fetched."""
        key = (card.platform, card.listing_id)
        state = card_state(card)
        if self.read_before_resume is None:
            self.open_run(card.platform)
        if card.listing_id in self.read_before_resume:
            return True  # read before this run was killed and resumed
        if self.asked.get(key) == state:
            card.restated = self.read.get(key)
            return True
        if self.pages_asked >= self.config.detail_cap:
            self.waiting.pop(key, None)
            self.crawler.stats.inc_value(Stats.DETAIL_CAPPED)
            return False
        if key in self.waiting and self.waiting[key][0] == state:
            return False  # seen again as it waits
        spider = self.crawler.spider
        follow = getattr(spider, "follow_listing_page", None)
        request = follow(card) if follow is not None else None
        if request is None:
            return False
        account, rank = account_of(card), verdict_rank(card.level)
        if not self.pages_known(account) and rank == len(LEVEL_ORDER) - 1:
            self.ask(key, state, request, account)
            return True
        self.waiting.pop(key, None)  # a changed card waits at the end, as it is now
        self.waiting[key] = (state, request, account, rank)
        return False

    def open_run(self, platform: str) -> None:
        """What the DB says before this run's first card: the pages this run stored before
        it was resumed, and the accounts whose pages any run stored."""
        recorder = self.crawler.get_extension(EvidenceRecorder)
        self.read_before_resume = (recorder.pages_read_in_run(platform)
                                   if recorder is not None else set())
        store = getattr(recorder, "store", None)
        if store is not None:
            self.covered_before = {(platform, f"seller:{page['seller_id']}")
                                   for page in store.listing_pages(platform)
                                   if page.get("seller_id")}

    def pages_known(self, account: tuple[str, str]) -> int:
        """Pages asked for ``account`` this run, counting one for an account whose page the
        DB holds already."""
        return self.account_pages[account] + (account in self.covered_before)

    def ask(self, key: tuple[str, str], state: str, request: scrapy.Request,
            account: tuple[str, str]) -> None:
        self.asked[key] = state
        self.pages_asked += 1
        self.account_pages[account] += 1
        self.crawler.engine.crawl(request)

    def spider_idle(self) -> None:
        """The searches are done: ask for the waiting pages in :func:`page_order`, as many as
        the cap allows; the rest are counted as capped."""
        if not self.waiting:
            return
        waiting, self.waiting = self.waiting, {}
        order = page_order([((key, state, request), account, rank)
                            for key, (state, request, account, rank) in waiting.items()],
                           {account: self.pages_known(account)
                            for _, _, account, _ in waiting.values()})
        asked = 0
        for key, state, request in order:
            if self.pages_asked >= self.config.detail_cap:
                self.crawler.stats.inc_value(Stats.DETAIL_CAPPED, len(waiting) - asked)
                break
            self.ask(key, state, request, waiting[key][2])
            asked += 1
        if asked:
            raise DontCloseSpider
