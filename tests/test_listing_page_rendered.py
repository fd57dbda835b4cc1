"""Listing pages of TikTok Shop, Facebook, Instagram (rendered in Chromium) and OLX (a site
profile): the pure parsers on pages and data fetched from the running replica, on hostile
pages, and one real Chromium rendering per platform through each spider's own request."""

from __future__ import annotations

import html as markup
import json
import re
import shutil
import urllib.parse
import urllib.request
from functools import cache
from typing import TYPE_CHECKING

import pytest

from crawler.items import Listing
from crawler.keys import Meta
from crawler.replica import images, instagram, olx
from crawler.replica.common import script_json, variants
from crawler.replica.networks import seller_world
from crawler.settings import THRIFTWATCH_CHROMIUM
from spiders.base import BlockedError, ListingGoneError, ResponseShapeError
from spiders.facebook import FacebookSpider, listing_page_from_graphql
from spiders.instagram import InstagramSpider, listing_page_from_post
from spiders.listing_values import MAX_IMAGES, MAX_TEXT, page_urls
from spiders.profile import ProfileSpider
from spiders.profile_format import load_profile, parse_listing_page_body
from spiders.tiktokshop import TiktokShopSpider, listing_page_from_html
from tests.helpers import crawled_db, run_command

if TYPE_CHECKING:
    from pathlib import Path

    from crawler.replica.catalogue import Offer

TIKTOK_BASE = 1_729_000_000_000_000_000
FACEBOOK_BASE = 24_000_000_000_000_000
ROUTE_DATA = re.compile(r'(<script id="__MODERN_ROUTER_DATA__" type="application/json">)'
                        r"(.*?)(</script>)", re.DOTALL)
# A description no page may let out of its place: closes the script, plants an element of
# the platform's walls, a not-found element, a seller box, fake data and a fake price.
HOSTILE = ('Rp1 </script><script id="__MODERN_ROUTER_DATA__" type="application/json">'
           '{"loaderData": {}}</script><div id="captcha_container">x</div>'
           '<div data-testid="pdp-not-found"></div><form id="login_form"></form>'
           '<form id="loginForm"></form><div data-aut-id="errorPage">Iklan ini sudah tidak aktif'
           '</div><div data-aut-id="sellerCard"><a data-aut-id="profileLink" href="/profile/1">'
           'Penipu</a></div>{"seller": {"seller_id": "1"}} <!-- ]]> \u2028 WA 0812-3456-7890')


@cache
def world():
    return seller_world()  # the replica fixture's world: same seed and size


def offers(count: int = 6) -> list[Offer]:
    """Catalogue offers, those with variants first (so variants and stock are checked)."""
    catalogue = world().catalogue
    return sorted(catalogue[:60], key=lambda offer: not variants(offer))[:count]


def fetch(replica, url: str, data: bytes | None = None) -> bytes:
    """``url`` as replica mode fetches it (``http://REPLICA/HOST/PATH``); 4xx bodies too."""
    local = f"{replica.url}/{url.split('://', 1)[1]}"
    try:
        with urllib.request.urlopen(urllib.request.Request(local, data=data), timeout=30) as r:
            return r.read()
    except urllib.error.HTTPError as error:
        return error.read()


def tiktok_url(offer: Offer) -> str:
    return f"https://shop-id.tokopedia.com/view/product/{TIKTOK_BASE + offer.offer_id}"


def facebook_url(offer: Offer) -> str:
    return f"https://www.facebook.com/marketplace/item/{FACEBOOK_BASE + offer.offer_id}/"


def instagram_url(offer: Offer) -> str:
    code = instagram.shortcode(instagram.MEDIA_PK_BASE + offer.offer_id)
    return f"https://www.instagram.com/p/{code}/"


def olx_url(offer: Offer) -> str:
    return f"https://www.olx.co.id/item/x-iid-{offer.offer_id}"


def facebook_answer(replica, offer: Offer) -> bytes:
    """The ``MarketplacePDPContainerQuery`` answer, posted as the page's script posts it."""
    form = urllib.parse.urlencode({
        "fb_api_req_friendly_name": "MarketplacePDPContainerQuery",
        "variables": json.dumps({"targetId": str(FACEBOOK_BASE + offer.offer_id), "scale": 1}),
    }).encode()
    return fetch(replica, "https://www.facebook.com/api/graphql/", form)


