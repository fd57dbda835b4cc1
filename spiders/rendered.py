"""Base for platforms whose search results only a browser sees (drawn by the page's scripts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import scrapy
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.config import Config, use_http_handler
from crawler.keys import Meta, Stats, page_fault
from crawler.runtime.browser import (
    DATA_METHOD,
    REDACTED_FAULT,
    REDACTED_META,
    DataResponse,
    launch_options,
    page_method_result,
)
from spiders.base import SearchSpider

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

    from crawler.items import Listing, ListingPage

# Chromium resolves no host but loopback in replica mode, so a page can never reach a real
# site even if routing failed. (The replica's answers are fetched by Playwright, not Chromium.)
REPLICA_ONLY_RESOLVER = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
# Outside replica mode a rendered page may load only from its platform's hosts and the CDNs
# its pages draw from (modelled on the platforms' public pages; check against a real visit
# and add a host here if a page needs one). A spider may set ``page_hosts`` itself.
PLATFORM_PAGE_HOSTS = {
    "facebook": ("facebook.com", "fbcdn.net", "fbsbx.com", "facebook.net"),
    "tiktokshop": ("tokopedia.com", "tokopedia.net", "tiktok.com", "tiktokcdn.com",
                   "tiktokcdn-us.com", "ttwstatic.com", "byteimg.com", "ibyteimg.com"),
}


class RenderedSearchSpider(SearchSpider):
    """A :class:`SearchSpider` whose search pages are rendered in Chromium.

    Subclasses add ``ready_selector`` (drawn once results, or a block wall, are on the
    page), optionally ``scroll_feed``, and optionally ``data_url`` (a regex of the page's
    data fetches to keep: they are stored as evidence and handed to ``parse_page`` through
    :meth:`data_responses`).
    Every rendered page is also screenshotted in full and stored as evidence, unless it
    showed a session cookie's value (then a ``session_redacted`` fault says why).
    Outside replica mode the page may load only from ``page_domains()``.
    """

    ready_selector: ClassVar[str]
    data_url: ClassVar[str | None] = None
    # Set where results have no page URLs and scrolling to the bottom fetches more: the
    # selector of a result; the page is then scrolled ``max_pages - 1`` times.
    scroll_feed: ClassVar[str | None] = None
    # The hosts (with their subdomains) a rendered page may load from besides
    # ``allowed_domains``; None: the platform's entry in PLATFORM_PAGE_HOSTS.
    page_hosts: ClassVar[tuple[str, ...] | None] = None

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        config = Config.from_settings(settings)
        options = launch_options(config.browser.chromium)
        if config.replica:
            options["args"].append(REPLICA_ONLY_RESOLVER)
        settings.set("PLAYWRIGHT_LAUNCH_OPTIONS", options, priority="spider")
        use_http_handler(settings, "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler",
                         priority="spider")

    def page_request(self, keyword: str, page: int) -> scrapy.Request:
        request = super().page_request(keyword, page)
        render = {"wait_for": self.ready_selector, "data_url": self.data_url}
        if self.scroll_feed:
            render["scroll"] = {"times": self.max_pages - 1, "feed": self.scroll_feed}
        request.meta[Meta.RENDER] = render
        return request

    def render_listing_page(self, url: str, wait_for: str,
                            data_url: str | None = None) -> scrapy.Request:
        """A GET of a listing page at ``url`` rendered in Chromium: it waits until
        ``wait_for`` (a CSS selector drawn on the live page and on the platform's not-found or
        wall page alike) is in the page, keeps the data fetches matching ``data_url`` (read
        them with :meth:`data_responses`) and is screenshotted in full; the HTML as drawn,
        the screenshot and the data fetches are stored as evidence, as for search pages."""
        return scrapy.Request(url, meta={Meta.RENDER: {"wait_for": wait_for,
                                                       "data_url": data_url}})

    def page_domains(self) -> tuple[str, ...]:
        """Where the rendered page may send requests outside replica mode."""
        extra = self.page_hosts if self.page_hosts is not None else PLATFORM_PAGE_HOSTS.get(
            self.name, ())
        return tuple(dict.fromkeys((*getattr(self, "allowed_domains", ()), *extra)))

    def parse_search(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        self.record_redaction(response)
        yield from super().parse_search(response, keyword, page)

    def parse_listing_response(self, response: Response, card: Listing,
                               before: ListingPage | None = None) -> Iterator[Any]:
        self.record_redaction(response)
        yield from super().parse_listing_response(response, card, before)

    def page_failed(self, failure: Failure) -> None:
        if failure.check(HttpError):
            self.record_redaction(failure.value.response)
        super().page_failed(failure)

    def record_redaction(self, response: Response) -> None:
        """Record, with the page's capture, that session cookie values were taken out of
        it (and its screenshot withheld): the capture is not the page byte for byte."""
        detail = response.meta.get(REDACTED_META)
        if not detail:
            return
        self.crawler.stats.inc_value(Stats.faults(REDACTED_FAULT, self.name))
        self.logger.warning("%s on %s: %s", REDACTED_FAULT, response.url, detail)
        self.crawler.signals.send_catch_log(page_fault, response=response,
                                            request=response.request, kind=REDACTED_FAULT,
                                            detail=detail)

    @staticmethod
    def data_responses(response: Response) -> list[DataResponse]:
        """The page's own data fetches that matched ``data_url``, in the order they ended."""
        return page_method_result(response.meta, DATA_METHOD) or []
