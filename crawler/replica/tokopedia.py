"""Tokopedia's GraphQL endpoints, answered from the replica catalogue.

- ``POST gql.tokopedia.com/graphql/SearchProductV5Query``: search, in the shape of the real
  capture ``../shared/corpus/tokopedia-searchv5-baju-2025`` (the products, field for field,
  and the envelope its PROVENANCE describes).
- ``POST gql.tokopedia.com/graphql/PDPGetLayoutQuery``: a listing page's data, asked for by
  ``shopDomain`` and ``productKey`` (the two parts of the listing URL's path), as the web
  client and public scrapers send it (with the ``X-Tkpd-Akamai: pdpGetLayout`` header):
  ``pdpGetLayout{name, pdpSession, basicInfo{...}, components[...]}``, whose components
  carry the photos (``product_media``), price and stock (``product_content``), variants
  (``new_variant_options``) and the description with the condition (``product_detail``,
  content titled "Deskripsi" and "Kondisi"). No capture of it is in ../shared; the shape
  follows the web client's query as public scrapers post it and Tokopedia's public Android
  models (``PdpGetLayout``: basicInfo, components, name, pdpSession, requestID).
- ``POST gql.tokopedia.com/graphql/PDPGetDataP2``: the second half of a listing page, by
  ``productID``: ``pdpGetData.shopInfo`` (the shop's core data and description, city,
  opening date, favourites, sales and rating). Same sources, same caveat.

Each body is the web client's batch: a list of operations, each answered in order (so a
layout and its P2 may come in one POST). A listing the replica does not list, or whose
account was taken down, answers ``pdpGetLayout: null`` with a GraphQL error, as a
product that is gone does.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from crawler.replica import images
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
    from aiohttp import web

    from crawler.replica.market import Market

HOSTS = ("gql.tokopedia.com",)
PLATFORM = "tokopedia"
SEARCH_PATH = "/graphql/SearchProductV5Query"
LAYOUT_PATH = "/graphql/PDPGetLayoutQuery"
P2_PATH = "/graphql/PDPGetDataP2"
ID_BASE = 100_200_000_000  # product ids look like Tokopedia's 12-digit ones
TTS_ID_BASE = 1_730_000_000_000_000_000
_PRODUCT_KEY = re.compile(r"-(\d+)$")


async def handle(request: web.Request, path: str) -> web.Response:
    if path not in (SEARCH_PATH, LAYOUT_PATH, P2_PATH) or request.method != "POST":
        return not_found()
    try:
        operations = await request.json()
        if not isinstance(operations, list) or not operations:
            raise ValueError("not a batch")
        answers = [_answer(market_of(request), operation) for operation in operations]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return json_response([{"errors": [{"message": "invalid request body"}], "data": None}],
                             status=400)
    return json_response(answers)


def _answer(market: Market, operation: dict[str, Any]) -> dict[str, Any]:
    name = operation.get("operationName")
    variables = operation["variables"]
    if name == "SearchProductV5Query":
        params = parse_qs(variables["params"], keep_blank_values=True)
        keyword = params.get("q", [""])[0]
        rows = max(1, min(int(params.get("rows", ["60"])[0]), 200))
        start = max(0, int(params.get("start", ["0"])[0]))
        results = market.search(PLATFORM, keyword)
        return search_response(keyword, results[start:start + rows], len(results))[0]
    if name == "PDPGetLayoutQuery":
        offer = _offer_by_key(market, str(variables.get("shopDomain") or ""),
                              str(variables.get("productKey") or ""))
        if offer is None:
            return _gone("pdpGetLayout")
        return {"data": {"pdpGetLayout": pdp_layout(market, offer)}}
    if name == "PDPGetDataP2":
        offer = _offer_by_product_id(market, str(variables.get("productID") or ""))
        if offer is None:
            return _gone("pdpGetData")
        return {"data": {"pdpGetData": pdp_data_p2(market, offer)}}
    return {"errors": [{"message": f"unknown operation {name!r}"}], "data": None}


def _gone(field: str) -> dict[str, Any]:
    return {"errors": [{"message": "Produk tidak ditemukan", "path": [field],
                        "extensions": {"code": 404, "developerMessage": "product not found"}}],
            "data": {field: None}}


def _offer_by_key(market: Market, shop_domain: str, product_key: str) -> Offer | None:
    match = _PRODUCT_KEY.search(product_key)
    if match is None:
        return None
    offer = market.offer(PLATFORM, int(match[1]) - TTS_ID_BASE)
    if offer is None or offer.seller_slug != shop_domain or market.is_removed(PLATFORM, offer):
        return None
    return offer


def _offer_by_product_id(market: Market, product_id: str) -> Offer | None:
    if not product_id.isdigit():
        return None
    offer = market.offer(PLATFORM, int(product_id) - ID_BASE)
    return None if offer is None or market.is_removed(PLATFORM, offer) else offer


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
    tts_id = str(TTS_ID_BASE + offer.offer_id)
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



def listing_url(offer: Offer) -> str:
    """The listing's own page, as search answers link it (without the tracking query)."""
    return (f"https://www.tokopedia.com/{offer.seller_slug}/{slugify(offer.title)}-"
            f"{TTS_ID_BASE + offer.offer_id}")


