"""TikTok Shop Indonesia: the search page on shop-id.tokopedia.com, rendered in Chromium.

The results are drawn by the page's scripts, so the spider reads the drawn product cards.

A product's own page ``/view/product/<id>`` is rendered too, and read from the data it
carries: ``<script id="__MODERN_ROUTER_DATA__" type="application/json">`` (the element
TikTok Shop's Modern.js pages keep their route data in), whose
``loaderData["view/product/(product_id)/page"].product_info`` holds ``product_base``
(``title``, ``desc_detail``: a JSON list of text blocks, ``images[].url_list``, ``price``),
``skus`` (``sku_sale_props`` and ``stock``) and ``seller`` (``seller_id``, ``shop_name``,
``shop_link``, ``join_time``, ``location``, ``followers``, ``sold_count``, ``rating``,
``description``). No capture of a product page is in ../shared/corpus: the names follow
TikTok Shop's public product pages as the replica serves them
(crawler/replica/tiktokshop.py), unverified against a live page.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

import scrapy
from parsel import Selector

from crawler.decoding import decode_json
from crawler.items import Listing, ListingPage
from crawler.normalise import parse_price_idr
from spiders.base import BlockedError, ListingGoneError, ResponseShapeError, SearchPage, parse_each
from spiders.listing_values import (
    MAX_DATA,
    MAX_IMAGES,
    as_list,
    as_object,
    page_count,
    page_day,
    page_id,
    page_name,
    page_rating,
    page_text,
    page_url,
    page_urls,
    page_variants,
)
from spiders.rendered import RenderedSearchSpider

if TYPE_CHECKING:
    from scrapy.http import Response

SEARCH_URL = "https://shop-id.tokopedia.com/search"
PAGE_SIZE = 20
RESULTS = "#results[data-state=loaded]"
CAPTCHA = "#captcha_container"
ROUTE_DATA = "script#__MODERN_ROUTER_DATA__::text"
PRODUCT_ROUTE = "view/product/(product_id)/page"
NOT_FOUND = "[data-testid=pdp-not-found]"
# Drawn at once on a product page, its not-found page and the captcha wall alike.
PAGE_READY = f"#pdp, {NOT_FOUND}, {CAPTCHA}"
PRODUCT_PATH = re.compile(r"^/view/product/(\d{1,25})/?$")
MAX_SKUS = 500
MAX_BLOCKS = 1_000


def parse_search_html(html: str, url: str, keyword: str) -> SearchPage:
    """Parse a rendered search page (HTML as drawn) into listings."""
    page = Selector(text=html)
    if page.css(CAPTCHA):
        raise BlockedError("captcha wall instead of search results")
    results = page.css(RESULTS)
    if not results:
        raise ResponseShapeError("no drawn result list on the page")
    listings, problems = parse_each(results.css(".product-card"),
                                    lambda card: listing_from_card(card, url, keyword))
    return SearchPage(listings, has_more=results.css("::attr(data-has-more)").get() == "true",
                      problems=problems)


def listing_from_card(card: Selector, page_url: str, keyword: str) -> Listing:
    # ::attr() reads one attribute; .attrib would read them all, and lxml refuses a
    # seller-made attribute whose name holds a control character.
    listing_id = card.css("::attr(data-product-id)").get()
    title = card.css("a.title::text").get()
    if not listing_id or not title:
        raise ResponseShapeError(f"product card without id or title: {card.get()[:200]}")
    seller = card.css("a.seller")
    seller_href = seller.css("::attr(href)").get()
    try:
        url = urljoin(page_url, card.css("a.title::attr(href)").get())
        seller_url = urljoin(page_url, seller_href) if seller_href else None
    except ValueError as error:  # e.g. "http://[::1": a host that is not one
        raise ResponseShapeError(f"product card {listing_id} links to no URL: {error}") from error
    return Listing(
        platform="tiktokshop",
        listing_id=listing_id,
        url=url,
        title=title,
        keyword=keyword,
        price_text=card.css(".price::text").get(),
        sold_text=card.css(".sold::text").get(),
        seller_id=seller.css("::attr(data-seller-id)").get(),
        seller_name=seller.css("::text").get(),
        seller_url=seller_url,
        image_urls=card.css("img::attr(src)").getall(),
    )


def listing_page_from_html(html: str, url: str) -> ListingPage:
    """A product page (as drawn) read from its route data; ``url`` is the page's.

    The page's own data decides: a page carrying a product is that product's page
    whatever its description says. Without one, TikTok Shop's captcha wall is
    :class:`BlockedError` and its not-found element :class:`ListingGoneError` (elements the
    platform draws; a description is text, never an element); anything else, or a product
    other than the one ``url`` names, is :class:`ResponseShapeError`.
    """
    page = Selector(text=html)
    info = product_info(page.css(ROUTE_DATA).get())
    if info is None:
        if page.css(CAPTCHA):
            raise BlockedError("captcha wall instead of the product page")
        if page.css(NOT_FOUND):
            raise ListingGoneError("TikTok Shop says the product is not available")
        raise ResponseShapeError("no product data (__MODERN_ROUTER_DATA__) on the page")
    match = PRODUCT_PATH.match(urlsplit(url).path)
    wanted = match[1] if match else None
    shown = page_id(info.get("product_id"))
    if wanted and shown and shown != wanted:
        raise ResponseShapeError(f"the page shows product {shown[:40]}, not {wanted}")
    listing_id = wanted or shown
    if not listing_id:
        raise ResponseShapeError("product page without a product id")
    return product_page(info, listing_id, url)


def product_info(data: str | None) -> dict[str, Any] | None:
    """``product_info`` of the route data's product route, or None when it has none."""
    if not data:
        return None
    if len(data) > MAX_DATA:
        raise ResponseShapeError(f"route data of {len(data)} characters, more than any page")
    try:
        route = decode_json(data)
    except ValueError as error:  # DecodeError, or a number of more than 4300 digits
        raise ResponseShapeError(f"route data is not JSON ({error})") from error
    loader = route.get("loaderData") if isinstance(route, dict) else None
    product = loader.get(PRODUCT_ROUTE) if isinstance(loader, dict) else None
    info = product.get("product_info") if isinstance(product, dict) else None
    return info if isinstance(info, dict) else None


