"""Site profiles: loading, refusing malformed ones, pure extraction, real crawls via the replica."""

import json
import re
from dataclasses import replace
from datetime import date, datetime

import pytest

from crawler.normalise import parse_price_idr
from crawler.replica import olx
from crawler.replica.catalogue import build_catalogue, search
from spiders.base import BlockedError, ListingGoneError, ResponseShapeError
from spiders.profile import ProfileKeyword, ProfileSpider
from spiders.profile_format import (
    ProfileError,
    load_profile,
    load_profiles,
    parse_listing_page_body,
    parse_profile,
    parse_search_body,
    shipped_profiles,
)
from tests.helpers import REPO, crawl_replica, open_db

PAGE_URL = "https://www.olx.co.id/items/q-balpres?page=1"

# A small valid HTML profile; the malformed cases below change one thing in it.
GOOD = """\
[site]
name = "shop"
allowed_domains = ["shop.example"]

[search]
url = "https://www.shop.example/cari?q={keyword}&p={page}"
page_size = 2

[listing]
items = "css:div.card"

[fields]
listing_id = "css:::attr(data-id)"
url = "css:a::attr(href)"
title = "css:h2"
"""


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


@pytest.fixture(scope="module")
def catalogue():
    return build_catalogue()  # the replica fixture's catalogue: same seed and size


# -- loading ------------------------------------------------------------------------------

def test_shipped_olx_profile_loads():
    assert shipped_profiles() == ["olx"]
    profile = load_profile("olx")
    assert profile.name == "olx"
    assert profile.allowed_domains == ("olx.co.id",)
    assert profile.search.url_and_body("bal thrift/2", 3) == (
        "https://www.olx.co.id/items/q-bal%20thrift%2F2?page=3", None)
    assert {"listing_id", "url", "title", "price_text", "location", "posted_at",
            "seller_id", "image_urls"} <= set(profile.fields)
    assert [p.name for p in load_profiles(None)] == ["olx"]


def test_a_profile_file_loads_by_path_and_fills_post_bodies(tmp_path):
    path = tmp_path / "shop.toml"
    path.write_text(_replace("page_size = 2", 'page_size = 2\nmethod = "POST"\nfirst_page = 0\n'
                             'headers = { Content-Type = "application/json" }\n'
                             "body = '{\"q\": \"{keyword}\", \"from\": {offset}, \"p\": {page}}'"),
                    "utf-8")
    profile = load_profile(str(path))
    assert profile.source == str(path)
    assert profile.search.method == "POST"
    url, body = profile.search.url_and_body('kaos "bekas"', 2)
    assert url == "https://www.shop.example/cari?q=kaos%20%22bekas%22&p=1"  # first_page 0
    assert json.loads(body) == {"q": 'kaos "bekas"', "from": 2, "p": 1}


