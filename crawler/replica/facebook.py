"""Facebook Marketplace search, drawn by JavaScript from GraphQL and paged by scrolling.

``/marketplace/<city>/search?query=KEYWORD`` is a shell whose script posts
``CometMarketplaceSearchContentContainerQuery`` to ``/api/graphql/`` (form fields, as the
web client sends them) and draws 24 listings; each scroll to the bottom posts
``CometMarketplaceSearchContentPaginationQuery`` with the last ``end_cursor`` and draws
the next 24. A keyword starting with ``__block__`` answers with the login wall instead.

A listing's page ``/marketplace/item/<id>/`` (served by ``listing_pages``) has its title,
price, city, seller and description in its HTML; its script (:func:`page_data`) posts
``MarketplacePDPContainerQuery`` (variables ``{"targetId": "<id>"}``) to ``/api/graphql/``
like the search, and draws the photos and the seller's profile from the answer,
``data.viewer.marketplace_product_details_page.target``: the listing
(``marketplace_listing_title``, ``redacted_description.text``, ``listing_photos[].image.uri``,
``location_text.text``, ``creation_time``, ``attribute_data``) and
``marketplace_listing_seller`` (``id``, ``name``, ``join_time``, ``location``, and
``marketplace_ratings_stats_by_role.seller_stats``). Facebook shows no followers or sales
for a seller. No capture of it is in ../shared; the names follow the search answer's
(``GroupCommerceProductItem``) and public scrapers' reading of the item query (unverified).
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from crawler.replica import images
from crawler.replica.common import DRAW_JS, json_response, market_of, not_found, rupiah, script_json

if TYPE_CHECKING:
    from crawler.replica.catalogue import Offer
    from crawler.replica.market import Market

HOSTS = ("www.facebook.com",)
PLATFORM = "facebook"
PAGE_SIZE = 24
LISTING_ID_BASE = 24_000_000_000_000_000  # Marketplace item ids are 16–17 digits
USER_ID_BASE = 100_000_000_000_000  # so are the ids of the people selling
OPERATIONS = ("CometMarketplaceSearchContentContainerQuery",
              "CometMarketplaceSearchContentPaginationQuery")
ITEM_OPERATION = "MarketplacePDPContainerQuery"

SHELL = """<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>Marketplace – {title} | Facebook</title>
<style>body{{font-family:Helvetica,Arial,sans-serif;margin:16px;background:#f0f2f5}}
#feed{{display:grid;grid-template-columns:repeat(4,220px);gap:12px}}
#feed a{{display:block;height:300px;background:#fff;border-radius:8px;padding:8px;
color:#050505;text-decoration:none}} .price{{font-weight:bold}} .city{{color:#65676b}}
</style></head>
<body><h1>Hasil pencarian untuk "{title}"</h1>
<div role="main"><div id="feed" aria-label="Koleksi item Marketplace" role="list"></div></div>
<script>
const query = new URLSearchParams(location.search).get("query") || "";
const city = decodeURIComponent(location.pathname.split("/")[2]);
let cursor = null, hasNext = true, loading = false;
async function load(operation) {{
  loading = true;
  const form = new URLSearchParams({{
    av: "0", __user: "0", __a: "1", __comet_req: "15", fb_api_caller_class: "RelayModern",
    fb_api_req_friendly_name: operation, server_timestamps: "true",
    variables: JSON.stringify({{count: {page_size}, cursor, scale: 1, params: {{
      bqf: {{callsite: "COMMERCE_MKTPLACE_WWW", query}},
      browse_request_params: {{commerce_search_and_rp_category_id: [], city}},
      custom_request_params: {{surface: "SEARCH", search_vertical: "C2C"}}}}}})}});
  const response = await fetch("/api/graphql/", {{method: "POST", body: form}});
  const feed = (await response.json()).data.marketplace_search.feed_units;
  const box = document.getElementById("feed");
  for (const edge of feed.edges) {{
    const item = edge.node.listing;
    const card = document.createElement("a");
    card.href = "/marketplace/item/" + item.id + "/?ref=search";
    card.setAttribute("role", "listitem");
    const img = document.createElement("img");
    img.src = item.primary_listing_photo.image.uri; img.width = 200; img.height = 200;
    const price = document.createElement("div");
    price.className = "price"; price.textContent = item.listing_price.formatted_amount;
    const title = document.createElement("div");
    title.textContent = item.marketplace_listing_title;
    const place = document.createElement("div");
    place.className = "city";
    place.textContent = item.location.reverse_geocode.city_page.display_name;
    card.append(img, price, title, place);
    box.append(card);
  }}
  cursor = feed.page_info.end_cursor; hasNext = feed.page_info.has_next_page;
  loading = false;
}}
load("{first}");
window.addEventListener("scroll", () => {{
  const bottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 200;
  if (bottom && hasNext && !loading) load("{more}");
}});
</script></body></html>"""

LOGIN_WALL = """<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">
<title>Log in to Facebook</title></head><body><div id="content">
<h2>Log in to continue</h2><p>You must log in to continue.</p>
<form id="login_form" action="/login/?next=%2Fmarketplace%2F" method="post">
<input type="text" name="email" id="email" placeholder="Email or phone number">
<input type="password" name="pass" id="pass" placeholder="Password">
<button type="submit" name="login" id="loginbutton">Log in</button></form></div></body></html>"""


async def handle(request: web.Request, path: str) -> web.Response:
    if path == "/api/graphql/" and request.method == "POST":
        return await graphql(request)
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "marketplace" and parts[2] == "search":
        keyword = request.query.get("query", "")
        if keyword.startswith("__block__"):
            return web.Response(text=LOGIN_WALL, content_type="text/html")
        return web.Response(text=SHELL.format(
            title=html.escape(keyword), page_size=PAGE_SIZE,
            first=OPERATIONS[0], more=OPERATIONS[1]), content_type="text/html")
    return not_found()


async def graphql(request: web.Request) -> web.Response:
    form = await request.post()
    if form.get("fb_api_req_friendly_name") == ITEM_OPERATION:
        return item_answer(market_of(request), str(form.get("variables", "")))
    try:
        if form.get("fb_api_req_friendly_name") not in OPERATIONS:
            raise ValueError("unknown operation")
        variables = json.loads(str(form["variables"]))
        keyword = str(variables["params"]["bqf"]["query"])
        count = max(1, min(int(variables.get("count", PAGE_SIZE)), 48))
        offset = int(json.loads(variables["cursor"])["c2c"]["it"]) if variables.get("cursor") else 0
    except (KeyError, TypeError, ValueError) as error:
        return json_response({"errors": [{"message": f"invalid request: {error}",
                                          "severity": "CRITICAL"}], "data": None})
    results = market_of(request).search(PLATFORM, keyword)
    offers = results[offset:offset + count]
    end = offset + len(offers)
    return json_response({"data": {"marketplace_search": {"feed_units": {
        "edges": [{"node": feed_unit(offer), "cursor": None} for offer in offers],
        "page_info": {"end_cursor": json.dumps({"pg": end // count, "c2c": {"it": end}}),
                      "has_next_page": end < len(results)},
    }}}, "extensions": {"is_final": True}})


def feed_unit(offer: Offer) -> dict[str, Any]:
    """One offer as a search feed unit holding a ``GroupCommerceProductItem``."""
    listing_id = str(LISTING_ID_BASE + offer.offer_id)
    return {
        "__typename": "MarketplaceFeedListingStoryObject",
        "story_type": "POST",
        "story_key": str(offer.offer_id),
        "listing": {
            "__typename": "GroupCommerceProductItem",
            "id": listing_id,
            "marketplace_listing_title": offer.title,
            "listing_price": {"formatted_amount": rupiah(offer.price_idr),
                              "amount": f"{offer.price_idr}.00"},
            "location": {"reverse_geocode": {"city": offer.city,
                                             "city_page": {"display_name": offer.city}}},
            "primary_listing_photo": {"__typename": "ProductImage", "image": {
                "uri": f"https://scontent-cgk1-1.xx.fbcdn.net/v/t45.5328-4/{offer.image_key}_n.jpg"
                       "?stp=c0.43.261.261a_dst-jpg_p261x260&_nc_cat=1"}},
            "marketplace_listing_seller": {"__typename": "User",
                                           "id": str(USER_ID_BASE + offer.seller_id),
                                           "name": offer.seller_name},
            "is_sold": False, "is_pending": False, "is_hidden": False, "is_live": True,
            "delivery_types": ["IN_PERSON", "SHIPPING_ONSITE"],
        },
    }


DRAW_PAGE = """<script>
const target = {target};
const form = new URLSearchParams({{
  av: "0", __user: "0", __a: "1", __comet_req: "15", fb_api_caller_class: "RelayModern",
  fb_api_req_friendly_name: "MarketplacePDPContainerQuery", server_timestamps: "true",
  variables: JSON.stringify({{targetId: target, scale: 1}})}});
fetch("/api/graphql/", {{method: "POST", body: form}})
  .then(response => response.json())
  .then(body => {{
    const item = body.data.viewer.marketplace_product_details_page.target;
    const seller = item.marketplace_listing_seller;
    const stats = (seller.marketplace_ratings_stats_by_role || {{}}).seller_stats || {{}};
    twDraw(item.listing_photos.map(photo => photo.image.uri),
           [["joined", "Bergabung", twDay(seller.join_time)],
            ["location", "Lokasi", seller.location ? seller.location.text : null],
            ["rating", "Rating", stats.five_star_ratings_average]], seller.about);
  }});
</script>"""


def page_data(market: Market, offer: Offer) -> str:
    """The script ending ``offer``'s listing page: it asks for the item and draws it."""
    target = script_json(str(LISTING_ID_BASE + offer.offer_id))
    return f"<script>{DRAW_JS}</script>{DRAW_PAGE.format(target=target)}"


def item_answer(market: Market, variables: str) -> web.Response:
    """The ``MarketplacePDPContainerQuery`` answer for the listing ``targetId`` names."""
    try:
        target = str(json.loads(variables)["targetId"])
        offer = market.offer(PLATFORM, int(target) - LISTING_ID_BASE)
    except (ValueError, KeyError, TypeError):
        offer = None
    if offer is None or market.is_removed(PLATFORM, offer):
        return json_response({"data": {"viewer": {"marketplace_product_details_page": None}},
                              "errors": [{"message": "Listing unavailable",
                                          "severity": "ERROR", "code": 1675030}],
                              "extensions": {"is_final": True}})
    return json_response({"data": {"viewer": {"marketplace_product_details_page": {
        "target": item_target(market, offer)}}}, "extensions": {"is_final": True}})


def item_target(market: Market, offer: Offer) -> dict[str, Any]:
    world = market.world
    profile = world.profile(PLATFORM, offer)
    count = min(len(world.listing_photos(PLATFORM, offer)), images.MAX_PHOTOS)
    joined = datetime.fromisoformat(profile.joined).replace(tzinfo=UTC)
    return {
        "__typename": "GroupCommerceProductItem",
        "id": str(LISTING_ID_BASE + offer.offer_id),
        "marketplace_listing_title": offer.title,
        "redacted_description": {"text": world.description(PLATFORM, offer)},
        "formatted_price": {"text": rupiah(offer.price_idr)},
        "listing_price": {"formatted_amount": rupiah(offer.price_idr),
                          "amount": f"{offer.price_idr}.00", "currency": "IDR"},
        "location_text": {"text": offer.city},
        "creation_time": int(datetime.fromisoformat(offer.posted_at).timestamp()),
        "is_sold": False, "is_pending": False, "is_live": True, "is_hidden": False,
        "listing_photos": [{"id": str(LISTING_ID_BASE + offer.offer_id * 10 + n),
                            "image": {"uri": images.photo_url(PLATFORM, offer, n),
                                      "width": 960, "height": 960}}
                           for n in range(count)],
        "attribute_data": [{"attribute_name": "condition", "label": "Kondisi",
                            "value": offer.condition}],
        "marketplace_listing_seller": {
            "__typename": "User", "id": str(USER_ID_BASE + offer.seller_id),
            "name": offer.seller_name, "join_time": int(joined.timestamp()),
            "location": {"text": profile.city}, "about": profile.about,
            "marketplace_ratings_stats_by_role": {"seller_stats": {
                "five_star_ratings_average": profile.rating or None,
                "five_star_total_rating_count_by_role": profile.rating_count}},
        },
    }