def instagram_answers(replica, offer: Offer) -> tuple[bytes, bytes]:
    """The post's ``media/<pk>/info`` and its seller's ``web_profile_info`` answers."""
    media = fetch(replica, "https://www.instagram.com/api/v1/media/"
                           f"{instagram.MEDIA_PK_BASE + offer.offer_id}/info/")
    username = json.loads(media)["items"][0]["user"]["username"]
    profile = fetch(replica, "https://www.instagram.com/api/v1/users/web_profile_info/?"
                             + urllib.parse.urlencode({"username": username}))
    return media, profile


def photos(platform: str, offer: Offer) -> list[str]:
    count = min(len(world().listing_photos(platform, offer)), images.MAX_PHOTOS)
    return [images.photo_url(platform, offer, n) for n in range(count)]


def words(text: str | None) -> str:
    return " ".join((text or "").split())


# -- the platforms' pages, read -------------------------------------------------------------

@pytest.mark.parametrize("offer", offers(), ids=lambda offer: str(offer.offer_id))
def test_tiktokshop_page_is_read_from_its_route_data(replica, offer):
    url = tiktok_url(offer)
    page = listing_page_from_html(fetch(replica, url).decode(), url)
    profile = world().profile("tiktokshop", offer)
    assert (page.platform, page.listing_id, page.url) == (
        "tiktokshop", str(TIKTOK_BASE + offer.offer_id), url)
    assert words(page.description) == words(world().description("tiktokshop", offer))
    assert (page.title, page.price_idr) == (offer.title, offer.price_idr)
    assert page.image_urls == photos("tiktokshop", offer)
    assert (page.seller_id, page.seller_name) == (str(offer.seller_id), offer.seller_name)
    assert page.seller_url == f"https://shop-id.tokopedia.com/shop/{offer.seller_id}"
    assert page.seller_joined == profile.joined
    assert page.seller_location == profile.city
    assert (page.seller_followers, page.seller_sales) == (profile.followers, profile.sales)
    assert page.seller_rating == profile.rating
    assert page.seller_about == profile.about
    assert page.variants == [{"name": name, "options": options}
                             for name, options in variants(offer)[:1]]
    assert page.stock == 10 + offer.offer_id % 200


@pytest.mark.parametrize("offer", offers(), ids=lambda offer: str(offer.offer_id))
def test_facebook_page_is_read_from_its_item_query(replica, offer):
    url = facebook_url(offer)
    page = listing_page_from_graphql(fetch(replica, url).decode(),
                                     [b'{"data": {"viewer": {"notifications": []}}}',
                                      facebook_answer(replica, offer)], url)
    profile = world().profile("facebook", offer)
    assert page.listing_id == str(FACEBOOK_BASE + offer.offer_id)
    assert page.description == world().description("facebook", offer)
    assert (page.title, page.price_idr, page.condition) == (
        offer.title, offer.price_idr, offer.condition)
    assert page.image_urls == photos("facebook", offer)
    assert page.seller_id == str(100_000_000_000_000 + offer.seller_id)
    assert page.seller_url == f"https://www.facebook.com/marketplace/profile/{page.seller_id}/"
    assert page.seller_name == offer.seller_name
    assert (page.seller_joined, page.seller_location) == (profile.joined, profile.city)
    assert page.seller_rating == (profile.rating or None)
    assert page.seller_about == profile.about
    # Facebook shows none of these for a Marketplace seller or listing.
    assert (page.seller_followers, page.seller_sales, page.stock, page.variants) == (
        None, None, None, [])


