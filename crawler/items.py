"""The one item schema every thriftwatch spider yields."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass
class ListingPage:
    """A listing's own page, as a platform's ``parse_listing_page`` reads it: what the search
    card lacks (the description, the seller's profile, every photo, variants and stock),
    and the listing's fields the page states too (merged over the card's for the re-flag).

    The base spider sets the capture fields; the normalise pipeline cleans the text, the
    enrich pipeline reads its contacts, and the store pipeline writes it (``listing_pages``).
    """

    platform: str
    listing_id: str
    url: str
    description: str | None = None
    seller_id: str | None = None
    seller_name: str | None = None
    seller_url: str | None = None
    seller_joined: str | None = None  # as the platform states it: a date, a year, "3 tahun"
    seller_location: str | None = None
    seller_followers: int | None = None
    seller_sales: int | None = None
    seller_rating: float | None = None
    # The shop's own description: read for contacts (kept in the capture, not a column).
    seller_about: str | None = None
    image_urls: list[str] = field(default_factory=list)
    variants: list[dict[str, Any]] = field(default_factory=list)  # [{"name", "options"}]
    stock: int | None = None
    # The listing's own fields as the page states them; None where the page does not.
    title: str | None = None
    category: str | None = None
    condition: str | None = None
    imported: bool | None = None
    price_idr: int | None = None
    capture_id: int | None = None
    capture_sha256: str | None = None
    screenshot_sha256: str | None = None
    # Where the page is read from several responses (see merge_parts): the capture of the
    # earlier part each field came from; the others are in ``capture_sha256``'s.
    part_captures: dict[str, str] = field(default_factory=dict)


@dataclass
class Listing:
    """One marketplace offer as a search page showed it, or as its own page did.

    Spiders fill what the platform shows; the normalise pipeline derives typed values
    (``price_idr``, ``sold_count``, ``location``) from the raw text, and the flag pipeline
    adds the verdict (``flagged`` … ``lexicon_version``).

    A listing read from its own page (``source`` "listing_page") is the search card's
    fields with the page's merged over them, the ``page`` itself, the card's verdict
    (``card_level``, ``card_flagged``) and no ``keyword``: it is a sighting of the page, not
    of a search, and is flagged again with everything known.
    """

    platform: str
    listing_id: str
    url: str
    title: str
    keyword: str | None
    description: str | None = None
    price_idr: int | None = None
    price_text: str | None = None
    currency: str = "IDR"
    seller_id: str | None = None
    seller_name: str | None = None
    seller_url: str | None = None
    location: str | None = None
    sold_count: int | None = None
    sold_text: str | None = None
    rating: float | None = None
    category: str | None = None
    image_urls: list[str] = field(default_factory=list)
    condition: str | None = None  # as the platform states it, e.g. Bukalapak's "Baru"/"Bekas"
    imported: bool | None = None  # where the platform states it
    posted_at: str | None = None
    capture_sha256: str | None = None  # the raw response body this listing was parsed from
    capture_id: int | None = None  # the fetch (URL, time, status) that produced that body
    screenshot_sha256: str | None = None  # rendered pages: the screenshot showing this listing
    flagged: bool | None = None
    score: float | None = None
    level: str | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    lexicon_version: str | None = None
    # Values normalisation set aside (a price of 10^20, a NaN rating): field, value, why.
    # Recorded as ``field_out_of_range`` faults, never stored as listing data.
    refused_values: list[dict[str, str]] = field(default_factory=list)
    source: str = "search"  # "search" or "listing_page"
    page: ListingPage | None = None
    card_level: str | None = None
    card_flagged: bool | None = None
    # Set by the enrich pipeline: contacts read from this sighting (kind, value, raw, field,
    # source, capture_sha256); and whether its listing page was asked for.
    contacts: list[dict[str, Any]] = field(default_factory=list)
    page_requested: bool = False
    # Set by the enrich pipeline on a card seen again, unchanged, after its page was read in
    # this run: that page's sighting, stored again after the card so that the listing's
    # latest sighting stays the one made with everything known.
    restated: Listing | None = None


@dataclass
class Recheck:
    """A revisit of a known listing's page: ``status`` is "live", "removed" or "blocked"."""

    platform: str
    listing_id: str
    url: str
    status: str
    http_status: int | None = None
    detail: str | None = None
    capture_id: int | None = None


