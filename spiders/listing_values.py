"""Values read from listing pages, typed and bounded: sellers write most of these bytes.

The listing-page parsers of TikTok Shop, Facebook, Instagram and the site profiles read
every value through these helpers, so a field of the wrong type is left out (never a
crash, never ``"None"``), and no seller can make a page cost more than a few caps: text is
cut at :data:`MAX_TEXT` characters, names at :data:`MAX_NAME`, photos at
:data:`MAX_IMAGES`, variants at :data:`MAX_VARIANTS` of :data:`MAX_OPTIONS` options.
A count above :data:`MAX_COUNT` or a rating outside 0 to :data:`MAX_RATING` is no value
a platform shows, and is left out too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from spiders.base import real_or_none, whole_or_none

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_TEXT = 20_000  # a description or a shop's "about": far above what platforms allow
MAX_NAME = 300  # a shop name, a city, a join date as written
MAX_URL = 2_048
MAX_ID = 100
MAX_IMAGES = 50
MAX_VARIANTS = 20
MAX_OPTIONS = 100
MAX_COUNT = 10**12  # followers, sales, stock: more is noise
MAX_RATING = 100.0  # ratings are out of 5 (some platforms', out of 100)
MAX_DATA = 5_000_000  # characters of a page's embedded data a parser decodes
# Join dates a platform can have written (epoch seconds): 2000-01-01 to 2100-01-01.
_EARLIEST, _LATEST = 946_684_800, 4_102_444_800


def as_object(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (a field that changed shape)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def page_id(value: Any) -> str | None:
    """An id: a non-empty string of at most :data:`MAX_ID` characters or a whole number."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value) if isinstance(value, str) or abs(value) < 10**MAX_ID else ""
    return text if 0 < len(text) <= MAX_ID and text.strip() == text else None


def page_count(value: Any) -> int | None:
    """A count (``12``, ``"12"``, ``12.0``) from 0 to :data:`MAX_COUNT`, else None."""
    count = whole_or_none(value)
    return count if count is not None and 0 <= count <= MAX_COUNT else None


def page_rating(value: Any) -> float | None:
    """A rating (``4.8``, ``"4,8"``) from 0 to :data:`MAX_RATING`, else None."""
    rating = real_or_none(value.replace(",", ".", 1) if isinstance(value, str) else value)
    return rating if rating is not None and 0 <= rating <= MAX_RATING else None


def page_text(value: Any, limit: int = MAX_TEXT) -> str | None:
    """A text field: a non-blank string, stripped and cut at ``limit``; anything else None."""
    if not isinstance(value, str):
        return None
    text = value[:limit * 2].strip()[:limit]
    return text or None


def page_name(value: Any) -> str | None:
    """A short text field (a name, a city, a condition) cut at :data:`MAX_NAME`."""
    return page_text(value, MAX_NAME)


def page_url(value: Any, base: str) -> str | None:
    """An http(s) link made absolute against ``base``; anything else (``javascript:``,
    ``file:``, a broken host, a link longer than :data:`MAX_URL`) is None."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_URL:
        return None
    try:
        url = urljoin(base, value.strip())
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def page_urls(values: Iterable[Any], base: str) -> list[str]:
    """Every http(s) link of ``values``, absolute, each once, at most :data:`MAX_IMAGES`."""
    found: dict[str, None] = {}
    for count, value in enumerate(values):
        if count >= MAX_IMAGES * 4 or len(found) >= MAX_IMAGES:
            break
        if (url := page_url(value, base)) is not None:
            found.setdefault(url)
    return list(found)


def page_day(seconds: Any) -> str | None:
    """A platform's epoch-seconds timestamp as its UTC day (``2022-01-19``), or None."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return None
    if not _EARLIEST <= seconds < _LATEST:
        return None
    return datetime.fromtimestamp(seconds, UTC).date().isoformat()


def page_variants(pairs: Iterable[tuple[Any, Any]]) -> list[dict[str, Any]]:
    """``(name, option)`` pairs as variants ``[{"name", "options"}]``, options in the order
    first seen; pairs whose name or option is not text are left out."""
    variants: dict[str, list[str]] = {}
    for count, (raw_name, raw_option) in enumerate(pairs):
        if count >= MAX_VARIANTS * MAX_OPTIONS:
            break
        name, option = page_name(raw_name), page_name(raw_option)
        if name is None or option is None:
            continue
        if name not in variants and len(variants) >= MAX_VARIANTS:
            continue
        options = variants.setdefault(name, [])
        if option not in options and len(options) < MAX_OPTIONS:
            options.append(option)
    return [{"name": name, "options": options} for name, options in variants.items()]
