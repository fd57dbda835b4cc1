"""Shopee: the parser over real captures and replica bodies, and a real crawl through the
replica."""

import csv
import json
import urllib.error
import urllib.request
from dataclasses import asdict

import pytest

from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import load_lexicon
from crawler.normalise import normalise_city
from crawler.replica import shopee as replica_shopee
from crawler.replica.catalogue import build_catalogue, search
from spiders.base import BlockedError, ResponseShapeError
from spiders.shopee import listing_from_item, parse_search_body, parse_search_response, search_url
from tests.helpers import crawled_db

V2_CAPTURE = "shopee-search-v2-kaos-2020/search_items_kaos.json"
SHELL_CAPTURE = "shopee-search-shell-html-2026/shopee_search_raw_20260210_050623.html"
BLOCKED_KEYWORD = "__block__balpres"


def test_parses_every_item_of_the_real_v2_capture(corpus):
    body = json.loads((corpus / V2_CAPTURE).read_text("utf-8"))
    page = parse_search_body(body, "kaos", page=1)
    items = body["items"]
    assert len(page.listings) == len(items) == 50
    assert [listing.title for listing in page.listings] == [i["name"] for i in items]
    assert [listing.price_idr for listing in page.listings] == [
        i["price"] / 100_000 for i in items]
    assert [listing.location for listing in page.listings] == [
        i["shop_location"] for i in items]
    first = page.listings[0]
    assert first.price_idr == 85_000
    assert first.location == "KAB. BANDUNG"
    assert first.listing_id == "5424151845"
    assert first.seller_id == "87759532"
    assert first.url == "https://shopee.co.id/product/87759532/5424151845"
    assert first.seller_url == "https://shopee.co.id/shop/87759532"
    assert first.sold_count == 46
    assert first.rating == 5.0
    assert first.category == "33"
    assert first.posted_at == "2020-04-04T03:19:44Z"
    assert first.image_urls[0] == \
        "https://down-id.img.susercontent.com/file/0fe3f7f18134ceeb9664285c4fc0d7cc"
    assert page.has_more  # nomore is false and 9,484,967 results remain


def test_the_app_shell_html_is_a_block_not_an_empty_result(corpus):
    with pytest.raises(BlockedError, match="app shell"):
        parse_search_response((corpus / SHELL_CAPTURE).read_bytes(), "botol minum")


def test_real_new_t_shirt_listings_with_brand_look_alikes_are_not_flagged(corpus):
    lexicon = load_lexicon()
    with (corpus / "shopee-search-v4-flat-kaos-2023/Kaos.csv").open(encoding="utf-8") as handle:
        flat = [{"title": row["name"], "location": row["shop_location"]}
                for row in csv.DictReader(handle)]
    v2 = [asdict(listing) for listing in parse_search_body(
        json.loads((corpus / V2_CAPTURE).read_text("utf-8")), "kaos").listings]
    records = flat + v2
    assert len(records) == 1050
    assert sum("second" in r["title"].lower() for r in records) >= 10  # 3SECOND, SECOND EIGHT…
    assert [r["title"] for r in records if flag(r, lexicon).flagged] == []


def test_replica_body_parses_back_to_the_catalogue_offers():
    offers = search(build_catalogue(), "balpres")
    body = json.loads(json.dumps(replica_shopee.search_response("balpres", offers[:60], 0,
                                                                len(offers))))
    page = parse_search_body(body, "balpres", page=1)
    assert len(page.listings) == 60
    assert page.has_more
    for listing, offer in zip(page.listings, offers, strict=False):
        assert listing.title == offer.title
        assert listing.price_idr == offer.price_idr
        assert normalise_city(listing.location) == offer.city
        assert listing.seller_name == offer.seller_name
        assert listing.posted_at == offer.posted_at
        assert listing.sold_count == offer.sold_count


def test_last_page_stops_paging():
    item = {"item_basic": {"itemid": 1, "shopid": 2, "name": "Kaos", "price": 100_000_00000}}
    assert not parse_search_body({"items": [item] * 60, "nomore": True, "total_count": 999},
                                 "k", page=1).has_more
    assert not parse_search_body({"items": [item] * 60, "nomore": False, "total_count": 120},
                                 "k", page=2).has_more
    assert not parse_search_body({"items": None, "nomore": True, "total_count": 0},
                                 "k").has_more