@pytest.mark.parametrize(("text", "where", "problem"), [
    (GOOD + "[extra]\nx = 1\n", "[extra]", "unknown section"),
    (_replace("page_size = 2", "page_size = 2\npagesize = 3"), "[search] pagesize",
     "unknown field"),
    (_replace('title = "css:h2"', 'titel = "css:h2"'), "[fields] titel", "unknown field"),
    (_replace('title = "css:h2"\n', ""), "[fields] title", "missing required field"),
    (_replace('name = "shop"\n', ""), "[site] name", "missing required field"),
    (GOOD.split("[listing]", maxsplit=1)[0], "[listing]", "missing section"),
    (_replace('"css:h2"', '"h2"'), "[fields] title", "needs a selector prefix"),
    (_replace('"css:h2"', '"regex:h2"'), "[fields] title", "needs a selector prefix"),
    (_replace('"css:h2"', '"jmespath:data.title"'), "[fields] title",
     "jmespath: selectors do not apply to a html profile"),
    (_replace('"css:h2"', '"json:data.title"'), "[fields] title",
     "json: paths are now JMESPath expressions: write jmespath:data.title"),
    (_replace('"css:h2"', '"css:h2[["'), "[fields] title", "invalid CSS"),
    (_replace('"css:div.card"', '"xpath://div[@class="'), "[listing] items", "invalid XPath"),
    (_replace('"css:h2"', '{ select = "css:h2", re = "(a" }'), "[fields] title.re",
     "invalid regex"),
    (_replace('"css:h2"', '{ select = "css:h2", regex = "a" }'), "[fields] title.regex",
     "unknown key"),
    (_replace("q={keyword}&", ""), "[search] url", "must contain {keyword}"),
    (_replace("{keyword}", "{kw}"), "[search] url", "unknown placeholder {kw}"),
    (_replace("&p={page}", ""), "[search] url", "must contain {page} or {offset}"),
    (_replace("page_size = 2", "page_size = 0"), "[search] page_size", "positive integer"),
    (_replace("page_size = 2", 'page_size = "20"'), "[search] page_size", "positive integer"),
    (_replace("page_size = 2", "page_size = true"), "[search] page_size", "positive integer"),
    (_replace("page_size = 2", "page_size = 2\nfirst_page = 2"), "[search] first_page",
     "must be 0 or 1"),
    (_replace("page_size = 2", 'page_size = 2\nformat = "xml"'), "[search] format",
     "html or json"),
    (_replace("page_size = 2", 'page_size = 2\nmethod = "PUT"'), "[search] method",
     "GET or POST"),
    (_replace("page_size = 2", "page_size = 2\nbody = 'q={keyword}'"), "[search] body",
     "only a POST"),
    (_replace("www.shop.example", "evil.example"), "[search] url",
     "outside [site] allowed_domains"),
    (_replace('name = "shop"', 'name = "My Shop"'), "[site] name", "lowercase"),
    (GOOD + "[block]\npatterns = ['captcha[']\n", "[block] patterns", "invalid regex"),
    (GOOD + "[block]\ntitles = ['captcha[']\n", "[block] titles", "invalid regex"),
    (GOOD + "[block]\nselectors = ['#captcha']\n", "[block] selectors", "selector prefix"),
    (GOOD + "[block]\nselectors = ['jmespath:error']\n", "[block] selectors",
     "jmespath: selectors do not apply to a html profile"),
    (GOOD + "[block]\nselectors = 'css:#captcha'\n", "[block] selectors",
     "must be a list of strings"),
    (GOOD + "[block]\nbody = ['captcha']\n", "[block] body", "unknown field"),
    (GOOD + "[paging]\nhas_more = 'next'\n", "[paging] has_more", "selector prefix"),
])
def test_malformed_profiles_are_refused_naming_file_field_and_problem(tmp_path, text, where,
                                                                      problem):
    path = tmp_path / "bad.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ProfileError) as error:
        load_profile(str(path))
    message = str(error.value)
    assert message.startswith(f"{path}: {where}: "), message
    assert problem in message, message


def test_bad_json_paths_and_toml_syntax_are_refused(tmp_path):
    json_profile = (GOOD.replace("page_size = 2", 'page_size = 2\nformat = "json"')
                    .replace("css:div.card", "jmespath:data..ads")
                    .replace("css:::attr(data-id)", "jmespath:id")
                    .replace("css:a::attr(href)", "jmespath:url")
                    .replace("css:h2", "jmespath:title"))
    with pytest.raises(ProfileError, match=r"\[listing\] items: invalid JMESPath 'data..ads'"):
        parse_profile(json_profile, "shop.toml")
    with pytest.raises(ProfileError, match=r"\[fields\] title: css: selectors do not apply "
                                           r"to a json profile \(use jmespath:\)"):
        parse_profile(json_profile.replace("jmespath:data..ads", "jmespath:data.ads")
                      .replace('"jmespath:title"', '"css:h2"'), "shop.toml")
    path = tmp_path / "broken.toml"
    path.write_text(GOOD.replace('title = "css:h2"', "title = css:h2"), "utf-8")
    with pytest.raises(ProfileError, match=r"broken.toml: TOML syntax error: .*line 15, column 9"):
        load_profile(path)
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(str(tmp_path / "missing.toml"))
    with pytest.raises(ProfileError, match=r"nosuch: no shipped profile .*shipped: olx"):
        load_profile("nosuch")
    assert issubclass(ProfileError, ValueError)


# -- pure extraction ----------------------------------------------------------------------

