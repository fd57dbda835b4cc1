"""Listing pages on every platform host, for ``thriftwatch recheck``.

Each page has its platform's structure (``listing_pages.toml``): a <title> and product
heading the platform writes, a product container, and the seller's description region
holding the catalogue offer's description. About one live page in three ends that
description with seller text that reads like a takedown or a block wall ("kalau barang
sudah tidak tersedia kami kabari", "no captcha"), as real sellers write.

A listing page answers 200 while the listing is live. Marks set with
``ReplicaServer.set_listing_state`` or ``POST /_replica/listing-state`` (JSON
``{"url": ..., "state": ...}``) change that: "removed" answers 404 with the platform's
not-found page (a takedown), "gone" the same page with 200 (as many platforms answer),
"blocked" 403 "Access Denied", "captcha" 200 with the platform's captcha or login wall.
"""

from __future__ import annotations

import hashlib
import html
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from crawler.replica.common import CATALOGUE, rupiah

if TYPE_CHECKING:
    from crawler.replica.catalogue import Offer

STATES = ("live", "removed", "gone", "blocked", "captcha")
# app[STATE_KEY]: real listing URL → state; absent = live
STATE_KEY = web.AppKey("listing_states", dict)
ACCESS_DENIED = "<html><head><title>Access Denied</title></head><body>Access Denied</body></html>"


@dataclass(frozen=True)
class HostPages:
    """How one host's listing pages look and which offer each shows."""

    path: re.Pattern[str]
    offer_id: re.Pattern[str] | None
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
        path=re.compile(spec["path"]),
        offer_id=re.compile(spec["offer_id"]) if "offer_id" in spec else None,
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


def find_offer(catalogue: tuple[Offer, ...], pages: HostPages, url: str) -> Offer:
    """The offer a listing URL shows: by the id in its path, else picked by its hash."""
    path = urlsplit(url).path
    match = pages.offer_id.search(path) if pages.offer_id else None
    if match:
        wanted = int(match.group(1)) - pages.id_base
        found = next((offer for offer in catalogue if offer.offer_id == wanted), None)
        if found is not None:
            return found
    return catalogue[_digest(url) % len(catalogue)]


def live_page(template: str, offer: Offer, url: str) -> str:
    description = offer.description
    if (phrase := hostile_phrase(url)) is not None:
        description = f"{description} {phrase}"
    values = {"title": offer.title, "description": description, "price": rupiah(offer.price_idr),
              "seller": offer.seller_name, "city": offer.city, "url": url}
    return template.format_map({key: html.escape(value) for key, value in values.items()})


def listing_page(request: web.Request, url: str) -> web.Response:
    parts = urlsplit(url)
    pages = hosts()[parts.hostname]
    state = request.app[STATE_KEY].get(listing_key(url), "live")
    if state == "blocked":
        return web.Response(status=403, content_type="text/html", text=ACCESS_DENIED)
    if state in ("removed", "gone"):
        return web.Response(status=404 if state == "removed" else 200, content_type="text/html",
                            text=pages.templates["removed"])
    if state == "captcha":
        return web.Response(content_type="text/html", text=pages.templates["captcha"])
    offer = find_offer(request.app[CATALOGUE], pages, url)
    return web.Response(content_type="text/html", text=live_page(pages.templates["live"], offer,
                                                                 url))


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