def test_facebook_page_rendered_on_the_server_carries_its_answer(replica):
    """Facebook's server-rendered item page holds the same answer in a ``data-sjs`` JSON
    script, some levels down (the shape public scrapers of item pages read)."""
    offer = world().catalogue[12]
    url = facebook_url(offer)
    answer = json.loads(facebook_answer(replica, offer))
    target = answer["data"]["viewer"]["marketplace_product_details_page"]["target"]
    target["attribute_data"] = [{"attribute_name": "Condition", "value": "used_good",
                                 "label": "Used - Good"}]
    # The seller's description holds what looks like another answer: it is only text.
    decoy = json.dumps({"__bbox": {"result": {"data": {"viewer": {
        "marketplace_product_details_page": {"target": {"id": "1"}}}}}}})
    target["redacted_description"]["text"] = f"{decoy} </script> WA 0812 3456 7890"
    wrapped = {"require": [["ScheduledServerJS", "handle", None, [{"__bbox": {"require": [
        [None, None, None, [None, {"__bbox": {"result": answer}}]]]}}]]]}
    html = fetch(replica, url).decode().replace(
        "</body>", f'<script type="application/json" data-sjs>{script_json(wrapped)}'
                   "</script></body>")
    page = listing_page_from_graphql(html, [], url)
    assert page.listing_id == str(FACEBOOK_BASE + offer.offer_id)
    assert page.description == f"{decoy} </script> WA 0812 3456 7890"
    assert (page.seller_name, page.condition) == (offer.seller_name, "used_good")
    assert page.image_urls == photos("facebook", offer)
    too_deep = {"a": wrapped}
    for _ in range(60):
        too_deep = {"a": too_deep}
    with pytest.raises(ResponseShapeError, match="no marketplace_product_details_page"):
        listing_page_from_graphql(fetch(replica, url).decode().replace(
            "</body>", f'<script type="application/json" data-sjs>{script_json(too_deep)}'
                       "</script></body>"), [], url)


@pytest.mark.parametrize("offer", offers(), ids=lambda offer: str(offer.offer_id))
def test_instagram_post_is_read_from_its_media_and_profile_answers(replica, offer):
    url = instagram_url(offer)
    media, profile_answer = instagram_answers(replica, offer)
    page = listing_page_from_post(fetch(replica, url).decode(), [media], [profile_answer], url)
    profile = world().profile("instagram", offer)
    assert page.listing_id == url.rsplit("/", 2)[1]
    assert world().description("instagram", offer) in page.description
    assert page.title == offer.title
    assert page.image_urls == photos("instagram", offer)
    assert page.seller_name == offer.seller_slug[:30]
    assert page.seller_url == f"https://www.instagram.com/{page.seller_name}/"
    assert page.seller_id == str(instagram.USER_PK_BASE + offer.seller_id)
    assert page.seller_about.startswith(profile.about)
    assert (page.seller_followers, page.seller_location) == (profile.followers, profile.city)
    # A post shows no join date, sales, rating, variants or stock.
    assert (page.seller_joined, page.seller_sales, page.seller_rating, page.stock) == (
        None, None, None, None)


@pytest.mark.parametrize("offer", offers(), ids=lambda offer: str(offer.offer_id))
def test_olx_ad_page_is_read_by_the_shipped_profile(replica, offer):
    url = olx_url(offer)
    page = parse_listing_page_body(load_profile("olx"), fetch(replica, url).decode(), url,
                                   str(offer.offer_id))
    profile = world().profile("olx", offer)
    assert (page.platform, page.listing_id) == ("olx", str(offer.offer_id))
    assert words(page.description).startswith(words(world().description("olx", offer)))
    assert (page.title, page.price_idr) == (offer.title, offer.price_idr)
    assert page.image_urls == photos("olx", offer)
    assert (page.seller_id, page.seller_name) == (str(offer.seller_id), offer.seller_name)
    assert page.seller_url == f"https://www.olx.co.id/profile/{offer.seller_id}"
    assert page.seller_joined == olx.member_since(profile.joined).removeprefix("Anggota sejak ")
    assert page.seller_location == profile.city
    assert words(page.seller_about) == words(profile.about)
    assert (page.seller_followers, page.seller_sales) == (profile.followers, profile.sales)


def test_seller_words_like_a_wall_or_a_takedown_leave_the_page_live(replica):
    """About one page in three ends its description with a phrase like "Page not found" or
    "Login to continue": it is read as the description, never as the platform's verdict."""
    checked = 0
    for offer in world().catalogue[:40]:
        url = olx_url(offer)
        html = fetch(replica, url).decode()
        page = parse_listing_page_body(load_profile("olx"), html, url, str(offer.offer_id))
        if words(page.description) != words(world().description("olx", offer)):
            checked += 1
        tiktok = tiktok_url(offer)
        assert listing_page_from_html(fetch(replica, tiktok).decode(), tiktok).description
    assert checked >= 5


