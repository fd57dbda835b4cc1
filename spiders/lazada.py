"""Lazada Indonesia: the catalog page's ``?ajax=true`` JSON, 40 items a page."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import scrapy

from crawler.decoding import DecodeError, decode_json
from crawler.items import Listing
from spiders.base import (
    BlockedError,
    ResponseShapeError,
    SearchPage,
    SearchSpider,
    identify,
    parse_each,
    text_or_none,
)

if TYPE_CHECKING:
    from scrapy.http import Response

ENDPOINT = "https://www.lazada.co.id/catalog/"
PAGE_SIZE = 40
# Lazada's anti-bot (Alibaba "x5" / "punish") answers: a JSON refusal
# {"ret": ["FAIL_SYS_USER_VALIDATE", ...],
#  "data": {"url": ".../_____tmd_____/punish?x5secdata=..."}}
# or the slider-captcha HTML page that URL leads to.
_PUNISH_MARKERS = re.compile(rb"_____tmd_____/punish|x5secdata|FAIL_SYS_USER_VALIDATE")
_CAPTCHA_TITLE = re.compile(rb"<title>[^<]*captcha", re.IGNORECASE)


def search_url(keyword: str, page: int) -> str:
    return ENDPOINT + "?" + urlencode({"ajax": "true", "page": str(page), "q": keyword})


def parse_search_response(body: bytes, keyword: str, page: int = 1) -> SearchPage:
    """Parse a raw catalog response: listing JSON, or raise for a punish/captcha answer."""
    try:
        data = decode_json(body)
    except DecodeError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("mods"), dict):
        return parse_search_body(data, keyword, page)
    if _PUNISH_MARKERS.search(body) or _CAPTCHA_TITLE.search(body):
        raise BlockedError(f"Lazada punish/captcha answer: {body[:160]!r}")
    raise ResponseShapeError(f"not a catalog ajax response: {body[:120]!r}")


def parse_search_body(body: dict[str, Any], keyword: str, page: int = 1) -> SearchPage:
    """Parse page ``page`` of a catalog ajax body (already JSON-decoded)."""
    try:
        items = body["mods"].get("listItems") or []
        main = body["mainInfo"]
        total = int(main["totalResults"])
        page_size = int(main.get("pageSize") or PAGE_SIZE)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ResponseShapeError(f"not a catalog ajax response: {error!r}") from error
    if not isinstance(items, list):
        raise ResponseShapeError("mods.listItems is not a list")
    listings, problems = parse_each(items, lambda item: listing_from_item(item, keyword))
    return SearchPage(listings, has_more=bool(items) and page * page_size < total,
                      problems=problems)


def listing_from_item(item: dict[str, Any], keyword: str) -> Listing:
    """One ``mods.listItems[]`` entry as a :class:`Listing`."""
    item_id, title = identify(item, "itemId", "name", "item")
    try:
        rating = item.get("ratingScore")
        image = item.get("image")
        return Listing(
            platform="lazada",
            listing_id=item_id,
            url=product_url(item.get("itemUrl") or ""),
            title=title,
            keyword=keyword,
            price_idr=_whole_rupiah(item.get("price")),
            price_text=item.get("priceShow"),
            seller_id=text_or_none(item.get("sellerId")),
            seller_name=item.get("sellerName") or None,
            location=item.get("location") or None,
            sold_text=item.get("itemSoldCntShow") or None,
            rating=float(rating) if rating not in (None, "", "0") else None,
            image_urls=[absolute(image)] if image else [],
        )
    except (TypeError, AttributeError, ValueError, OverflowError) as error:  # a field changed shape
        raise ResponseShapeError(f"item {item_id} has a field the parser cannot read: "
                                 f"{error!r}") from error


def absolute(url: str) -> str:
    """Lazada's protocol-relative ``//www.lazada.co.id/...`` URLs, made https."""
    return "https:" + url if url.startswith("//") else url


def product_url(item_url: str) -> str:
    """The product page URL without the search-tracking query (``?search=1``)."""
    return urlunsplit(urlsplit(absolute(item_url))._replace(query="", fragment=""))


def _whole_rupiah(price: Any) -> int | None:
    """``"150000"`` or ``"150000.00"`` → 150000; anything else → ``None`` (price_text decides)."""
    try:
        return round(float(price))
    except (TypeError, ValueError, OverflowError):
        return None


class LazadaSpider(SearchSpider):
    name = "lazada"
    allowed_domains = ["lazada.co.id"]
    page_size = PAGE_SIZE

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            search_url(keyword, page),
            headers={
                "Accept": "application/json, text/plain, */*",
                "Referer": ENDPOINT + "?" + urlencode({"q": keyword}),
                "X-Requested-With": "XMLHttpRequest",
            },
        )

    def parse_page(self, response: Response, keyword: str, page: int) -> SearchPage:
        return parse_search_response(response.body, keyword, page)
