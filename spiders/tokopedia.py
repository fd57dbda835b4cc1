"""Tokopedia: the web client's SearchProductV5 GraphQL search, 60 products a page."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import scrapy

from crawler.items import Listing
from spiders.base import (
    ResponseShapeError,
    SearchPage,
    SearchSpider,
    identify,
    json_body,
    parse_each,
    text_or_none,
)

if TYPE_CHECKING:
    from scrapy.http import Response

ENDPOINT = "https://gql.tokopedia.com/graphql/SearchProductV5Query"
QUERY = files("spiders.graphql").joinpath("tokopedia_search_v5.graphql").read_text("utf-8")
ROWS = 60
# Label positions where the search card shows "750+ terjual" (sold); older cards use "integrity".
SOLD_LABEL_POSITIONS = ("ri_product_credibility", "integrity")


def search_params(keyword: str, page: int, rows: int = ROWS) -> str:
    """The ``params`` string the web client sends: ``start`` is the product offset."""
    return urlencode({
        "device": "desktop", "enter_method": "normal_search", "l_name": "sre",
        "navsource": "", "ob": "23", "page": str(page), "q": keyword, "related": "true",
        "rows": str(rows), "safe_search": "false", "sc": "", "scheme": "https",
        "shipping": "", "show_adult": "false", "source": "search", "st": "product",
        "start": str((page - 1) * rows), "topads_bucket": "true", "user_addressId": "",
        "user_cityId": "176", "user_districtId": "2274", "user_id": "", "user_lat": "",
        "user_long": "", "user_postCode": "", "user_warehouseId": "", "variants": "",
        "warehouses": "",
    })


def parse_search_body(body: Any, keyword: str, page: int = 1, rows: int = ROWS) -> SearchPage:
    """Parse page ``page`` of a SearchProductV5 response body (already JSON-decoded)."""
    try:
        envelope = body[0] if isinstance(body, list) else body
        if envelope.get("errors"):
            raise ResponseShapeError(f"GraphQL errors: {envelope['errors']!r:.300}")
        search = envelope["data"]["searchProductV5"]
        products = search["data"]["products"]
        total = int(search["header"]["totalData"])
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as error:
        raise ResponseShapeError(f"not a SearchProductV5 response: {error!r}") from error
    if not isinstance(products, list):
        raise ResponseShapeError("searchProductV5.data.products is not a list")
    listings, problems = parse_each(products, lambda p: listing_from_product(p, keyword))
    return SearchPage(listings, has_more=len(products) == rows and page * rows < total,
                      problems=problems)


def listing_from_product(product: dict[str, Any], keyword: str) -> Listing:
    """One ``searchProductV5Product`` as a :class:`Listing`."""
    listing_id, title = identify(product, "id", "name")
    try:
        shop = product.get("shop") or {}
        price = product.get("price") or {}
        media = product.get("mediaURL") or {}
        category = product.get("category") or {}
        rating = product.get("rating")
        return Listing(
            platform="tokopedia",
            listing_id=listing_id,
            url=canonical_url(product.get("url") or ""),
            title=title,
            keyword=keyword,
            price_idr=price.get("number") if isinstance(price.get("number"), int) else None,
            price_text=price.get("text"),
            seller_id=text_or_none(shop.get("id")),
            seller_name=shop.get("name"),
            seller_url=shop.get("url"),
            location=shop.get("city"),
            sold_text=sold_label(product.get("labelGroups") or []),
            rating=float(rating) if rating not in (None, "") else None,
            category=category.get("breadcrumb") or category.get("name"),
            image_urls=[u for u in (media.get("image300") or media.get("image"),) if u],
        )
    except (TypeError, AttributeError, ValueError, OverflowError) as error:  # a field changed shape
        raise ResponseShapeError(f"product {listing_id} has a field the parser cannot read: "
                                 f"{error!r}") from error


def sold_label(label_groups: list[dict[str, Any]]) -> str | None:
    for label in label_groups:
        if label.get("position") in SOLD_LABEL_POSITIONS and label.get("title"):
            return label["title"]
    return None


def canonical_url(url: str) -> str:
    """Drop the search-tracking query (``extParam=...search_id...``) from a product URL."""
    return urlunsplit(urlsplit(url)._replace(query="", fragment=""))


class TokopediaSpider(SearchSpider):
    name = "tokopedia"
    allowed_domains = ["tokopedia.com"]
    page_size = ROWS

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        payload = [{
            "operationName": "SearchProductV5Query",
            "variables": {"params": search_params(keyword, page)},
            "query": QUERY,
        }]
        return scrapy.Request(
            ENDPOINT,
            method="POST",
            body=json.dumps(payload),
            headers={
                "Content-Type": "application/json",
                "Accept": "*/*",
                "Origin": "https://www.tokopedia.com",
                "Referer": "https://www.tokopedia.com/search?"
                           + urlencode({"st": "product", "q": keyword}),
                "X-Source": "tokopedia-lite",
                "X-Tkpd-Lite-Service": "zeus",
                "X-Device": "desktop",
            },
        )

    def parse_page(self, response: Response, keyword: str, page: int) -> SearchPage:
        return parse_search_body(json_body(response), keyword, page)
