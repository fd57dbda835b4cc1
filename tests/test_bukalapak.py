"""Bukalapak: the parser on the real capture and replica bodies, the replica's token gate,
and the spider run by Scrapy for real through replica mode over loopback HTTP."""

import json
import math
import socket
import sqlite3
import time
import urllib.error
import urllib.request
import zlib

import pytest
from scrapy.http import TextResponse

from crawler.evidence.capture import REDACTED_BODY
from crawler.keys import Meta
from crawler.normalise import clean_text
from crawler.replica import bukalapak as replica_bukalapak
from crawler.replica.catalogue import build_catalogue, search
from spiders.base import BlockedError, ResponseShapeError
from spiders.bukalapak import (
    SEARCH_URL,
    TOKEN_URL,
    BukalapakSpider,
    access_token_from,
    description_text,
    listing_from_product,
    parse_search_body,
    raise_if_blocked,
    search_query,
)
from tests.helpers import crawled_db, run_command

KEYWORDS = ("balpres", "karungan")


def _capture(corpus):
    return json.loads((corpus / "bukalapak-products-2020/products.json").read_text("utf-8"))


# -- parser ---------------------------------------------------------------------------


def test_parses_every_product_of_the_real_capture(corpus):
    body = _capture(corpus)
    products = body["data"]
    page = parse_search_body(body, "hp", page=1)
    listings = page.listings
    assert len(listings) == len(products) == 50
    assert [x.title for x in listings] == [p["name"] for p in products]
    assert [x.price_idr for x in listings] == [p["price"] for p in products]
    assert [x.location for x in listings] == [p["store"]["address"]["city"] for p in products]
    assert [x.listing_id for x in listings] == [p["id"] for p in products]
    # The capture kept no meta: a full page of 50 means another may follow.
    assert page.has_more

    first = listings[0]
    assert first.listing_id == "ekxrsm"
    assert first.price_idr == 135_000
    assert first.url.startswith("https://www.bukalapak.com/p/handphone/aksesoris-handphone/")
    assert first.seller_id == "39419897"
    assert first.seller_name == "LA LM FOREVER"
    assert first.seller_url == "https://www.bukalapak.com/u/tezar_vibryawan"
    assert first.category == "Handphone / Aksesoris Handphone / Aksesoris Lainnya"
    assert first.rating == pytest.approx(4.8)
    assert first.sold_count == 18
    assert len(first.image_urls) == 5
    assert all("/large/" in u for u in first.image_urls)
    assert first.posted_at == "2018-02-03T08:57:26Z"
    assert clean_text(first.description).startswith(
        "Remax Car Holder Smartphone Suction Cup\nWarna : Random tergantung stok")

    used = [x for x in listings if x.condition == "Bekas"]
    assert [x.title for x in used] == ["Sony Xperia XZ Seken Original"]
    assert sum(x.condition == "Baru" for x in listings) == 49
    imported = [x for x in listings if x.imported]
    assert len(imported) == 9
    assert all(x.imported is True for x in imported)
    assert all(x.imported is False for x in listings if x not in imported)
    # No product without reviews gets a rating of 0; descriptions are text, not HTML.
    assert all(x.rating is None for x, p in zip(listings, products, strict=False)
               if p["rating"]["user_count"] == 0)
    assert not any("<br" in x.description or "<p>" in x.description for x in listings)


def test_replica_products_parse_into_the_offer_they_show():
    catalogue = build_catalogue()
    offers = search(catalogue, "balpres")[:60]
    for offer in offers:
        listing = listing_from_product(replica_bukalapak.product(offer), "balpres")
        assert listing.title == offer.title
        assert listing.price_idr == offer.price_idr
        assert listing.condition == offer.condition
        assert listing.imported is offer.imported
        assert listing.description == offer.description
        assert listing.location == offer.city
        assert listing.seller_name == offer.seller_name
        assert listing.sold_count == offer.sold_count
        assert int(listing.listing_id, 36) == offer.offer_id
    assert {o.condition for o in offers} == {"Baru", "Bekas"}
    assert {o.imported for o in offers} == {True, False}


def test_paging_follows_meta_then_page_fullness():
    product = {"id": "a1", "name": "Kaos", "url": "https://www.bukalapak.com/p/x/a1-jual-kaos"}
    full, short = [product] * 50, [product] * 7
    assert parse_search_body({"data": full, "meta": {"total_pages": 3}}, "k", page=2).has_more
    assert not parse_search_body({"data": full, "meta": {"total_pages": 2}}, "k", page=2).has_more
    assert not parse_search_body({"data": full, "meta": {"total": 100}}, "k", page=2).has_more
    assert parse_search_body({"data": full, "meta": {"total": 101}}, "k", page=2).has_more
    assert not parse_search_body({"data": short}, "k", page=1).has_more
    assert not parse_search_body({"data": [], "meta": {"total_pages": 9}}, "k", page=1).has_more


