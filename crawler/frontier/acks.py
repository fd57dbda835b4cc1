"""Acknowledge a search page the moment its evidence is written.

The scheduler acknowledges a request once Scrapy no longer has it in progress, which comes
some turns of the event loop after its listings were handed to the recorder (an async
pipeline after the store pipeline yields to the loop, and another page's capture may write
them meanwhile): a process killed in that gap leaves a page stored in full that another
process fetches again. Two parts close the gap for pages that yield listings:

- :class:`FrontierAckMiddleware` (a spider middleware next to the engine) counts the items a
  leased page's callback yields, and notes the page's capture;
- :class:`FrontierAckPipeline` (right after the store pipeline) counts each listing of that
  capture as it is handed to the recorder; items dropped before it count through the
  ``item_dropped`` and ``item_error`` signals.

When the callback has finished and every item is counted, the recorder writes them and the
page is acknowledged in that same step. Pages without items and failed downloads are
acknowledged by the scheduler as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import Request, signals
from scrapy.exceptions import NotConfigured

from crawler.config import Config
from crawler.frontier.requests import TOKEN_META
from crawler.keys import Meta

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator

    from scrapy.crawler import Crawler
    from scrapy.http import Response


@dataclass
class _Page:
    token: str
    yielded: int = 0
    stored: int = 0
    finished: bool = False
    passed: set[int] = field(default_factory=set)  # ids of its items the pipeline saw


class PageCounts:
    """Per crawl: the leased pages whose items are being counted, by capture id."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.pages: dict[int, _Page] = {}

    @classmethod
    def of(cls, crawler: Crawler) -> PageCounts:
        counts = getattr(crawler, "_thriftwatch_page_counts", None)
        if counts is None:
            counts = cls(crawler)
            crawler._thriftwatch_page_counts = counts  # one per crawl, shared by both parts
        return counts

    def start(self, response: Response) -> int | None:
        token = response.meta.get(TOKEN_META)
        capture_id, _ = response.meta.get(Meta.CAPTURE, (None, None))
        if not isinstance(token, str) or not isinstance(capture_id, int):
            return None
        self.pages[capture_id] = _Page(token)
        return capture_id

    def stored(self, capture_id: Any, item: Any) -> None:
        page = self.pages.get(capture_id) if isinstance(capture_id, int) else None
        if page is not None and id(item) not in page.passed:
            page.passed.add(id(item))
            page.stored += 1
            self.maybe_ack(capture_id)

    def maybe_ack(self, capture_id: int) -> None:
        page = self.pages.get(capture_id)
        if page is None or not page.finished or page.stored < page.yielded:
            return
        del self.pages[capture_id]
        acknowledge = getattr(self.crawler.engine.scheduler, "acknowledge", None)
        if page.yielded and acknowledge is not None:
            acknowledge(page.token)


class FrontierAckMiddleware:
    def __init__(self, crawler: Crawler):
        self.counts = PageCounts.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierAckMiddleware:
        if not Config.from_crawler(crawler).frontier.enabled:
            raise NotConfigured("no shared frontier")
        middleware = cls(crawler)
        for signal in (signals.item_dropped, signals.item_error):
            crawler.signals.connect(middleware.item_lost, signal=signal)
        return middleware

    def process_spider_output(self, response: Response, result: Iterable[Any],
                              spider: Any = None) -> Iterator[Any]:
        capture_id = self.counts.start(response)
        for output in result:
            self._count(capture_id, output)
            yield output
        self._finish(capture_id)

    async def process_spider_output_async(self, response: Response,
                                          result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        capture_id = self.counts.start(response)
        async for output in result:
            self._count(capture_id, output)
            yield output
        self._finish(capture_id)

    def _count(self, capture_id: int | None, output: Any) -> None:
        if capture_id is not None and not isinstance(output, Request):
            self.counts.pages[capture_id].yielded += 1

    def _finish(self, capture_id: int | None) -> None:
        if capture_id is not None and capture_id in self.counts.pages:
            self.counts.pages[capture_id].finished = True
            self.counts.maybe_ack(capture_id)

    def item_lost(self, item: Any = None, response: Response | None = None,
                  **_: Any) -> None:
        """An item dropped or failed in a pipeline: counted if it never reached ours."""
        if response is not None:
            capture_id, _ = response.meta.get(Meta.CAPTURE, (None, None))
            self.counts.stored(capture_id, item)


class FrontierAckPipeline:
    """Right after the store pipeline: this listing of a leased page is with the recorder."""

    def __init__(self, crawler: Crawler):
        self.counts = PageCounts.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierAckPipeline:
        if not Config.from_crawler(crawler).frontier.enabled:
            raise NotConfigured("no shared frontier")
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        self.counts.stored(ItemAdapter(item).get("capture_id"), item)
        return item