def test_extracts_every_card_of_a_replica_page(catalogue):
    offers = search(catalogue, "balpres")[:20]
    html = olx.search_page("balpres", offers, True, 300, date(2025, 6, 1))
    page = parse_search_body(load_profile("olx"), html, PAGE_URL, "balpres")
    assert page.has_more
    assert len(page.listings) == 20
    for offer, listing in zip(offers, page.listings, strict=False):
        assert listing.platform == "olx"
        assert listing.keyword == "balpres"
        assert listing.listing_id == str(offer.offer_id)
        assert listing.url.startswith("https://www.olx.co.id/item/")
        assert listing.url.endswith(f"-iid-{offer.offer_id}")
        assert listing.title == offer.title
        assert parse_price_idr(listing.price_text) == offer.price_idr
        assert listing.price_text.startswith("Rp ")
        assert listing.location == olx.olx_city(offer.city)  # the city, not the kecamatan
        assert listing.seller_id == str(offer.seller_id)
        assert listing.seller_name == offer.seller_name
        assert listing.seller_url == f"https://www.olx.co.id/profile/{offer.seller_id}"
        assert listing.image_urls == [f"{olx.IMAGE_HOST}/{offer.image_key}-ID/image;s=300x600;q=60"]
        assert listing.posted_at == olx.posted(offer, date(2025, 6, 1))
    last = parse_search_body(load_profile("olx"), olx.search_page("balpres", offers[:5], False,
                                                                  5, date(2025, 6, 1)),
                             PAGE_URL, "balpres")
    assert len(last.listings) == 5
    assert not last.has_more


def test_olx_dates_and_city_names():
    offer = search(build_catalogue(), "kaos")[0]
    posted = datetime.fromisoformat(offer.posted_at).date()
    assert olx.posted(offer, posted) == "Hari ini"
    assert olx.posted(offer, date.fromordinal(posted.toordinal() + 1)) == "Kemarin"
    assert olx.posted(offer, date.fromordinal(posted.toordinal() + 3)) == "3 hari yang lalu"
    assert olx.olx_city("Medan") == "Medan Kota"
    assert olx.olx_city("Kab. Bandung") == "Bandung Kab."


def test_handwritten_card_markup_is_read_whatever_its_whitespace():
    html = """<ul data-aut-id="itemsList"><li data-aut-id="itemBox">
      <a href="/item/bal-jaket-korea-iid-987">
        <span data-aut-id="itemPrice">Rp 2.500.000</span>
        <span data-aut-id="itemTitle">  Bal <b>jaket</b>
           Korea </span></a>
      <div><span data-aut-id="item-location">Batam Kota</span>
        <span><span>Kemarin</span></span></div>
    </li></ul>"""
    (listing,) = parse_search_body(load_profile("olx"), html, PAGE_URL, "bal").listings
    assert listing.listing_id == "987"
    assert listing.title == "Bal jaket Korea"
    assert listing.url == "https://www.olx.co.id/item/bal-jaket-korea-iid-987"
    assert listing.location == "Batam Kota"  # no kecamatan before it: kept whole
    assert listing.posted_at == "Kemarin"
    assert listing.seller_id is None
    assert listing.image_urls == []


def test_walls_and_other_pages_are_not_read_as_no_results():
    profile = load_profile("olx")
    with pytest.raises(BlockedError, match=r"olx: the page has css:\[data-aut-id='loginWall'\]"):
        parse_search_body(profile, olx.LOGIN_WALL, PAGE_URL, "balpres")
    title_only = "<html><head><title>Verifikasi Keamanan | OLX</title></head><body></body></html>"
    with pytest.raises(BlockedError, match=r"the page title 'Verifikasi Keamanan \| OLX'"):
        parse_search_body(profile, title_only, PAGE_URL, "balpres")
    with pytest.raises(ResponseShapeError, match="not a results page"):
        parse_search_body(profile, "<html><body><h1>Halaman tidak ditemukan</h1></body></html>",
                          PAGE_URL, "balpres")
    card_without_title = ('<ul data-aut-id="itemsList"><li data-aut-id="itemBox">'
                          '<a href="/item/x-iid-1"></a></li></ul>')
    with pytest.raises(ResponseShapeError, match="a listing has no title"):
        parse_search_body(profile, card_without_title, PAGE_URL, "balpres")
    empty = parse_search_body(profile, '<ul data-aut-id="itemsList"></ul>', PAGE_URL, "x")
    assert empty.listings == []
    assert not empty.has_more


