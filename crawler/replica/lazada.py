"""Lazada Indonesia's catalog search (``/catalog/?ajax=true&page=N&q=...``) from the catalogue.

There is no real capture of this endpoint in the corpus; the shape follows public knowledge
of the ajax JSON: ``mods.listItems[]`` (string prices and ids, protocol-relative
``itemUrl``, ``itemSoldCntShow`` such as "1.2K sold") and ``mainInfo`` with string
``totalResults``, ``page`` and ``pageSize`` (40).

Anti-bot answer: a keyword starting with ``__block__`` gets the JSON refusal Lazada's
Alibaba ("x5"/"punish") shield sends, ``{"ret": ["FAIL_SYS_USER_VALIDATE", ...],
"data": {"url": ".../_____tmd_____/punish?x5secdata=..."}}``, so that a crawl's block
handling can be tested end to end.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from crawler.replica.catalogue import Offer, search
from crawler.replica.common import CATALOGUE, json_response, not_found, rupiah, slugify

if TYPE_CHECKING:
    from aiohttp import web

HOSTS = ("www.lazada.co.id",)
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
    results = search(request.app[CATALOGUE], keyword)
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