# -- gone and walled ------------------------------------------------------------------------

@pytest.mark.parametrize(("state", "error"), [("removed", ListingGoneError),
                                              ("gone", ListingGoneError),
                                              ("captcha", BlockedError)])
def test_not_found_pages_and_walls_are_told_apart(replica, state, error):
    offer = world().catalogue[7]
    urls = [tiktok_url(offer), facebook_url(offer), instagram_url(offer), olx_url(offer)]
    try:
        for url in urls:
            replica.set_listing_state(url, state)
        with pytest.raises(error):
            listing_page_from_html(fetch(replica, urls[0]).decode(), urls[0])
        with pytest.raises(error):  # the page's script posts nothing on these pages
            listing_page_from_graphql(fetch(replica, urls[1]).decode(), [], urls[1])
        with pytest.raises(error):
            listing_page_from_post(fetch(replica, urls[2]).decode(), [], [], urls[2])
        with pytest.raises(error):
            parse_listing_page_body(load_profile("olx"), fetch(replica, urls[3]).decode(),
                                    urls[3], str(offer.offer_id))
    finally:
        for url in urls:
            replica.set_listing_state(url, "live")


def test_answers_that_say_gone_or_walled(replica):
    offer = world().catalogue[8]
    fb_url, ig_url = facebook_url(offer), instagram_url(offer)
    fb_html, ig_html = fetch(replica, fb_url).decode(), fetch(replica, ig_url).decode()
    taken_down = json.dumps({"data": {"viewer": {"marketplace_product_details_page": None}},
                             "errors": [{"message": "Listing unavailable"}]}).encode()
    with pytest.raises(ListingGoneError):
        listing_page_from_graphql(fb_html, [taken_down], fb_url)
    with pytest.raises(ResponseShapeError, match="null without an error"):
        listing_page_from_graphql(fb_html, [taken_down.split(b', "errors"')[0] + b"}"], fb_url)
    with pytest.raises(BlockedError):
        listing_page_from_post(ig_html, [b'{"require_login": true, "status": "fail"}'], [], ig_url)
    with pytest.raises(ResponseShapeError, match="no media info"):
        listing_page_from_post(ig_html, [b'{"message": "Media not found", "status": "fail"}'],
                               [], ig_url)


# -- hostile pages ------------------------------------------------------------------------

def tiktok_with(replica, offer: Offer, change) -> str:
    """``offer``'s TikTok Shop page with its route data changed by ``change(data)`` and
    written back as the platform writes it (``<`` escaped inside the script)."""
    html = fetch(replica, tiktok_url(offer)).decode()
    match = ROUTE_DATA.search(html)
    data = json.loads(match[2])
    change(data["loaderData"]["view/product/(product_id)/page"]["product_info"])
    return html[:match.start(2)] + script_json(data) + html[match.end(2):]


def test_a_script_breaking_description_stays_the_description(replica):
    offer = world().catalogue[3]
    url = tiktok_url(offer)

    def plant(info):
        info["product_base"]["desc_detail"] = json.dumps([{"type": "text", "text": HOSTILE}])
        info["seller"]["description"] = HOSTILE

    page = listing_page_from_html(tiktok_with(replica, offer, plant), url)
    assert page.description == page.seller_about == HOSTILE.strip()
    assert (page.seller_id, page.price_idr) == (str(offer.seller_id), offer.price_idr)