# What sellers write in ad titles that reads like OLX's own wall.
SELLER_WALL_WORDS = ["chat dulu, masuk untuk melanjutkan order", "Verifikasi Keamanan",
                     "no captcha", "Access Denied", 'data-aut-id="loginWall"',
                     "<div data-aut-id='loginWall'>"]


def _olx_page(catalogue, title_suffix: str = "") -> tuple[str, list]:
    offers = list(search(catalogue, "balpres")[:20])
    if title_suffix:
        offers[3] = replace(offers[3], title=f"{offers[3].title} - {title_suffix}")
    return olx.search_page("balpres", offers, True, 300, date(2025, 6, 1)), offers


@pytest.mark.parametrize("words", SELLER_WALL_WORDS)
def test_one_sellers_title_never_makes_a_results_page_a_wall(catalogue, words):
    """An ad title saying "masuk untuk melanjutkan" (log in to continue): every ad of the
    page is still read, and the next page is still asked for."""
    html, offers = _olx_page(catalogue, words)
    page = parse_search_body(load_profile("olx"), html, PAGE_URL, "balpres")
    assert len(page.listings) == 20
    assert page.listings[3].title == offers[3].title
    assert page.has_more


LEGACY_BLOCK = "[block]\npatterns = ['(?i)masuk untuk melanjutkan', 'data-aut-id=\"loginWall\"']\n"


def test_legacy_raw_body_patterns_still_load_but_never_read_a_page_with_listings(
        catalogue, caplog):
    """A profile written before [block] selectors and titles: its raw-body regexes load
    (with a warning) and find the wall, but are not read on a page where listings are."""
    text = (REPO / "spiders" / "profiles" / "olx.toml").read_text("utf-8")
    legacy_text = text[:text.index("[block]")] + LEGACY_BLOCK
    with caplog.at_level("WARNING"):
        legacy = parse_profile(legacy_text, "legacy-olx.toml")
    assert "legacy-olx.toml: [block] patterns are regexes over the raw body" in caplog.text
    with pytest.raises(BlockedError, match="the page matches block pattern"):
        parse_search_body(legacy, olx.LOGIN_WALL, PAGE_URL, "balpres")
    html, _ = _olx_page(catalogue, "masuk untuk melanjutkan order")
    assert len(parse_search_body(legacy, html, PAGE_URL, "balpres").listings) == 20
    # Listings on a page without the results marker: not a wall by what the ads say.
    unmarked = html.replace('data-aut-id="itemsList"', 'data-aut-id="itemsList2"')
    with pytest.raises(ResponseShapeError, match="not a results page"):
        parse_search_body(legacy, unmarked, PAGE_URL, "balpres")


def test_block_selectors_never_count_an_element_inside_a_listing(catalogue):
    """On a page that is not results (its marker gone) an ad card that holds the wall's
    element is an ad, not the wall; the same element outside every card is the wall."""
    profile = load_profile("olx")
    html, _ = _olx_page(catalogue)
    planted = html.replace('data-aut-id="itemsList"', 'data-aut-id="itemsList2"').replace(
        '<span data-aut-id="itemTitle"', '<div data-aut-id="loginWall"></div>'
        '<span data-aut-id="itemTitle"', 1)
    assert 'data-aut-id="loginWall"' in planted
    with pytest.raises(ResponseShapeError, match="not a results page"):
        parse_search_body(profile, planted, PAGE_URL, "balpres")
    walled = planted.replace("<body>", '<body><div data-aut-id="loginWall"></div>', 1)
    with pytest.raises(BlockedError, match="loginWall"):
        parse_search_body(profile, walled, PAGE_URL, "balpres")


JSON_PROFILE = """\
[site]
name = "shop-api"
allowed_domains = ["shop.example"]

[search]
url = "https://api.shop.example/v1/ads?q={keyword}&offset={offset}&limit=2"
format = "json"
page_size = 2

[listing]
items = "jmespath:[0].data.ads"

[fields]
listing_id = "jmespath:ad_id"
url = "jmespath:links.web"
title = "jmespath:title"
price_text = "jmespath:price.value"
location = "jmespath:locations[0].city"
seller_id = "jmespath:user.id"
image_urls = "jmespath:images[*].url"
"""


