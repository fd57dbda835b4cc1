"""Instagram's public hashtag page, drawn by JavaScript from ``tags/web_info``.

``/explore/tags/<tag>/`` is a shell whose script fetches
``/api/v1/tags/web_info/?tag_name=<tag>`` (9 top posts, then 24 recent ones, in rows of
three) and draws the grid. A tag starting with ``__block__`` answers with the login page.

Captions are written from the offer as sellers write them: title, description, price,
city and a few hashtags. The searched tag is not added, so a caption holds only the
offer's own words and the catalogue's truth still says which posts are illegal.

``data.viewer_is_logged_in`` tells whether the browser sent a ``sessionid`` cookie, so
tests can prove session cookies are used without the cookie ever being echoed.

A post's page ``/p/<shortcode>/`` (served by ``listing_pages``) has the seller and the
caption in its HTML; its script (:func:`page_data`) fetches the post,
``/api/v1/media/<pk>/info/`` (``{"items": [media], "num_results": 1, "status": "ok"}``, the
media with ``carousel_media`` holding every photo and the full caption), and the seller's
profile, ``/api/v1/users/web_profile_info/?username=<name>`` (``data.user``:
``biography``, ``bio_links``, ``external_url``, ``edge_followed_by.count``,
``edge_owner_to_timeline_media.count``, ``full_name``, ``is_business_account``,
``business_category_name``, ``city_name``), and draws the photos and the profile. Sellers
put their WhatsApp number in their biography. Instagram shows no join date, sales or
rating there. No capture of either is in ../shared; both follow the web client's public
endpoints as public scrapers read them (unverified).
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from crawler.replica import images
from crawler.replica.catalogue import Offer, search, slugify
from crawler.replica.common import DRAW_JS, json_response, market_of, not_found, rupiah, script_json

if TYPE_CHECKING:
    from crawler.replica.market import Market

HOSTS = ("www.instagram.com",)
PLATFORM = "instagram"
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
        market = market_of(request)
        return json_response(web_info(market.catalogue, tag,
                                      logged_in="sessionid" in request.cookies, market=market))
    if match := MEDIA_INFO.fullmatch(path):
        return media_info(market_of(request), int(match[1]))
    if path == "/api/v1/users/web_profile_info/":
        return profile_info(market_of(request), request.query.get("username", ""))
    return not_found()


MEDIA_INFO = re.compile(r"/api/v1/media/(\d{1,25})/info/")


def web_info(catalogue: tuple[Offer, ...], tag: str, logged_in: bool,
             market: Market | None = None) -> dict[str, Any]:
    """The ``tags/web_info`` body for ``tag``: top posts, then recent ones (from the
    ``market``'s listings and captions when given, else the catalogue's)."""
    results = market.search(PLATFORM, tag) if market else search(catalogue, tag)
    captions = ({o.offer_id: caption(o, market.world.card_description(PLATFORM, o))
                 for o in results[:TOP_POSTS + RECENT_POSTS]} if market else {})
    top, recent = results[:TOP_POSTS], results[TOP_POSTS:TOP_POSTS + RECENT_POSTS]
    return {"data": {
        "id": str(17_841_500_000_000_000 + len(results)),
        "name": tag,
        "media_count": len(results),
        "formatted_media_count": str(len(results)),
        "top": _feed(top, more=True, captions=captions),
        "recent": _feed(recent, more=len(results) > TOP_POSTS + RECENT_POSTS,
                        captions=captions),
        "viewer_is_logged_in": logged_in,
    }, "status": "ok"}


def _feed(offers: tuple[Offer, ...], more: bool,
          captions: dict[int, str] | None = None) -> dict[str, Any]:
    rows = [offers[i:i + ROW] for i in range(0, len(offers), ROW)]
    captions = captions or {}
    return {
        "sections": [{"layout_type": "media_grid", "feed_type": "media",
                      "layout_content": {"medias": [{"media": media(o, captions.get(o.offer_id))}
                                                    for o in row]}}
                     for row in rows],
        "more_available": more,
        "next_max_id": shortcode(MEDIA_PK_BASE + offers[-1].offer_id) if offers else None,
        "next_page": 1,
        "next_media_ids": [],
    }


def media(offer: Offer, text: str | None = None) -> dict[str, Any]:
    """One offer as an Instagram photo post by its seller (``text``: its caption, by
    default written from the catalogue offer)."""
    pk = MEDIA_PK_BASE + offer.offer_id
    user_pk = str(USER_PK_BASE + offer.seller_id)
    return {
        "pk": str(pk),
        "id": f"{pk}_{user_pk}",
        "code": shortcode(pk),
        "media_type": 1,
        "taken_at": int(datetime.fromisoformat(offer.posted_at).timestamp()),
        "caption": {"pk": str(pk + 1), "text": caption(offer) if text is None else text},
        "user": {"pk": user_pk, "username": offer.seller_slug[:30],
                 "full_name": offer.seller_name, "is_private": False, "is_verified": False},
        "image_versions2": {"candidates": [{
            "url": f"https://{CDN}/v/t51.29350-15/{offer.image_key}_n.jpg"
                   f"?stp=dst-jpg_e35_s640x640_sh0.08&_nc_ht={CDN}",
            "width": 640, "height": 640}]},
        "like_count": offer.sold_count * 3 + 7,
        "comment_count": offer.sold_count // 4,
    }


def caption(offer: Offer, description: str | None = None) -> str:
    """The caption a seller writes: title, description, price, city and a few hashtags."""
    tags = " ".join(f"#{slugify(word).replace('-', '')}"
                    for word in (offer.category_name, offer.city, "olshop"))
    text = offer.description if description is None else description
    return (f"{offer.title}\n\n{text}\n\n"
            f"Harga {rupiah(offer.price_idr)}\nLokasi {offer.city}\n\n{tags}")


def shortcode(pk: int) -> str:
    """A media pk as its shortcode (the id in ``/p/<code>/`` links)."""
    code = ""
    while pk:
        pk, digit = divmod(pk, 64)
        code = SHORTCODE_ALPHABET[digit] + code
    return code


def pk_of(code: str) -> int:
    """A shortcode back to its media pk."""
    pk = 0
    for char in code:
        pk = pk * 64 + SHORTCODE_ALPHABET.index(char) if char in SHORTCODE_ALPHABET else pk
    return pk


def media_info(market: Market, pk: int) -> web.Response:
    """``/api/v1/media/<pk>/info/``: the post with every photo and its full caption."""
    offer = market.offer(PLATFORM, pk - MEDIA_PK_BASE)
    if offer is None or market.is_removed(PLATFORM, offer):
        return json_response({"message": "Media not found or unavailable", "status": "fail"},
                             status=400)
    world = market.world
    count = min(len(world.listing_photos(PLATFORM, offer)), images.MAX_PHOTOS)
    post = media(offer, caption(offer, world.description(PLATFORM, offer)))
    post["media_type"] = 8  # a carousel
    post["carousel_media_count"] = count
    post["carousel_media"] = [{
        "pk": str(pk * 10 + n), "media_type": 1,
        "image_versions2": {"candidates": [{"url": images.photo_url(PLATFORM, offer, n),
                                            "width": 640, "height": 640}]}}
        for n in range(count)]
    post["location"] = {"name": offer.city, "city": offer.city}
    return json_response({"items": [post], "num_results": 1, "more_available": False,
                          "auto_load_more_enabled": False, "status": "ok"})


def profile_info(market: Market, username: str) -> web.Response:
    """``/api/v1/users/web_profile_info/``: the seller's profile, biography first."""
    offer = next((o for o in market.all_offers
                  if o.seller_slug[:30] == username and market.is_listed(PLATFORM, o)), None)
    if offer is None:
        return json_response({"data": {"user": None}, "status": "ok"}, status=404)
    world = market.world
    profile = world.profile(PLATFORM, offer)
    links = re.findall(r"(?:https?://)?(?:wa\.me/\d+|api\.whatsapp\.com/send\?phone=\d+|t\.me/"
                       r"[\w.]+)", profile.about)
    return json_response({"data": {"user": {
        "id": str(USER_PK_BASE + offer.seller_id), "username": username,
        "full_name": offer.seller_name, "biography": profile.about,
        "bio_links": [{"title": "", "url": link if link.startswith("http") else f"https://{link}",
                       "link_type": "external"} for link in links],
        "external_url": None, "city_name": profile.city,
        "edge_followed_by": {"count": profile.followers},
        "edge_follow": {"count": profile.followers // 10},
        "edge_owner_to_timeline_media": {"count": profile.products},
        "is_business_account": True, "business_category_name": "Shopping & retail",
        "category_name": "Toko pakaian", "is_private": False, "is_verified": False,
        "profile_pic_url": images.photo_url(PLATFORM, offer, 0, "s150x150"),
    }}, "status": "ok"})


DRAW_PAGE = """<script>
const pk = {pk};
const headers = {{"X-IG-App-ID": "936619743392459", "X-Requested-With": "XMLHttpRequest"}};
fetch("/api/v1/media/" + pk + "/info/", {{headers}})
  .then(response => response.json())
  .then(body => {{
    const post = body.items[0];
    return fetch("/api/v1/users/web_profile_info/?username="
                 + encodeURIComponent(post.user.username), {{headers}})
      .then(response => response.json())
      .then(profile => {{
        const user = profile.data.user;
        twDraw(post.carousel_media.map(item => item.image_versions2.candidates[0].url),
               [["location", "Lokasi", user.city_name],
                ["followers", "Pengikut", user.edge_followed_by.count]], user.biography);
      }});
  }});
</script>"""


def page_data(market: Market, offer: Offer) -> str:
    """The script ending a post's page: it fetches the post and its seller, and draws them."""
    return (f"<script>{DRAW_JS}</script>"
            + DRAW_PAGE.format(pk=script_json(str(MEDIA_PK_BASE + offer.offer_id))))
