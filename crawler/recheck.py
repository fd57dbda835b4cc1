"""Decide from a revisited listing page whether the listing is live, removed or blocked."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib.resources import files

REMOVED_STATUSES = {404, 410}
BLOCKED_STATUSES = {401, 403, 429}


@lru_cache(maxsize=1)
def _markers() -> tuple[re.Pattern[str], re.Pattern[str]]:
    with files("crawler.data").joinpath("recheck.toml").open("rb") as handle:
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
