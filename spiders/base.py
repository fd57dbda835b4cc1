"""The shared shape of every platform spider: search each keyword, page, parse into listings."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response

from crawler.capture import CAPTURE_META_KEY
from crawler.config import Config
from crawler.items import Listing


class ResponseShapeError(ValueError):
    """A response does not have the shape the parser knows: the platform changed, or blocked us."""


@dataclass(frozen=True)
class SearchPage:
    """What one search response holds: its listings and whether another page follows."""

    listings: list[Listing]
    has_more: bool


def parse_keywords(value: str | Iterable[str] | None) -> list[str]:
    """``"balpres, bal thrift"`` or a list → unique, stripped keywords in their given order."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else value
    return list(dict.fromkeys(p.strip() for p in parts if p and p.strip()))


def json_body(response: Response) -> Any:
    """The response decoded as JSON, or :class:`ResponseShapeError` (a block page, say)."""
    try:
        return json.loads(response.body)
    except ValueError as error:
        raise ResponseShapeError(f"body is not JSON ({error}): {response.body[:120]!r}") from error


def default_search_terms() -> list[str]:
    with files("crawler.data").joinpath("search_terms.toml").open("rb") as handle:
        return list(tomllib.load(handle)["terms"])


class SearchSpider(scrapy.Spider):
    """Base for platform spiders. Subclasses give ``search_request`` and ``parse_page``.

    Spider arguments: ``keywords`` (comma-separated; default: the shipped search terms)
    and ``max_pages`` (default: the ``THRIFTWATCH_MAX_PAGES`` setting).
    """

    page_size: ClassVar[int]

    def __init__(self, keywords: str | Iterable[str] | None = None,
                 max_pages: int | str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.keywords = parse_keywords(keywords) or default_search_terms()
        self.max_pages_arg = max_pages

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> SearchSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        config = Config.from_settings(crawler.settings)
        spider.max_pages = int(spider.max_pages_arg or config.max_pages)
        if spider.max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, not {spider.max_pages_arg!r}")
        return spider

    async def start(self):
        for keyword in self.keywords:
            yield self._page_request(keyword, page=1)

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        """The platform's real search request for ``page`` (1-based) of ``keyword``."""
        raise NotImplementedError

    def parse_page(self, response: Response, keyword: str, page: int) -> SearchPage:
        """Parse one search response; raise :class:`ResponseShapeError` if it is not one."""
        raise NotImplementedError

    def _page_request(self, keyword: str, page: int) -> scrapy.Request:
        return self.search_request(keyword, page).replace(
            callback=self.parse_search, cb_kwargs={"keyword": keyword, "page": page}
        )

    def parse_search(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        try:
            result = self.parse_page(response, keyword, page)
        except ResponseShapeError as error:
            self.crawler.stats.inc_value(f"thriftwatch/parse_errors/{self.name}")
            self.logger.error("unparseable %s search page %s for %r: %s",
                              self.name, page, keyword, error)
            return
        capture_id, capture_sha256 = response.meta.get(CAPTURE_META_KEY, (None, None))
        self.crawler.stats.inc_value(f"thriftwatch/pages/{self.name}")
        for listing in result.listings:
            listing.capture_id = capture_id
            listing.capture_sha256 = capture_sha256
            yield listing
        if result.has_more and page < self.max_pages:
            yield self._page_request(keyword, page + 1)
