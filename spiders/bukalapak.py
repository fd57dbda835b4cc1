"""Bukalapak: the web client's ``multistrategy-products`` search, 50 products a page.

The search API wants an access token. The spider gets one as the web client does, through
the anonymous token exchange, and sends it only in the ``Authorization`` header: never in
a URL, a log line or an item. The exchange's response body is never stored. A token
about to expire is exchanged for a new one before the next page.

Bukalapak states each product's ``condition`` ("Baru" = new, "Bekas" = used) and whether
it is ``imported``: both are carried into the listing as evidence.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import scrapy
from scrapy.spidermiddlewares.httperror import HttpError
from w3lib.html import remove_tags, replace_entities

from crawler.decoding import DecodeError, decode_json
from crawler.items import Listing
from crawler.keys import Meta
from spiders.base import (
    BlockedError,
    ResponseShapeError,
    SearchPage,
    SearchSpider,
    identify,
    json_body,
    parse_each,
)

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

TOKEN_URL = "https://accounts.bukalapak.com/auth_proxies/request_token"  # noqa: S105 - a URL
SEARCH_URL = "https://api.bukalapak.com/multistrategy-products"
WEB_ORIGIN = "https://www.bukalapak.com"
LIMIT = 50
TOKEN_MARGIN = 60  # seconds before its expires_at that a token is exchanged for a new one
# Statuses whose body the parser reads to tell a block from an error.
BLOCK_STATUSES = (401, 403)
# What a Cloudflare challenge page carries instead of search results.
CLOUDFLARE_MARKERS = ("challenge-platform", "cf-chl", "cf_chl", "just a moment...",
                      "attention required! | cloudflare")
# Tags after which a product description starts a new line.
_LINE_BREAK_TAGS = re.compile(r"<\s*(?:br|/p|/li|/h[1-6]|/div)\b[^>]*>", re.IGNORECASE)


def search_query(keyword: str, page: int, limit: int = LIMIT) -> str:
    """The search URL's query: ``offset`` counts products, ``page`` is 1-based."""
    return urlencode({"keywords": keyword, "limit": limit, "offset": (page - 1) * limit,
                      "page": page, "facet": "true"})


def access_token_from(body: bytes) -> tuple[str, int | None]:
    """``(access_token, expires_at)`` from the token exchange's raw response body.

    Error messages never quote the body: it may hold a credential.
    """
    try:
        data = decode_json(body)
    except DecodeError:
        raise ResponseShapeError("token exchange answered with a body that is not JSON") from None
    token = data.get("access_token") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise ResponseShapeError("token exchange answered without an access_token")
    expires_at = data.get("expires_at")
    return token, expires_at if isinstance(expires_at, int) else None


def raise_if_blocked(status: int, body: bytes, cf_mitigated: str = "") -> None:
    """Raise :class:`BlockedError` for Bukalapak's refusals.

    Those are the API's 401/403 JSON ``{"errors": [{"code": ...}]}`` and a Cloudflare
    challenge page: HTML marked by the ``cf-mitigated: challenge`` header or its scripts.
    """
    if cf_mitigated.lower() == "challenge":
        raise BlockedError(f"Cloudflare challenge (HTTP {status})")
    head = body[:4096].decode("utf-8", "replace").lower()
    if head.lstrip().startswith("<") and any(marker in head for marker in CLOUDFLARE_MARKERS):
        raise BlockedError(f"Cloudflare challenge page (HTTP {status})")
    if status in BLOCK_STATUSES:
        raise BlockedError(f"HTTP {status} from the API, error codes {error_codes(body)}")


def error_codes(body: bytes) -> list[Any]:
    """The ``code`` of each entry of an API error body's ``errors``; [] for any other body."""
    try:
        errors = decode_json(body).get("errors")
        return [error.get("code") for error in errors]
    except (ValueError, AttributeError, TypeError):
        return []


def parse_search_body(body: Any, keyword: str, page: int = 1, limit: int = LIMIT) -> SearchPage:
    """Parse page ``page`` of a ``multistrategy-products`` body (already JSON-decoded)."""
    if not isinstance(body, dict):
        raise ResponseShapeError(f"not a multistrategy-products body: {body!r:.200}")
    if body.get("errors"):
        raise ResponseShapeError(f"API errors: {body['errors']!r:.300}")
    products = body.get("data")
    if not isinstance(products, list):
        raise ResponseShapeError("multistrategy-products body has no data list")
    listings, problems = parse_each(products, lambda p: listing_from_product(p, keyword))
    return SearchPage(listings, has_more=_has_more(body.get("meta"), len(products), page, limit),
                      problems=problems)


def _has_more(meta: Any, count: int, page: int, limit: int) -> bool:
    """Page on by ``meta.total_pages`` or ``meta.total``; without them, while pages are full."""
    meta = meta if isinstance(meta, dict) else {}
    if count == 0:
        return False
    if isinstance(meta.get("total_pages"), int):
        return page < meta["total_pages"]
    if isinstance(meta.get("total"), int):
        return (page - 1) * limit + count < meta["total"]
    return count >= limit


