"""Lazada Indonesia: the catalog page's ``?ajax=true`` JSON, 40 items a page; a listing's own
page is its product page, whose data ends it as ``__moduleData__``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import scrapy

from crawler.decoding import DecodeError, decode_json
from crawler.items import Listing, ListingPage
from crawler.page_status import classify
from spiders.base import (
    BlockedError,
    ListingGoneError,
    ResponseShapeError,
    SearchPage,
    SearchSpider,
    dicts,
    id_or_none,
    identify,
    own_page,
    parse_each,
    real_or_none,
    text_list,
    text_or_none,
    variant,
    whole_or_none,
)
from spiders.bukalapak import description_text

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
# The product page's data: <script>var __moduleData__ = {...};</script>, which ends the page.
# Searched with its tag (a seller's title shows in the page HTML-escaped), and the last one
# is read: a seller may write HTML in a description, which comes before it.
_MODULE_DATA = b"<script>var __moduleData__ = "
_MODULE_END = b";</script>"


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


def listing_page_from_html(status: int, body: bytes, url: str) -> ListingPage:
    """A listing page from Lazada's product page: the page's own not-found or wall structure
    first (:func:`crawler.page_status.classify`, never the seller's text), then its data,
    ``__moduleData__.data.root.fields``: ``product`` (``title``, ``desc`` as HTML),
    ``skuInfos`` (price, stock), ``skuGalleries`` (photos), ``productOption`` (variants),
    ``specifications`` and ``seller`` (``sellerId``, ``name``, ``url``, ``location``,
    ``joinDate``/``time``, ``followers``, ``itemSold``, ``rate``, ``description``). The
    field names are those public scrapers read from ``__moduleData__``, as the replica
    serves them (crawler/replica/lazada.py); no capture of a product page is in ../shared.
    """
    verdict, why = classify(status, body, url, "text/html")
    if verdict == "removed":
        raise ListingGoneError(f"Lazada product page: {why}")
    if verdict == "blocked":  # from the platform's own structure, never the seller's text
        raise BlockedError(f"Lazada product page: {why}")
    start = body.rfind(_MODULE_DATA)  # the platform's own, after every seller region
    end = body.find(_MODULE_END, start) if start >= 0 else -1
    if end < 0:
        raise ResponseShapeError("product page without __moduleData__")
    try:
        data = decode_json(body[start + len(_MODULE_DATA):end])
        fields = data["data"]["root"]["fields"]
        product = fields.get("product") if isinstance(fields.get("product"), dict) else {}
        seller = fields.get("seller") if isinstance(fields.get("seller"), dict) else {}
        infos = fields.get("skuInfos") if isinstance(fields.get("skuInfos"), dict) else {}
        first = infos.get("0") if isinstance(infos.get("0"), dict) else {}
        price = ((first.get("price") or {}).get("salePrice") or {}).get("value")
        galleries = fields.get("skuGalleries") if isinstance(
            fields.get("skuGalleries"), dict) else {}
        options = (fields.get("productOption") or {}).get("skuBase") or {}
        features = [spec.get("features") for spec in (fields.get("specifications") or {}).values()
                    if isinstance(spec, dict) and isinstance(spec.get("features"), dict)]
        primary = fields.get("primaryKey") if isinstance(fields.get("primaryKey"), dict) else {}
        seller_url = seller.get("url")
        return ListingPage(
            platform="lazada", listing_id=id_or_none(primary.get("itemId")) or "", url=url,
            title=_text(product.get("title")),
            description=description_text(_text(product.get("desc"))),
            price_idr=whole_or_none(price),
            stock=whole_or_none(first.get("stock")),
            condition=_text(features[0].get("Kondisi")) if features else None,
            image_urls=text_list([absolute(g["src"]) for g in dicts(galleries.get("0"))
                                  if isinstance(g.get("src"), str)]),
            variants=[variant(p.get("name"), [v.get("name") for v in dicts(p.get("values"), 100)])
                      for p in dicts(options.get("properties"), 20)],
            seller_id=id_or_none(seller.get("sellerId")), seller_name=_text(seller.get("name")),
            seller_url=absolute(seller_url) if isinstance(seller_url, str) else None,
            seller_joined=_text(seller.get("joinDate")) or _text(seller.get("time")),
            seller_location=_text(seller.get("location")),
            seller_followers=whole_or_none(seller.get("followers")),
            seller_sales=whole_or_none(seller.get("itemSold")),
            seller_rating=real_or_none(seller.get("rate")),
            seller_about=_text(seller.get("description")),
        )
    except (DecodeError, KeyError, IndexError, TypeError, AttributeError, ValueError,
            OverflowError) as error:
        raise ResponseShapeError(f"product page data the parser cannot read: {error!r}") from error


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


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

    def listing_page_request(self, listing: Listing) -> scrapy.Request | None:
        """The listing's product page, as a browser asks for it."""
        if urlsplit(listing.url).hostname != "www.lazada.co.id":
            return None
        return scrapy.Request(listing.url, headers={
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "id-ID,id;q=0.9"}, meta={"handle_httpstatus_list": [403]})

    def parse_listing_page(self, response: Response, listing: Listing) -> ListingPage:
        page = listing_page_from_html(response.status, response.body, listing.url)
        own_page(page, listing)
        return page
