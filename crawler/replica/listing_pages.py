"""Listing pages on every platform host: what ``thriftwatch recheck`` revisits, and for the
platforms whose listing page is the listing's data (Lazada, OLX, and TikTok Shop, Facebook
and Instagram in a browser), what enrichment reads.

Each page has its platform's structure (``listing_pages.toml``): a <title> and product
heading the platform writes, a product container, the listing's photos, the seller's
description region holding the listing's description (``SellerWorld.description``: the
catalogue offer's, and what an operator adds), and the seller's profile after it (joined,
city, followers, sales, rating, and the shop's own description). Lazada, TikTok Shop,
Facebook, Instagram and OLX pages end with their own data and scripts (each platform
module's ``page_data``). About one live page in three ends the description with seller
text that reads like a takedown or a block wall ("kalau barang sudah tidak tersedia kami
kabari", "no captcha"), as real sellers write.

A listing page answers 200 while the listing is live. Marks set with
``ReplicaServer.set_listing_state`` or ``POST /_replica/listing-state`` (JSON
``{"url": ..., "state": ...}``) change that: "removed" answers 404 with the platform's
not-found page (a takedown), "gone" the same page with 200 (as many platforms answer),
"blocked" 403 "Access Denied", "captcha" 200 with the platform's captcha or login wall.
A takedown by account (``crawler.replica.market``) marks every listing of the account
"removed"; a page whose path names no listing the platform lists (or listed) answers as a
removed one does.
"""

from __future__ import annotations

import hashlib
import html
import re
import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from crawler.replica import facebook, images, instagram, lazada, olx, tiktokshop
from crawler.replica.accounts import merchant_code
from crawler.replica.common import MARKET, rupiah

if TYPE_CHECKING:
    from crawler.replica.catalogue import Offer
    from crawler.replica.market import Market

STATES = ("live", "removed", "gone", "blocked", "captcha")
# app[STATE_KEY]: real listing URL → state; absent = live
STATE_KEY = web.AppKey("listing_states", dict)
ACCESS_DENIED = "<html><head><title>Access Denied</title></head><body>Access Denied</body></html>"


@dataclass(frozen=True)
class HostPages:
    """How one host's listing pages look and which offer each shows."""

    platform: str
    path: re.Pattern[str]
    offer_id: re.Pattern[str] | None
    decode: str  # number, base36, blibli_sku, shortcode
    id_base: int
    templates: dict[str, str]  # live, removed, captcha


@lru_cache(maxsize=1)
def _config() -> dict[str, Any]:
    text = files("crawler.replica").joinpath("listing_pages.toml").read_text("utf-8")
    return tomllib.loads(text)


@lru_cache(maxsize=1)
def hosts() -> dict[str, HostPages]:
    config = _config()
    return {host: HostPages(
        platform=spec["platform"],
        path=re.compile(spec["path"]),
        offer_id=re.compile(spec["offer_id"]) if "offer_id" in spec else None,
        decode=spec.get("decode", "number"),
        id_base=int(spec.get("id_base", 0)),
        templates=config["pages"][spec["page"]],
    ) for host, spec in config["hosts"].items()}


def hostile_phrases() -> list[str]:
    """Seller text that reads like a takedown or a block wall (see ``[hostile]``)."""
    return list(_config()["hostile"]["phrases"])


def is_listing_page(host: str, path: str) -> bool:
    pages = hosts().get(host)
    return bool(pages and pages.path.search(path))


def _digest(url: str) -> int:
    return int.from_bytes(hashlib.sha256(listing_key(url).encode()).digest()[:8], "big")


