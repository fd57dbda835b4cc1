"""Bukalapak's anonymous token exchange and ``multistrategy-products`` search, from the catalogue.

- ``POST accounts.bukalapak.com/auth_proxies/request_token`` issues a fresh random access
  token, valid for an hour, as the web client gets one.
- ``GET api.bukalapak.com/multistrategy-products?keywords=&limit=&offset=&page=`` needs
  ``Authorization: Bearer <token>`` with a token issued here and not expired; otherwise it
  answers 401 with the API's error body ``{"errors": [{"code": ..., "message": ...}]}``.
- A keyword starting with ``__block__`` gets what a flagged client gets from Bukalapak's
  Cloudflare edge, before any token check: HTTP 403, ``cf-mitigated: challenge`` and the
  "Just a moment..." challenge page.
- ``GET api.bukalapak.com/products/<id>`` (same token): one product, ``{"data": product,
  "meta": {"http_status": 200}}``, the product in the full shape of the real capture
  ``../shared/corpus/bukalapak-products-2020`` (the search answer's fields and the rest it
  shows: ``specs``, ``min_quantity``, ``weight``, and a ``store`` with its ``description``,
  ``subscriber_amount``, ``reviews``, ``address{city, province}``, ``level``, ...). The
  store's ``joined_at`` (when the shop opened) is not in that capture; the replica adds it
  where Bukalapak's store page shows "Bergabung". A product that is gone, or whose store
  was taken down, answers 404 ``{"errors": [{"code": 10003, ...}]}``.
- ``GET api.bukalapak.com/stores/<id>`` (same token): the store alone, ``{"data": store}``.

A search card's ``description`` is the listing's description as the seller wrote it (an
operator may end it with a phone number, see ``crawler.replica.networks``).

Every other path answers 404.
"""

from __future__ import annotations

import hashlib
import html
import math
import secrets
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from crawler.replica import images
from crawler.replica.catalogue import Offer, slugify
from crawler.replica.common import json_response, market_of, not_found, option_stock, variants

if TYPE_CHECKING:
    from crawler.replica.market import Market

HOSTS = ("api.bukalapak.com", "accounts.bukalapak.com")
PLATFORM = "bukalapak"
TOKEN_PATH = "/auth_proxies/request_token"  # noqa: S105 - a URL path, not a token
SEARCH_PATH = "/multistrategy-products"
BLOCK_PREFIX = "__block__"
TOKEN_LIFETIME = 3600
MAX_LIMIT = 50
WEB = "https://www.bukalapak.com"

# Tokens this process issued, newest last, with their expiry (Unix time). Bounded: a
# long-running replica forgets the oldest first.
_issued: OrderedDict[str, int] = OrderedDict()
_MAX_TOKENS = 10_000

CHALLENGE_PAGE = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="390"></head><body><div class="main-wrapper" role="main">
<div class="main-content"><h1 class="zone-name-title h1">www.bukalapak.com</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<noscript><div class="h2">Enable JavaScript and cookies to continue</div></noscript></div></div>
<script>(function(){window._cf_chl_opt={cvId:'3',cZone:'api.bukalapak.com',cType:'managed'};
var a=document.createElement('script');\
a.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1';
document.getElementsByTagName('head')[0].appendChild(a);}());</script></body></html>"""


def issued_tokens() -> list[str]:
    """The access tokens this process has issued and still remembers, oldest first."""
    return list(_issued)


async def handle(request: web.Request, path: str) -> web.Response:
    host = request.match_info["host"]
    if host == "accounts.bukalapak.com" and path == TOKEN_PATH and request.method == "POST":
        return token_response()
    if host == "api.bukalapak.com" and path == SEARCH_PATH and request.method == "GET":
        return search_response(request)
    if host == "api.bukalapak.com" and request.method == "GET" and path.startswith(
            ("/products/", "/stores/")):
        return detail_response(request, path)
    return not_found()


def token_response() -> web.Response:
    """A fresh anonymous token, in the shape of the web client's token exchange."""
    now = int(time.time())
    token = secrets.token_urlsafe(32)
    _issued[token] = now + TOKEN_LIFETIME
    while len(_issued) > _MAX_TOKENS:
        _issued.popitem(last=False)
    return json_response({"access_token": token, "token_type": "bearer",
                          "expires_in": TOKEN_LIFETIME, "expires_at": now + TOKEN_LIFETIME,
                          "scope": "public", "created_at": now})