def test_json_profile_walls_are_the_apis_fields_or_the_title():
    walls = ("\n[block]\nselectors = ['jmespath:error == `\"captcha\"`']\n"
             "titles = ['(?i)^captcha']\n")
    profile = parse_profile(JSON_PROFILE + walls, "shop-api.toml")
    with pytest.raises(BlockedError, match="the page has jmespath"):
        parse_search_body(profile, json.dumps({"error": "captcha"}), PAGE_URL, "bal")
    with pytest.raises(BlockedError, match="the page title 'Captcha' matches"):
        parse_search_body(profile, "<title>Captcha</title>", PAGE_URL, "bal")
    seller = [{"data": {"ads": [{"ad_id": 1, "title": "captcha", "links": {"web": "/ad/1"},
                                 "error": "captcha"}]}}]
    assert len(parse_search_body(profile, json.dumps(seller), PAGE_URL, "bal").listings) == 1


def test_json_profile_extraction():
    profile = parse_profile(JSON_PROFILE, "shop-api.toml")
    assert profile.search.url_and_body("bal", 3)[0].endswith("q=bal&offset=4&limit=2")
    ads = [{"ad_id": 11, "title": "Bal kaos", "links": {"web": "/ad/11"},
            "price": {"value": 1500000}, "locations": [{"city": "KOTA MEDAN"}],
            "user": {"id": 7}, "images": [{"url": "https://img/1.jpg"}, {"url": "/2.jpg"}]},
           {"ad_id": "12", "title": "Karungan", "links": {"web": "https://shop.example/ad/12"}}]
    body = json.dumps([{"data": {"ads": ads}}])
    page = parse_search_body(profile, body, "https://api.shop.example/v1/ads?q=bal", "bal")
    first, second = page.listings
    assert page.has_more  # a full page under "full_page" paging
    assert (first.listing_id, first.url, first.price_text, first.location, first.seller_id) == (
        "11", "https://api.shop.example/ad/11", "1500000", "KOTA MEDAN", "7")
    assert first.image_urls == ["https://img/1.jpg", "https://api.shop.example/2.jpg"]
    assert second.listing_id == "12"
    assert second.location is None
    assert second.image_urls == []
    with pytest.raises(ResponseShapeError, match="body is not JSON"):
        parse_search_body(profile, "<html>captcha</html>", PAGE_URL, "bal")
    with pytest.raises(ResponseShapeError, match=r"jmespath:\[0\].data.ads is not an array"):
        parse_search_body(profile, json.dumps([{"data": {}}]), PAGE_URL, "bal")
    with pytest.raises(ResponseShapeError, match="holds a value that is not an object"):
        parse_search_body(profile, json.dumps([{"data": {"ads": [ads[0], 7]}}]), PAGE_URL, "bal")
    empty = parse_search_body(profile, json.dumps([{"data": {"ads": []}}]), PAGE_URL, "bal")
    assert empty.listings == []
    assert not empty.has_more


# -- the spider ---------------------------------------------------------------------------

def test_spider_takes_its_domains_and_requests_from_the_profiles(tmp_path):
    spider = ProfileSpider(keywords="balpres")
    assert set(spider.profiles) == {"olx"}
    assert spider.allowed_domains == ["olx.co.id"]
    request = spider.search_request(ProfileKeyword("bal thrift", "olx"), 2)
    assert request.url == "https://www.olx.co.id/items/q-bal%20thrift?page=2"
    assert request.method == "GET"
    assert request.headers["Accept-Language"] == b"id-ID,id;q=0.9"
    path = tmp_path / "shop.toml"
    path.write_text(GOOD, "utf-8")
    assert ProfileSpider(profile=str(path)).allowed_domains == ["shop.example"]
    with pytest.raises(ProfileError):
        ProfileSpider(profile="nosuch")


def _crawl(replica, db, profile, keywords):
    crawl_replica(replica, db, "profile", "-a", f"profile={profile}",
                  "-a", f"keywords={keywords}", "-a", "max_pages=2",
                  "-s", "THRIFTWATCH_ENRICH=True")
    return open_db(db)


