"""The one item schema every thriftwatch spider yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Listing:
    """One marketplace offer as a search page showed it.

    Spiders fill what the platform shows; the normalise pipeline derives typed values
    (``price_idr``, ``sold_count``, ``location``) from the raw text, and the flag pipeline
    adds the verdict (``flagged`` … ``lexicon_version``).
    """

    platform: str
    listing_id: str
    url: str
    title: str
    keyword: str
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