def product_page(info: dict[str, Any], listing_id: str, url: str) -> ListingPage:
    """The :class:`ListingPage` of one ``product_info``; fields of the wrong type are left out."""
    base = as_object(info.get("product_base"))
    seller = as_object(info.get("seller"))
    skus = [sku for sku in as_list(info.get("skus"))[:MAX_SKUS] if isinstance(sku, dict)]
    stocks = [page_count(sku.get("stock")) for sku in skus]
    seller_id = page_id(seller.get("seller_id"))
    return ListingPage(
        platform="tiktokshop",
        listing_id=listing_id,
        url=url,
        title=page_name(base.get("title")),
        description=description_text(base.get("desc_detail")),
        price_idr=parse_price_idr(page_name(as_object(base.get("price")).get("real_price"))),
        image_urls=page_urls(((as_list(as_object(image).get("url_list")) or [None])[0]
                              for image in as_list(base.get("images"))[:MAX_IMAGES]), url),
        variants=page_variants((as_object(prop).get("prop_name"), as_object(prop).get("prop_value"))
                               for sku in skus for prop in as_list(sku.get("sku_sale_props"))),
        stock=page_count(sum(stocks)) if stocks and None not in stocks else None,
        seller_id=seller_id,
        seller_name=page_name(seller.get("shop_name")),
        seller_url=page_url(seller.get("shop_link"), url) or (
            f"https://shop-id.tokopedia.com/shop/{seller_id}" if seller_id else None),
        seller_joined=page_day(seller.get("join_time")),
        seller_location=page_name(seller.get("location")),
        seller_followers=page_count(seller.get("followers")),
        seller_sales=page_count(seller.get("sold_count")),
        seller_rating=page_rating(seller.get("rating")),
        seller_about=page_text(seller.get("description")),
    )


def description_text(desc_detail: Any) -> str | None:
    """``desc_detail``: a JSON list of blocks whose text blocks, joined by blank lines, are
    the description (other blocks are photos); a string that is not such a list is the
    description as written."""
    text = page_text(desc_detail, MAX_DATA)
    if text is None:
        return None
    try:
        blocks = decode_json(text) if text.startswith("[") else None
    except ValueError:
        blocks = None
    if not isinstance(blocks, list):
        return page_text(text)
    parts = [page_text(block.get("text")) for block in blocks[:MAX_BLOCKS]
             if isinstance(block, dict) and block.get("type") == "text"]
    return page_text("\n\n".join(part for part in parts if part))


class TiktokShopSpider(RenderedSearchSpider):
    name = "tiktokshop"
    allowed_domains = ["shop-id.tokopedia.com"]
    page_size = PAGE_SIZE
    ready_selector = f"{RESULTS}, {CAPTCHA}"

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        return scrapy.Request(f"{SEARCH_URL}?{urlencode({'q': keyword, 'page': page})}")

    def parse_page(self, response: Response, keyword: str, page: int) -> SearchPage:
        return parse_search_html(response.text, response.url, keyword)

    def listing_page_request(self, listing: Listing) -> scrapy.Request | None:
        """The product page, rendered in Chromium with a full-page screenshot."""
        if urlsplit(listing.url).hostname not in self.allowed_domains:
            return None
        return self.render_listing_page(listing.url, PAGE_READY)

    def parse_listing_page(self, response: Response, listing: Listing) -> ListingPage:
        return listing_page_from_html(response.text, listing.url)