@pytest.mark.crawl
def test_crawl_with_the_shipped_olx_profile(replica, tmp_path, catalogue):
    conn = _crawl(replica, tmp_path / "olx.db", "olx", "balpres,__block__balpres")
    # Search sightings; those of the ads' own pages ([listing_page]) have no keyword.
    rows = conn.execute("SELECT * FROM observations WHERE keyword IS NOT NULL "
                        "ORDER BY id").fetchall()
    offers = {o.offer_id: o for o in search(catalogue, "balpres")[:2 * olx.PAGE_SIZE]}
    assert {r["platform"] for r in rows} == {"olx"}
    assert {r["keyword"] for r in rows} == {"balpres"}
    assert sorted(int(r["listing_id"]) for r in rows) == sorted(offers)  # 2 pages of 20
    for row in rows:
        offer = offers[int(row["listing_id"])]
        assert row["price_idr"] == offer.price_idr  # from "Rp 1.500.000" by the normaliser
        assert row["location"] == offer.city
        assert "," not in row["location"]
        assert row["url"].startswith("https://www.olx.co.id/item/")
        assert row["url"].endswith(f"-iid-{offer.offer_id}")
    captures = {r["url"] for r in conn.execute("SELECT url FROM captures")}
    assert {"https://www.olx.co.id/items/q-balpres?page=1",
            "https://www.olx.co.id/items/q-balpres?page=2",
            "https://www.olx.co.id/items/q-__block__balpres?page=1"} <= captures
    assert not any("127.0.0.1" in url for url in captures)
    faults = conn.execute("SELECT kind, url, detail FROM faults").fetchall()
    assert [(f["kind"], f["url"]) for f in faults] == [
        ("blocked", "https://www.olx.co.id/items/q-__block__balpres?page=1")]
    assert "the page has css:[data-aut-id='loginWall']" in faults[0]["detail"]
    run = conn.execute("SELECT platform, status FROM runs").fetchone()
    assert tuple(run) == ("profile", "finished")
    # Each ad with a reason had its own page read once, by the profile's [listing_page].
    pages = conn.execute("SELECT * FROM listing_pages").fetchall()
    reasoned = {r["listing_id"] for r in conn.execute(
        "SELECT o.listing_id FROM observations o JOIN flags f ON f.observation_id = o.id "
        "WHERE o.keyword IS NOT NULL AND f.reasons != '[]'")}
    assert reasoned
    assert sorted(p["listing_id"] for p in pages) == sorted(reasoned)
    for page in pages:
        offer = offers[int(page["listing_id"])]
        assert page["seller_id"] == str(offer.seller_id)
        assert page["description"].startswith(" ".join(offer.description.split())[:40])
        assert page["url"] in captures


@pytest.mark.crawl
def test_crawl_with_a_profile_file_of_ones_own(replica, tmp_path, catalogue):
    profile = tmp_path / "olx-xpath.toml"
    profile.write_text("""\
[site]
name = "olx-xpath"
allowed_domains = ["www.olx.co.id"]

[search]
url = "https://www.olx.co.id/items/q-{keyword}?page={page}"
page_size = 20

[listing]
items = "xpath://li[@data-aut-id='itemBox']"

[fields]
listing_id = "xpath:substring-after(a/@href, '-iid-')"
url = "xpath:a/@href"
title = "xpath:.//span[@data-aut-id='itemTitle']/text()"
price_text = "xpath:.//span[@data-aut-id='itemPrice']"
""", "utf-8")
    conn = _crawl(replica, tmp_path / "own.db", profile, "bal thrift")
    rows = conn.execute(
        "SELECT platform, listing_id, keyword, price_idr FROM observations").fetchall()
    expected = {o.offer_id: o.price_idr for o in search(catalogue, "bal thrift")[:40]}
    assert {(r["platform"], r["keyword"]) for r in rows} == {("olx-xpath", "bal thrift")}
    assert {int(r["listing_id"]): r["price_idr"] for r in rows} == expected
    captures = {r["url"] for r in conn.execute("SELECT url FROM captures")}
    assert "https://www.olx.co.id/items/q-bal%20thrift?page=2" in captures


