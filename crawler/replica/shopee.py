"""Shopee Indonesia's search and item APIs, answered from the replica catalogue.

``/api/v4/search/search_items``: items come wrapped in ``item_basic`` with prices as rupiah
× 100000, paged by the ``newest`` offset and ``limit``, with ``total_count`` and ``nomore``
as Shopee sends them (the item fields follow the real captures
``../shared/corpus/shopee-search-v2-kaos-2020`` and ``shopee-search-v4-flat-kaos-2023``).

A listing's own data, where the listing URL ``/product/<shop_id>/<item_id>`` leads:

- ``GET /api/v4/pdp/get_pc?item_id=&shop_id=&tz_offset_minutes=&detail_level=0``, what the
  web client's product page asks for (public scrapers send the same request):
  ``data.item`` (``item_id``, ``shop_id``, ``title``, ``description``, ``images``,
  ``models`` and ``tier_variations``, ``stock``, ``condition`` 1 new / 2 used, ...),
  ``data.product_images`` and ``data.shop_detailed_info`` (the seller: ``name``,
  ``account.username``, ``ctime`` joined, ``shop_location``, ``follower_count``,
  ``rating_star``, ``item_count``, ``description``).
- The older pair public scrapers still use: ``GET /api/v4/item/get?itemid=&shopid=``
  (``data`` is the item, flat, with ``itemid``, ``shopid``, ``name``, ``description``) and
  ``GET /api/v4/shop/get_shop_detail?shopid=`` (``data`` is the shop).

No capture of these is in ../shared: the field names follow public scrapers' typings of the
item API and the search capture's item fields. A listing that is gone (or whose shop was
taken down) answers ``{"error": 4, "error_msg": null, "data": null}``, the code public
scrapers report for an item that does not exist (unverified; ``page_markers.toml`` reads
it the same way).

Anti-bot answer: a keyword starting with ``__block__`` gets what Shopee sends a client it
refuses, HTTP 403 with ``{"error": 90309999, "action_type": 2, ...}`` and no items, so that
a crawl's block handling can be tested end to end.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from crawler.replica import images
from crawler.replica.common import json_response, market_of, not_found, option_stock, variants

if TYPE_CHECKING:
    from aiohttp import web

    from crawler.replica.catalogue import Offer
    from crawler.replica.market import Market

HOSTS = ("shopee.co.id",)
PLATFORM = "shopee"
SEARCH_PATH = "/api/v4/search/search_items"
PDP_PATH = "/api/v4/pdp/get_pc"
ITEM_PATH = "/api/v4/item/get"
SHOP_PATH = "/api/v4/shop/get_shop_detail"
GONE = {"error": 4, "error_msg": None, "data": None}
BLOCK_PREFIX = "__block__"
PRICE_SCALE = 100_000
SHOP_ID_OFFSET = 30_000_000  # shop ids look like Shopee's 8–9 digit ones
ITEM_ID_OFFSET = 20_000_000_000  # item ids like its 11-digit ones


async def handle(request: web.Request, path: str) -> web.Response:
    if request.method != "GET":
        return not_found()
    if path in (PDP_PATH, ITEM_PATH, SHOP_PATH):
        return detail_response(market_of(request), path, request.query)
    if path != SEARCH_PATH:
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
    results = market_of(request).search(PLATFORM, keyword)
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


def detail_response(market: Market, path: str, query: Any) -> web.Response:
    """``get_pc``, ``item/get`` or ``get_shop_detail`` for the item or shop in ``query``."""
    def number(*names: str) -> int | None:
        value = next((query.get(name) for name in names if query.get(name)), "")
        return int(value) if value.isdigit() else None

    shop_id = number("shop_id", "shopid")
    if path == SHOP_PATH:
        offer = _shop_offer(market, shop_id)
        return json_response({"error": 0, "error_msg": None, "version": "a1b2c3",
                              "data": shop_detail(market, offer)} if offer else GONE)
    item_id = number("item_id", "itemid")
    offer = market.offer(PLATFORM, item_id - ITEM_ID_OFFSET) if item_id is not None else None
    if (offer is None or market.is_removed(PLATFORM, offer)
            or SHOP_ID_OFFSET + offer.seller_id != shop_id):
        return json_response(GONE)
    if path == ITEM_PATH:
        return json_response({"error": None, "error_msg": None, "is_indexable": True,
                              "data": item(market, offer, legacy=True)})
    return json_response({"bff_meta": None, "error": None, "error_msg": None, "data": {
        "item": item(market, offer),
        "product_images": {"images": _images(market, offer), "video": None,
                           "first_tier_variations": []},
        "shop_detailed_info": shop_detail(market, offer),
        "product_review": {"rating_star": offer.rating,
                           "historical_sold": offer.sold_count,
                           "total_rating_count": round(offer.sold_count * 0.6)
                           if offer.rating else 0},
        "product_price": {"price": {"single_value": offer.price_idr * PRICE_SCALE}},
        "is_indexable": True,
    }})


def _shop_offer(market: Market, shop_id: int | None) -> Offer | None:
    """One listed offer of the shop ``shop_id`` (its profile is the same on each)."""
    if shop_id is None:
        return None
    for offer in market.world.seller_offers(shop_id - SHOP_ID_OFFSET):
        if market.offer(PLATFORM, offer.offer_id) and not market.is_removed(PLATFORM, offer):
            return offer
    return None


def _images(market: Market, offer: Offer) -> list[str]:
    count = len(market.world.listing_photos(PLATFORM, offer))
    return [images.token(offer, n) for n in range(min(count, images.MAX_PHOTOS))]


def item(market: Market, offer: Offer, legacy: bool = False) -> dict[str, Any]:
    """The item as ``get_pc`` gives it (``legacy``: as ``item/get`` does, flat names)."""
    stock = 100 + offer.offer_id % 900
    found = variants(offer)
    tiers = [{"name": name, "options": options, "images": None, "properties": [], "type": 0}
             for name, options in found]
    models = [{"model_id": offer.offer_id * 10 + i, "name": option,
               "price": offer.price_idr * PRICE_SCALE, "stock": count, "normal_stock": count,
               "sold": 0, "extinfo": {"tier_index": [i]}}
              for i, (option, count) in enumerate(option_stock(offer, stock))]
    return {
        ("itemid" if legacy else "item_id"): ITEM_ID_OFFSET + offer.offer_id,
        ("shopid" if legacy else "shop_id"): SHOP_ID_OFFSET + offer.seller_id,
        ("name" if legacy else "title"): offer.title,
        "description": market.world.description(PLATFORM, offer),
        "image": offer.image_key, "images": _images(market, offer),
        "currency": "IDR", "price": offer.price_idr * PRICE_SCALE,
        "price_min": offer.price_idr * PRICE_SCALE, "price_max": offer.price_idr * PRICE_SCALE,
        "stock": stock, "normal_stock": stock, "status": 1, "item_status": "normal",
        "ctime": int(datetime.fromisoformat(offer.posted_at).timestamp()),
        "condition": 2 if offer.condition == "Bekas" else 1,
        "brand": "Tidak Ada Merek", "catid": 100011,
        "categories": [{"catid": 100011, "display_name": offer.category_name,
                        "no_sub": False, "is_default_subcat": False}],
        "shop_location": shop_location(offer.city),
        "tier_variations": tiers, "models": models,
        "historical_sold": offer.sold_count, "sold": offer.sold_count // 6,
        "item_rating": {"rating_star": offer.rating,
                        "rating_count": [round(offer.sold_count * 0.6) if offer.rating else 0,
                                         0, 0, 0, 0, 0]},
        "attributes": [{"name": "Kondisi", "value": offer.condition, "id": 100134,
                        "is_timestamp": False}],
        "is_adult": False, "can_use_cod": True,
    }


def shop_detail(market: Market, offer: Offer) -> dict[str, Any]:
    """The shop of ``offer`` as ``shop_detailed_info`` (and ``get_shop_detail``) give it."""
    profile = market.world.profile(PLATFORM, offer)
    joined = datetime.fromisoformat(profile.joined + "T00:00:00+07:00")
    return {
        "shopid": SHOP_ID_OFFSET + offer.seller_id, "shop_id": SHOP_ID_OFFSET + offer.seller_id,
        "userid": 90_000_000 + offer.seller_id, "name": offer.seller_name,
        "account": {"username": offer.seller_slug, "portrait": offer.image_key[:24],
                    "following_count": profile.followers // 20, "is_seller": True},
        "ctime": int(joined.timestamp()), "last_active_time": 0,
        "shop_location": shop_location(profile.city), "place": profile.city,
        "follower_count": profile.followers, "rating_star": profile.rating or None,
        "rating_good": profile.rating_count, "rating_normal": 0, "rating_bad": 0,
        "item_count": profile.products, "description": profile.about,
        "is_official_shop": False, "is_shopee_verified": False, "response_rate": 90,
        "response_time": 3600,
    }
