"""The shared shape of every platform spider: search each keyword, page, parse into listings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import scrapy
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.config import Config
from crawler.decoding import DecodeError, decode_json
from crawler.flagging.lexicon import default_search_terms
from crawler.items import merge_page, merge_parts
from crawler.keys import Meta, Stats, page_fault
from crawler.normalise import printable
from crawler.page_status import block_marker
from crawler.runtime.url_policy import RefusedURL

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from scrapy.http import Response
    from twisted.python.failure import Failure

    from crawler.items import Listing, ListingPage

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# Statuses a listing page's parser reads (a platform answers a listing that is gone with
# them, and with a body saying so); a body it does not know is then an ``http_error``.
GONE_STATUSES = (404, 410)


class ResponseShapeError(ValueError):
    """A response does not have the shape the parser knows: the platform changed it."""


class BlockedError(Exception):
    """The platform answered with an anti-bot, captcha or login wall instead of results."""


class ListingGoneError(Exception):
    """A listing page that says the listing is no longer there (taken down or deleted between
    its search and its page): a ``listing_gone`` fault with the page's capture, not a crash."""


@dataclass(frozen=True)
class SearchPage:
    """What one search response holds: its listings and whether another page follows."""

    listings: list[Listing]
    has_more: bool
    # Results that could not be read while the others could: each why, one per result.
    problems: tuple[str, ...] = ()


def parse_each(items: Iterable[Any], parse_one: Callable[[Any], Listing],
               ) -> tuple[list[Listing], tuple[str, ...]]:
    """Every result ``parse_one`` can read, and why each other one could not be read.

    One result with a field of the wrong shape (a seller's doing, or the platform's) costs
    that result alone: it is recorded as an ``item_parse_error`` fault and the page's other
    listings are kept. When no result can be read, the page itself is not results:
    :class:`ResponseShapeError`.
    """
    listings, problems = [], []
    for item in items:
        try:
            listings.append(parse_one(item))
        except ResponseShapeError as error:
            problems.append(str(error))
    if problems and not listings:
        more = f" (and {len(problems) - 1} more results like it)" if len(problems) > 1 else ""
        raise ResponseShapeError(f"{problems[0]}{more}")
    return listings, tuple(problems)


def parse_keywords(value: str | Iterable[str] | None) -> list[str]:
    """``"balpres, bal thrift"`` or a list → unique, stripped keywords in their given order."""
    if value is None:
        return []
    parts = value.split(",") if isinstance(value, str) else value
    return list(dict.fromkeys(p.strip() for p in parts if p and p.strip()))


def json_body(response: Response) -> Any:
    """The response decoded as JSON, or :class:`ResponseShapeError` (an HTML page, say)."""
    try:
        return decode_json(response.body)
    except DecodeError as error:
        raise ResponseShapeError(f"body is not JSON ({error}): {response.body[:120]!r}") from error


def id_text(value: Any) -> str:
    """A platform id as text: a non-empty string or a whole number, never "None" or "True"."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise ResponseShapeError(f"not an id: {value!r:.80}")
    return str(value)


def text_or_none(value: Any) -> str | None:
    """An optional platform value as text; missing or empty stays ``None``."""
    return None if value in (None, "") else str(value)


def id_or_none(value: Any) -> str | None:
    """An optional platform id as text: a non-empty string or a whole number, else None."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        return None
    return str(value)


def whole_or_none(value: Any) -> int | None:
    """A count or amount as a platform may send it (``12``, ``"12"``, ``12.0``), else None:
    never a boolean, a fraction or a number written with more than 19 digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    if isinstance(value, str) and 0 < len(value.strip()) <= 19 and value.strip().isdigit():
        return int(value.strip())
    return None


def real_or_none(value: Any) -> float | None:
    """A rating as a platform may send it (``4.8``, ``"4.8"``, ``5``), else None: never a
    boolean, NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, str) and len(value) > 32:
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def text_list(values: Any, limit: int = 50) -> list[str]:
    """The non-empty strings of a list (at most ``limit``); anything else is no list."""
    if not isinstance(values, list):
        return []
    return [value for value in values if isinstance(value, str) and value][:limit]


