"""Tokopedia's SearchProductV5 GraphQL endpoint, answered from the replica catalogue."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from crawler.replica.catalogue import Offer, search
from crawler.replica.common import CATALOGUE, json_response, not_found, rupiah, slugify

if TYPE_CHECKING:
    from aiohttp import web

HOSTS = ("gql.tokopedia.com",)
SEARCH_PATH = "/graphql/SearchProductV5Query"
ID_BASE = 100_200_000_000  # product ids look like Tokopedia's 12-digit ones


async def handle(request: web.Request, path: str) -> web.Response:
    if path != SEARCH_PATH or request.method != "POST":
        return not_found()
    try:
        operation = (await request.json())[0]
        params = parse_qs(operation["variables"]["params"], keep_blank_values=True)
        keyword = params.get("q", [""])[0]
        rows = max(1, min(int(params.get("rows", ["60"])[0]), 200))
        start = max(0, int(params.get("start", ["0"])[0]))
    except (ValueError, KeyError, IndexError, TypeError):
        return json_response([{"errors": [{"message": "invalid request body"}], "data": None}],
                             status=400)
    results = search(request.app[CATALOGUE], keyword)
    page = results[start:start + rows]
    return json_response(search_response(keyword, page, len(results)))


def search_response(keyword: str, offers: tuple[Offer, ...], total: int) -> list[dict[str, Any]]:
    """The real response envelope: a one-element list, as for the web client's batch POST."""
    search_id = hashlib.sha1(keyword.encode(), usedforsecurity=False).hexdigest()[:24].upper()
    return [{"data": {"searchProductV5": {
        "header": {
            "totalData": total, "responseCode": 0, "keywordProcess": "0",
            "keywordIntention": 0, "componentID": "02.01.00.00", "isQuerySafe": True,
            "additionalParams": f"search_id={search_id}", "backendFilters": "",
            "meta": {"dynamicFields": [], "__typename": "SearchProductV5HeaderMeta"},
            "__typename": "SearchProductV5Header",
        },
        "data": {
            "totalDataText": f"{total:,}".replace(",", "."),
            "banner": None, "redirection": {"url": "", "__typename": "SearchProductV5Redirection"},
            "related": None, "suggestion": None, "ticker": None, "violation": None,
            "products": [product(offer, keyword, search_id) for offer in offers],
            "__typename": "SearchProductV5Data",
        },
        "__typename": "SearchProductV5",
    }}}]


def product(offer: Offer, keyword: str, search_id: str) -> dict[str, Any]:
    """One offer as a ``searchProductV5Product``, field for field."""
    product_id = str(ID_BASE + offer.offer_id)
    tts_id = str(1_730_000_000_000_000_000 + offer.offer_id)
    shop_url = f"https://www.tokopedia.com/{offer.seller_slug}"
    tracking = quote(f"ivf=false&keyword={keyword}&search_id={search_id}&src=search", safe="")
    image = f"https://images.tokopedia.net/img/cache/200-square/{offer.image_key}.jpg"
    labels = (
        [_label("ri_product_credibility", sold_text(offer.sold_count))] if offer.sold_count else []
    )
    labels.append(_label("final_price", rupiah(offer.price_idr)))
    return {
        "oldID": int(product_id), "id": product_id, "ttsProductID": tts_id,
        "name": offer.title,
        "url": f"{shop_url}/{slugify(offer.title)}-{tts_id}?extParam={tracking}",
        "applink": f"tokopedia://product/{product_id}?extParam={tracking}",
        "mediaURL": {"image": image, "image300": image.replace("200-square", "300-square"),
                     "videoCustom": "", "__typename": "SearchProductV5MediaURL"},
        "shop": {"oldID": offer.seller_id, "id": str(offer.seller_id),
                 "ttsSellerID": str(offer.seller_id), "name": offer.seller_name,
                 "url": shop_url, "city": offer.city, "tier": 1 + offer.seller_id % 3,
                 "__typename": "SearchProductV5Shop"},
        "stock": {"ttsSKUID": tts_id, "__typename": "SearchProductV5Stock"},
        "badge": {"oldID": 2, "id": "2", "title": offer.city, "url": "",
                  "__typename": "SearchProductV5Badge"},
        "price": {"text": rupiah(offer.price_idr), "number": offer.price_idr, "range": "",
                  "original": "", "discountPercentage": 0,
                  "__typename": "SearchProductV5Price"},
        "freeShipping": {"url": "", "__typename": "SearchProductV5FreeShipping"},
        "labelGroups": labels,
        "labelGroupsVariant": [],
        "category": {"oldID": 1759, "id": "1759", "name": offer.category_name,
                     "breadcrumb": offer.category_breadcrumb,
                     "gaKey": offer.category_breadcrumb,
                     "__typename": "SearchProductV5Category"},
        "rating": f"{offer.rating:.1f}" if offer.rating else "",
        "wishlist": False,
        "ads": {"id": "", "productClickURL": "", "productViewURL": "",
                "productWishlistURL": "", "tag": 0, "__typename": "SearchProductV5Ads"},
        "meta": {"oldParentID": int(product_id), "parentID": product_id,
                 "oldWarehouseID": offer.seller_id, "warehouseID": str(offer.seller_id),
                 "isImageBlurred": False, "isPortrait": False,
                 "__typename": "SearchProductV5ProductMeta"},
        "__typename": "searchProductV5Product",
    }


def _label(position: str, title: str) -> dict[str, Any]:
    return {"position": position, "title": title, "type": "", "url": "", "styles": [],
            "__typename": "SearchProductV5LabelGroups"}


def sold_text(count: int) -> str:
    """Tokopedia's rounded-down sold label: 17 → "17 terjual", 780 → "750+", 12000 → "10rb+"."""
    if count < 100:
        return f"{count} terjual"
    if count < 1000:
        step = 250 if count >= 250 else 100
        return f"{count // step * step}+ terjual"
    thousands = count // 1000
    if thousands >= 10:
        thousands = thousands // 10 * 10
    return f"{thousands}rb+ terjual"