@pytest.mark.parametrize(("status", "body", "cf_mitigated"), [
    (401, b'{"errors":[{"code":10100,"message":"Akses token tidak valid"}]}', ""),
    (403, b'{"errors":[{"code":10003}],"meta":{"http_status":403}}', ""),
    (403, replica_bukalapak.CHALLENGE_PAGE.encode(), ""),
    (503, b"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>", ""),
    (403, b"", "challenge"),
])
def test_blocks_are_recognised(status, body, cf_mitigated):
    with pytest.raises(BlockedError):
        raise_if_blocked(status, body, cf_mitigated)


def test_a_result_is_not_a_block():
    raise_if_blocked(200, b'{"data": [], "meta": {"total": 0}}')


@pytest.mark.parametrize("body", [
    [],
    {"errors": [{"code": 10000, "message": "Parameter tidak valid"}]},
    {"meta": {"total": 3}},
    {"data": "not a list"},
    "<html>maintenance</html>",
])
def test_other_shapes_are_refused_not_read_as_no_results(body):
    with pytest.raises(ResponseShapeError):
        parse_search_body(body, "balpres")


def test_token_exchange_body_and_its_failures_never_quote_the_token():
    body = b'{"access_token":"abc","expires_at":1700000000}'
    assert access_token_from(body) == ("abc", 1700000000)
    for body in (b'{"token":"s3cr3t-value"}', b'{"access_token":""}',
                 b"<html>s3cr3t-value</html>", b'["s3cr3t-value"]'):
        with pytest.raises(ResponseShapeError) as error:
            access_token_from(body)
        assert "s3cr3t" not in str(error.value)


def test_description_html_becomes_text():
    html = ("<p>Ready <b>Stok</b><br>Warna &amp; ukuran</p>"
            "<ul><li>Hitam</li><li>&lt;XL&gt;</li></ul>")
    assert description_text(html) == "Ready Stok\nWarna & ukuran\nHitam\n<XL>"
    assert description_text("") is None
    assert description_text(None) is None


def test_search_query_pages_by_offset_and_quotes_keywords():
    query = search_query("baju 'bekas'&x=1", page=3)
    assert query == "keywords=baju+%27bekas%27%26x%3D1&limit=50&offset=100&page=3&facet=true"


def test_an_expiring_token_is_renewed_before_the_next_page():
    spider = BukalapakSpider(keywords="balpres")
    spider.access_token, spider.token_expires_at = "old", int(time.time()) + 3600
    request = spider.page_request("balpres", 3)
    assert request.url.startswith(SEARCH_URL)
    assert request.headers["Authorization"] == b"Bearer old"
    spider.token_expires_at = int(time.time()) + 10
    exchange = spider.page_request("balpres", 3)
    assert exchange.url == TOKEN_URL
    assert exchange.meta[Meta.CREDENTIALS] is True
    answer = TextResponse(TOKEN_URL, body=b'{"access_token": "new", "expires_at": 9999999999}',
                          encoding="utf-8", request=exchange)
    (renewed,) = exchange.callback(answer, **exchange.cb_kwargs)
    assert "offset=100&page=3" in renewed.url
    assert renewed.headers["Authorization"] == b"Bearer new"
    assert renewed.cb_kwargs == {"keyword": "balpres", "page": 3}


# -- the replica's token gate ---------------------------------------------------------


def _fetch(url, method="GET", headers=None):
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_replica_search_requires_a_token_it_issued(replica):
    search_url = f"{replica.url}/api.bukalapak.com/multistrategy-products?{search_query('bal', 1)}"
    status, body = _fetch(search_url)
    assert status == 401
    with pytest.raises(BlockedError):
        raise_if_blocked(status, body)
    assert _fetch(search_url, headers={"Authorization": "Bearer not-issued-here"})[0] == 401
    token_url = f"{replica.url}/accounts.bukalapak.com/auth_proxies/request_token"
    status, body = _fetch(token_url, "POST")
    token, expires_at = access_token_from(body)
    assert status == 200
    assert expires_at
    assert token in replica_bukalapak.issued_tokens()
    status, body = _fetch(search_url, headers={"Authorization": f"Bearer {token}"})
    assert status == 200
    assert len(json.loads(body)["data"]) == 50
    assert _fetch(f"{replica.url}/api.bukalapak.com/auth_proxies/request_token", "POST")[0] == 404


# -- the spider, crawling the replica -------------------------------------------------


_tokens_before: set[str] = set()


def _remember_tokens(folder):
    """Tokens the replica issued before the crawl: the crawl's own are the ones after."""
    _tokens_before.update(replica_bukalapak.issued_tokens())
    return []


crawled = crawled_db("bukalapak", "-a", f"keywords={','.join((*KEYWORDS, '__block__'))}",
                     "-a", "max_pages=12", before=_remember_tokens)


def test_scrapy_list_shows_bukalapak():
    result = run_command("scrapy", "list")
    assert result.returncode == 0, result.stderr
    assert "bukalapak" in result.stdout.split()