def test_hostile_markup_in_descriptions_decides_nothing(replica):
    """The same text in a description region, escaped as each platform writes it: the page
    is still read as live, with the platform's own seller."""
    offer = world().catalogue[4]
    escaped = markup.escape(HOSTILE)
    fb_url, ig_url, olx_page = facebook_url(offer), instagram_url(offer), olx_url(offer)
    fb_html = fetch(replica, fb_url).decode().replace(
        '<div data-testid="marketplace_pdp_description"><span>',
        f'<div data-testid="marketplace_pdp_description"><span>{escaped}')
    assert listing_page_from_graphql(fb_html, [facebook_answer(replica, offer)],
                                     fb_url).seller_name == offer.seller_name
    media, profile_answer = instagram_answers(replica, offer)
    ig_html = fetch(replica, ig_url).decode().replace("<h1>", f"<h1>{escaped}")
    assert listing_page_from_post(ig_html, [media], [profile_answer], ig_url).seller_followers
    olx_html = fetch(replica, olx_page).decode().replace(
        '<div data-aut-id="itemDescriptionContent"><p>',
        f'<div data-aut-id="itemDescriptionContent"><p>{escaped}')
    page = parse_listing_page_body(load_profile("olx"), olx_html, olx_page, "1")
    assert page.description.startswith(words(HOSTILE))
    assert (page.seller_id, page.seller_name) == (str(offer.seller_id), offer.seller_name)
    # Without the ad's own box, the planted "errorPage" text is no verdict: not the page.
    with pytest.raises(ResponseShapeError, match="page_marker"):
        parse_listing_page_body(load_profile("olx"), f"<html><body><p>{escaped}</p></body>",
                                olx_page, "1")


def test_fields_of_the_wrong_type_or_size_are_left_out(replica):
    offer = world().catalogue[5]
    url = tiktok_url(offer)

    def spoil(info):
        info["seller"].update(followers="banyak", sold_count=10**30, rating=float("nan"),
                              join_time=10**20, seller_id=True, location=["Jakarta"],
                              shop_link="javascript:alert(1)", description={"a": 1})
        info["product_base"].update(
            title=None, price={"real_price": 5},
            images=[{"url_list": ["file:///etc/passwd"]}, {"url_list": "x"}, 7,
                    {"url_list": ["http://[::1"]}, {"url_list": ["//cdn.example/a.jpg"]}],
            desc_detail="x" * (MAX_TEXT * 3))
        info["skus"] = [{"stock": -1, "sku_sale_props": "Ukuran"}, "sku", {"stock": "12"}]

    page = listing_page_from_html(tiktok_with(replica, offer, spoil), url)
    assert (page.seller_followers, page.seller_sales, page.seller_rating) == (None, None, None)
    assert (page.seller_joined, page.seller_id, page.seller_location) == (None, None, None)
    assert (page.seller_url, page.seller_about, page.title, page.price_idr) == (
        None, None, None, None)
    assert page.image_urls == ["https://cdn.example/a.jpg"]
    assert len(page.description) == MAX_TEXT
    assert (page.variants, page.stock) == ([], None)


def test_missing_or_unreadable_data_is_a_shape_error_never_a_crash(replica):
    offer = world().catalogue[6]
    url = tiktok_url(offer)
    html = fetch(replica, url).decode()
    match = ROUTE_DATA.search(html)

    def with_data(text: str) -> str:
        return html[:match.start(2)] + text + html[match.end(2):]

    for data, why in [("{not json", "not JSON"), ("[" * 100_000 + "]" * 100_000, "not JSON"),
                      ('{"n": ' + "9" * 5000 + "}", "not JSON"),
                      (" " * 5_000_001, "more than any page"),
                      ('{"loaderData": {}}', "no product data"), ("7", "no product data")]:
        with pytest.raises(ResponseShapeError, match=why):
            listing_page_from_html(with_data(data), url)
    other = with_data(ROUTE_DATA.search(fetch(replica, tiktok_url(
        world().catalogue[9])).decode())[2])
    with pytest.raises(ResponseShapeError, match="not 1729"):
        listing_page_from_html(other, url)
    empty = listing_page_from_html(with_data('{"loaderData": {"view/product/(product_id)/page":'
                                             ' {"product_info": {}}}}'), url)
    assert (empty.listing_id, empty.description, empty.image_urls) == (
        str(TIKTOK_BASE + offer.offer_id), None, [])


