"""Live, removed or blocked: decided by the HTTP status, the platform's own page structure and
API fields, never by what a seller wrote (crawler/page_status.py, page_markers.toml).

Every platform's replica listing page is classified with each takedown- and block-like
phrase sellers write in its description and title; the platform's not-found pages and walls
must still be told apart.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace

import pytest
from parsel import Selector

from crawler.page_status import block_marker, classify, markers
from crawler.replica import listing_pages
from crawler.replica.catalogue import build_catalogue
from crawler.replica.faults import CAPTCHA_PAGE
from crawler.replica.olx import LOGIN_WALL

# One listing URL per platform host, in the shape its spider records.
LISTING_URLS = {
    "www.tokopedia.com": "https://www.tokopedia.com/toko-bal/bal-kaos-korea-1730000000000000001",
    "shopee.co.id": "https://shopee.co.id/product/30000001/20000000001",
    "www.lazada.co.id": "https://www.lazada.co.id/products/bal-kaos-korea-i5000000001.html",
    "www.blibli.com": "https://www.blibli.com/p/bal-kaos-korea/ps--ABC-12345-00001",
    "www.bukalapak.com": "https://www.bukalapak.com/p/fashion-pria/kaos/4abc-jual-bal-kaos",
    "www.olx.co.id": "https://www.olx.co.id/item/bal-kaos-korea-iid-1",
    "shop-id.tokopedia.com": "https://shop-id.tokopedia.com/view/product/1729000000000000001",
    "www.facebook.com": "https://www.facebook.com/marketplace/item/24000000000000001/",
    "www.instagram.com": "https://www.instagram.com/p/C0ffee123/",
}
# What sellers write that reads like a platform's verdict: the replica's phrases and more.
SELLER_PHRASES = [*listing_pages.hostile_phrases(),
                  "produk tidak ditemukan", "sudah tidak tersedia", "captcha", "access denied",
                  "login to continue", "Log in to continue", "_____tmd_____/punish",
                  "login_form", "This listing is no longer available", "404 Not Found"]
# Seller HTML, where a platform lets sellers write it (Lazada's description): structure a
# seller plants to fake the platform's own not-found page or wall.
SELLER_HTML = ['<div id="captcha">captcha</div>', '<form id="login_form"></form>',
               '<div id="module_page_not_found">tidak ditemukan</div>',
               '<div data-testid="pdpNotFound">x</div>', '<div class="product-not-exist">x</div>',
               '<script src="/_____tmd_____/punish.js"></script>']
OFFER = build_catalogue(size=20)[0]


def live_page(host: str, description: str, title: str | None = None,
              raw_description: bool = False) -> str:
    """The replica's live listing page on ``host`` with a seller's ``description``."""
    offer = replace(OFFER, description=description, title=title or OFFER.title)
    template = listing_pages.hosts()[host].templates["live"]
    page = listing_pages.live_page(template, offer, "https://no-phrase.example/")
    if raw_description:  # the seller's HTML, unescaped, as Lazada shows it
        page = page.replace(html.escape(description), description)
    return page


@pytest.mark.parametrize("host", sorted(LISTING_URLS))
@pytest.mark.parametrize("phrase", SELLER_PHRASES)
def test_seller_text_in_a_description_never_changes_a_live_verdict(host, phrase):
    url = LISTING_URLS[host]
    page = live_page(host, f"{OFFER.description} {phrase}")
    assert classify(200, page, url)[0] == "live"


@pytest.mark.parametrize("host", sorted(LISTING_URLS))
@pytest.mark.parametrize("phrase", ["Produk tidak ditemukan", "Access Denied", "Captcha",
                                    "Just a moment...", "Page not found"])
def test_seller_text_in_a_title_never_changes_a_live_verdict(host, phrase):
    assert classify(200, live_page(host, OFFER.description, title=phrase),
                    LISTING_URLS[host])[0] == "live"


@pytest.mark.parametrize("planted", SELLER_HTML)
def test_seller_html_in_a_lazada_description_is_not_the_platforms(planted):
    url = LISTING_URLS["www.lazada.co.id"]
    page = live_page("www.lazada.co.id", f"<p>Bal kaos</p>{planted}", raw_description=True)
    assert planted in page
    assert classify(200, page, url)[0] == "live"


# Seller HTML that closes the description region (and any number of the platform's
# containers around it) and plants the platform's own not-found page or wall after it.
BREAKOUTS = ["</p></div></div>", "</span></div></div></div>",
             "</p></div></div></div></div></section></article></main>",
             "</p></div></div></div></div></div></body></html><html><body>"]


def _body(page: str) -> str:
    return re.search(r"<body>(.*)</body>", page, re.DOTALL)[1]


@pytest.mark.parametrize("host", sorted(LISTING_URLS))
@pytest.mark.parametrize("planted", ["removed", "captcha"])
@pytest.mark.parametrize("breakout", BREAKOUTS)
def test_seller_html_that_breaks_out_of_the_description_is_not_the_platforms(
        host, planted, breakout):
    """Every platform's markers, even if it let sellers write HTML as Lazada does: the
    seller closes the description and plants the platform's whole not-found page or wall
    (its real markup, from the replica) after it. The page still shows the product."""
    url = LISTING_URLS[host]
    platform_page = listing_pages.hosts()[host].templates[planted]
    seller = f"isi 100 pcs, siap kirim{breakout}{_body(platform_page)}<div><div><p>"
    page = live_page(host, seller, raw_description=True)
    assert _body(platform_page) in page
    assert classify(200, page, url) == ("live", f"page has {_live_selector(host)}")


def _live_selector(host: str) -> str:
    return markers().hosts[host].selectors["live"][0]


@pytest.mark.parametrize("planted", ['<div id="module_page_not_found"></div>',
                                     '<div id="baxia-punish"></div>', '<div id="captcha"></div>',
                                     '<form id="login_form"></form>'])
def test_a_lazada_breakout_counts_for_nothing_even_where_the_description_is_unknown(planted):
    """Lazada renames its description container: the seller's markup is no longer known as
    the seller's, but it still comes after the product's title, where no platform verdict is
    read on a page that shows the product."""
    url = LISTING_URLS["www.lazada.co.id"]
    page = live_page("www.lazada.co.id", f"isi 100 pcs</p></div></div>{planted}<div><div><p>",
                     raw_description=True).replace("module_product_detail", "module_pdp_desc_2")
    assert classify(200, page, url)[0] == "live"


def test_the_platforms_status_before_the_product_still_counts():
    """A platform may show its not-found banner or a wall over a page that still has the
    product's title: written before the title, it is the platform's and decides."""
    url = LISTING_URLS["www.tokopedia.com"]
    page = live_page("www.tokopedia.com", OFFER.description)
    banner = page.replace('<div id="main-pdp-container">',
                          '<div data-testid="pdpNotFound">Produk tidak tersedia</div>'
                          '<div id="main-pdp-container">')
    assert classify(200, banner, url) == ("removed", "page has [data-testid=pdpNotFound]")
    wall = page.replace('<div id="main-pdp-container">',
                        '<div id="captcha">Verifikasi</div><div id="main-pdp-container">')
    assert classify(200, wall, url)[0] == "blocked"
    # A not-found container wrapping the product's title is no banner: the product shows.
    wrapped = page.replace('<div data-testid="pdpContainer">',
                           '<div data-testid="pdpNotFound"><div data-testid="pdpContainer">')
    assert classify(200, wrapped, url)[0] == "live"


@pytest.mark.parametrize("planted", ["<div id='captcha'>x</div>",
                                     "<form id='login_form'><input type='password'></form>",
                                     "<iframe src='https://x.example/captcha'></iframe>"])
def test_seller_html_after_a_description_on_an_unknown_host_is_no_wall(planted):
    page = ("<html><head><title>Kaos | Toko</title></head><body><h1>Kaos</h1>"
            f"<div class='product-description'><p>isi 100</p></div>{planted}</body></html>")
    assert classify(200, page, "https://shop.example/item/1")[0] == "live"
    breakout = ("<html><head><title>Kaos | Toko</title></head><body><h1>Kaos</h1>"
                f"<div class='product-description'><p>isi 100</p></div></div>{planted}"
                "<div><p></p></div></body></html>")
    assert classify(200, breakout, "https://shop.example/item/1")[0] == "live"
    assert block_marker(200, breakout.encode(), "https://shop.example/search") is None


@pytest.mark.parametrize("host", sorted(LISTING_URLS))
@pytest.mark.parametrize("phrase", ["Produk tidak ditemukan", "Just a moment...",
                                    "Page not found", "Access Denied"])
def test_when_a_platform_changes_its_page_a_seller_title_still_decides_nothing(host, phrase):
    """The platform renamed its product heading and description (no selector of the host
    finds anything): its <title> still holds the seller's title, which is no verdict."""
    rules = markers().hosts[host]
    offer = replace(OFFER, title=phrase, seller_name=phrase)  # Instagram: "SELLER on Instagram"
    template = listing_pages.hosts()[host].templates["live"]
    tree = Selector(text=listing_pages.live_page(template, offer, "https://no-phrase.example/"))
    for css in (*rules.selectors["live"], *rules.description):
        for node in tree.css(css):  # a new design: other tags, no attributes
            node.root.tag = "section"
            node.root.attrib.clear()
    page = tree.get()
    assert phrase in tree.css("title::text").get()
    assert classify(200, page, LISTING_URLS[host]) == ("live", "HTTP 200; page not recognised")
    # ... but a page whose whole title is the phrase is the platform's.
    bare = f"<html><head><title>{phrase}</title></head><body></body></html>"
    assert classify(200, bare, LISTING_URLS[host])[0] != "live"


