"""Blibli: the web client's ``backend/search/products`` JSON search.

The server decides the page size (40 now, 32 in 2020) and states it in ``data.paging``;
the client pages by ``page`` and the product offset ``start``, so the spider computes
``start`` from the size the last page stated.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import scrapy

from crawler.items import Listing
from spiders.base import (
    BlockedError,
    ResponseShapeError,
    SearchPage,
    SearchSpider,
    id_text,
    json_body,
    parse_each,
)

if TYPE_CHECKING:
    from scrapy.http import Response

ORIGIN = "https://www.blibli.com"
SEARCH_URL = f"{ORIGIN}/backend/search/products"
ITEMS_PER_PAGE = 40  # until a response states its own
# The edge answers a flagged client with 403 and an HTML page; the parser reads it.
BLOCK_STATUSES = (403,)
# The one query parameter of a product URL that names the offer (the item SKU); the
# others (source, sid, pickupPointCode, metaData, ...) track the search.
OFFER_PARAMS = frozenset({"ds"})
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def search_query(keyword: str, page: int, per_page: int = ITEMS_PER_PAGE) -> str:
    """The search URL's query: ``start`` is the product offset of 1-based ``page``."""
    return urlencode({
        "page": page, "start": (page - 1) * per_page, "searchTerm": keyword, "intent": "true",
        "merchantSearch": "true", "multiCategory": "true", "channelId": "web",
        "showFacet": "false",
    })


def raise_if_blocked(body: bytes) -> None:
    """An HTML page where JSON belongs is Blibli's bot wall (e.g. "Access Denied")."""
    if body[:512].lstrip().startswith(b"<"):
        title = _TITLE.search(body[:4096])
        shown = title.group(1).decode("utf-8", "replace").strip() if title else body[:80]
        raise BlockedError(f"HTML page instead of search results: {shown!r}")


def items_per_page(body: Any) -> int | None:
    """``data.paging.item_per_page``: how many products the server puts on a page."""
    try:
        value = int(body["data"]["paging"]["item_per_page"])
    except (KeyError, TypeError, ValueError):
        return None
    return value if value > 0 else None


def parse_search_body(body: Any, keyword: str) -> SearchPage:
    """Parse a ``backend/search/products`` body (already JSON-decoded).

    A body whose ``code`` is not 200 or whose ``status`` is not "OK" is a refusal.
    """
    if not isinstance(body, dict) or "code" not in body:
        raise ResponseShapeError(f"not a Blibli search body: {body!r:.200}")
    if body.get("code") != 200 or body.get("status") != "OK":
        raise BlockedError(f"search answered code {body.get('code')!r}, "
                           f"status {body.get('status')!r}: {body.get('errors')!r:.200}")
    try:
        products = body["data"]["products"]
        paging = body["data"]["paging"]
        has_more = bool(products) and int(paging["page"]) < int(paging["total_page"])
    except (KeyError, TypeError, ValueError) as error:
        raise ResponseShapeError(f"search body without products or paging: {error!r}") from error
    if not isinstance(products, list):
        raise ResponseShapeError("data.products is not a list")
    listings, problems = parse_each(products, lambda p: listing_from_product(p, keyword))
    return SearchPage(listings, has_more=has_more, problems=problems)


def listing_from_product(product: dict[str, Any], keyword: str) -> Listing:
    """One product of ``data.products[]`` as a :class:`Listing`."""
    try:
        listing_id = id_text(product.get("sku") or product["id"])  # sku: this merchant's offer
        title = product["name"]
    except (KeyError, TypeError, AttributeError, ResponseShapeError) as error:
        raise ResponseShapeError(f"product without sku/id or name: {product!r:.200}") from error
    try:
        price = product.get("price") or {}
        review = product.get("review") or {}
        # absoluteRating is unrounded
        rating = review.get("absoluteRating") or review.get("rating")
        min_price = price.get("minPrice")
        images = product.get("images") or []
        categories = product.get("categoryNameHierarchy") or []
        return Listing(
            platform="blibli",
            listing_id=listing_id,
            url=canonical_url(product["url"]) if product.get("url") else "",
            title=title,
            keyword=keyword,
            price_idr=(int(min_price) if isinstance(min_price, (int, float)) and min_price > 0
                       else None),
            price_text=price.get("priceDisplay"),
            seller_id=product.get("merchantCode"),
            seller_name=product.get("merchantName"),
            location=product.get("location"),
            sold_text=(product.get("soldRangeCount") or {}).get("id"),
            rating=float(rating) if rating else None,  # 0 means "no reviews yet"
            category=" / ".join(categories) or (product.get("rootCategory") or {}).get("name"),
            image_urls=images[:1],
        )
    except (TypeError, AttributeError, ValueError, OverflowError) as error:  # a field changed shape
        raise ResponseShapeError(f"product {listing_id} has a field the parser cannot read: "
                                 f"{error!r}") from error


def canonical_url(url: str) -> str:
    """Absolute product URL keeping only the offer's ``ds`` (item SKU), not search tracking."""
    parts = urlsplit(urljoin(ORIGIN, url))
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k in OFFER_PARAMS]
    return urlunsplit(parts._replace(query=urlencode(kept), fragment=""))


class BlibliSpider(SearchSpider):
    name = "blibli"
    allowed_domains = ["blibli.com"]
    page_size = ITEMS_PER_PAGE

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # The page size each keyword's last response stated, so ``start`` follows the server.
        self.server_page_size: dict[str, int] = {}

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        per_page = self.server_page_size.get(keyword, self.page_size)
        return scrapy.Request(
            f"{SEARCH_URL}?{search_query(keyword, page, per_page)}",
            headers={"Accept": "application/json, text/plain, */*",
                     "Referer": f"{ORIGIN}/cari/{quote(keyword)}"},
            meta={"handle_httpstatus_list": list(BLOCK_STATUSES)},
        )

    def parse_page(self, response: Response, keyword: str, page: int) -> SearchPage:
        raise_if_blocked(response.body)
        body = json_body(response)
        result = parse_search_body(body, keyword)
        self.server_page_size[keyword] = items_per_page(body) or self.page_size
        return result
