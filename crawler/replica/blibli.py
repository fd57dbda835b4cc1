"""Blibli's ``backend/search/products`` search, answered from the replica catalogue.

``GET www.blibli.com/backend/search/products?page=&start=&searchTerm=...`` answers 40
products a page in the 2024 shape (``{code, status, data: {products, paging}}``), paged by
the ``start`` offset. A ``searchTerm`` starting with ``__block__`` gets what Blibli's edge
gives a flagged client: HTTP 403 and an "Access Denied" HTML page instead of JSON.
Every other path answers 404.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from typing import Any

from aiohttp import web

from crawler.replica.catalogue import Offer, search
from crawler.replica.common import CATALOGUE, json_response, not_found, rupiah, slugify

HOSTS = ("www.blibli.com",)
SEARCH_PATH = "/backend/search/products"
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
    catalogue = request.app[CATALOGUE]
    results = search(catalogue, keyword)
    offers = results[start:start + ITEMS_PER_PAGE]
    return json_response(search_response(keyword, catalogue, offers, page, len(results)))


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


def merchant_code(offer: Offer) -> str:
    """A Blibli merchant code such as ``SAO-60034``: letters of the shop, then digits."""
    letters = (slugify(offer.seller_name).replace("-", "").upper() + "XXX")[:3]
    return f"{letters}-{offer.seller_id % 100_000:05d}"


def product(offer: Offer, catalogue: tuple[Offer, ...], search_id: str) -> dict[str, Any]:
    """One offer as a 2024 search product, with the fields the spider reads and their kin."""
    # The offer's place in the catalogue (ordered by offer_id) keeps every SKU unique.
    position = bisect.bisect_left(catalogue, offer.offer_id, key=lambda o: o.offer_id)
    sku = f"{merchant_code(offer)}-{position:05d}"
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