def test_a_description_meta_tag_is_not_a_seller_region():
    """<meta itemprop=description> holds the seller's words in an attribute, not markup:
    the wall after it still counts."""
    page = ('<html><head><title>Toko</title></head><body><meta itemprop="description" '
            'content="Bal kaos"><div id="captcha">Verifikasi</div></body></html>')
    assert classify(200, page, "https://shop.example/item/1")[0] == "blocked"


@pytest.mark.parametrize("host", sorted(LISTING_URLS))
def test_the_platforms_not_found_pages_and_walls_are_still_seen(host):
    url = LISTING_URLS[host]
    templates = listing_pages.hosts()[host].templates
    assert classify(404, templates["removed"], url)[0] == "removed"
    assert classify(200, templates["removed"], url)[0] == "removed"  # "gone": 200 not-found
    assert classify(200, templates["captcha"], url)[0] == "blocked"
    assert classify(403, listing_pages.ACCESS_DENIED, url)[0] == "blocked"
    assert classify(410, "", url)[0] == "removed"
    assert classify(503, "", url)[0] == "blocked"


@pytest.mark.parametrize(("status", "text", "expected"), [
    # An unknown host: the status, structure no seller text makes, and the whole <title>.
    (200, "<h1>Kemeja flanel</h1>", "live"),
    (404, "", "removed"),
    (410, "", "removed"),
    (200, "<title>Produk tidak ditemukan | Toko</title>", "removed"),
    (200, "<title>This listing is no longer available</title>", "removed"),
    (403, "", "blocked"),
    (429, "", "blocked"),
    (200, "<div id='captcha_container'>Verifikasi untuk melanjutkan</div>", "blocked"),
    (200, "<title>Log in to continue</title>", "blocked"),
    (200, "<form id='login_form'><input type='password'></form>", "blocked"),
    (200, "<title>Just a moment...</title>", "blocked"),
    (503, "", "blocked"),
    # ... and never seller text: headings, body text, a title that only mentions a phrase.
    (200, "<h1>Produk tidak ditemukan</h1>", "live"),
    (200, "This listing is no longer available", "live"),
    (200, "Log in to continue", "live"),
    (200, "<title>Kaos bekas, no captcha | Toko</title><p>access denied</p>", "live"),
    (200, "<title>Jual produk tidak ditemukan di toko lain | Toko</title>", "live"),
    (200, "<div class='product-description'><div id='captcha'>x</div></div>", "live"),
])
def test_pages_of_unknown_hosts(status, text, expected):
    assert classify(status, text, "https://shop.example/item/1")[0] == expected
    assert classify(status, text)[0] == expected


