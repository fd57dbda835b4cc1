"""TikTok Shop Indonesia: the search page on shop-id.tokopedia.com, rendered in Chromium.

The results are drawn by the page's scripts, so the spider reads the drawn product cards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode, urljoin

import scrapy
from parsel import Selector

from crawler.items import Listing
from spiders.base import BlockedError, ResponseShapeError, SearchPage, parse_each
from spiders.rendered import RenderedSearchSpider

if TYPE_CHECKING:
    from scrapy.http import Response

SEARCH_URL = "https://shop-id.tokopedia.com/search"
PAGE_SIZE = 20
RESULTS = "#results[data-state=loaded]"
CAPTCHA = "#captcha_container"


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


class TiktokShopSpider(RenderedSearchSpider):
    name = "tiktokshop"
    allowed_domains = ["shop-id.tokopedia.com"]
    page_size = PAGE_SIZE
    ready_selector = f"{RESULTS}, {CAPTCHA}"

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        return scrapy.Request(f"{SEARCH_URL}?{urlencode({'q': keyword, 'page': page})}")

    def parse_page(self, response: Response, keyword: str, page: int) -> SearchPage:
        return parse_search_html(response.text, response.url, keyword)
