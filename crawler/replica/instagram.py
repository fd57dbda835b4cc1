"""Instagram's public hashtag page, drawn by JavaScript from ``tags/web_info``.

``/explore/tags/<tag>/`` is a shell whose script fetches
``/api/v1/tags/web_info/?tag_name=<tag>`` (9 top posts, then 24 recent ones, in rows of
three) and draws the grid. A tag starting with ``__block__`` answers with the login page.

Captions are written from the offer as sellers write them: title, description, price,
city and a few hashtags. The searched tag is not added, so a caption holds only the
offer's own words and the catalogue's truth still says which posts are illegal.

``data.viewer_is_logged_in`` tells whether the browser sent a ``sessionid`` cookie, so
tests can prove session cookies are used without the cookie ever being echoed.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from aiohttp import web

from crawler.replica.catalogue import Offer, search
from crawler.replica.common import CATALOGUE, json_response, not_found, rupiah, slugify

HOSTS = ("www.instagram.com",)
TOP_POSTS = 9
RECENT_POSTS = 24
ROW = 3  # posts per grid section
MEDIA_PK_BASE = 3_300_000_000_000_000_000  # media pks are 19 digits
USER_PK_BASE = 40_000_000_000
CDN = "scontent-cgk1-2.cdninstagram.com"
# The alphabet of shortcodes: a media pk written in base 64.
SHORTCODE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

SHELL = """<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>#{tag} • Foto dan video Instagram</title>
<style>body{{font-family:-apple-system,Helvetica,Arial,sans-serif;margin:16px auto;width:940px}}
.grid{{display:grid;grid-template-columns:repeat(3,300px);gap:8px}}
.grid a{{display:block;height:300px;overflow:hidden;background:#efefef;color:#262626;
font-size:12px;text-decoration:none}} .grid img{{width:300px;height:200px}}</style></head>
<body><main role="main"><header><h1>#{tag}</h1><div id="count"></div></header>
<article><h2>Postingan teratas</h2><div id="top" class="grid"></div>
<h2>Terbaru</h2><div id="recent" class="grid"></div></article></main>
<script>
const tag = decodeURIComponent(location.pathname.split("/")[3]);
fetch("/api/v1/tags/web_info/?tag_name=" + encodeURIComponent(tag),
      {{headers: {{"X-IG-App-ID": "936619743392459", "X-Requested-With": "XMLHttpRequest"}}}})
  .then(r => r.json())
  .then(body => {{
    document.getElementById("count").textContent = body.data.media_count + " postingan";
    for (const feed of ["top", "recent"]) {{
      const grid = document.getElementById(feed);
      for (const section of body.data[feed].sections) {{
        for (const {{media}} of section.layout_content.medias) {{
          const link = document.createElement("a");
          link.href = "/p/" + media.code + "/";
          const img = document.createElement("img");
          img.src = media.image_versions2.candidates[0].url;
          img.alt = media.caption ? media.caption.text : "";
          const text = document.createElement("div");
          text.textContent = "@" + media.user.username + " " + \
(media.caption ? media.caption.text : "");
          link.append(img, text);
          grid.append(link);
        }}
      }}
    }}
  }});
</script></body></html>"""

LOGIN_PAGE = """<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">
<title>Masuk • Instagram</title></head><body><main><div><h1>Instagram</h1>
<form id="loginForm" method="post">\
<input name="username" aria-label="Nomor telepon, nama pengguna, atau email">
<input name="password" type="password" aria-label="Kata Sandi"><button type="submit">Masuk</button>
</form><p>Masuk untuk melihat foto dan video dari teman.</p></div></main></body></html>"""


async def handle(request: web.Request, path: str) -> web.Response:
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[:2] == ["explore", "tags"]:
        tag = parts[2]
        if tag.startswith("__block__"):
            return web.Response(text=LOGIN_PAGE, content_type="text/html")
        return web.Response(text=SHELL.format(tag=html.escape(tag)), content_type="text/html")
    if path == "/api/v1/tags/web_info/":
        tag = request.query.get("tag_name", "")
        if not tag:
            return json_response({"message": "tag_name is required", "status": "fail"}, 400)
        return json_response(web_info(request.app[CATALOGUE], tag,
                                      logged_in="sessionid" in request.cookies))
    return not_found()


def web_info(catalogue: tuple[Offer, ...], tag: str, logged_in: bool) -> dict[str, Any]:
    """The ``tags/web_info`` body for ``tag``: top posts, then recent ones."""
    results = search(catalogue, tag)
    top, recent = results[:TOP_POSTS], results[TOP_POSTS:TOP_POSTS + RECENT_POSTS]
    return {"data": {
        "id": str(17_841_500_000_000_000 + len(results)),
        "name": tag,
        "media_count": len(results),
        "formatted_media_count": str(len(results)),
        "top": _feed(top, more=True),
        "recent": _feed(recent, more=len(results) > TOP_POSTS + RECENT_POSTS),
        "viewer_is_logged_in": logged_in,
    }, "status": "ok"}


def _feed(offers: tuple[Offer, ...], more: bool) -> dict[str, Any]:
    rows = [offers[i:i + ROW] for i in range(0, len(offers), ROW)]
    return {
        "sections": [{"layout_type": "media_grid", "feed_type": "media",
                      "layout_content": {"medias": [{"media": media(o)} for o in row]}}
                     for row in rows],
        "more_available": more,
        "next_max_id": shortcode(MEDIA_PK_BASE + offers[-1].offer_id) if offers else None,
        "next_page": 1,
        "next_media_ids": [],
    }


def media(offer: Offer) -> dict[str, Any]:
    """One offer as an Instagram photo post by its seller."""
    pk = MEDIA_PK_BASE + offer.offer_id
    user_pk = str(USER_PK_BASE + offer.seller_id)
    return {
        "pk": str(pk),
        "id": f"{pk}_{user_pk}",
        "code": shortcode(pk),
        "media_type": 1,
        "taken_at": int(datetime.fromisoformat(offer.posted_at).timestamp()),
        "caption": {"pk": str(pk + 1), "text": caption(offer)},
        "user": {"pk": user_pk, "username": offer.seller_slug[:30],
                 "full_name": offer.seller_name, "is_private": False, "is_verified": False},
        "image_versions2": {"candidates": [{
            "url": f"https://{CDN}/v/t51.29350-15/{offer.image_key}_n.jpg"
                   f"?stp=dst-jpg_e35_s640x640_sh0.08&_nc_ht={CDN}",
            "width": 640, "height": 640}]},
        "like_count": offer.sold_count * 3 + 7,
        "comment_count": offer.sold_count // 4,
    }


def caption(offer: Offer) -> str:
    tags = " ".join(f"#{slugify(word).replace('-', '')}"
                    for word in (offer.category_name, offer.city, "olshop"))
    return (f"{offer.title}\n\n{offer.description}\n\n"
            f"Harga {rupiah(offer.price_idr)}\nLokasi {offer.city}\n\n{tags}")


def shortcode(pk: int) -> str:
    """A media pk as its shortcode (the id in ``/p/<code>/`` links)."""
    code = ""
    while pk:
        pk, digit = divmod(pk, 64)
        code = SHORTCODE_ALPHABET[digit] + code
    return code