def search_response(request: web.Request) -> web.Response:
    keyword = request.query.get("keywords", "")
    if keyword.startswith(BLOCK_PREFIX):
        return web.Response(status=403, text=CHALLENGE_PAGE, content_type="text/html",
                            headers={"cf-mitigated": "challenge", "server": "cloudflare"})
    if not _authorised(request.headers.get("Authorization", "")):
        return json_response({"errors": [{"code": 10100, "message": "Akses token tidak valid"}],
                              "meta": {"http_status": 401}}, status=401)
    try:
        limit = max(1, min(int(request.query.get("limit", "10")), MAX_LIMIT))
        offset = max(0, int(request.query.get("offset", "0")))
    except ValueError:
        return json_response({"errors": [{"code": 10000, "message": "Parameter tidak valid"}],
                              "meta": {"http_status": 400}}, status=400)
    market = market_of(request)
    results = market.search(PLATFORM, keyword)
    page = results[offset:offset + limit]
    return json_response({
        "data": [product(offer, market.world.card_description(PLATFORM, offer))
                 for offer in page],
        "meta": {"http_status": 200, "limit": limit, "offset": offset,
                 "page": offset // limit + 1, "total": len(results),
                 "total_pages": math.ceil(len(results) / limit), "facets": []},
    })


def _authorised(header: str) -> bool:
    scheme, _, token = header.partition(" ")
    expires_at = _issued.get(token.strip()) if scheme.lower() == "bearer" else None
    return expires_at is not None and expires_at > time.time()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while number:
        number, remainder = divmod(number, 36)
        out = digits[remainder] + out
    return out or "0"


def _image_urls(offer: Offer, size: str) -> list[str]:
    name = slugify(offer.title)[:40]
    keys = (int(offer.image_key[n * 8:n * 8 + 8], 16) for n in range(3))
    return [f"https://s{n}.bukalapak.com/img/{key}/{size}/{name}.jpg" for n, key in enumerate(keys)]


