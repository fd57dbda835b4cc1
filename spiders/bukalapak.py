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
from crawler.items import Listing, ListingPage
from crawler.keys import Meta
from spiders.base import (
    BlockedError,
    ListingGoneError,
    ResponseShapeError,
    SearchPage,
    SearchSpider,
    dicts,
    id_or_none,
    identify,
    json_body,
    own_page,
    parse_each,
    real_or_none,
    text_list,
    whole_or_none,
)

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

TOKEN_URL = "https://accounts.bukalapak.com/auth_proxies/request_token"  # noqa: S105 - a URL
SEARCH_URL = "https://api.bukalapak.com/multistrategy-products"
PRODUCT_URL = "https://api.bukalapak.com/products/"
# The API's error code for a product (or store) that does not exist (any more).
GONE_CODE = 10003
_PRODUCT_ID = re.compile(r"[0-9a-z]{1,16}")
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


def listing_page_from_product(body: Any, url: str) -> ListingPage:
    """A listing page from ``GET /products/<id>``: ``{"data": product}``, the product in the
    shape of the real capture ../shared/corpus/bukalapak-products-2020 (description as HTML,
    ``images.large_urls``, ``specs``, ``stock``, ``condition``, ``imported``, and the
    ``store`` with ``description``, ``subscriber_amount``, ``address.city``, ``reviews``);
    the store's ``joined_at`` is not in that capture (the store page shows it). An answer
    with error code 10003 is a product that is gone."""
    if not isinstance(body, dict):
        raise ResponseShapeError("a product answer is a JSON object")
    codes = [e.get("code") for e in dicts(body.get("errors"))]
    if GONE_CODE in codes:
        raise ListingGoneError(f"product answered error {GONE_CODE}: it is gone")
    product = body.get("data")
    if not isinstance(product, dict) or not ("id" in product or "name" in product):
        raise ResponseShapeError(f"not a product answer (errors {codes!r:.80}): no data")
    try:
        store = product.get("store") if isinstance(product.get("store"), dict) else {}
        images = product.get("images") if isinstance(product.get("images"), dict) else {}
        specs = product.get("specs") if isinstance(product.get("specs"), dict) else {}
        address = store.get("address") if isinstance(store.get("address"), dict) else {}
        reviews = store.get("reviews") if isinstance(store.get("reviews"), dict) else {}
        positive, negative = (whole_or_none(reviews.get(k)) for k in ("positive", "negative"))
        category = product.get("category") if isinstance(product.get("category"), dict) else {}
        imported = product.get("imported")
        stocks = [_text(v.get("name")) for v in dicts(product.get("variant_stock"), 100)]
        return ListingPage(
            platform="bukalapak", listing_id=id_or_none(product.get("id")) or "", url=url,
            title=_text(product.get("name")),
            description=description_text(_text(product.get("description"))),
            price_idr=whole_or_none(product.get("price")),
            condition=_text(product.get("condition")) or _text(specs.get("kondisi")),
            imported=imported if isinstance(imported, bool) else None,
            category=" / ".join(text_list(category.get("structure"))) or None,
            stock=whole_or_none(product.get("stock")),
            image_urls=text_list(images.get("large_urls")),
            variants=[{"name": "", "options": [name for name in stocks if name]}]
            if any(stocks) else [],
            seller_id=id_or_none(store.get("id")), seller_name=_text(store.get("name")),
            seller_url=_text(store.get("url")), seller_joined=_text(store.get("joined_at")),
            seller_location=_text(address.get("city")),
            seller_followers=whole_or_none(store.get("subscriber_amount")),
            # Bukalapak rates a store by its positive and negative reviews: shown as a share.
            seller_rating=(real_or_none(round(100 * positive / (positive + negative), 1))
                           if positive is not None and negative is not None
                           and positive + negative else None),
            seller_about=_text(store.get("description")),
        )
    except (TypeError, AttributeError, ValueError, OverflowError) as error:
        raise ResponseShapeError(f"product has a field the parser cannot read: "
                                 f"{error!r}") from error


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


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

    def listing_page_request(self, listing: Listing) -> scrapy.Request | None:
        """The product API for the listing's id, with the search's access token (a listing
        page is asked for after its search answered, so the token is fresh; an expired one
        is answered 401, recorded as the page's fault)."""
        if not self.access_token or not _PRODUCT_ID.fullmatch(listing.listing_id):
            return None
        return scrapy.Request(
            PRODUCT_URL + listing.listing_id,
            headers={"Accept": "application/json",
                     "Authorization": f"Bearer {self.access_token}",
                     "Origin": WEB_ORIGIN, "Referer": listing.url or WEB_ORIGIN},
            meta={"handle_httpstatus_list": list(BLOCK_STATUSES)})

    def parse_listing_page(self, response: Response, listing: Listing) -> ListingPage:
        cf_mitigated = response.headers.get("cf-mitigated", b"").decode("latin-1")
        raise_if_blocked(response.status, response.body, cf_mitigated)
        page = listing_page_from_product(json_body(response), listing.url)
        own_page(page, listing)
        return page
