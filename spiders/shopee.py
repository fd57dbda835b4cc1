"""Shopee Indonesia: the web client's ``/api/v4/search/search_items`` JSON, 60 items a page;
a listing's own data from ``/api/v4/pdp/get_pc``, as its product page asks for it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import scrapy

from crawler.decoding import DecodeError, decode_json
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
    own_page,
    parse_each,
    real_or_none,
    text_list,
    variant,
    whole_or_none,
)

if TYPE_CHECKING:
    from scrapy.http import Response

ENDPOINT = "https://shopee.co.id/api/v4/search/search_items"
PDP_ENDPOINT = "https://shopee.co.id/api/v4/pdp/get_pc"
# What the item API answers for an item that does not exist (or whose shop is gone).
GONE_ERROR = 4
CONDITIONS = {1: "Baru", 2: "Bekas"}  # the item's ``condition``: new, used
_PRODUCT_PATH = re.compile(r"^/product/(\d{1,20})/(\d{1,20})/?$")
LIMIT = 60
PRICE_SCALE = 100_000  # Shopee sends prices as rupiah × 100000
IMAGE_BASE = "https://down-id.img.susercontent.com/file/"
# The anti-bot answer: {"is_customized": false, "is_login": false, "action_type": 2,
# "error": 90309999, "tracking_id": "..."}, usually with HTTP 403.
ANTI_BOT_ERROR = 90309999
# The client-rendered page shell (no listings) that comes back instead of API JSON.
_APP_SHELL = re.compile(rb'<meta name="shopee:version"|<div id="main">\s*</div>')


def search_url(keyword: str, page: int, limit: int = LIMIT) -> str:
    """The search URL the web client requests; ``newest`` is the item offset."""
    return ENDPOINT + "?" + urlencode({
        "by": "relevancy", "keyword": keyword, "limit": str(limit),
        "newest": str((page - 1) * limit), "order": "desc", "page_type": "search",
        "scenario": "PAGE_GLOBAL_SEARCH", "version": "2",
    })


def parse_search_response(body: bytes, keyword: str, page: int = 1,
                          limit: int = LIMIT) -> SearchPage:
    """Parse a raw search response body: API JSON, or the app shell served to bots."""
    if _APP_SHELL.search(body[:200_000]):
        raise BlockedError("Shopee answered with its empty app shell instead of search JSON")
    try:
        data = decode_json(body)
    except DecodeError as error:
        raise ResponseShapeError(f"body is not JSON ({error}): {body[:120]!r}") from error
    return parse_search_body(data, keyword, page, limit)


def parse_search_body(body: Any, keyword: str, page: int = 1, limit: int = LIMIT) -> SearchPage:
    """Parse page ``page`` of a search_items body (already JSON-decoded), v4 or v2 shape."""
    if not isinstance(body, dict):
        raise ResponseShapeError(f"not a search_items response: {body!r:.200}")
    items = body.get("items")
    if body.get("error") and not items:
        kind = "anti-bot" if body["error"] == ANTI_BOT_ERROR else "error"
        raise BlockedError(f"Shopee {kind} answer: error {body['error']}, "
                           f"action_type {body.get('action_type')!r}")
    if "items" not in body or not ("nomore" in body or "total_count" in body):
        raise ResponseShapeError(f"not a search_items response: keys {sorted(body)!r:.300}")
    items = items or []  # Shopee sends "items": null when nothing matches
    if not isinstance(items, list):
        raise ResponseShapeError("search_items items is not a list")
    listings, problems = parse_each(items, lambda item: listing_from_item(item, keyword))
    total = body.get("total_count")
    before = (page - 1) * limit
    has_more = (bool(items) and not body.get("nomore")
                and (not isinstance(total, int) or before + len(items) < total))
    return SearchPage(listings, has_more=has_more, problems=problems)


def listing_from_item(item: dict[str, Any], keyword: str) -> Listing:
    """One search item (v4 ``{"item_basic": {...}}`` or v2 flat) as a :class:`Listing`."""
    basic = (item.get("item_basic") or item) if isinstance(item, dict) else {}
    try:
        item_id, shop_id = id_text(basic["itemid"]), id_text(basic["shopid"])
        title = basic["name"]
    except (KeyError, TypeError, ResponseShapeError) as error:
        raise ResponseShapeError(f"item without itemid, shopid or name: {item!r:.200}") from error
    try:
        price = basic.get("price")
        rating = (basic.get("item_rating") or {}).get("rating_star")
        sold = basic.get("historical_sold", basic.get("sold"))
        ctime = basic.get("ctime")
        catid = basic.get("catid")
        return Listing(
            platform="shopee",
            listing_id=item_id,
            url=f"https://shopee.co.id/product/{shop_id}/{item_id}",
            title=title,
            keyword=keyword,
            price_idr=round(price / PRICE_SCALE) if isinstance(price, int) else None,
            seller_id=shop_id,
            seller_name=basic.get("shop_name") or None,
            seller_url=f"https://shopee.co.id/shop/{shop_id}",
            location=basic.get("shop_location") or None,
            sold_count=sold if isinstance(sold, int) else None,
            rating=float(rating) if rating else None,
            category=str(catid) if catid is not None else None,
            image_urls=image_urls(basic),
            posted_at=(datetime.fromtimestamp(ctime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                       if isinstance(ctime, int) else None),
        )
    # A field changed shape; OSError: a ctime the platform's clock cannot have written.
    except (TypeError, AttributeError, ValueError, OverflowError, OSError) as error:
        raise ResponseShapeError(f"item {item_id} has a field the parser cannot read: "
                                 f"{error!r}") from error


def image_urls(basic: dict[str, Any]) -> list[str]:
    """Shopee gives image hashes; the CDN serves them under ``/file/HASH``."""
    hashes = basic.get("images") or [basic.get("image")]
    return [IMAGE_BASE + h for h in hashes if h]


def listing_page_from_pc(body: Any, url: str) -> ListingPage:
    """A listing page from a ``pdp/get_pc`` answer: ``data.item`` (title, description,
    images, tier_variations, stock, condition 1 new / 2 used), ``data.product_images`` and
    ``data.shop_detailed_info`` (the seller). The field names follow public scrapers'
    typings of the item API and the search captures' item fields
    (../shared/corpus/shopee-search-v4-flat-kaos-2023), as the replica serves them
    (crawler/replica/shopee.py); no capture of ``get_pc`` itself is in ../shared. An answer
    ``{"error": 4, "data": null}`` is an item that is gone; the anti-bot answer a block.
    """
    if not isinstance(body, dict):
        raise ResponseShapeError("a get_pc answer is a JSON object")
    error = body.get("error")
    if error == ANTI_BOT_ERROR:
        raise BlockedError(f"Shopee anti-bot answer (error {error})")
    data = body.get("data")
    if data is None and error == GONE_ERROR:
        raise ListingGoneError(f"get_pc answered error {error}: the item is gone")
    item = data.get("item") if isinstance(data, dict) else None
    if not isinstance(item, dict):
        raise ResponseShapeError(f"not a get_pc answer (error {error!r:.40}): no data.item")
    try:
        shop = data.get("shop_detailed_info")
        shop = shop if isinstance(shop, dict) else {}
        shown = data.get("product_images")
        hashes = text_list((shown if isinstance(shown, dict) else {}).get("images")) or text_list(
            item.get("images"))
        price = whole_or_none(item.get("price"))
        condition = item.get("condition")
        shop_id = id_or_none(shop.get("shopid") or item.get("shop_id"))
        joined = whole_or_none(shop.get("ctime"))
        return ListingPage(
            platform="shopee", listing_id=id_or_none(item.get("item_id")) or "", url=url,
            title=_text(item.get("title")), description=_text(item.get("description")),
            price_idr=round(price / PRICE_SCALE) if price is not None else None,
            condition=CONDITIONS.get(condition) if isinstance(condition, int) else None,
            category=_text(next((c.get("display_name") for c in dicts(item.get("categories"))),
                                None)),
            stock=whole_or_none(item.get("stock")),
            image_urls=[IMAGE_BASE + h for h in hashes if "/" not in h],
            variants=[variant(tier.get("name"), tier.get("options"))
                      for tier in dicts(item.get("tier_variations"), 20)],
            seller_id=shop_id, seller_name=_text(shop.get("name")),
            seller_url=f"https://shopee.co.id/shop/{shop_id}" if shop_id else None,
            seller_joined=(datetime.fromtimestamp(joined, UTC).strftime("%Y-%m-%d")
                           if joined is not None and 0 < joined < 2**33 else None),
            seller_location=_text(shop.get("place")) or _text(shop.get("shop_location")),
            seller_followers=whole_or_none(shop.get("follower_count")),
            seller_rating=real_or_none(shop.get("rating_star")),
            seller_about=_text(shop.get("description")),
        )

    except (TypeError, AttributeError, ValueError, OverflowError, OSError) as error:
        raise ResponseShapeError(f"get_pc item has a field the parser cannot read: "
                                 f"{error!r}") from error

def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class ShopeeSpider(SearchSpider):
    name = "shopee"
    allowed_domains = ["shopee.co.id"]
    page_size = LIMIT

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            search_url(keyword, page),
            headers={
                "Accept": "application/json",
                "Referer": "https://shopee.co.id/search?" + urlencode({"keyword": keyword}),
                "X-API-Source": "pc",
                "X-Shopee-Language": "id",
                "X-Requested-With": "XMLHttpRequest",
            },
            # The anti-bot answer comes with HTTP 403: let parse_page classify it as a block.
            meta={"handle_httpstatus_list": [403]},
        )

    def parse_page(self, response: Response, keyword: str, page: int) -> SearchPage:
        result = parse_search_response(response.body, keyword, page)
        if response.status != 200:
            raise ResponseShapeError(f"HTTP {response.status} with a search body")
        return result

    def listing_page_request(self, listing: Listing) -> scrapy.Request | None:
        """``get_pc`` for the shop and item ids in the listing URL
        (``https://shopee.co.id/product/<shop_id>/<item_id>``)."""
        parts = urlsplit(listing.url)
        match = _PRODUCT_PATH.match(parts.path) if parts.hostname == "shopee.co.id" else None
        if match is None:
            return None
        shop_id, item_id = match.groups()
        query = urlencode({"item_id": item_id, "shop_id": shop_id, "tz_offset_minutes": "420",
                           "detail_level": "0"})
        return scrapy.Request(
            f"{PDP_ENDPOINT}?{query}",
            headers={"Accept": "application/json", "Referer": listing.url,
                     "X-API-Source": "pc", "X-Shopee-Language": "id",
                     "X-Requested-With": "XMLHttpRequest"},
            meta={"handle_httpstatus_list": [403]})

    def parse_listing_page(self, response: Response, listing: Listing) -> ListingPage:
        if _APP_SHELL.search(response.body[:200_000]):
            raise BlockedError("Shopee answered with its empty app shell instead of item JSON")
        try:
            body = decode_json(response.body)
        except DecodeError as error:
            raise ResponseShapeError(f"body is not JSON ({error})") from error
        page = listing_page_from_pc(body, listing.url)
        own_page(page, listing)
        return page