# The listing's fields a page states that replace the card's when it states them.
_SELLER_FIELDS = ("seller_id", "seller_name", "seller_url")
_PAGE_OVER_CARD = ("title", "description", "price_idr", "category", "condition", "imported",
                   *_SELLER_FIELDS)


def merge_page(card: Listing, page: ListingPage) -> Listing:
    """The listing as its page shows it: the card's fields with those the page states over
    them (and the page's photos, when it has any), the page's capture, the card's verdict
    kept as ``card_level``/``card_flagged``; no keyword (a sighting of the page, not of a
    search) and no verdict yet (the flag pipeline gives it, with everything known)."""
    stated = {name: getattr(page, name) for name in _PAGE_OVER_CARD
              if getattr(page, name) not in (None, "")}
    if card.seller_id and stated.get("seller_id", card.seller_id) != card.seller_id:
        # A page naming another seller than the search showed moves nobody's listing to
        # another account: the card's seller stands, the page's is set aside.
        for name in _SELLER_FIELDS:
            stated.pop(name, None)
        refused = [{"field": "seller_id", "value": str(page.seller_id)[:80],
                    "why": "the listing page names another seller than its search card"}]
    else:
        refused = []
    return replace(
        card, **stated, keyword=None, source="listing_page", page=page,
        location=card.location or page.seller_location,
        image_urls=list(page.image_urls) or list(card.image_urls),
        capture_id=page.capture_id, capture_sha256=page.capture_sha256,
        screenshot_sha256=page.screenshot_sha256,
        card_level=card.level, card_flagged=card.flagged,
        flagged=None, score=None, level=None, reasons=[], lexicon_version=None,
        refused_values=refused, contacts=[], page_requested=False, restated=None)


def merge_parts(before: ListingPage, part: ListingPage) -> ListingPage:
    """A listing page read in parts: ``part``'s fields, with those it lacks taken from the
    parts ``before`` it; the page's capture is the last part's, and ``part_captures`` says
    which earlier capture each taken field came from."""
    taken = {name: getattr(before, name) for name in _PAGE_PART_FIELDS
             if getattr(part, name) in (None, "", []) and getattr(before, name) not in (
                 None, "", [])}
    origins = dict(before.part_captures)
    origins.update({name: before.capture_sha256 for name in taken
                    if name not in origins and before.capture_sha256})
    return replace(part, **taken, part_captures={name: origins[name] for name in taken
                                                 if name in origins})


_PAGE_PART_FIELDS = tuple(name for name in ListingPage.__dataclass_fields__ if name not in (
    "platform", "listing_id", "url", "capture_id", "capture_sha256", "screenshot_sha256",
    "part_captures"))


# The pipelines work on the item itself (ItemAdapter, one call a field, stays at the edges:
# what spiders hand over and what exporters read): a listing's fields as a plain dict, and
# values set back by name.
_FIELD_NAMES = {kind: frozenset(f.name for f in fields(kind))
                for kind in (Listing, ListingPage, Recheck)}


def item_fields(item: Any) -> dict[str, Any]:
    """The item's fields as a new dict (shallow, as ``dict(ItemAdapter(item))`` gives); read
    off the dataclass for thriftwatch's own items, through ItemAdapter for any other."""
    if type(item) in _FIELD_NAMES:
        return dict(vars(item))
    return dict(ItemAdapter(item))


def set_fields(item: Listing | ListingPage | Recheck, values: Mapping[str, Any]) -> None:
    """Set ``values`` on ``item`` by field name; a name the item has no field for raises
    :class:`KeyError` (as ItemAdapter does) instead of adding an attribute."""
    unknown = values.keys() - _FIELD_NAMES[type(item)]
    if unknown:
        raise KeyError(f"{type(item).__name__} has no field {', '.join(sorted(unknown))}")
    for name, value in values.items():
        setattr(item, name, value)