def pdp_layout(market: Market, offer: Offer) -> dict[str, Any]:
    """``pdpGetLayout`` for ``offer``: basic info and the page's components."""
    world = market.world
    product_id = str(ID_BASE + offer.offer_id)
    photos = world.listing_photos(PLATFORM, offer)
    media = [{"type": "image", "URLOriginal": images.photo_url(PLATFORM, offer, n, "700"),
              "URLThumbnail": images.photo_url(PLATFORM, offer, n, "100-square"),
              "URLMaxRes": images.photo_url(PLATFORM, offer, n, "700"), "videoURLAndroid": "",
              "isAutoplay": False, "description": "", "__typename": "pdpMedia"}
             for n in range(min(len(photos), images.MAX_PHOTOS))]
    stock = 5 + offer.offer_id % 95
    breadcrumb = offer.category_breadcrumb.split("/")
    session = json.dumps({"pid": product_id, "sid": str(offer.seller_id),
                          "pn": offer.title, "pr": offer.price_idr}, separators=(",", ":"))
    return {
        "requestID": hashlib.sha1(product_id.encode(), usedforsecurity=False).hexdigest()[:20],
        "name": offer.title,
        "pdpSession": session,
        "basicInfo": {
            "alias": listing_url(offer).rsplit("/", 1)[1], "createdAt": offer.posted_at,
            "isQA": False, "id": product_id, "productID": product_id,
            "shopID": str(offer.seller_id), "shopName": offer.seller_name,
            "minOrder": 1, "maxOrder": stock, "weight": 1000 if offer.price_idr < 1_000_000
            else 50_000, "weightUnit": "GRAM",
            "condition": "USED" if offer.condition == "Bekas" else "NEW",
            "status": "ACTIVE", "url": listing_url(offer), "needPrescription": False,
            "catalogID": "0", "isLeasing": False, "isBlacklisted": False, "isTokoNow": False,
            "ttsPID": str(TTS_ID_BASE + offer.offer_id),
            "menu": {"id": "0", "name": "Semua Etalase", "url": "", "__typename": "pdpMenu"},
            "category": {
                "id": "1759", "name": offer.category_name, "title": offer.category_name,
                "breadcrumbURL": f"https://www.tokopedia.com/p/{offer.category_breadcrumb}",
                "isAdult": False, "isKyc": False, "minAge": 0,
                "detail": [{"id": str(1700 + i), "name": part.replace("-", " ").title(),
                            "breadcrumbURL": "https://www.tokopedia.com/p/"
                                             + "/".join(breadcrumb[:i + 1]),
                            "isAdult": False, "__typename": "pdpCategoryDetail"}
                           for i, part in enumerate(breadcrumb)],
                "__typename": "pdpCategory"},
            "txStats": {"transactionSuccess": str(offer.sold_count),
                        "transactionReject": "0", "countSold": str(offer.sold_count),
                        "paymentVerified": str(offer.sold_count),
                        "itemSoldFmt": str(offer.sold_count), "__typename": "pdpTxStats"},
            "stats": {"countView": str(offer.sold_count * 40 + 13),
                      "countReview": str(offer.sold_count // 3 if offer.rating else 0),
                      "countTalk": "0", "rating": offer.rating, "__typename": "pdpStats"},
            "__typename": "pdpBasicInfo",
        },
        "components": [
            _component("product_media", "product_media",
                       [{"media": media, "videos": [], "__typename": "pdpDataProductMedia"}]),
            _component("product_content", "product_content", [{
                "name": offer.title, "price": {"value": offer.price_idr, "currency": "IDR",
                                               "priceFmt": rupiah(offer.price_idr),
                                               "__typename": "pdpPrice"},
                "stock": {"useStock": True, "value": str(stock),
                          "stockWording": f"Stok Total: {stock}", "__typename": "pdpStock"},
                "isCOD": False, "isWishlist": False, "__typename": "pdpDataProductContent"}]),
            _component("new_variant_options", "variant", [_variant_data(offer, stock)]),
            _component("product_detail", "product_detail", [{"content": [
                _detail_row("Kondisi", offer.condition),
                _detail_row("Min. Pemesanan", "1 Buah"),
                _detail_row("Etalase", "Semua Etalase"),
                _detail_row("Kategori", breadcrumb[-1].replace("-", " ").title()),
                _detail_row("Deskripsi", world.description(PLATFORM, offer)),
            ], "__typename": "pdpDataProductDetail"}]),
        ],
        "__typename": "pdpGetLayout",
    }


def _component(name: str, kind: str, data: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "type": kind, "position": "", "data": data,
            "__typename": "pdpComponentLayout"}


def _detail_row(title: str, subtitle: str) -> dict[str, Any]:
    return {"key": title.lower(), "type": "", "title": title, "subtitle": subtitle,
            "applink": "", "showAtFront": title != "Deskripsi", "isAnnotation": False,
            "__typename": "pdpContentDetail"}


def _variant_data(offer: Offer, stock: int) -> dict[str, Any]:
    product_id = str(ID_BASE + offer.offer_id)
    found = variants(offer)
    options = [{"productVariantOptionID": str(offer.offer_id * 10 + i), "variantUnitValueID": "0",
                "value": option, "hex": "", "picture": None, "__typename": "pdpVariantOption"}
               for i, option in enumerate(found[0][1])] if found else []
    children = [{"productID": str(ID_BASE + offer.offer_id * 10 + i + 1),
                 "price": offer.price_idr, "priceFmt": rupiah(offer.price_idr),
                 "sku": f"{offer.seller_slug[:6].upper()}-{offer.offer_id % 10**6}-{option}",
                 "optionID": [str(offer.offer_id * 10 + i)],
                 "productName": f"{offer.title} - {option}", "productURL": listing_url(offer),
                 "stock": {"stock": str(count), "isBuyable": count > 0,
                           "stockWording": f"Stok: {count}", "__typename": "pdpChildStock"},
                 "isCOD": False, "isWishlist": False, "__typename": "pdpChildren"}
                for i, (option, count) in enumerate(option_stock(offer, stock))] if found else []
    return {"errorCode": 0, "parentID": product_id,
            "defaultChild": children[0]["productID"] if children else product_id,
            "sizeChart": "", "variants": [{
                "productVariantID": str(offer.offer_id), "variantID": "1" if found[0][0] == "Ukuran"
                else "2", "name": found[0][0], "identifier": found[0][0].lower(),
                "option": options, "__typename": "pdpVariant"}] if found else [],
            "children": children, "__typename": "pdpDataProductVariant"}


def pdp_data_p2(market: Market, offer: Offer) -> dict[str, Any]:
    """``pdpGetData`` for ``offer``: the seller's profile beside the listing."""
    profile = market.world.profile(PLATFORM, offer)
    opened = datetime.fromisoformat(profile.joined).replace(tzinfo=UTC)
    return {
        "shopInfo": {
            "shopCore": {"name": offer.seller_name, "shopID": str(offer.seller_id),
                         "domain": offer.seller_slug, "ownerID": str(offer.seller_id + 7),
                         "url": f"https://www.tokopedia.com/{offer.seller_slug}",
                         "description": profile.about, "tagLine": "",
                         "__typename": "ShopCore"},
            "location": profile.city,
            "createInfo": {"openSince": str(opened.year),
                           "epochShopCreated": str(int(opened.timestamp())),
                           "shopCreated": profile.joined, "__typename": "ShopCreateInfo"},
            "favoriteData": {"totalFavorite": profile.followers, "alreadyFavorited": 0,
                             "__typename": "ShopFavoriteData"},
            "activeProductCount": profile.products,
            "shopStats": {"productSold": str(profile.sales), "totalTxSuccess": str(profile.sales),
                          "totalShowcase": "1", "__typename": "ShopStats"},
            "shopRating": {"ratingScore": profile.rating, "totalRating": profile.rating_count,
                           "__typename": "ShopRating"},
            "statusInfo": {"shopStatus": 1, "statusMessage": "", "isIdle": False,
                           "__typename": "ShopStatusInfo"},
            "__typename": "ShopInfo",
        },
        "__typename": "pdpGetData",
    }