@pytest.mark.parametrize("body", [
    {"is_customized": False, "is_login": False, "action_type": 2, "error": 90309999,
     "tracking_id": "fa3814fa"},
    {"error": 19, "error_msg": None, "items": None},
])
def test_anti_bot_answers_are_blocks(body):
    with pytest.raises(BlockedError):
        parse_search_response(json.dumps(body).encode(), "balpres")


@pytest.mark.parametrize("body", [
    b"[]", b'{"data": {}}', b'{"items": [], "version": "x"}',
    b'{"items": "none", "nomore": false}', b'{"items": [{"name": "no ids"}], "nomore": true}',
    b"<html><body>Bad gateway</body></html>",
])
def test_other_shapes_are_refused_not_read_as_no_results(body):
    with pytest.raises(ResponseShapeError):
        parse_search_response(body, "balpres")


def test_item_without_identity_is_refused():
    with pytest.raises(ResponseShapeError):
        listing_from_item({"item_basic": {"name": "no itemid"}}, "k")


def test_search_url_pages_by_offset_and_quotes_keywords():
    url = search_url("baju 'bekas'&x", page=3)
    assert url.startswith("https://shopee.co.id/api/v4/search/search_items?by=relevancy&")
    assert "keyword=baju+%27bekas%27%26x" in url
    assert "limit=60" in url
    assert "newest=120" in url
    assert "scenario=PAGE_GLOBAL_SEARCH" in url


def test_replica_answers_only_the_real_endpoints(replica):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{replica.url}/shopee.co.id/api/v4/search/search_everything")
    assert error.value.code == 404


crawled = crawled_db("shopee", "-a", f"keywords=balpres,{BLOCKED_KEYWORD}", "-a", "max_pages=2")

def test_crawl_pages_to_max_pages_with_real_urls_and_web_client_headers(crawled):
    counts = dict(crawled.conn.execute(
        "SELECT keyword, COUNT(*) FROM observations GROUP BY keyword").fetchall())
    assert counts == {"balpres": 2 * 60}
    captures = crawled.conn.execute(
        "SELECT url, status, request_headers FROM captures WHERE url LIKE '%keyword=balpres%'"
    ).fetchall()
    assert sorted(c["url"] for c in captures) == [search_url("balpres", 1),
                                                  search_url("balpres", 2)]
    assert all(c["status"] == 200 for c in captures)
    headers = {k.lower(): v for k, v in json.loads(captures[0]["request_headers"]).items()}
    assert headers["x-api-source"] == "pc"
    assert headers["x-shopee-language"] == "id"
    assert headers["referer"] == "https://shopee.co.id/search?keyword=balpres"
    urls = [r[0] for r in crawled.conn.execute("SELECT url FROM captures")]
    assert not any("127.0.0.1" in url for url in urls)


def test_crawled_listings_carry_normalised_catalogue_values(crawled):
    offers = {str(replica_shopee.ITEM_ID_OFFSET + o.offer_id): o
              for o in search(build_catalogue(), "balpres")[:120]}
    rows = crawled.conn.execute("SELECT * FROM observations").fetchall()
    assert {r["listing_id"] for r in rows} == set(offers)
    for row in rows:
        offer = offers[row["listing_id"]]
        assert row["price_idr"] == offer.price_idr
        assert row["location"] == offer.city
        assert row["url"] == f"https://shopee.co.id/product/{row['seller_id']}/{row['listing_id']}"


def test_a_blocked_keyword_is_recorded_as_a_block_with_its_capture(crawled):
    faults = crawled.conn.execute("SELECT * FROM faults").fetchall()
    assert [(f["kind"], f["url"]) for f in faults] == [("blocked", search_url(BLOCKED_KEYWORD, 1))]
    capture = crawled.conn.execute("SELECT * FROM captures WHERE id = ?",
                              [faults[0]["capture_id"]]).fetchone()
    assert capture["status"] == 403
    assert capture["url"] == faults[0]["url"]
    assert "90309999" in faults[0]["detail"]
    assert crawled.conn.execute("SELECT COUNT(*) FROM observations WHERE keyword = ?",
                           [BLOCKED_KEYWORD]).fetchone()[0] == 0
    stats = json.loads(crawled.conn.execute("SELECT stats FROM runs").fetchone()[0])
    assert stats["thriftwatch/blocks/shopee"] == 1
    assert stats["thriftwatch/pages/shopee"] == 2
