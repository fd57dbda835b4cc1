"""Blibli: the web client's ``backend/search/products`` JSON search.

The server decides the page size (40 now, 32 in 2020) and states it in ``data.paging``;
the client pages by ``page`` and the product offset ``start``, so the spider computes
``start`` from the size the last page stated.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import scrapy

from crawler.items import Listing, ListingPage
from spiders.base import (
    BlockedError,
    ListingGoneError,
    ResponseShapeError,
    SearchPage,
    SearchSpider,
    dicts,
    id_or_none,
    id_text,
    json_body,
    own_page,
    parse_each,
    real_or_none,
    text_list,
    variant,
    whole_or_none,
)
from spiders.bukalapak import description_text

if TYPE_CHECKING:
    from scrapy.http import Response

ORIGIN = "https://www.blibli.com"
SEARCH_URL = f"{ORIGIN}/backend/search/products"
DETAIL_URL = f"{ORIGIN}/backend/product-detail/products/ps--"
_SKU = re.compile(r"[A-Z0-9]{2,10}-\d{1,10}-\d{1,10}")
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
    except (KeyError, TypeError, ValueError, OverflowError):  # OverflowError: infinity
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
    except (KeyError, TypeError, ValueError, OverflowError) as error:
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
                       and math.isfinite(min_price) else None),
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


def listing_page_from_detail(body: Any, url: str) -> ListingPage:
    """One part of a listing page from the product-detail API: ``_summary`` (``data`` with
    ``sku``, ``name``, ``price``, ``images[{full}]``, ``attributes``, ``options``,
    ``stock``, ``merchant{code, name, location, rating, followers, joinDate,
    description}``) or ``_description`` (``data.value``: the seller's description as
    HTML). The field names are those public scrapers read (``name``, ``price``,
    ``images``, ``attributes``, ``merchant``), as the replica serves them
    (crawler/replica/blibli.py); no capture of this API is in ../shared. ``{"code": 404,
    "status": "NOT_FOUND"}`` is a product that is gone."""
    if not isinstance(body, dict):
        raise ResponseShapeError("a product-detail answer is a JSON object")
    if body.get("code") == 404 or body.get("status") == "NOT_FOUND":
        raise ListingGoneError(f"product detail answered {body.get('status')!r:.40}")
    data = body.get("data")
    if not isinstance(data, dict):
        raise ResponseShapeError(f"not a product-detail answer: code {body.get('code')!r:.40}")
    if "value" in data and "sku" not in data:  # the _description part
        return ListingPage(platform="blibli", listing_id="", url=url,
                           description=description_text(_text(data.get("value"))))
    if "sku" not in data and "name" not in data:
        raise ResponseShapeError("a product-detail answer without sku or name")
    try:
        merchant = data.get("merchant") if isinstance(data.get("merchant"), dict) else {}
        rating = merchant.get("rating") if isinstance(merchant.get("rating"), dict) else {}
        price = data.get("price") if isinstance(data.get("price"), dict) else {}
        stock = data.get("stock") if isinstance(data.get("stock"), dict) else {}
        attributes = {a.get("name"): text_list(a.get("values"))
                      for a in dicts(data.get("attributes"), 100)}
        offered = real_or_none(price.get("offered") or price.get("listed"))
        path = merchant.get("url")
        return ListingPage(
            platform="blibli", listing_id=id_or_none(data.get("productSku")) or "", url=url,
            title=_text(data.get("name")),
            condition=next(iter(attributes.get("Kondisi") or []), None),
            category=_text(next((c.get("name") for c in dicts(data.get("categories"))), None)),
            price_idr=round(offered) if offered is not None and 0 <= offered < 1e15 else None,
            stock=whole_or_none(stock.get("quantity")),
            image_urls=text_list([i.get("full") for i in dicts(data.get("images"))]),
            variants=[variant(o.get("name"), o.get("values"))
                      for o in dicts(data.get("options"), 20)],
            seller_id=id_or_none(merchant.get("code")), seller_name=_text(merchant.get("name")),
            seller_url=urljoin(ORIGIN, path) if isinstance(path, str) and path.startswith("/")
            else None,
            seller_joined=_text(merchant.get("joinDate")),
            seller_location=_text(merchant.get("location")),
            seller_followers=whole_or_none(merchant.get("followers")),
            seller_sales=whole_or_none(merchant.get("totalSold")),
            seller_rating=real_or_none(rating.get("average")),
            seller_about=_text(merchant.get("description")),
        )
    except (TypeError, AttributeError, ValueError, OverflowError) as error:
        raise ResponseShapeError(f"product detail has a field the parser cannot read: "
                                 f"{error!r}") from error


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


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

    def listing_page_request(self, listing: Listing) -> scrapy.Request | None:
        """The ``_summary`` of the listing's SKU; its ``_description`` follows
        (:meth:`listing_page_next`)."""
        if not _SKU.fullmatch(listing.listing_id):
            return None
        return self._detail_request(listing, "_summary")

    def listing_page_next(self, response: Response, listing: Listing,
                          page: ListingPage) -> scrapy.Request | None:
        if response.url.endswith("/_summary"):
            return self._detail_request(listing, "_description")
        return None

    def _detail_request(self, listing: Listing, part: str) -> scrapy.Request:
        return scrapy.Request(
            f"{DETAIL_URL}{listing.listing_id}/{part}",
            headers={"Accept": "application/json, text/plain, */*",
                     "Referer": listing.url or ORIGIN},
            meta={"handle_httpstatus_list": list(BLOCK_STATUSES)})

    def parse_listing_page(self, response: Response, listing: Listing) -> ListingPage:
        raise_if_blocked(response.body)
        page = listing_page_from_detail(json_body(response), listing.url)
        own_page(page, listing)
        return page
