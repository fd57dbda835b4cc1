"""Listing pages on every platform host, for ``thriftwatch recheck``.

A listing page answers 200 while the listing is live, 404 "Produk tidak ditemukan" once it
is marked removed (a takedown), and 403 "Access Denied" when marked blocked. Marks are set
with ``ReplicaServer.set_listing_state`` or ``POST /_replica/listing-state``
(JSON ``{"url": ..., "state": "live" | "removed" | "blocked"}``).
"""

from __future__ import annotations

import html
import re
import tomllib
from functools import lru_cache
from importlib.resources import files
from urllib.parse import urlsplit

from aiohttp import web

STATES = ("live", "removed", "blocked")
# app[STATE_KEY]: real listing URL → state; absent = live
STATE_KEY = web.AppKey("listing_states", dict)


@lru_cache(maxsize=1)
def patterns() -> dict[str, re.Pattern[str]]:
    text = files("crawler.replica").joinpath("listing_pages.toml").read_text("utf-8")
    return {host: re.compile(p) for host, p in tomllib.loads(text)["hosts"].items()}


def is_listing_page(host: str, path: str) -> bool:
    pattern = patterns().get(host)
    return bool(pattern and pattern.search(path))


def listing_page(request: web.Request, url: str) -> web.Response:
    state = request.app[STATE_KEY].get(listing_key(url), "live")
    if state == "removed":
        return web.Response(status=404, content_type="text/html", text=(
            "<!DOCTYPE html><html lang='id'><title>Produk tidak ditemukan</title>"
            "<body><h1>Produk tidak ditemukan</h1><p>Produk ini sudah tidak tersedia.</p>"))
    if state == "blocked":
        return web.Response(status=403, content_type="text/html",
                            text="<html><title>Access Denied</title><body>Access Denied</body>")
    return web.Response(content_type="text/html", text=(
        "<!DOCTYPE html><html lang='id'><title>Detail produk</title><body>"
        f"<h1>Detail produk</h1><p class='listing-url'>{html.escape(url)}</p></body></html>"))


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