def dicts(values: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The objects of a list (at most ``limit``); anything else is no list."""
    if not isinstance(values, list):
        return []
    return [value for value in values if isinstance(value, dict)][:limit]


def variant(name: Any, options: Any) -> dict[str, Any]:
    """A listing page's variant group as ``{"name", "options"}`` (texts only)."""
    return {"name": name if isinstance(name, str) else "", "options": text_list(options, 100)}


def identify(record: Any, id_key: str, title_key: str, what: str = "product") -> tuple[str, Any]:
    """A result item's id (as text) and title, or :class:`ResponseShapeError` naming the item."""
    try:
        return id_text(record[id_key]), record[title_key]
    except (KeyError, TypeError, IndexError, ResponseShapeError) as error:
        raise ResponseShapeError(f"{what} without id or {title_key}: {record!r:.200}") from error


def own_page(page: ListingPage, card: Listing) -> ListingPage:
    """``page`` as the page of ``card``'s listing, or :class:`ResponseShapeError` when the
    page names another listing (a seller-controlled or confused answer must never move its
    data, contacts or seller onto this listing)."""
    if page.listing_id and page.listing_id != card.listing_id:
        raise ResponseShapeError(f"the page is of listing {page.listing_id!r:.80}, not of "
                                 f"{card.listing_id!r:.80}: not merged")
    page.listing_id = card.listing_id
    return page


class SearchSpider(scrapy.Spider):
    """Base for platform spiders. Subclasses give ``search_request`` and ``parse_page``.

    Spider arguments: ``keywords`` (comma-separated; default: the shipped search terms)
    and ``max_pages`` (default: the ``THRIFTWATCH_MAX_PAGES`` setting).
    """

    page_size: ClassVar[int]

    def __init__(self, keywords: str | Iterable[str] | None = None,
                 max_pages: int | str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.keywords = parse_keywords(keywords)  # empty: the defaults, set in from_crawler
        self.max_pages_arg = max_pages

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> SearchSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        config = Config.from_crawler(crawler)
        spider.keywords = spider.keywords or default_search_terms(config.flagging.lexicon_file)
        spider.max_pages = int(spider.max_pages_arg or config.max_pages)
        if spider.max_pages < 1:
            raise ValueError(f"max_pages must be at least 1, not {spider.max_pages_arg!r}")
        return spider

    async def start(self):
        for keyword in self.keywords:
            yield self.page_request(keyword, page=1)

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        """The platform's real search request for ``page`` (1-based) of ``keyword``."""
        raise NotImplementedError

    def parse_page(self, response: Response, keyword: str, page: int) -> SearchPage:
        """Parse one search response.

        Raise :class:`BlockedError` for an anti-bot answer and :class:`ResponseShapeError`
        for anything else that is not a search result: neither may pass as "no results".
        """
        raise NotImplementedError

    def listing_page_request(self, listing: Listing) -> scrapy.Request | None:
        """The platform's real request for ``listing``'s own page (its detail endpoint, or
        the page itself for a rendered platform: :meth:`RenderedSearchSpider.render_listing_page`),
        or None where the platform has none (the default: the listing is not enriched).

        ``listing`` is the search card, normalised and flagged. The base spider sets the
        callback, errback and redirect handling (:meth:`follow_listing_page`)."""
        return None

    def parse_listing_page(self, response: Response, listing: Listing) -> ListingPage:
        """Parse the response to :meth:`listing_page_request` into a :class:`ListingPage`.

        Raise :class:`ListingGoneError` when the page says the listing is gone,
        :class:`BlockedError` for an anti-bot answer and :class:`ResponseShapeError` for
        anything else that is not the listing's page. The capture fields are set by the
        base spider."""
        raise NotImplementedError

    def listing_page_next(self, response: Response, listing: Listing,
                          page: ListingPage) -> scrapy.Request | None:
        """Where a platform serves a listing page in parts (Blibli: the summary, then the
        description), the request for the next part after ``page`` (read so far), else None
        (the default). Each part is parsed by :meth:`parse_listing_page` and merged over
        the parts before it (:func:`crawler.items.merge_parts`)."""
        return None

    def follow_listing_page(self, listing: Listing) -> scrapy.Request | None:
        """:meth:`listing_page_request` wired to the shared callback and errback, or None.

        Asked for by the enrich pipeline, which decides which listings are followed (and
        filters repeats itself, hence ``dont_filter``). A redirect is recorded, not followed,
        as for searches."""
        request = self.listing_page_request(listing)
        if request is None:
            return None
        return request.replace(
            callback=self.parse_listing_response, errback=self.page_failed,
            cb_kwargs={"card": listing}, dont_filter=True,
            meta={**request.meta, "dont_redirect": True,
                  "handle_httpstatus_list": [*request.meta.get("handle_httpstatus_list", []),
                                             *REDIRECT_STATUSES, *GONE_STATUSES]},
        )

    def parse_listing_response(self, response: Response, card: Listing,
                               before: ListingPage | None = None) -> Iterator[Any]:
        """The shared callback of listing pages: the card with its page merged over it (one
        :class:`Listing` with ``source`` "listing_page"), or a fault with the page's capture.
        Every response parsed counts as a page in run health; blocks and errors alike.
        ``before``: the parts of the page read so far (see :meth:`listing_page_next`)."""
        if response.status in REDIRECT_STATUSES:
            target = response.headers.get("Location", b"").decode("latin-1")
            self.record_fault(response, "blocked", f"listing page redirected to {target!r}")
            return
        try:
            page = self.parse_listing_page(response, card)
        except ListingGoneError as error:
            self.record_fault(response, "listing_gone", f"listing {card.listing_id}: {error}")
            return
        except BlockedError as error:
            self.record_fault(response, "blocked", str(error))
            return
        except ResponseShapeError as error:
            self.record_unreadable(response, error, http_errors=True)
            return
        page.capture_id, page.capture_sha256 = response.meta.get(Meta.CAPTURE, (None, None))
        _, page.screenshot_sha256 = response.meta.get(Meta.SCREENSHOT, (None, None))
        self.crawler.stats.inc_value(Stats.pages(self.name))
        if before is not None:
            page = merge_parts(before, page)
        following = self.listing_page_next(response, card, page)
        if following is not None:
            yield following.replace(
                callback=self.parse_listing_response, errback=self.page_failed,
                cb_kwargs={"card": card, "before": page}, dont_filter=True,
                meta={**following.meta, "dont_redirect": True, "handle_httpstatus_list": [
                    *following.meta.get("handle_httpstatus_list", []), *REDIRECT_STATUSES,
                    *GONE_STATUSES]})
            return
        self.crawler.stats.inc_value(Stats.listing_pages(self.name))
        yield merge_page(card, page)

    def record_unreadable(self, response: Response, error: ResponseShapeError, *,
                          http_errors: bool) -> None:
        """A page its parser could not read: ``blocked`` when the platform's wall structure
        shows (seller text in a real page is no wall), else ``http_error`` for an error
        status (with ``http_errors``), else ``parse_error``."""
        wall = block_marker(response.status, response.body, response.url,
                            response.headers.get("Content-Type"))
        if wall:
            self.record_fault(response, "blocked", f"{wall} ({error})")
        elif http_errors and response.status >= 400:
            self.record_fault(response, "http_error", f"HTTP {response.status} ({error})")
        else:
            self.record_fault(response, "parse_error", str(error))

    def page_request(self, keyword: str, page: int) -> scrapy.Request:
        """``search_request`` wired to the shared callback and errback.

        A search answered with a redirect is kept and recorded, not followed: real sites
        redirect searches to login or captcha pages, and following could leave the platform.
        """
        request = self.search_request(keyword, page)
        return request.replace(
            callback=self.parse_search, errback=self.page_failed,
            cb_kwargs={"keyword": keyword, "page": page},
            meta={**request.meta, "dont_redirect": True,
                  "handle_httpstatus_list": [*request.meta.get("handle_httpstatus_list", []),
                                             *REDIRECT_STATUSES]},
        )

    def parse_search(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        if response.status in REDIRECT_STATUSES:
            target = response.headers.get("Location", b"").decode("latin-1")
            self.record_fault(response, "blocked", f"search redirected to {target!r}")
            return
        try:
            result = self.parse_page(response, keyword, page)
        except BlockedError as error:
            self.record_fault(response, "blocked", str(error))
            return
        except ResponseShapeError as error:
            self.record_unreadable(response, error, http_errors=False)
            return
        for problem in result.problems:
            self.record_fault(response, "item_parse_error", problem)
        capture_id, capture_sha256 = response.meta.get(Meta.CAPTURE, (None, None))
        _, screenshot_sha256 = response.meta.get(Meta.SCREENSHOT, (None, None))
        self.crawler.stats.inc_value(Stats.pages(self.name))
        for listing in result.listings:
            listing.capture_id = capture_id
            listing.capture_sha256 = capture_sha256
            listing.screenshot_sha256 = screenshot_sha256
            yield listing
        if result.has_more and page < self.max_pages:
            yield self.page_request(keyword, page + 1)

    def page_failed(self, failure: Failure) -> None:
        """Errback: an HTTP error status (after retries) or a network failure. A URL the fetch
        guard refused is already a ``refused_url`` fault."""
        request = failure.request
        if failure.check(RefusedURL):
            return
        if failure.check(HttpError):
            response = failure.value.response
            self.record_fault(response, "http_error", f"HTTP {response.status}")
        else:
            self.record_fault(None, "download_error", repr(failure.value), request=request)

    def record_fault(self, response: Response | None, kind: str, detail: str,
                     request: scrapy.Request | None = None) -> None:
        """Count, log and send :data:`crawler.keys.page_fault` for the recorder to store."""
        request = request or response.request
        self.crawler.stats.inc_value(
            Stats.blocks(self.name) if kind == "blocked" else Stats.faults(kind, self.name))
        log = self.logger.warning if kind in ("blocked", "listing_gone") else self.logger.error
        # Seller text in the detail is written as escapes: one fault, one log line.
        log("%s on %s %s: %s", kind, request.method, request.url, printable(detail))
        self.crawler.signals.send_catch_log(page_fault, response=response,
                                            request=request, kind=kind, detail=detail)