def test_facebook_and_instagram_answers_of_other_listings_are_not_read(replica):
    offer, other = world().catalogue[10], world().catalogue[11]
    fb_url, ig_url = facebook_url(offer), instagram_url(offer)
    with pytest.raises(ResponseShapeError, match="answered listing"):
        listing_page_from_graphql(fetch(replica, fb_url).decode(),
                                  [facebook_answer(replica, other)], fb_url)
    junk = [b"for (;;);", b"[" * 100_000, b'{"data": {"viewer": {"x": ' + b"9" * 5000 + b"}}}",
            b" " * 5_000_001]
    with pytest.raises(ResponseShapeError, match="no marketplace_product_details_page"):
        listing_page_from_graphql(fetch(replica, fb_url).decode(), junk, fb_url)
    media, _ = instagram_answers(replica, offer)
    _, others_profile = instagram_answers(replica, other)
    page = listing_page_from_post(fetch(replica, ig_url).decode(), [*junk, media],
                                  [*junk, others_profile], ig_url)
    assert (page.seller_about, page.seller_followers) == (None, None)  # not this seller's
    other_media, _ = instagram_answers(replica, other)
    with pytest.raises(ResponseShapeError, match="no media info"):
        listing_page_from_post(fetch(replica, ig_url).decode(), [other_media], [], ig_url)


def test_image_links_are_bounded_and_only_http():
    links = ["/a.jpg", "javascript:alert(1)", "data:image/png;base64,AAAA", "file:///x",
             "https://cdn.example/" + "a" * 3000, 5, None, "/a.jpg",
             *(f"/p{n}.jpg" for n in range(200))]
    found = page_urls(links, "https://www.olx.co.id/item/x-iid-1")
    assert found[0] == "https://www.olx.co.id/a.jpg"
    assert len(set(found)) == len(found) == MAX_IMAGES
    assert all(url.startswith("https://www.olx.co.id/") for url in found)


# -- the spiders' requests ----------------------------------------------------------------

def card(platform: str, url: str, listing_id: str = "1") -> Listing:
    return Listing(platform=platform, listing_id=listing_id, url=url, title="t", keyword="k")


def test_rendered_spiders_ask_chromium_for_the_page_and_its_data():
    offer = world().catalogue[0]
    for spider, url, data in [(TiktokShopSpider(), tiktok_url(offer), None),
                              (FacebookSpider(), facebook_url(offer), "graphql"),
                              (InstagramSpider(), instagram_url(offer), "media")]:
        request = spider.listing_page_request(card(spider.name, url))
        assert request.url == url
        render = request.meta[Meta.RENDER]
        assert render["wait_for"]
        assert (data or "") in (render["data_url"] or "")
        # A card linking off the platform is not followed.
        assert spider.listing_page_request(card(spider.name, "https://evil.example/p/1/")) is None


def test_profile_spider_follows_only_its_profiles_pages():
    spider = ProfileSpider(profile="olx")
    request = spider.listing_page_request(card("olx", "https://www.olx.co.id/item/x-iid-5"))
    assert request.url == "https://www.olx.co.id/item/x-iid-5"
    assert spider.listing_page_request(card("olx", "https://olx.co.id.evil.example/item/x"))\
        is None
    assert spider.listing_page_request(card("shop", "https://www.olx.co.id/item/x")) is None


# -- real Chromium ------------------------------------------------------------------------

PROBE = '''
"""Render one listing page per platform through each spider's own listing-page request
(``follow_listing_page``) and write what ``parse_listing_page`` made of it as JSON."""
import dataclasses, json, sys
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings
from crawler.items import Listing
from spiders.facebook import FacebookSpider
from spiders.instagram import InstagramSpider
from spiders.profile import ProfileSpider
from spiders.tiktokshop import TiktokShopSpider

replica, db, out, cards = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
found = []

def probe(base):
    class Probe(base):
        name = base.name
        async def start(self):
            for platform, listing_id, url in cards:
                if platform == self.name or (platform == "olx" and self.name == "profile"):
                    yield self.follow_listing_page(Listing(
                        platform=platform, listing_id=listing_id, url=url, title="t",
                        keyword=None))
    return Probe

settings = get_project_settings()
settings.set("THRIFTWATCH_DB", db)
settings.set("THRIFTWATCH_REPLICA", replica)
settings.set("ITEM_PIPELINES", {})
settings.set("AUTOTHROTTLE_ENABLED", False)
settings.set("DOWNLOAD_DELAY", 0)
def keep(item, **_):
    found.append(dataclasses.asdict(item))

process = CrawlerProcess(settings)
for spider in (TiktokShopSpider, FacebookSpider, InstagramSpider, ProfileSpider):
    crawler = process.create_crawler(probe(spider))
    crawler.signals.connect(keep, signal=signals.item_scraped)
    process.crawl(crawler, **({"profile": "olx"} if spider is ProfileSpider else {}))
process.start()
with open(out, "w") as handle:
    json.dump(found, handle)
'''


