"""Base for platforms whose search results only a browser sees (drawn by the page's scripts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from crawler.config import Config, use_http_handler
from crawler.keys import Meta
from crawler.runtime.browser import DATA_METHOD, DataResponse, launch_options, page_method_result
from spiders.base import SearchSpider

if TYPE_CHECKING:
    import scrapy
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

# Chromium resolves no host but loopback in replica mode, so a page can never reach a real
# site even if routing failed. (The replica's answers are fetched by Playwright, not Chromium.)
REPLICA_ONLY_RESOLVER = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


class RenderedSearchSpider(SearchSpider):
    """A :class:`SearchSpider` whose search pages are rendered in Chromium.

    Subclasses add ``ready_selector`` (drawn once results, or a block wall, are on the
    page), optionally ``scroll_feed``, and optionally ``data_url`` (a regex of the page's
    data fetches to keep: they are stored as evidence and handed to ``parse_page`` through
    :meth:`data_responses`).
    Every rendered page is also screenshotted in full and stored as evidence.
    """

    ready_selector: ClassVar[str]
    data_url: ClassVar[str | None] = None
    # Set where results have no page URLs and scrolling to the bottom fetches more: the
    # selector of a result; the page is then scrolled ``max_pages - 1`` times.
    scroll_feed: ClassVar[str | None] = None

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

    @staticmethod
    def data_responses(response: Response) -> list[DataResponse]:
        """The page's own data fetches that matched ``data_url``, in the order they ended."""
        return page_method_result(response.meta, DATA_METHOD) or []
