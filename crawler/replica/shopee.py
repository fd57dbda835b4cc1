"""Shopee Indonesia's ``/api/v4/search/search_items``, answered from the replica catalogue.

Items come wrapped in ``item_basic`` with prices as rupiah × 100000, paged by the
``newest`` offset and ``limit``, with ``total_count`` and ``nomore`` as Shopee sends them.

Anti-bot answer: a keyword starting with ``__block__`` gets what Shopee sends a client it
refuses, HTTP 403 with ``{"error": 90309999, "action_type": 2, ...}`` and no items, so that
a crawl's block handling can be tested end to end.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.replica.catalogue import Offer, search
from crawler.replica.common import CATALOGUE, json_response, not_found

if TYPE_CHECKING:
    from aiohttp import web

HOSTS = ("shopee.co.id",)
SEARCH_PATH = "/api/v4/search/search_items"
BLOCK_PREFIX = "__block__"
PRICE_SCALE = 100_000
SHOP_ID_OFFSET = 30_000_000  # shop ids look like Shopee's 8–9 digit ones
ITEM_ID_OFFSET = 20_000_000_000  # item ids like its 11-digit ones


async def handle(request: web.Request, path: str) -> web.Response:
    if path != SEARCH_PATH or request.method != "GET":
        return not_found()
    keyword = request.query.get("keyword", "")
    if keyword.startswith(BLOCK_PREFIX):
        return json_response(anti_bot_answer(keyword), status=403)
    try:
        limit = max(1, min(int(request.query.get("limit", "60")), 100))
        newest = max(0, int(request.query.get("newest", "0")))
    except ValueError:
        return json_response({"error": 4, "error_msg": "invalid params", "items": None},
                             status=400)
    results = search(request.app[CATALOGUE], keyword)
    return json_response(search_response(keyword, results[newest:newest + limit], newest,
                                         len(results)))


def anti_bot_answer(keyword: str) -> dict[str, Any]:
    return {"is_customized": False, "is_login": False, "action_type": 2, "error": 90309999,
            "tracking_id": _tracking_id(keyword)}


def search_response(keyword: str, offers: tuple[Offer, ...], newest: int,
                    total: int) -> dict[str, Any]:
    """The v4 response body: top-level paging fields around ``items[].item_basic``."""
    return {
        "bff_meta": None, "error": None, "error_msg": None, "reserved_keyword": None,
        "suggestion_algorithm": None, "algorithm": "eyJzZWFyY2giOiI3LmEuMzgifQ==",
        "total_count": total, "nomore": newest + len(offers) >= total,
        "items": [{
            "item_basic": item_basic(offer), "adsid": None, "campaignid": None,
            "distance": None, "match_type": None, "ads_keyword": None, "deduction_info": None,
            "collection_id": None, "display_name": None, "campaign_stock": None,
            "json_data": "", "tracking_info": {"viral_spu_tracking": None,
                                               "business_tracking": None},
            "itemid": ITEM_ID_OFFSET + offer.offer_id,
            "shopid": SHOP_ID_OFFSET + offer.seller_id,
            "algo_image": None, "fe_flags": None, "item_type": 0, "foody_item": None,
            "search_item_tracking": _tracking_id(f"{keyword}:{offer.offer_id}"),
            "personalized_labels": None, "biz_json": "",
        } for offer in offers],
        "price_adjust": None, "adjust": {"count": None}, "total_ads_count": 0,
        "hint_keywords": None, "show_disclaimer": False, "json_data": "",
        "query_rewrite": {"fe_query_write_status": 0, "rewrite_keyword": None,
                          "hint_keywords": None, "ori_keyword": keyword,
                          "ori_total_count": total, "rewrite_type": 0},
        "disclaimer_infos": [], "need_next_search": False, "low_result": None,
        "search_tracking": _tracking_id(keyword), "batch_size": len(offers),
    }


def item_basic(offer: Offer) -> dict[str, Any]:
    """One offer as Shopee's ``item_basic``, field for field."""
    price = offer.price_idr * PRICE_SCALE
    rated = round(offer.sold_count * 0.6) if offer.rating else 0
    return {
        "itemid": ITEM_ID_OFFSET + offer.offer_id,
        "shopid": SHOP_ID_OFFSET + offer.seller_id,
        "name": offer.title,
        "label_ids": [1000031, 1000167], "image": offer.image_key,
        "images": [
            offer.image_key,
            hashlib.md5(offer.image_key.encode(), usedforsecurity=False).hexdigest(),
        ],
        "currency": "IDR", "stock": 100 + offer.offer_id % 900, "status": 1,
        "ctime": int(datetime.fromisoformat(offer.posted_at).timestamp()),
        "sold": offer.sold_count // 6, "historical_sold": offer.sold_count,
        "liked": False, "liked_count": offer.sold_count // 10, "view_count": None,
        "catid": 100011, "brand": "Tidak Ada Merek", "cmt_count": rated, "flag": 196608,
        "cb_option": 0, "item_status": "normal",
        "price": price, "price_min": price, "price_max": price,
        "price_min_before_discount": -1, "price_max_before_discount": -1,
        "hidden_price_display": None, "price_before_discount": 0,
        "has_lowest_price_guarantee": False, "show_discount": 0, "raw_discount": 0,
        "discount": None, "is_category_failed": None, "size_chart": None,
        "video_info_list": None, "tier_variations": [
            {"name": "Ukuran", "options": ["S", "M", "L", "XL"], "images": None,
             "properties": [], "type": 0},
        ],
        "item_rating": {
            "rating_star": offer.rating,
            "rating_count": [rated, 0, 0, 0, rated // 5, rated - rated // 5],
            "rcount_with_context": rated // 3, "rcount_with_image": rated // 4,
        },
        "item_type": 0, "reference_item_id": "", "transparent_background_image": "",
        "is_adult": False, "badge_icon_type": 0, "shopee_verified": False,
        "is_official_shop": False, "show_official_shop_label": False,
        "show_shopee_verified_label": False, "show_official_shop_label_in_title": False,
        "is_cc_installment_payment_eligible": False,
        "is_non_cc_installment_payment_eligible": False, "coin_earn_label": None,
        "show_free_shipping": True, "preview_info": None, "coin_info": None,
        "exclusive_price_info": None, "bundle_deal_id": 0, "can_use_bundle_deal": False,
        "bundle_deal_info": None, "is_group_buy_item": None, "has_group_buy_stock": None,
        "group_buy_info": None, "welcome_package_type": 0, "welcome_package_info": None,
        "add_on_deal_info": None, "can_use_wholesale": False,
        "is_preferred_plus_seller": False, "shop_location": shop_location(offer.city),
        "has_model_with_available_shopee_stock": False, "voucher_info": None,
        "can_use_cod": True, "is_on_flash_sale": False, "is_service_by_shopee": False,
        "shop_name": offer.seller_name, "shop_rating": offer.rating or None,
    }


def shop_location(city: str) -> str:
    """Shopee writes the seller's town as its registry name: "KOTA BANDUNG", "KAB. BOGOR"."""
    if city.startswith("Kab. "):
        return "KAB. " + city.removeprefix("Kab. ").upper()
    return "KOTA " + city.upper()


def _tracking_id(seed: str) -> str:
    digest = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