def hostile_phrase(url: str) -> str | None:
    """The takedown- or block-like phrase the seller of ``url`` wrote, if any."""
    digest = _digest(url)
    phrases = hostile_phrases()
    return phrases[(digest // 3) % len(phrases)] if digest % 3 == 0 else None


def listed_offer(market: Market, pages: HostPages, url: str) -> Offer | None:
    """The offer the id in a listing URL's path names, if its platform lists (or listed) it."""
    wanted = _wanted_id(pages, url, market.all_offers)
    return market.offer(pages.platform, wanted) if wanted is not None else None


def _wanted_id(pages: HostPages, url: str, offers: tuple[Offer, ...]) -> int | None:
    path = urlsplit(url).path
    match = pages.offer_id.search(path) if pages.offer_id else None
    if match is None:
        return None
    written = match.group(1)
    if pages.decode == "base36":
        try:
            return int(written, 36)
        except ValueError:
            return None
    if pages.decode == "shortcode":
        return instagram.pk_of(written) - instagram.MEDIA_PK_BASE
    if pages.decode == "blibli_sku":
        code, _, position = written.rpartition("-")
        offer = offers[int(position)] if int(position) < len(offers) else None
        return offer.offer_id if offer and merchant_code(offer) == code else None
    return int(written) - pages.id_base


def live_page(template: str, offer: Offer, url: str,
              parts: dict[str, str] | None = None) -> str:
    """The live page of ``offer``; ``parts``: its {gallery}, {profile} and {data}, HTML
    already (none by default)."""
    description = offer.description
    if (phrase := hostile_phrase(url)) is not None:
        description = f"{description} {phrase}"
    values = {"title": offer.title, "description": description, "price": rupiah(offer.price_idr),
              "seller": offer.seller_name, "city": offer.city, "url": url}
    escaped = {key: html.escape(value) for key, value in values.items()}
    return template.format_map({"gallery": "", "profile": "", "data": "", **escaped,
                                **(parts or {})})


# Platforms whose page script draws the photos and the seller's profile (common.DRAW_JS)
# into empty places the page holds for them, in a browser only.
DRAWN = frozenset({"tiktokshop", "facebook", "instagram"})
EMPTY_GALLERY = '<div class="pdp-gallery" data-testid="pdp-gallery" id="pdp-gallery"></div>'
EMPTY_PROFILE = ('<section class="seller-profile" data-testid="seller-profile" '
                 'id="seller-profile"></section>')


def page_parts(market: Market, platform: str, offer: Offer) -> dict[str, str]:
    """The photos, seller profile and page data of ``offer``'s page on ``platform``."""
    data = _PAGE_DATA[platform](market, offer) if platform in _PAGE_DATA else ""
    if platform in DRAWN:
        return {"gallery": EMPTY_GALLERY, "profile": EMPTY_PROFILE, "data": data}
    world = market.world
    count = min(len(world.listing_photos(platform, offer)), images.MAX_PHOTOS)
    gallery = "".join(
        f'<img class="pdp-gallery__image" data-index="{n}" alt="{html.escape(offer.title)}" '
        f'src="{html.escape(images.photo_url(platform, offer, n))}">' for n in range(count))
    profile = world.profile(platform, offer)
    rows = (("joined", "Bergabung", profile.joined), ("location", "Lokasi", profile.city),
            ("followers", "Pengikut", str(profile.followers)),
            ("sales", "Terjual", str(profile.sales)),
            ("rating", "Rating", f"{profile.rating:.1f}" if profile.rating else "-"))
    profile_html = (
        '<section class="seller-profile" data-testid="seller-profile"><dl>'
        + "".join(f'<dt>{label}</dt><dd data-field="{name}">{html.escape(value)}</dd>'
                  for name, label, value in rows)
        + '</dl><div class="seller-profile__about" data-field="about">'
        + html.escape(profile.about) + "</div></section>")
    return {"gallery": f'<div class="pdp-gallery" data-testid="pdp-gallery">{gallery}</div>',
            "profile": profile_html, "data": data}


_PAGE_DATA = {"lazada": lazada.page_data, "tiktokshop": tiktokshop.page_data,
              "facebook": facebook.page_data, "instagram": instagram.page_data,
              "olx": olx.page_data}


def listing_page(request: web.Request, url: str) -> web.Response:
    parts = urlsplit(url)
    pages = hosts()[parts.hostname]
    market = request.app[MARKET]
    state = request.app[STATE_KEY].get(listing_key(url), "live")
    listed = listed_offer(market, pages, url)
    if state == "live" and (listed is None or market.is_removed(pages.platform, listed)):
        state = "removed"  # never listed on this platform, or its account was taken down
    if state == "blocked":
        return web.Response(status=403, content_type="text/html", text=ACCESS_DENIED)
    if state == "captcha":
        return web.Response(content_type="text/html", text=pages.templates["captcha"])
    if state in ("removed", "gone") or listed is None:
        return web.Response(status=200 if state == "gone" else 404, content_type="text/html",
                            text=pages.templates["removed"])
    return web.Response(content_type="text/html", text=live_page(
        pages.templates["live"], replace(listed, description=market.world.description(
            pages.platform, listed)), url, page_parts(market, pages.platform, listed)))


async def set_state(request: web.Request) -> web.Response:
    body = await request.json()
    if body.get("state") not in STATES or not body.get("url"):
        return web.json_response({"message": f"need url and state in {STATES}"}, status=400)
    request.app[STATE_KEY][listing_key(body["url"])] = body["state"]
    return web.json_response({"url": body["url"], "state": body["state"]})


def listing_key(url: str) -> str:
    """Compare URLs without scheme, query or trailing slash."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path.rstrip('/')}"