@pytest.mark.browser
def test_one_listing_page_per_platform_rendered_through_the_spiders(replica, tmp_path: Path):
    if shutil.which(THRIFTWATCH_CHROMIUM) is None:
        pytest.skip(f"Chromium is not installed ({THRIFTWATCH_CHROMIUM})")
    offer = offers(1)[0]
    cards = [("tiktokshop", str(TIKTOK_BASE + offer.offer_id), tiktok_url(offer)),
             ("facebook", str(FACEBOOK_BASE + offer.offer_id), facebook_url(offer)),
             ("instagram", instagram_url(offer).rsplit("/", 2)[1], instagram_url(offer)),
             ("olx", str(offer.offer_id), olx_url(offer))]
    script, out = tmp_path / "probe.py", tmp_path / "pages.json"
    script.write_text(PROBE, "utf-8")
    result = run_command("python", str(script), replica.url, str(tmp_path / "evidence.db"),
                         str(out), json.dumps(cards), timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    pages = {item["platform"]: item["page"] for item in json.loads(out.read_text("utf-8"))}
    assert set(pages) == {"tiktokshop", "facebook", "instagram", "olx"}, result.stderr[-3000:]
    for platform, page in pages.items():
        assert page["capture_sha256"], platform
        assert (page["screenshot_sha256"] is not None) == (platform != "olx"), platform
        assert page["image_urls"] == photos(platform, offer), platform
        assert world().description(platform, offer).split("\n")[0][:40] in page["description"]
    assert pages["tiktokshop"]["seller_followers"] == world().profile("tiktokshop",
                                                                      offer).followers
    assert pages["facebook"]["seller_joined"] == world().profile("facebook", offer).joined
    assert pages["instagram"]["seller_about"].startswith(world().profile("instagram",
                                                                         offer).about)
    assert pages["tiktokshop"]["variants"] == [{"name": name, "options": options}
                                               for name, options in variants(offer)[:1]]


enriched = crawled_db("tiktokshop", "-a", "keywords=balpres", "-a", "max_pages=1",
                      "-s", "THRIFTWATCH_ENRICH=True", browser=True)


def test_a_crawl_reads_flagged_listings_pages_in_chromium(enriched):
    """The whole step on a rendered platform: each card with a reason has its page rendered
    once, stored with its capture and screenshot, and a listing-page sighting flagged again."""
    conn = enriched.conn
    cards = conn.execute("SELECT o.listing_id FROM observations o JOIN flags f "
                         "ON f.observation_id = o.id WHERE o.keyword IS NOT NULL "
                         "AND f.reasons != '[]'").fetchall()
    pages = conn.execute("SELECT * FROM listing_pages").fetchall()
    assert pages
    assert len({p["listing_id"] for p in pages}) == len(pages)  # once per run
    assert {p["listing_id"] for p in pages} == {c["listing_id"] for c in cards}  # the floor
    shots = {r["body_sha256"] for r in conn.execute(
        "SELECT body_sha256 FROM captures WHERE kind = 'screenshot'")}
    by_id = {str(TIKTOK_BASE + offer.offer_id): offer for offer in world().catalogue}
    for row in pages:
        offer = by_id[row["listing_id"]]
        profile = world().profile("tiktokshop", offer)
        assert words(row["description"]) == words(world().description("tiktokshop", offer))
        assert (row["seller_id"], row["seller_joined"]) == (str(offer.seller_id), profile.joined)
        assert (row["seller_followers"], row["seller_sales"]) == (profile.followers,
                                                                  profile.sales)
        assert json.loads(row["image_urls"]) == photos("tiktokshop", offer)
        assert row["capture_sha256"]
        assert row["screenshot_sha256"] in shots
    sightings = conn.execute("SELECT COUNT(*) FROM observations WHERE keyword IS NULL")
    assert sightings.fetchone()[0] == len(pages)
