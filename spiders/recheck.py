"""``recheck``: revisit the known listings of an evidence DB and record which are still live.

Run it with ``thriftwatch recheck --db PATH [--flagged-only]``; each page is stored as a
capture, and its verdict (live / removed / blocked) as a row of ``rechecks``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy

from crawler.config import Config
from crawler.evidence.store import EvidenceStore
from crawler.items import Recheck
from crawler.keys import Meta, Stats
from crawler.page_status import BLOCKED_STATUSES, REMOVED_STATUSES, classify

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure


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

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> RecheckSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        store = EvidenceStore(Config.from_crawler(crawler).store.db_path)
        try:
            spider.listings = store.listings_to_recheck(flagged_only=spider.flagged_only,
                                                        platform=spider.platform)
        finally:
            store.close()
        # The offsite filter reads these when the spider opens: the listings' own hosts.
        spider.allowed_domains = sorted({urlsplit(row["url"]).hostname
                                         for row in spider.listings})
        return spider

    async def start(self):
        for row in self.listings:
            yield scrapy.Request(row["url"], callback=self.parse_listing, errback=self.failed,
                                 cb_kwargs={"known": row}, dont_filter=True)

    def parse_listing(self, response: Response, known: dict[str, Any]) -> Recheck:
        text = response.text if hasattr(response, "text") else ""
        status, why = classify(response.status, text)
        capture_id, _ = response.meta.get(Meta.CAPTURE, (None, None))
        self.crawler.stats.inc_value(Stats.recheck(status))
        return Recheck(platform=known["platform"], listing_id=known["listing_id"],
                       url=known["url"], status=status, http_status=response.status,
                       detail=why, capture_id=capture_id)

    def failed(self, failure: Failure) -> Recheck:
        known = failure.request.cb_kwargs["known"]
        self.crawler.stats.inc_value(Stats.recheck("error"))
        return Recheck(platform=known["platform"], listing_id=known["listing_id"],
                       url=known["url"], status="error", detail=repr(failure.value)[:500])
