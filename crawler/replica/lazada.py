"""Lazada Indonesia's catalog search (``/catalog/?ajax=true&page=N&q=...``) from the catalogue.

There is no real capture of this endpoint in the corpus; the shape follows public knowledge
of the ajax JSON: ``mods.listItems[]`` (string prices and ids, protocol-relative
``itemUrl``, ``itemSoldCntShow`` such as "1.2K sold") and ``mainInfo`` with string
``totalResults``, ``page`` and ``pageSize`` (40).

Anti-bot answer: a keyword starting with ``__block__`` gets the JSON refusal Lazada's
Alibaba ("x5"/"punish") shield sends, ``{"ret": ["FAIL_SYS_USER_VALIDATE", ...],
"data": {"url": ".../_____tmd_____/punish?x5secdata=..."}}``, so that a crawl's block
handling can be tested end to end.

A listing's page (``/products/<slug>-i<itemId>-s<skuId>.html``, served by
``listing_pages``) is server-rendered HTML that ends with the page's data as Lazada's
product pages carry it, ``<script>var __moduleData__ = {...};</script>`` (:func:`page_data`):
``data.root.fields`` with ``primaryKey``, ``product`` (``title``, ``desc`` as HTML),
``skuInfos`` (price, stock per SKU), ``skuGalleries`` (the photos), ``productOption``
(variants), ``specifications``, ``review`` and ``seller`` (``sellerId``, ``name``,
``location``, ``time`` on Lazada and ``joinDate``, ``followers``,
``positiveSellerRating``, ``rate``). No capture of a product page is in ../shared; the
shape follows what public scrapers read from ``__moduleData__`` (unverified).
"""

from __future__ import annotations

import hashlib
import html
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from crawler.replica import images
from crawler.replica.catalogue import Offer, slugify
from crawler.replica.common import (
    json_response,
    market_of,
    not_found,
    option_stock,
    rupiah,
    script_json,
    variants,
)

if TYPE_CHECKING:
    from aiohttp import web

    from crawler.replica.market import Market

HOSTS = ("www.lazada.co.id",)
PLATFORM = "lazada"
SEARCH_PATH = "/catalog/"
BLOCK_PREFIX = "__block__"
PAGE_SIZE = 40
ITEM_ID_OFFSET = 5_000_000_000  # item ids look like Lazada's 10-digit ones
SELLER_ID_OFFSET = 400_000_000


