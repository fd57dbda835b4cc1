"""TikTok Shop Indonesia's search (served from shop-id.tokopedia.com), drawn by JavaScript.

``/search?q=KEYWORD&page=N`` is an empty shell whose script fetches
``/api/shop/search/product`` and draws the product cards, so only a browser sees results.
A keyword starting with ``__block__`` answers with the captcha wall instead.
"""

from __future__ import annotations

import html

from aiohttp import web

from crawler.replica.catalogue import Offer, search
from crawler.replica.common import CATALOGUE, json_response, not_found, rupiah

HOSTS = ("shop-id.tokopedia.com",)
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
        results = search(request.app[CATALOGUE], keyword)
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


