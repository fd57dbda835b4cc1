"""``recheck``: revisit the known listings of an evidence DB and record which are still live.

Run it with ``thriftwatch recheck --db PATH [--flagged-only]``; each page is stored as a
capture, and its verdict (live / removed / blocked) as a row of ``rechecks``.

A stored listing URL came from a seller's listing, so it is not trusted: it is revisited
only if it is an http(s) URL on its own platform's hosts (the ``allowed_domains`` of that
platform's spider or site profile, never hosts taken from the listings) and on a public
address. Anything else is not fetched and is recorded as a ``refused_url`` fault; so is a
redirect off those hosts (see :mod:`crawler.runtime.fetch_guard`). One bad URL never stops
the others.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.spiderloader import SpiderLoader

from crawler.config import Config
from crawler.evidence.store import EvidenceStore
from crawler.items import Recheck
from crawler.keys import Meta, Stats
from crawler.page_status import BLOCKED_STATUSES, REMOVED_STATUSES, classify
from crawler.runtime.fetch_guard import FAULT_KIND as REFUSED
from crawler.runtime.recorder import EvidenceRecorder
from crawler.runtime.url_policy import RefusedURL, refusal
from spiders.profile_format import load_profiles

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure




def platform_domains(settings: BaseSettings) -> dict[str, tuple[str, ...]]:
    """Each platform's own hosts: its spider's ``allowed_domains``, or its shipped site
    profile's. A platform not listed has no hosts: none of its URLs is fetched."""
    loader = SpiderLoader.from_settings(settings)
    domains: dict[str, tuple[str, ...]] = {}
    for name in loader.list():
        allowed = getattr(loader.load(name), "allowed_domains", None)
        if isinstance(allowed, (list, tuple)) and allowed:
            domains[name] = tuple(allowed)
    for profile in _shipped_profiles():
        domains.setdefault(profile.name, tuple(profile.allowed_domains))
    return domains


@cache
def _shipped_profiles() -> tuple[Any, ...]:
    return tuple(load_profiles(None))


def listing_refusal(url: Any, platform: Any, domains: Mapping[str, tuple[str, ...]]) -> str | None:
    """Why a stored listing's ``url`` is not revisited, or None if it may be."""
    if not isinstance(url, str) or not url:
        return "no URL"
    hosts = domains.get(platform) if isinstance(platform, str) else None
    if not hosts:
        return f"no known hosts for platform {platform!r}"
    why = refusal(url, hosts)
    if why is None:
        try:
            scrapy.Request(url)
        except (ValueError, TypeError) as error:
            why = f"not a URL Scrapy can request ({error})"
    return why


class RecheckSpider(scrapy.Spider):
    name = "recheck"
    custom_settings = {
        # A removed listing often answers 404 or redirects to a "not found" page: both are
        # answers to keep, not errors to retry.
        "HTTPERROR_ALLOWED_CODES": sorted(REMOVED_STATUSES | BLOCKED_STATUSES),
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408],
    }

    def __init__(self, flagged_only: str | bool = False, platform: str | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.flagged_only = str(flagged_only).lower() in ("1", "true", "yes")
        self.platform = platform
        self.listings: list[dict[str, Any]] = []
        self.platform_domains: dict[str, tuple[str, ...]] = {}

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> RecheckSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        store = EvidenceStore(Config.from_crawler(crawler).store.db_path)
        try:
            spider.listings = store.listings_to_recheck(flagged_only=spider.flagged_only,
                                                        platform=spider.platform)
        finally:
            store.close()
        spider.platform_domains = platform_domains(crawler.settings)
        # The fetch guard and Scrapy's offsite filter read these: the hosts of the platforms
        # being rechecked, so a redirect can lead nowhere else. Never the listings' hosts.
        platforms = {row["platform"] for row in spider.listings}
        spider.allowed_domains = sorted({domain for name, hosts in spider.platform_domains.items()
                                         if name in platforms for domain in hosts})
        return spider

    async def start(self):
        for row in self.listings:
            why = listing_refusal(row["url"], row["platform"], self.platform_domains)
            if why is not None:
                self.refuse(row, why)
                continue
            yield scrapy.Request(row["url"], callback=self.parse_listing, errback=self.failed,
                                 cb_kwargs={"known": row}, dont_filter=True)

    def refuse(self, row: Mapping[str, Any], why: str) -> None:
        """Record a stored URL that is not fetched as a ``refused_url`` fault (the recorder
        logs it)."""
        url = row["url"]
        self.crawler.stats.inc_value(Stats.faults(REFUSED, self.name))
        try:
            urlsplit(str(url))
        except ValueError:  # kept in the detail; the url column takes only a URL
            url, why = "", f"{why}: {str(row['url'])[:500]!r}"
        recorder = self.crawler.get_extension(EvidenceRecorder)
        if recorder is not None:
            recorder.listing_fault({**row, "url": url}, REFUSED, f"not fetched: {why}")

    def parse_listing(self, response: Response, known: dict[str, Any]) -> Recheck:
        status, why = classify(response.status, response.body, response.url,
                               response.headers.get("Content-Type"))
        capture_id, _ = response.meta.get(Meta.CAPTURE, (None, None))
        self.crawler.stats.inc_value(Stats.recheck(status))
        return Recheck(platform=known["platform"], listing_id=known["listing_id"],
                       url=known["url"], status=status, http_status=response.status,
                       detail=why, capture_id=capture_id)

    def failed(self, failure: Failure) -> Recheck | None:
        if failure.check(RefusedURL):  # the fetch guard recorded it as a refused_url fault
            return None
        known = failure.request.cb_kwargs["known"]
        self.crawler.stats.inc_value(Stats.recheck("error"))
        return Recheck(platform=known["platform"], listing_id=known["listing_id"],
                       url=known["url"], status="error", detail=repr(failure.value)[:500])
