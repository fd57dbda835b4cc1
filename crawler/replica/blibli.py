"""Blibli's ``backend/search/products`` search, answered from the replica catalogue.

``GET www.blibli.com/backend/search/products?page=&start=&searchTerm=...`` answers 40
products a page in the 2024 shape (``{code, status, data: {products, paging}}``), paged by
the ``start`` offset. A ``searchTerm`` starting with ``__block__`` gets what Blibli's edge
gives a flagged client: HTTP 403 and an "Access Denied" HTML page instead of JSON.
The search products follow the real captures ``../shared/corpus/blibli-search-kaos-2020``
and ``blibli-search-samsung-2024``.

A listing's own data (the listing URL is ``/p/<slug>/ps--<SKU>``), as the web client and
public scrapers ask for it; no capture of these is in ../shared, so the fields are modelled
on what those scrapers read (``name``, ``price``, ``images``, ``attributes``, ``merchant``):

- ``GET /backend/product-detail/products/ps--<SKU>/_summary`` (or ``is--<SKU>-00001``, the
  item): ``{code, status, data: {sku, name, price, images[{full, thumbnail}], attributes,
  options (variants), items (stock per variant), stock, statistics, merchant{code, name,
  location, rating, followers, joinDate, description}}}``.
- ``GET /backend/product-detail/products/ps--<SKU>/_description`` (and ``/description``):
  ``{code, status, data: {value: "<p>...</p>"}}``, the seller's description as HTML.
- ``GET /backend/search/merchant/<code>?excludeProductList=true``: the merchant alone.

A listing that is gone, or whose merchant was taken down, answers HTTP 404
``{"code": 404, "status": "NOT_FOUND", "errors": {...}, "data": null}``.
Every other path answers 404.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import math
import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from crawler.replica import images
from crawler.replica.accounts import merchant_code
from crawler.replica.catalogue import Offer, slugify
from crawler.replica.common import (
    json_response,
    market_of,
    not_found,
    option_stock,
    rupiah,
    variants,
)

if TYPE_CHECKING:
    from crawler.replica.market import Market

HOSTS = ("www.blibli.com",)
PLATFORM = "blibli"
SEARCH_PATH = "/backend/search/products"
DETAIL_PATH = re.compile(r"/backend/product-detail/products/(?:ps|is)--"
                         r"(?P<sku>[A-Z]{3}-\d{5}-(?P<position>\d{5}))(?:-\d{5})?"
                         r"/(?P<part>_summary|_description|description)")
MERCHANT_PATH = re.compile(r"/backend/search/merchant/(?P<code>[A-Z]{3}-\d{5})")
BLOCK_PREFIX = "__block__"
ITEMS_PER_PAGE = 40
IMAGES = "https://www.static-src.com/wcsstore/Indraprastha/images/catalog/medium/catalog-image"

ACCESS_DENIED_PAGE = """<HTML><HEAD>
<TITLE>Access Denied</TITLE>
</HEAD><BODY>
<H1>Access Denied</H1>