def listing_from_product(product: dict[str, Any], keyword: str) -> Listing:
    """One product of ``data[]`` as a :class:`Listing`."""
    listing_id, title = identify(product, "id", "name")
    try:
        store = product.get("store") or {}
        category = product.get("category") or {}
        rating = (product.get("rating") or {}).get("average_rate")
        sold = (product.get("stats") or {}).get("sold_count")
        price = product.get("price")
        imported = product.get("imported")
        return Listing(
            platform="bukalapak",
            listing_id=listing_id,
            url=product.get("url") or "",
            title=title,
            keyword=keyword,
            description=description_text(product.get("description")),
            price_idr=price if isinstance(price, int) else None,
            seller_id=None if store.get("id") is None else str(store["id"]),
            seller_name=store.get("name"),
            seller_url=store.get("url"),
            location=(store.get("address") or {}).get("city"),
            sold_count=sold if isinstance(sold, int) and sold >= 0 else None,
            rating=float(rating) if rating else None,  # 0 means "no reviews yet"
            category=" / ".join(category.get("structure") or []) or category.get("name"),
            image_urls=list((product.get("images") or {}).get("large_urls") or []),
            condition=product.get("condition"),
            imported=imported if isinstance(imported, bool) else None,
            posted_at=product.get("created_at"),
        )
    except (TypeError, AttributeError, ValueError, OverflowError) as error:  # a field changed shape
        raise ResponseShapeError(f"product {listing_id} has a field the parser cannot read: "
                                 f"{error!r}") from error


def description_text(html: str | None) -> str | None:
    """A product description's HTML as plain text, one line per ``<br>``, paragraph or item."""
    if not html:
        return None
    return replace_entities(remove_tags(_LINE_BREAK_TAGS.sub("\n", html))).strip() or None


class BukalapakSpider(SearchSpider):
    name = "bukalapak"
    allowed_domains = ["bukalapak.com"]
    page_size = LIMIT

    access_token: str | None = None
    token_expires_at: int | None = None

    async def start(self):
        """Exchange for an anonymous access token first; search once it has arrived."""
        yield self.token_request([(keyword, 1) for keyword in self.keywords])

    def token_request(self, pending: list[tuple[str, int]]) -> scrapy.Request:
        """The web client's token exchange; ``pending`` are the (keyword, page)s to fetch next."""
        return scrapy.Request(
            TOKEN_URL, method="POST",
            headers={"Accept": "application/json", "Origin": WEB_ORIGIN,
                     "Referer": f"{WEB_ORIGIN}/"},
            meta={Meta.CREDENTIALS: True}, cb_kwargs={"pending": pending},
            callback=self.token_received, errback=self.token_failed, dont_filter=True,
        )

    def token_received(self, response: Response, pending: list[tuple[str, int]]):
        try:
            self.access_token, self.token_expires_at = access_token_from(response.body)
        except ResponseShapeError as error:
            self._token_fault(response, str(error))
            return
        self.logger.info("Bukalapak access token obtained (expires_at %s)", self.token_expires_at)
        for keyword, page in pending:
            # The base's request: a token that expires at once must not loop back here.
            yield super().page_request(keyword, page)

    def page_request(self, keyword: str, page: int) -> scrapy.Request:
        """The search request, or a new token exchange first when the token is about to expire."""
        if self.token_expires_at is not None and time.time() > self.token_expires_at - TOKEN_MARGIN:
            return self.token_request([(keyword, page)])
        return super().page_request(keyword, page)

    def token_failed(self, failure: Failure) -> None:
        if failure.check(HttpError):
            response = failure.value.response
            self._token_fault(response, f"HTTP {response.status}")
        else:
            self._token_fault(None, repr(failure.value), request=failure.request)

    def _token_fault(self, response: Response | None, detail: str,
                     request: scrapy.Request | None = None) -> None:
        self.record_fault(response, "token_error",
                          f"Bukalapak token exchange failed, no search made: {detail}",
                          request=request)

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            f"{SEARCH_URL}?{search_query(keyword, page)}",
            headers={
                "Accept": "application/json",
                "Authorization": f"Bearer {self.access_token}",
                "Origin": WEB_ORIGIN,
                "Referer": f"{WEB_ORIGIN}/products?" + urlencode({"search[keywords]": keyword}),
            },
            meta={"handle_httpstatus_list": list(BLOCK_STATUSES)},
        )

    def parse_page(self, response: Response, keyword: str, page: int) -> SearchPage:
        cf_mitigated = response.headers.get("cf-mitigated", b"").decode("latin-1")
        raise_if_blocked(response.status, response.body, cf_mitigated)
        return parse_search_body(json_body(response), keyword, page)