def product(offer: Offer, description: str | None = None) -> dict[str, Any]:
    """One offer as a ``multistrategy-products`` product, field for field (``description``:
    the text the seller wrote, by default the catalogue's)."""
    product_id = _base36(offer.offer_id)
    slugs = offer.category_breadcrumb.split("/")
    structure = [offer.category_name] + [slug.replace("-", " ").title() for slug in slugs[1:]]
    category_id = int(
        hashlib.sha1(offer.category_breadcrumb.encode(), usedforsecurity=False).hexdigest()[:4],
        16,
    )
    category_path = f"{'/'.join(slugs)}-{category_id}"
    return {
        "active": True,
        "category": {"id": category_id, "name": structure[-1], "structure": structure,
                     "url": f"{WEB}/c/{category_path}"},
        "condition": offer.condition,
        "created_at": offer.posted_at,
        "deal": {},
        "description": _html(offer.description if description is None else description),
        "for_sale": True,
        "id": product_id,
        "images": {"large_urls": _image_urls(offer, "large"),
                   "small_urls": _image_urls(offer, "small")},
        "imported": offer.imported,
        "name": offer.title,
        "price": offer.price_idr,
        "rating": {"average_rate": offer.rating,
                   "user_count": offer.sold_count // 3 if offer.rating else 0},
        "relisted_at": offer.posted_at,
        "sku_id": offer.offer_id,
        "state": "available",
        "stats": {"interest_count": offer.sold_count * 2, "sold_count": offer.sold_count,
                  "view_count": 0, "waiting_payment_count": 0},
        "stock": 10 + offer.offer_id % 90,
        "store": {
            "address": {"city": offer.city},
            "id": offer.seller_id,
            "level": {"name": "Good Seller"},
            "name": offer.seller_name,
            "premium_level": "none",
            "reviews": {"negative": 0, "positive": offer.sold_count},
            "url": f"{WEB}/u/{offer.seller_slug}",
        },
        "updated_at": offer.posted_at,
        "url": f"{WEB}/p/{category_path}/{product_id}-jual-{slugify(offer.title)}",
    }


def _html(text: str) -> str:
    """A description as Bukalapak sends it: HTML, paragraphs by line breaks."""
    return "<br><br/>".join(f"<p>{html.escape(part)}</p>" for part in text.split("\n\n"))


def decode_id(product_id: str) -> int | None:
    """A base-36 product id back to the offer id (None if it is not one)."""
    try:
        return int(product_id, 36)
    except ValueError:
        return None


def detail_response(request: web.Request, path: str) -> web.Response:
    if not _authorised(request.headers.get("Authorization", "")):
        return json_response({"errors": [{"code": 10100, "message": "Akses token tidak valid"}],
                              "meta": {"http_status": 401}}, status=401)
    market = market_of(request)
    kind, _, ident = path.strip("/").partition("/")
    if kind == "stores":
        offers = (market.world.seller_offers(int(ident)) if ident.isdigit() else ())
        listed = [o for o in offers
                  if market.offer(PLATFORM, o.offer_id) and not market.is_removed(PLATFORM, o)]
        if not listed:
            return _gone("Pelapak tidak ditemukan")
        return json_response({"data": store(market, listed[0]), "meta": {"http_status": 200}})
    offer_id = decode_id(ident) if ident and ident.isalnum() else None
    offer = market.offer(PLATFORM, offer_id) if offer_id is not None else None
    if offer is None or market.is_removed(PLATFORM, offer):
        return _gone("Barang tidak ditemukan")
    return json_response({"data": product_detail(market, offer), "meta": {"http_status": 200}})


def _gone(message: str) -> web.Response:
    return json_response({"errors": [{"code": 10003, "message": message}],
                          "meta": {"http_status": 404}}, status=404)


def product_detail(market: Market, offer: Offer) -> dict[str, Any]:
    """The full product: the search fields with every photo, specs and the whole store."""
    world = market.world
    body = product(offer, world.description(PLATFORM, offer))
    count = len(world.listing_photos(PLATFORM, offer))
    body["images"] = {size: [images.photo_url(PLATFORM, offer, n, size.removesuffix("_urls"))
                             for n in range(min(count, images.MAX_PHOTOS))]
                      for size in ("large_urls", "small_urls")}
    stock = body["stock"]
    body.update({
        "min_quantity": 1, "max_quantity": stock, "weight": 1000 if offer.price_idr < 1_000_000
        else 50_000, "assurance": False, "digital_product": False, "video_url": "",
        "specs": {"kondisi": offer.condition,
                  **{"ukuran" if o[0] == "Ukuran" else "grade": ", ".join(o[1])
                     for o in variants(offer)}},
        "variant_stock": [{"name": option, "stock": count}
                          for option, count in option_stock(offer, stock) if option],
        "store": store(market, offer),
    })
    return body


def store(market: Market, offer: Offer) -> dict[str, Any]:
    """The seller as the product's ``store`` (and ``/stores/<id>``) gives it."""
    profile = market.world.profile(PLATFORM, offer)
    positive = profile.rating_count
    negative = round(positive * (5 - profile.rating) / 20) if profile.rating else 0
    return {
        "address": {"city": profile.city, "province": ""},
        "alert": "", "avatar_url": f"https://s0.bukalapak.com/avt/{offer.seller_id}/small/"
                                   f"{slugify(offer.seller_name)}.png",
        "brand_seller": False, "carriers": ["JNE REG", "J&T REG"],
        "closing": {"closed": False}, "delivery_time": "1-2 hari",
        "description": profile.about, "flagship": False, "groups": [],
        "id": offer.seller_id, "joined_at": f"{profile.joined}T09:00:00.000+07:00",
        "inactivity": {"inactive": False, "last_appear_at": f"{profile.joined}T09:00:00+07:00"},
        "level": {"name": "Good Seller"}, "name": offer.seller_name,
        "premium_level": "none", "premium_top_seller": False,
        "reviews": {"negative": negative, "positive": positive},
        "subscriber_amount": profile.followers, "term_and_condition": "",
        "url": f"{WEB}/u/{offer.seller_slug}",
    }
