"""Bukalapak's anonymous token exchange and ``multistrategy-products`` search, from the catalogue.

- ``POST accounts.bukalapak.com/auth_proxies/request_token`` issues a fresh random access
  token, valid for an hour, as the web client gets one.
- ``GET api.bukalapak.com/multistrategy-products?keywords=&limit=&offset=&page=`` needs
  ``Authorization: Bearer <token>`` with a token issued here and not expired; otherwise it
  answers 401 with the API's error body ``{"errors": [{"code": ..., "message": ...}]}``.
- A keyword starting with ``__block__`` gets what a flagged client gets from Bukalapak's
  Cloudflare edge, before any token check: HTTP 403, ``cf-mitigated: challenge`` and the
  "Just a moment..." challenge page.

Every other path answers 404.
"""

from __future__ import annotations

import hashlib
import html
import math
import secrets
import time
from collections import OrderedDict
from typing import Any

from aiohttp import web

from crawler.replica.catalogue import Offer, search
from crawler.replica.common import CATALOGUE, json_response, not_found, slugify

HOSTS = ("api.bukalapak.com", "accounts.bukalapak.com")
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
    results = search(request.app[CATALOGUE], keyword)
    page = results[offset:offset + limit]
    return json_response({
        "data": [product(offer) for offer in page],
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


def product(offer: Offer) -> dict[str, Any]:
    """One offer as a ``multistrategy-products`` product, field for field."""
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
        "description": f"<p>{html.escape(offer.description)}</p>",
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
