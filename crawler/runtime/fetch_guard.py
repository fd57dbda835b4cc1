"""The fetch guard: no request leaves for a URL the fetch policy refuses, and every refusal
is recorded as a ``refused_url`` fault.

:class:`FetchGuardMiddleware`, a downloader middleware at order 5, sees each request
first: start requests, retries, robots.txt fetches and every request a redirect makes
(Scrapy's redirect middlewares hand back a new request, which goes through all downloader
middlewares again). It refuses (with :class:`~crawler.runtime.url_policy.RefusedURL`, an
``IgnoreRequest``, which goes to the request's errback) what
:func:`~crawler.runtime.url_policy.refusal` refuses: a scheme other than http(s), no host,
a non-public IP literal, or a host off the spider's ``allowed_domains`` (even with
``dont_filter``, which Scrapy's offsite filter lets through), or, for a request that names
its own hosts in ``meta[Meta.FETCH_HOSTS]`` (a listing's photo on its image CDN), off
those. The URLs checked are the real ones: in replica mode only the download handler sends
them to the replica.

A name that resolves to a non-public address is refused by
:class:`crawler.runtime.resolver.PublicOnlyResolver` during the download, where it fails
like an unknown name; :class:`RefusedAddressMiddleware` (order 990, so the first to see a
download's failure, before any retry) turns that failure into ``RefusedURL`` and records it.

Enable with ``DOWNLOADER_MIDDLEWARES`` entries
``"crawler.runtime.fetch_guard.FetchGuardMiddleware": 5`` and
``"crawler.runtime.fetch_guard.RefusedAddressMiddleware": 990``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import CannotResolveHostError
from twisted.internet.error import DNSLookupError

from crawler.keys import Meta, Stats, page_fault
from crawler.runtime.resolver import refused_name
from crawler.runtime.url_policy import RefusedURL, refusal

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)
FAULT_KIND = "refused_url"


def record_refusal(crawler: Crawler, request: Request, reason: str) -> None:
    """Count, log and send :data:`crawler.keys.page_fault` for the recorder to store.

    A robots.txt fetch is refused silently: the request it was made for is refused (and
    recorded) for the same reason. A photo request's refusal is stored as a fault but not
    counted as one (see ``pipelines.images``).
    """
    if request.meta.get("dont_obey_robotstxt") and urlsplit(request.url).path == "/robots.txt":
        logger.debug("%s: %s: %s", FAULT_KIND, request.url, reason)
        return
    name = crawler.spider.name if crawler.spider else "unknown"
    if not request.meta.get(Meta.FETCH_HOSTS):
        # A listing's photo (or its redirect) refused is counted by the images pipeline,
        # apart from the run's faults: a seller's photo URL must not fail a run's health.
        crawler.stats.inc_value(Stats.faults(FAULT_KIND, name))
    logger.warning("%s: %s %s: %s", FAULT_KIND, request.method, request.url, reason)
    crawler.signals.send_catch_log(page_fault, response=None, request=request,
                                   kind=FAULT_KIND, detail=reason)


class FetchGuardMiddleware:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FetchGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        domains = (request.meta.get(Meta.FETCH_HOSTS)
                   or getattr(self.crawler.spider, "allowed_domains", None))
        why = refusal(request.url, domains)
        if why is not None:
            record_refusal(self.crawler, request, why)
            raise RefusedURL(request.url, why)


class RefusedAddressMiddleware:
    """Turns a lookup the resolver refused into a recorded ``RefusedURL``, never retried."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RefusedAddressMiddleware:
        return cls(crawler)

    def process_exception(self, request: Request, exception: BaseException,
                          spider: Any = None) -> None:
        if not isinstance(exception, (CannotResolveHostError, DNSLookupError)):
            return
        why = refused_name(urlsplit(request.url).hostname or "")
        if why is not None:
            record_refusal(self.crawler, request, why)
            raise RefusedURL(request.url, why) from exception