@pytest.mark.crawl
def test_a_seller_title_reading_like_the_login_wall_costs_nothing(replica, tmp_path, catalogue):
    """The shipped OLX profile on a real results page one of whose ads is titled "... masuk
    untuk melanjutkan order": all its ads are stored, no block is recorded, paging goes on."""
    html, offers = _olx_page(catalogue, "chat dulu, masuk untuk melanjutkan order")
    replica.plant("www.olx.co.id", "q-sellerwall", html, content_type="text/html")
    conn = _crawl(replica, tmp_path / "olx.db", "olx", "sellerwall")
    assert conn.execute("SELECT kind, detail FROM faults").fetchall() == []
    stored = {r["listing_id"] for r in conn.execute("SELECT listing_id FROM observations")}
    assert stored == {str(offer.offer_id) for offer in offers}
    pages = {r["url"] for r in conn.execute("SELECT url FROM captures")}
    assert "https://www.olx.co.id/items/q-sellerwall?page=2" in pages


# -- [listing_page] -------------------------------------------------------------------------

LISTING_PAGE = """
[listing_page]
page_marker = "css:div.product"
gone = ["css:div.not-found"]

[listing_page.fields]
description = "css:div.description"
seller_followers = "css:span.followers"
seller_rating = "css:span.rating"
image_urls = "css:div.gallery img::attr(src)"
"""
PRODUCT = """<html><body><div class="product"><h1>Bal Korea</h1></div>
<div class="description">Isi 100 pcs.
WA 0812 3456 7890</div><span class="followers">1,2rb</span><span class="rating">4,8</span>
<div class="gallery"><img src="/a.jpg"><img src="javascript:alert(1)"><img src="/a.jpg"></div>
</body></html>"""
ITEM = "https://www.shop.example/p/1"


def test_listing_page_section_reads_a_listing_page():
    profile = parse_profile(GOOD + LISTING_PAGE, "test.toml")
    page = parse_listing_page_body(profile, PRODUCT, ITEM, "1")
    assert (page.platform, page.listing_id, page.url) == ("shop", "1", ITEM)
    assert page.description == "Isi 100 pcs. WA 0812 3456 7890"
    assert (page.seller_followers, page.seller_rating) == (1200, 4.8)
    assert page.image_urls == ["https://www.shop.example/a.jpg"]
    assert page.seller_name is None  # a field the profile does not read


def test_listing_page_gone_walled_or_unknown():
    profile = parse_profile(GOOD + LISTING_PAGE + '\n[block]\nselectors = ["css:#captcha"]\n',
                            "test.toml")
    with pytest.raises(ListingGoneError):
        parse_listing_page_body(profile, '<div class="not-found">Produk dihapus</div>', ITEM, "1")
    with pytest.raises(BlockedError):
        parse_listing_page_body(profile, '<div id="captcha"></div>', ITEM, "1")
    with pytest.raises(ResponseShapeError, match="page_marker"):
        parse_listing_page_body(profile, "<p>Produk dihapus. captcha</p>", ITEM, "1")
    # The product's own box decides: a seller writing about "not-found" changes nothing.
    live = PRODUCT.replace("Isi 100", '&lt;div class="not-found"&gt; Isi 100')
    assert parse_listing_page_body(profile, live, ITEM, "1").description.startswith("<div")


@pytest.mark.parametrize(("section", "message"), [
    (LISTING_PAGE.replace("seller_rating", "seller_mood"), "seller_mood: unknown field"),
    (LISTING_PAGE.replace('description = "css:div.description"\n', ""),
     "description: missing required field"),
    (LISTING_PAGE.replace('page_marker = "css:div.product"\n', ""),
     "page_marker: missing required field"),
    (LISTING_PAGE.replace('"css:span.followers"', '"jmespath:followers"'),
     "jmespath: selectors do not apply"),
    (LISTING_PAGE.replace('"css:div.not-found"', '"css:div[["'), "invalid CSS"),
    (LISTING_PAGE.replace("[listing_page.fields]", "[listing_page.feelds]"), "feelds"),
])
def test_malformed_listing_page_sections_are_refused(section, message):
    with pytest.raises(ProfileError, match=re.escape(message)):
        parse_profile(GOOD + section, "test.toml")


def test_profiles_without_a_listing_page_section_are_not_enriched():
    assert parse_profile(GOOD, "test.toml").listing_page is None
    with pytest.raises(ResponseShapeError, match="no \\[listing_page\\]"):
        parse_listing_page_body(parse_profile(GOOD, "test.toml"), PRODUCT, ITEM, "1")
