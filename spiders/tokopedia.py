"""Tokopedia: the web client's SearchProductV5 GraphQL search, 60 products a page; a
listing's own page through the PDPGetLayoutQuery and PDPGetDataP2 GraphQL operations."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import scrapy

from crawler.items import Listing, ListingPage
from spiders.base import (
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
    text_or_none,
    variant,
    whole_or_none,
)

if TYPE_CHECKING:
    from scrapy.http import Response

ENDPOINT = "https://gql.tokopedia.com/graphql/SearchProductV5Query"
QUERY = files("spiders.graphql").joinpath("tokopedia_search_v5.graphql").read_text("utf-8")
PDP_LAYOUT_ENDPOINT = "https://gql.tokopedia.com/graphql/PDPGetLayoutQuery"
PDP_LAYOUT_QUERY = files("spiders.graphql").joinpath(
    "tokopedia_pdp_layout.graphql").read_text("utf-8")
PDP_P2_QUERY = files("spiders.graphql").joinpath("tokopedia_pdp_p2.graphql").read_text("utf-8")
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


def pdp_variables(url: str) -> tuple[str, str] | None:
    """``(shopDomain, productKey)``: the two parts of a listing URL's path
    (``https://www.tokopedia.com/<shop>/<product-key>``), or None for another URL."""
    parts = urlsplit(url)
    path = [part for part in parts.path.split("/") if part]
    if parts.hostname not in ("www.tokopedia.com", "tokopedia.com") or len(path) != 2:
        return None
    return path[0], path[1]


def listing_page_from_pdp(body: Any, url: str) -> ListingPage:
    """A listing page from the answers to one PDPGetLayoutQuery + PDPGetDataP2 batch.

    The shapes are those of the web client's queries as public scrapers post them and of
    Tokopedia's public Android models (``PdpGetLayout``: basicInfo, components, name;
    ``pdpGetData.shopInfo``), as the replica serves them (crawler/replica/tokopedia.py): no
    capture of either is in ../shared/corpus. A layout answered ``null`` with an error is a
    listing that is gone (:class:`ListingGoneError`); the P2 half may be missing or broken
    without losing the page (the seller's profile is then unknown).
    """
    answers = body if isinstance(body, list) else [body]
    try:
        layout_answer = answers[0]
        layout = layout_answer["data"]["pdpGetLayout"]
    except (KeyError, IndexError, TypeError) as error:
        raise ResponseShapeError(f"not a PDPGetLayoutQuery answer: {error!r}") from error
    if layout is None:
        errors = layout_answer.get("errors") if isinstance(layout_answer, dict) else None
        if errors:
            raise ListingGoneError(f"pdpGetLayout is null: {errors!r:.200}")
        raise ResponseShapeError("pdpGetLayout is null without an error")
    if not isinstance(layout, dict):
        raise ResponseShapeError("pdpGetLayout is not an object")
    info = layout.get("basicInfo") if isinstance(layout.get("basicInfo"), dict) else {}
    product_id = info.get("productID") or info.get("id")
    components = {c.get("name"): c.get("data") for c in dicts(layout.get("components"), 200)
                  if isinstance(c.get("name"), str)}
    content = _first(components.get("product_content"))
    details = {row.get("title"): row.get("subtitle")
               for row in dicts(_first(components.get("product_detail")).get("content"), 200)
               if isinstance(row.get("title"), str)}
    media = _first(components.get("product_media")).get("media")
    price = content.get("price") if isinstance(content.get("price"), dict) else {}
    stock = content.get("stock") if isinstance(content.get("stock"), dict) else {}
    category = info.get("category") if isinstance(info.get("category"), dict) else {}
    page = ListingPage(
        platform="tokopedia", listing_id=str(product_id) if product_id else "", url=url,
        title=_text(layout.get("name") or content.get("name")),
        description=_text(details.get("Deskripsi")),
        condition=_text(details.get("Kondisi")) or _text(info.get("condition")),
        category=_text(category.get("name")),
        price_idr=whole_or_none(price.get("value")),
        stock=whole_or_none(stock.get("value")),
        image_urls=text_list([m.get("URLOriginal") or m.get("URLMaxRes")
                              for m in dicts(media)]),
        variants=_variants(_first(components.get("new_variant_options")).get("variants")),
        seller_id=id_or_none(info.get("shopID")),
        seller_name=_text(info.get("shopName")),
    )
    _add_shop(page, answers[1] if len(answers) > 1 else None)
    return page


def _first(data: Any) -> dict[str, Any]:
    """A component's first data object, or an empty one."""
    return data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _variants(variants: Any) -> list[dict[str, Any]]:
    return [variant(v.get("name"), [o.get("value") for o in dicts(v.get("option"), 100)])
            for v in dicts(variants, 20)]


def _add_shop(page: ListingPage, answer: Any) -> None:
    """The seller's profile from a PDPGetDataP2 answer's ``pdpGetData.shopInfo``."""
    try:
        shop = answer["data"]["pdpGetData"]["shopInfo"]
        core = shop.get("shopCore") or {}
        created = shop.get("createInfo") or {}
        page.seller_name = _text(core.get("name")) or page.seller_name
        page.seller_id = id_or_none(core.get("shopID")) or page.seller_id
        page.seller_url = _text(core.get("url"))
        page.seller_about = _text(core.get("description"))
        page.seller_location = _text(shop.get("location"))
        page.seller_joined = _text(created.get("shopCreated")) or _text(created.get("openSince"))
        page.seller_followers = whole_or_none((shop.get("favoriteData") or {}).get(
            "totalFavorite"))
        page.seller_sales = whole_or_none((shop.get("shopStats") or {}).get("productSold"))
        page.seller_rating = real_or_none((shop.get("shopRating") or {}).get("ratingScore"))
    except (KeyError, IndexError, TypeError, AttributeError):
        return  # no profile, or one in a shape we do not know: the listing page stands


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

    def listing_page_request(self, listing: Listing) -> scrapy.Request | None:
        """The layout and the shop halves of the listing's page in one batch POST (the web
        client sends the P2 half after the layout, with its ``pdpSession``)."""
        found = pdp_variables(listing.url)
        if found is None:
            return None
        shop_domain, product_key = found
        payload = [
            {"operationName": "PDPGetLayoutQuery", "query": PDP_LAYOUT_QUERY,
             "variables": {"shopDomain": shop_domain, "productKey": product_key,
                           "layoutID": "", "apiVersion": 1, "extParam": "", "deviceID": ""}},
            {"operationName": "PDPGetDataP2", "query": PDP_P2_QUERY,
             "variables": {"productID": listing.listing_id, "pdpSession": "",
                           "deviceID": "", "extParam": ""}},
        ]
        return scrapy.Request(
            PDP_LAYOUT_ENDPOINT, method="POST", body=json.dumps(payload),
            headers={"Content-Type": "application/json", "Accept": "*/*",
                     "Origin": "https://www.tokopedia.com", "Referer": listing.url,
                     "X-Tkpd-Akamai": "pdpGetLayout", "X-Source": "tokopedia-lite",
                     "X-Device": "desktop"})

    def parse_listing_page(self, response: Response, listing: Listing) -> ListingPage:
        page = listing_page_from_pdp(json_body(response), listing.url)
        own_page(page, listing)
        return page
