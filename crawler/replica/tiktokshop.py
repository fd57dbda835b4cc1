"""TikTok Shop Indonesia's search (served from shop-id.tokopedia.com), drawn by JavaScript.

``/search?q=KEYWORD&page=N`` is an empty shell whose script fetches
``/api/shop/search/product`` and draws the product cards, so only a browser sees results.
A keyword starting with ``__block__`` answers with the captcha wall instead.

A product's page ``/view/product/<id>`` (served by ``listing_pages``) has its title, price
and description in its HTML, and its data in ``<script id="__MODERN_ROUTER_DATA__"
type="application/json">`` (the element TikTok Shop's pages carry their route data in):
``loaderData["view/product/(product_id)/page"].product_info`` with ``product_base``
(``title``, ``desc_detail``, ``images[].url_list``, ``sold_count``), ``skus`` (variants and
stock) and ``seller`` (``seller_id``, ``shop_name``, ``join_time``, ``location``,
``followers``, ``sold_count``, ``rating``, ``description``). The page's script draws the
photos and the seller's profile from it (``common.DRAW_JS``). No capture of a product page
is in ../shared; the field names are modelled on TikTok Shop's public product pages
(unverified).
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web

from crawler.replica import images
from crawler.replica.common import (
    DRAW_JS,
    json_response,
    market_of,
    not_found,
    option_stock,
    rupiah,
    script_json,
    variants,
)

if TYPE_CHECKING:
    from crawler.replica.catalogue import Offer
    from crawler.replica.market import Market

HOSTS = ("shop-id.tokopedia.com",)
PLATFORM = "tiktokshop"
PAGE_SIZE = 20
ID_BASE = 1_729_000_000_000_000_000

SHELL = """<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>{title} | TikTok Shop</title>
<style>body{{font-family:sans-serif;margin:16px}} .product-card{{display:inline-block;width:180px;
vertical-align:top;margin:6px;padding:8px;border:1px solid #ddd}} \
.price{{color:#fe2c55;font-weight:bold}}
</style></head>
<body><h1>Hasil pencarian "{title}"</h1><div id="results" data-e2e="search-product-list"></div>
<script>
const params = new URLSearchParams(location.search);
fetch("/api/shop/search/product?" + new URLSearchParams({{
    keyword: params.get("q") || "", page: params.get("page") || "1", page_size: "{page_size}"}}))
  .then(r => r.json())
  .then(body => {{
    const box = document.getElementById("results");
    for (const p of body.data.products) {{
      const card = document.createElement("div");
      card.className = "product-card";
      card.dataset.productId = p.product_id;
      const link = document.createElement("a");
      link.className = "title"; link.href = "/view/product/" + p.product_id;
      link.textContent = p.title;
      const price = document.createElement("span");
      price.className = "price"; price.textContent = p.product_price_info.sale_price_format;
      const sold = document.createElement("span");
      sold.className = "sold"; sold.textContent = p.sold_info.sold_count_text;
      const seller = document.createElement("a");
      seller.className = "seller"; seller.href = "/shop/" + p.seller_info.seller_id;
      seller.dataset.sellerId = p.seller_info.seller_id;
      seller.textContent = p.seller_info.shop_name;
      const img = document.createElement("img");
      img.src = p.image.url_list[0]; img.width = 160;
      card.append(img, link, price, sold, seller);
      box.append(card);
    }}
    box.dataset.hasMore = body.data.has_more ? "true" : "false";
    box.dataset.state = "loaded";
  }});
</script></body></html>"""

CAPTCHA = """<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">
<title>Security Check</title></head><body><div id="captcha_container">
<p>Verifikasi untuk melanjutkan</p><div class="captcha_verify_slide"></div></div></body></html>"""


async def handle(request: web.Request, path: str) -> web.Response:
    keyword = request.query.get("q") or request.query.get("keyword") or ""
    if path == "/search":
        if keyword.startswith("__block__"):
            return web.Response(text=CAPTCHA, content_type="text/html")
        return web.Response(text=SHELL.format(title=html.escape(keyword), page_size=PAGE_SIZE),
                            content_type="text/html")
    if path == "/api/shop/search/product":
        try:
            page = max(1, int(request.query.get("page", "1")))
            size = max(1, min(int(request.query.get("page_size", str(PAGE_SIZE))), 60))
        except ValueError:
            return json_response({"code": 400, "message": "invalid paging"}, status=400)
        results = market_of(request).search(PLATFORM, keyword)
        offers = results[(page - 1) * size:page * size]
        return json_response({"code": 0, "message": "success", "data": {
            "products": [product(offer) for offer in offers],
            "has_more": page * size < len(results), "total": len(results),
        }})
    return not_found()


def product(offer: Offer) -> dict:
    """One offer in the shape of TikTok Shop's product search card."""
    return {
        "product_id": str(ID_BASE + offer.offer_id),
        "title": offer.title,
        "image": {"url_list": [f"https://p16-oec-sg.ibyteimg.com/{offer.image_key}~tplv-o3syd03w52-resize-webp:300:300.webp"]},
        "product_price_info": {"sale_price_format": rupiah(offer.price_idr),
                               "sale_price_decimal": str(offer.price_idr), "currency_name": "IDR"},
        "sold_info": {"sold_count": offer.sold_count,
                      "sold_count_text": f"{_short(offer.sold_count)} terjual"},
        "seller_info": {"seller_id": str(offer.seller_id), "shop_name": offer.seller_name},
        "rate_info": {"score": offer.rating},
    }


def _short(count: int) -> str:
    """TikTok Shop's short counts: 950, 1,2rb, 12rb."""
    if count < 1000:
        return str(count)
    thousands = count / 1000
    return (f"{thousands:.1f}".replace(".", ",").replace(",0", "") if thousands < 10
            else str(int(thousands))) + "rb"




ROUTE = "view/product/(product_id)/page"
DRAW_PAGE = """<script>
const route = JSON.parse(document.getElementById("__MODERN_ROUTER_DATA__").textContent);
const info = route.loaderData["view/product/(product_id)/page"].product_info;
const shop = info.seller;
twDraw(info.product_base.images.map(image => image.url_list[0]),
       [["joined", "Bergabung", twDay(shop.join_time)], ["location", "Lokasi", shop.location],
        ["followers", "Pengikut", shop.followers], ["sales", "Terjual", shop.sold_count],
        ["rating", "Rating", shop.rating]], shop.description);
</script>"""


def page_data(market: Market, offer: Offer) -> str:
    """The route data and drawing script ending ``offer``'s product page."""
    world = market.world
    profile = world.profile(PLATFORM, offer)
    count = min(len(world.listing_photos(PLATFORM, offer)), images.MAX_PHOTOS)
    product_id = str(ID_BASE + offer.offer_id)
    stock = 10 + offer.offer_id % 200
    found = variants(offer)
    joined = datetime.fromisoformat(profile.joined).replace(tzinfo=UTC)
    info = {
        "product_id": product_id,
        "product_base": {
            "title": offer.title,
            "desc_detail": json.dumps([{"type": "text", "text": part} for part in
                                       world.description(PLATFORM, offer).split("\n\n")],
                                      ensure_ascii=False),
            "images": [{"url_list": [images.photo_url(PLATFORM, offer, n)], "height": 800,
                        "width": 800} for n in range(count)],
            "sold_count": offer.sold_count,
            "price": {"real_price": rupiah(offer.price_idr), "currency": "IDR"},
        },
        "skus": [{"sku_id": str(int(product_id) * 10 + i), "stock": amount,
                  "sku_sale_props": [{"prop_name": found[0][0], "prop_value": option}]
                  if option else []}
                 for i, (option, amount) in enumerate(option_stock(offer, stock))],
        "seller": {"seller_id": str(offer.seller_id), "shop_name": offer.seller_name,
                   "shop_link": f"https://shop-id.tokopedia.com/shop/{offer.seller_id}",
                   "join_time": int(joined.timestamp()), "location": profile.city,
                   "followers": profile.followers, "sold_count": profile.sales,
                   "rating": profile.rating, "product_count": profile.products,
                   "description": profile.about},
    }
    data = {"loaderData": {ROUTE: {"product_info": info}}}
    return (f'<script id="__MODERN_ROUTER_DATA__" type="application/json">{script_json(data)}'
            f"</script><script>{DRAW_JS}</script>{DRAW_PAGE}")