def test_pages_every_keyword_to_its_last_page_of_50(crawled):
    conn = crawled.conn
    catalogue = build_catalogue()
    for keyword in KEYWORDS:
        expected = search(catalogue, keyword)
        ids = [r["listing_id"] for r in conn.execute(
            "SELECT listing_id FROM observations WHERE keyword = ?", [keyword])]
        assert sorted(ids) == sorted(replica_bukalapak.product(o)["id"] for o in expected)
        per_page = [r[0] for r in conn.execute(
            "SELECT COUNT(*) FROM observations WHERE keyword = ? GROUP BY capture_id "
            "ORDER BY capture_id", [keyword])]
        pages = math.ceil(len(expected) / 50)
        assert per_page == [50] * (pages - 1) + [len(expected) - 50 * (pages - 1)]


def test_captures_keep_real_urls_and_withhold_the_token_exchange(crawled, replica):
    conn = crawled.conn
    rows = conn.execute("SELECT c.*, b.body FROM captures c "
                        "JOIN capture_bodies b ON b.sha256 = c.body_sha256").fetchall()
    urls = {r["url"] for r in rows}
    assert ("https://api.bukalapak.com/multistrategy-products?keywords=balpres&limit=50&offset=0"
            "&page=1&facet=true") in urls
    assert not any("127.0.0.1" in url for url in urls)
    assert {r["replica"] for r in rows} == {replica.url}
    exchange = [r for r in rows if r["url"].endswith("/auth_proxies/request_token")]
    assert len(exchange) == 1
    assert exchange[0]["method"] == "POST"
    assert exchange[0]["status"] == 200
    assert zlib.decompress(exchange[0]["body"]) == REDACTED_BODY
    listing_urls = [r["url"] for r in conn.execute("SELECT url FROM observations")]
    assert all(url.startswith("https://www.bukalapak.com/p/") for url in listing_urls)


def test_condition_imported_and_description_reach_the_observations(crawled):
    conn = crawled.conn
    offers = {replica_bukalapak.product(o)["id"]: o for o in build_catalogue()}
    rows = conn.execute("SELECT * FROM observations").fetchall()
    for row in rows:
        offer = offers[row["listing_id"]]
        assert row["condition"] == offer.condition
        assert row["imported"] == int(offer.imported)
        assert row["description"] == clean_text(offer.description)
        assert row["location"]
        assert row["price_idr"] == offer.price_idr
    assert {r["condition"] for r in rows} == {"Baru", "Bekas"}
    assert {r["imported"] for r in rows} == {0, 1}
    # The flagger used what the platform states.
    reasons = " ".join(r[0] for r in conn.execute("SELECT reasons FROM flags"))
    assert "signal:platform_used_imported" in reasons


def test_the_token_appears_nowhere_in_the_evidence_or_the_log(crawled):
    conn, log = crawled.conn, crawled.log
    issued = [t for t in replica_bukalapak.issued_tokens() if t not in _tokens_before]
    assert len(issued) == 1  # one exchange, and the 200 search pages prove it was used
    token = issued[0]
    assert token not in log
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    searched = 0
    for table in tables:
        for row in conn.execute(f'SELECT * FROM "{table}"'):
            for stored in row:
                value = stored
                if isinstance(stored, bytes):
                    raw = zlib.decompress(stored) if table == "capture_bodies" else stored
                    value = raw.decode("utf-8", "replace")
                assert token not in str(value), f"token found in {table}"
                searched += 1
    assert searched > 10_000
    headers = " ".join(r[0] for r in conn.execute("SELECT request_headers FROM captures"))
    assert "authorization" not in headers.lower()
    assert "bearer" not in headers.lower()


def test_a_block_is_a_fault_with_its_capture(crawled):
    conn, log = crawled.conn, crawled.log
    faults = conn.execute("SELECT * FROM faults").fetchall()
    assert [f["kind"] for f in faults] == ["blocked"]
    capture = conn.execute("SELECT c.*, b.body FROM captures c JOIN capture_bodies b "
                           "ON b.sha256 = c.body_sha256 WHERE c.id = ?",
                           [faults[0]["capture_id"]]).fetchone()
    assert capture["status"] == 403
    assert "keywords=__block__" in capture["url"]
    assert b"Just a moment..." in zlib.decompress(capture["body"])
    assert "blocked on GET https://api.bukalapak.com/multistrategy-products?keywords=__block__" \
        in log
    blocked = conn.execute("SELECT COUNT(*) FROM observations WHERE keyword = '__block__'")
    assert blocked.fetchone()[0] == 0


@pytest.mark.crawl
def test_a_failed_token_exchange_is_a_clear_error_and_searches_nothing(tmp_path):
    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    db = tmp_path / "evidence.db"
    result = run_command(
        "scrapy", "crawl", "bukalapak", "-a", "keywords=balpres", "-s", f"THRIFTWATCH_DB={db}",
        "-s", f"THRIFTWATCH_REPLICA=http://127.0.0.1:{port}", "-s", "RETRY_ENABLED=False",
        "-s", "ROBOTSTXT_OBEY=False",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert ("ERROR: token_error on POST https://accounts.bukalapak.com/auth_proxies/request_token:"
            " Bukalapak token exchange failed, no search made") in result.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT kind FROM faults").fetchall() == [("token_error",)]
    assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 0
    conn.close()