async def handle(request: web.Request, path: str) -> web.Response:
    if path != SEARCH_PATH or request.method != "GET" or request.query.get("ajax") != "true":
        return not_found()
    keyword = request.query.get("q", "")
    if keyword.startswith(BLOCK_PREFIX):
        return json_response(punish_answer(keyword))
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1  # Lazada shows the first page for a page it cannot read
    results = market_of(request).search(PLATFORM, keyword)
    offers = results[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    return json_response(search_response(keyword, offers, page, len(results)))


def punish_answer(keyword: str) -> dict[str, Any]:
    token = hashlib.sha1(keyword.encode(), usedforsecurity=False).hexdigest()
    return {
        "ret": ["FAIL_SYS_USER_VALIDATE", "RGV587_ERROR::SM::哎哟喂,被挤爆啦,请稍后重试"],
        "data": {"url": "https://www.lazada.co.id:443//catalog/_____tmd_____/punish"
                        f"?x5secdata={token}&x5step=1&action=captcha"},
    }


def search_response(keyword: str, offers: tuple[Offer, ...], page: int,
                    total: int) -> dict[str, Any]:
    """The ajax body: page templates and SEO info around ``mods`` and ``mainInfo``."""
    return {
        "templates": {"searchTips": {"type": "tips"}},
        "mainInfo": {
            "q": keyword, "title": f"Jual {keyword} | Lazada.co.id",
            "totalResults": str(total), "page": str(page), "pageSize": str(PAGE_SIZE),
            "errorMsg": None, "noResultCode": None, "sortType": "popularity",
        },
        "seoInfo": {"canonicalHref": "https://www.lazada.co.id/catalog/?q=" + quote(keyword)},
        "mods": {
            "listItems": [list_item(offer, keyword) for offer in offers],
            "breadcrumb": [{"title": "Beranda", "url": "//www.lazada.co.id/"}],
            "resultTips": {"tips": f'{total} barang ditemukan untuk "{keyword}"'},
        },
    }


def list_item(offer: Offer, keyword: str) -> dict[str, Any]:
    """One offer as a ``listItems[]`` entry, field for field."""
    item_id = str(ITEM_ID_OFFSET + offer.offer_id)
    sku_id = str(2 * (ITEM_ID_OFFSET + offer.offer_id) + 1)
    seller_id = str(SELLER_ID_OFFSET + offer.seller_id)
    item = {
        "name": offer.title, "nid": item_id, "itemId": item_id, "icons": [],
        "image": f"https://img.lazcdn.com/g/p/{offer.image_key}.jpg", "isSmartImage": False,
        "itemUrl": f"//www.lazada.co.id/products/{slugify(offer.title)}-i{item_id}"
                   f"-s{sku_id}.html?search=1",
        "originalPrice": "", "originalPriceShow": "",
        "price": str(offer.price_idr), "priceShow": rupiah(offer.price_idr),
        "discount": "", "ratingScore": str(offer.rating) if offer.rating else "0",
        "review": str(round(offer.sold_count * 0.4)) if offer.rating else "",
        "installment": "", "tItemType": "nt_product", "location": offer.city,
        "description": [], "thumbs": [], "sellerName": offer.seller_name,
        "sellerId": seller_id, "brandId": "16057", "brandName": "No Brand",
        "cheapest_sku": sku_id, "skuId": sku_id, "sku": f"{item_id}_ID-{sku_id}",
        "categories": [4402, 4403], "inStock": True, "isSponsored": False,
        "restrictedAge": 0, "clickTrace": f"query:{quote(keyword)};nid:{item_id};",
        "addToCartSkus": [{"sellerId": seller_id, "skuId": sku_id, "itemId": item_id}],
    }
    if offer.sold_count:
        item["itemSoldCntShow"] = sold_text(offer.sold_count)
    return item


def sold_text(count: int) -> str:
    """Lazada's rounded-down sold label: 17 → "17 sold", 1250 → "1.2K sold", 10000 → "10K sold"."""
    if count < 1000:
        return f"{count} sold"
    return f"{count // 100 / 10:g}K sold"


def page_data(market: Market, offer: Offer) -> str:
    """The ``__moduleData__`` script ending ``offer``'s product page."""
    world = market.world
    item_id = str(ITEM_ID_OFFSET + offer.offer_id)
    sku_id = str(2 * (ITEM_ID_OFFSET + offer.offer_id) + 1)
    seller_id = str(SELLER_ID_OFFSET + offer.seller_id)
    count = min(len(world.listing_photos(PLATFORM, offer)), images.MAX_PHOTOS)
    photos = [images.photo_url(PLATFORM, offer, n) for n in range(count)]
    stock = 2 + offer.offer_id % 40
    found = variants(offer)
    skus = {str(int(sku_id) + 2 * i): (option, amount)
            for i, (option, amount) in enumerate(option_stock(offer, stock))}
    profile = world.profile(PLATFORM, offer)
    years = max(0, (date.fromisoformat(world.catalogue[-1].posted_at[:10])
                    - date.fromisoformat(profile.joined)).days // 365)
    description = "".join(f"<p>{html.escape(part)}</p>"
                          for part in world.description(PLATFORM, offer).split("\n\n"))
    fields = {
        "primaryKey": {"itemId": item_id, "skuId": sku_id, "sellerId": seller_id},
        "product": {"title": offer.title, "desc": description, "highlights": "",
                    "link": f"//www.lazada.co.id/products/{slugify(offer.title)}-i{item_id}"
                            f"-s{sku_id}.html", "brand": {"name": "No Brand", "brandId": "16057"}},
        "skuInfos": {"0": {"itemId": item_id, "skuId": sku_id, "stock": stock,
                           "image": photos[0] if photos else "",
                           "price": {"salePrice": {"text": rupiah(offer.price_idr),
                                                   "value": offer.price_idr}}},
                     **{sku: {"itemId": item_id, "skuId": sku, "stock": amount,
                              "price": {"salePrice": {"text": rupiah(offer.price_idr),
                                                      "value": offer.price_idr}}}
                        for sku, (_option, amount) in skus.items()}},
        "skuGalleries": {"0": [{"type": "img", "src": url, "poster": url} for url in photos]},
        "productOption": {"skuBase": {
            "properties": [{"pid": "1", "name": name, "values": [
                {"vid": str(i + 1), "name": value} for i, value in enumerate(values)]}
                for name, values in found],
            "skus": [{"skuId": sku, "propPath": f"1:{i + 1}"}
                     for i, sku in enumerate(skus)] if found else []}},
        "specifications": {sku_id: {"features": {"Kondisi": offer.condition,
                                                 "Merek": "No Brand"}}},
        "review": {"ratings": {"average": offer.rating,
                               "rateCount": round(offer.sold_count * 0.4)
                               if offer.rating else 0}},
        "seller": {"sellerId": seller_id, "shopId": str(offer.seller_id),
                   "name": offer.seller_name, "url": f"//www.lazada.co.id/shop/"
                                                      f"{offer.seller_slug}/",
                   "location": profile.city, "time": f"{years} tahun" if years else "baru",
                   "joinDate": profile.joined, "followers": profile.followers,
                   "itemSold": profile.sales, "rate": profile.rating,
                   "positiveSellerRating": f"{round(profile.rating * 20)}%"
                   if profile.rating else "", "description": profile.about},
    }
    return ("<script>var __moduleData__ = " + script_json({"data": {"root": {"fields": fields}}})
            + ";</script>")