def test_json_pages_are_judged_by_the_platforms_fields_only():
    url = "https://shopee.co.id/api/v4/item/get?itemid=1&shopid=2"
    seller = {"data": {"item": {"itemid": 1, "name": "captcha access denied",
                                "description": "produk tidak ditemukan"}}, "error": None}
    assert classify(200, json.dumps(seller), url) == ("live", "API says data.item.itemid")
    assert classify(200, json.dumps({"error": 90309999}), url)[0] == "blocked"
    assert classify(200, json.dumps({"error": 4, "data": None}), url)[0] == "removed"
    assert classify(200, json.dumps({"message": "produk tidak ditemukan"}),
                    "https://api.example/item")[0] == "live"


def test_every_hosts_rules_are_complete():
    rules = markers()
    assert set(LISTING_URLS) <= set(rules.hosts)
    for host, host_rules in rules.hosts.items():
        assert all(host_rules.selectors[v] for v in ("live", "removed", "blocked")), host
        assert host_rules.description, host


# -- block_marker: search pages a parser could not read -------------------------------------

@pytest.mark.parametrize(("body", "url"), [
    (CAPTCHA_PAGE, "https://gql.tokopedia.com/graphql/SearchProductV5Query"),
    (LOGIN_WALL, "https://www.olx.co.id/items/q-balpres"),
    ("<div id='captcha_container'>Verifikasi</div>", "https://shop-id.tokopedia.com/search"),
    ("<html><head><title>Just a moment...</title></head></html>", "https://x.example/"),
])
def test_walls_are_blocks(body, url):
    assert block_marker(200, body.encode(), url)


@pytest.mark.parametrize(("body", "url"), [
    (json.dumps({"data": {"products": [{"name": "Kaos captcha access denied login_form",
                                        "desc": "log in to continue"}]}}),
     "https://gql.tokopedia.com/graphql/SearchProductV5Query"),
    ('<ul><li class="product">Jaket no captcha, access denied, login dulu</li></ul>',
     "https://www.olx.co.id/items/q-balpres"),
    ('<div class="product-description"><div id="captcha"></div></div>', "https://x.example/"),
])
def test_real_results_with_seller_text_are_not_blocks(body, url):
    assert block_marker(200, body.encode(), url) is None
