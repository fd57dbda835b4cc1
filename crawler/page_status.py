"""What a page says of itself: live, removed (taken down) or blocked (captcha, login wall).

The one home of block and takedown detection: spiders ask :func:`block_marker` why a page
they cannot parse is not results, site profiles match their own ``[block]`` patterns
through :func:`block_pattern`, and ``recheck`` asks :func:`classify` whether a listing is
still up. The markers are data: ``crawler/data/page_markers.toml``.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

REMOVED_STATUSES = {404, 410}
BLOCKED_STATUSES = {401, 403, 429}


@lru_cache(maxsize=1)
def _markers() -> tuple[re.Pattern[str], re.Pattern[str]]:
    with files("crawler.data").joinpath("page_markers.toml").open("rb") as handle:
        data = tomllib.load(handle)["default"]
    return (re.compile("|".join(data["removed"]), re.IGNORECASE),
            re.compile("|".join(data["blocked"]), re.IGNORECASE))


def classify(http_status: int, text: str) -> tuple[str, str]:
    """``(status, why)``: "removed", "blocked" or "live", from the HTTP status and page text."""
    if http_status in REMOVED_STATUSES:
        return "removed", f"HTTP {http_status}"
    if http_status in BLOCKED_STATUSES:
        return "blocked", f"HTTP {http_status}"
    removed, blocked = _markers()
    sample = text[:200_000]
    if match := blocked.search(sample):
        return "blocked", f"page says {match.group()!r}"
    if match := removed.search(sample):
        return "removed", f"page says {match.group()!r}"
    if http_status >= 400:
        return "blocked", f"HTTP {http_status}"
    return "live", f"HTTP {http_status}"


def block_pattern(patterns: Iterable[re.Pattern[str]], text: str) -> str | None:
    """The first of a site's own block ``patterns`` (a site profile's ``[block]``) that
    ``text`` matches, if any."""
    return next((pattern.pattern for pattern in patterns if pattern.search(text)), None)


def block_marker(http_status: int, body: bytes) -> str | None:
    """What on an unparseable page says it is a captcha or login wall, if anything."""
    status, why = classify(http_status, body[:200_000].decode("utf-8", "replace"))
    return why if status == "blocked" else None