You don't have permission to access "http&#58;&#47;&#47;www&#46;blibli&#46;com\
&#47;backend&#47;search&#47;products" on this server.<P>
Reference&#32;&#35;18&#46;5f3c2117&#46;1732924800&#46;2a1b9c
</BODY>
</HTML>
"""


async def handle(request: web.Request, path: str) -> web.Response:
    if request.method == "GET" and (match := DETAIL_PATH.fullmatch(path)):
        return detail_response(market_of(request), match)
    if request.method == "GET" and (match := MERCHANT_PATH.fullmatch(path)):
        return merchant_response(market_of(request), match["code"])
    if path != SEARCH_PATH or request.method != "GET":
        return not_found()
    keyword = request.query.get("searchTerm", "")
    if keyword.startswith(BLOCK_PREFIX):
        return web.Response(status=403, text=ACCESS_DENIED_PAGE, content_type="text/html")
    try:
        page = max(1, int(request.query.get("page", "1")))
        start = max(0, int(request.query.get("start", str((page - 1) * ITEMS_PER_PAGE))))
    except ValueError:
        return json_response({"code": 400, "status": "BAD_REQUEST",
                              "errors": {"page": ["must be a number"]}, "data": None}, status=400)
    market = market_of(request)
    results = market.search(PLATFORM, keyword)
    offers = results[start:start + ITEMS_PER_PAGE]
    return json_response(search_response(keyword, market.all_offers, offers, page,
                                         len(results)))


def search_response(keyword: str, catalogue: tuple[Offer, ...], offers: tuple[Offer, ...],
                    page: int, total: int) -> dict[str, Any]:
    search_id = hashlib.sha1(keyword.encode(), usedforsecurity=False).hexdigest()[:16]
    return {"code": 200, "status": "OK", "data": {
        "pageType": [], "searchTerm": keyword, "suggestions": [],
        "correctedSearchResponses": [], "ageRestricted": False,
        "products": [product(offer, catalogue, search_id) for offer in offers],
        "sorting": {}, "filters": [], "quickFilters": [],
        "paging": {"page": page, "total_page": math.ceil(total / ITEMS_PER_PAGE),
                   "item_per_page": ITEMS_PER_PAGE, "total_item": total},
        "maxOffers": 0, "serverCurrentTime": 0, "productInfo": {}, "code": 200,
        "responseFlags": [], "redirectionUrl": None, "searchPageUrl": None,
    }}


def product(offer: Offer, catalogue: tuple[Offer, ...], search_id: str) -> dict[str, Any]:
    """One offer as a 2024 search product, with the fields the spider reads and their kin."""
    sku = product_sku(offer, catalogue)
    pickup = f"PP-{3_000_000 + offer.seller_id % 1_000_000}"
    names = [offer.category_name] + [part.replace("-", " ").title()
                                     for part in offer.category_breadcrumb.split("/")[1:]]
    sold = _sold_range(offer.sold_count)
    item = {
        "id": sku, "sku": sku, "merchantCode": merchant_code(offer), "status": "AVAILABLE",
        "name": offer.title,
        "price": {"priceDisplay": rupiah(offer.price_idr), "discount": 0,
                  "minPrice": float(offer.price_idr),
                  "offerPriceDisplay": rupiah(offer.price_idr), "isPriceRange": False},
        "images": [(f"{IMAGES}/MTA-{offer.offer_id % 10**9}/{slugify(offer.title)[:60]}"
                    f"_full01_{offer.image_key[:8]}.jpg")],
        "rootCategory": {"id": str(54000 + offer.offer_id % 900), "name": offer.category_name},
        "brand": "No Brand",
        "review": {"rating": round(offer.rating),
                   "count": offer.sold_count // 3 if offer.rating else 0,
                   "absoluteRating": offer.rating},
        "itemCount": 1,
        "defaultSku": f"{sku}-00001-{pickup}",
        "itemSku": f"{sku}-00001",
        "tags": ["REGULAR"],
        "formattedId": f"ps--{sku}",
        "url": f"/p/{slugify(offer.title)}/ps--{sku}?ds={sku}-00001&source=SEARCH"
               f"&sid={search_id}&cnc=false&pickupPointCode={pickup}&pid1={sku}",
        "location": _blibli_city(offer.city),
        "numLocations": 1,
        "merchantName": offer.seller_name,
        "categoryNameHierarchy": names,
        "pickupPointCode": pickup,
        "official": False, "preorder": False, "buyable": True,
    }
    if sold:
        item["soldRangeCount"] = sold
    return item


def _blibli_city(city: str) -> str:
    """Blibli names a city "Kota Bandung" and a regency "Kab. Bandung"."""
    return city if city.startswith("Kab. ") else f"Kota {city}"


def _sold_range(count: int) -> dict[str, str] | None:
    """The sold label, rounded down: 117 → "117", 1634 → "1,6 rb" ("1,6 k" in English)."""
    if count <= 0:
        return None
    if count < 1000:
        return {"en": str(count), "id": str(count)}
    tenths = count // 100
    number = f"{tenths // 10},{tenths % 10}" if tenths < 100 else str(tenths // 10)
    return {"en": f"{number} k", "id": f"{number} rb"}


def product_sku(offer: Offer, offers: tuple[Offer, ...]) -> str:
    """The product SKU: the merchant code, then the offer's place among ``offers`` (every
    offer the replica knows, ordered by offer_id), which keeps every SKU unique."""
    position = bisect.bisect_left(offers, offer.offer_id, key=lambda o: o.offer_id)
    return f"{merchant_code(offer)}-{position:05d}"


def offer_by_sku(market: Market, sku: str) -> Offer | None:
    """The offer a product SKU names, if the platform lists (or listed) it."""
    code, _, position = sku.rpartition("-")
    if not position.isdigit() or int(position) >= len(market.all_offers):
        return None
    offer = market.all_offers[int(position)]
    if merchant_code(offer) != code:
        return None
    return market.offer(PLATFORM, offer.offer_id)


def _gone() -> web.Response:
    return json_response({"code": 404, "status": "NOT_FOUND",
                          "errors": {"product": ["NOT_FOUND"]}, "data": None}, status=404)


def detail_response(market: Market, match: re.Match[str]) -> web.Response:
    offer = offer_by_sku(market, match["sku"])
    if offer is None or market.is_removed(PLATFORM, offer):
        return _gone()
    if match["part"] != "_summary":
        paragraphs = market.world.description(PLATFORM, offer).split("\n\n")
        return json_response({"code": 200, "status": "OK", "data": {
            "value": "".join(f"<p>{html.escape(part)}</p>" for part in paragraphs)}})
    return json_response({"code": 200, "status": "OK", "data": summary(market, offer)})


def merchant_response(market: Market, code: str) -> web.Response:
    for offer in market.all_offers:
        if merchant_code(offer) == code and market.is_listed(PLATFORM, offer):
            return json_response({"code": 200, "status": "OK",
                                  "data": {"merchant": merchant(market, offer)}})
    return _gone()


def summary(market: Market, offer: Offer) -> dict[str, Any]:
    """``_summary`` of the listing: the product, its photos, variants, stock and merchant."""
    sku = product_sku(offer, market.all_offers)
    count = len(market.world.listing_photos(PLATFORM, offer))
    photos = [images.photo_url(PLATFORM, offer, n) for n in range(min(count, images.MAX_PHOTOS))]
    stock = 3 + offer.offer_id % 60
    found = variants(offer)
    items = [{"itemSku": f"{sku}-{i + 1:05d}", "name": f"{offer.title} {option}".strip(),
              "attributes": {found[0][0]: option} if option else {},
              "stock": count_, "buyable": count_ > 0}
             for i, (option, count_) in enumerate(option_stock(offer, stock))]
    return {
        "sku": f"ps--{sku}", "productSku": sku, "productCode": f"MTA-{offer.offer_id % 10**9}",
        "name": offer.title, "url": f"/p/{slugify(offer.title)}/ps--{sku}",
        "brand": {"code": "NOB", "name": "No Brand"},
        "price": {"listed": float(offer.price_idr), "offered": float(offer.price_idr),
                  "discount": 0, "priceDisplay": rupiah(offer.price_idr),
                  "minPrice": float(offer.price_idr)},
        "images": [{"full": url, "thumbnail": url.replace("/full/", "/thumbnail/")}
                   for url in photos],
        "attributes": [{"name": "Kondisi", "values": [offer.condition]}],
        "options": [{"name": name, "values": values} for name, values in found],
        "items": items,
        "stock": {"available": stock > 0, "quantity": stock},
        "statistics": {"sold": offer.sold_count, "seen": offer.sold_count * 30 + 5},
        "review": {"rating": offer.rating, "count": offer.sold_count // 3 if offer.rating else 0},
        "categories": [{"name": offer.category_name}],
        "merchant": merchant(market, offer),
    }


def merchant(market: Market, offer: Offer) -> dict[str, Any]:
    """The merchant of ``offer`` as Blibli describes it beside a product."""
    profile = market.world.profile(PLATFORM, offer)
    return {
        "code": merchant_code(offer), "name": offer.seller_name, "type": "MARKETPLACE",
        "official": False, "location": _blibli_city(profile.city),
        "url": f"/merchant/{offer.seller_slug}/{merchant_code(offer)}",
        "rating": {"average": profile.rating, "count": profile.rating_count},
        "followers": profile.followers, "joinDate": profile.joined,
        "totalProducts": profile.products, "totalSold": profile.sales,
        "description": profile.about,
    }
