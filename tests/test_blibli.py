"""Blibli: the parser on both real captures and on replica bodies, and the spider run by
Scrapy for real through replica mode over loopback HTTP."""

import json
import math
import zlib

import pytest
from scrapy.http import TextResponse

from crawler.normalise import normalise_city
from crawler.replica import blibli as replica_blibli
from crawler.replica.catalogue import build_catalogue, search
from spiders.base import BlockedError, ResponseShapeError
from spiders.blibli import (
    BlibliSpider,
    canonical_url,
    items_per_page,
    listing_from_product,
    parse_search_body,
    raise_if_blocked,
    search_query,
)
from tests.helpers import crawled_db, run_command

KEYWORDS = ("balpres", "karungan")


def _kaos_2020(corpus):
    """The 2020 capture is an axios response object: the HTTP body is its ``data``."""
    return json.loads((corpus / "blibli-search-kaos-2020/search_products_kaos.json")
                      .read_text("utf-8"))


def _samsung_2024(corpus):
    return json.loads((corpus / "blibli-search-samsung-2024/search_products_samsung_page1.json")
                      .read_text("utf-8"))


# -- parser ---------------------------------------------------------------------------


def _assert_listings_match(listings, products):
    assert len(listings) == len(products)
    assert [x.title for x in listings] == [p["name"] for p in products]
    assert [x.price_idr for x in listings] == [int(p["price"]["minPrice"]) for p in products]
    assert [x.price_text for x in listings] == [p["price"]["priceDisplay"] for p in products]
    assert [x.location for x in listings] == [p["location"] for p in products]
    assert [x.listing_id for x in listings] == [p["sku"] for p in products]
    assert all(x.url.startswith("https://www.blibli.com/p/") for x in listings)
    assert all("sid=" not in x.url and "source=" not in x.url for x in listings)


def test_parses_the_2020_kaos_capture(corpus):
    body = _kaos_2020(corpus)["data"]
    products = body["data"]["products"]
    page = parse_search_body(body, "kaos")
    _assert_listings_match(page.listings, products)
    assert len(page.listings) == 32
    assert page.has_more
    assert items_per_page(body) == 32
    first = page.listings[0]
    assert first.listing_id == "UMB-60239-00003"
    assert first.seller_id == "UMB-60239"
    assert first.url == ("https://www.blibli.com/p/blucrat-kaos-apparel-script-kaos-distro-pria/"
                         "pc--MTA-7071274?ds=UMB-60239-00003-00009")
    assert first.category == "Galeri Indonesia"
    assert first.location == "Bandung"
    assert first.rating is None
    assert first.image_urls == products[0]["images"][:1]
    ranged = next(x for x in page.listings if x.listing_id == "UMA-60213-00005")
    assert ranged.price_text == "Rp 15.500 - Rp 16.500"
    assert ranged.price_idr == 15_500


def test_the_2020_file_itself_is_an_envelope_not_a_search_body(corpus):
    with pytest.raises(ResponseShapeError):
        parse_search_body(_kaos_2020(corpus), "kaos")


def test_parses_the_2024_samsung_capture(corpus):
    body = _samsung_2024(corpus)
    products = body["data"]["products"]
    page = parse_search_body(body, "samsung")
    _assert_listings_match(page.listings, products)
    assert len(page.listings) == 40
    assert page.has_more
    assert items_per_page(body) == 40
    first = page.listings[0]
    assert first.seller_name == "Samsung Official Store"
    assert first.seller_id == "SAO-60034"
    assert first.location == "Kota Jakarta Timur"
    assert normalise_city(first.location) == "Jakarta Timur"
    assert first.sold_text == "117"
    assert first.rating == pytest.approx(4.9)
    assert first.category == "Handphone & Tablet / Handphone / Android"
    thousands = next(x for x in page.listings if x.listing_id == "SAO-60034-02095")
    assert thousands.sold_text == "1,6 rb"
    assert {x.location for x in page.listings} >= {"Kab. Sidoarjo", "Kota Bekasi"}


def test_replica_products_parse_into_the_offer_they_show():
    catalogue = build_catalogue()
    offers = search(catalogue, "balpres")[:60]
    for offer in offers:
        product = replica_blibli.product(offer, catalogue, "sid")
        listing = listing_from_product(product, "balpres")
        assert listing.title == offer.title
        assert listing.price_idr == offer.price_idr
        assert normalise_city(listing.location) == offer.city
        assert listing.seller_name == offer.seller_name
        assert listing.url.startswith("https://www.blibli.com/p/")
        assert "?ds=" in listing.url
    skus = {replica_blibli.product(o, catalogue, "sid")["sku"] for o in catalogue}
    assert len(skus) == len(catalogue)


def _body(products, page, total_page):
    return {"code": 200, "status": "OK",
            "data": {"products": products,
                     "paging": {"page": page, "total_page": total_page, "item_per_page": 40}}}


def test_paging_stops_at_the_last_page_or_an_empty_one():
    product = {"id": "A-1", "sku": "A-1", "name": "Kaos", "url": "/p/kaos/ps--A-1"}
    assert parse_search_body(_body([product], 2, 3), "k").has_more
    assert not parse_search_body(_body([product], 3, 3), "k").has_more
    assert not parse_search_body(_body([], 1, 3), "k").has_more


@pytest.mark.parametrize("body", [
    {"code": 429, "status": "TOO_MANY_REQUESTS", "data": None},
    {"code": 403, "status": "FORBIDDEN", "errors": {"access": ["denied"]}},
    {"code": 200, "status": "ERROR", "data": None},
])
def test_refusals_in_json_are_blocks(body):
    with pytest.raises(BlockedError):
        parse_search_body(body, "balpres")


def test_an_html_page_is_a_block():
    with pytest.raises(BlockedError, match="Access Denied"):
        raise_if_blocked(replica_blibli.ACCESS_DENIED_PAGE.encode())
    raise_if_blocked(json.dumps(_body([], 1, 1)).encode())


@pytest.mark.parametrize("body", [
    [],
    {"data": {"products": []}},
    {"code": 200, "status": "OK", "data": {"products": []}},
    {"code": 200, "status": "OK",
     "data": {"products": "x", "paging": {"page": 1, "total_page": 1}}},
])
def test_other_shapes_are_refused_not_read_as_no_results(body):
    with pytest.raises(ResponseShapeError):
        parse_search_body(body, "balpres")


def test_canonical_url_keeps_the_offer_and_drops_search_tracking():
    assert canonical_url("/p/kaos/ps--A-1?ds=A-1-00001&source=SEARCH&sid=abc&pid1=A-1#x") == \
        "https://www.blibli.com/p/kaos/ps--A-1?ds=A-1-00001"
    assert canonical_url("https://www.blibli.com/p/kaos/ps--A-1") == \
        "https://www.blibli.com/p/kaos/ps--A-1"


def test_start_follows_the_page_size_the_server_states(corpus):
    spider = BlibliSpider(keywords="kaos")
    assert "page=2&start=40&" in spider.search_request("kaos", 2).url
    body = json.dumps(_kaos_2020(corpus)["data"]).encode()
    response = TextResponse("https://www.blibli.com/backend/search/products?page=1",
                            body=body, encoding="utf-8")
    assert len(spider.parse_page(response, "kaos", 1).listings) == 32
    assert "page=2&start=32&" in spider.search_request("kaos", 2).url


def test_search_query_quotes_keywords():
    assert search_query("kaos 'bekas'&x=1", page=3).startswith(
        "page=3&start=80&searchTerm=kaos+%27bekas%27%26x%3D1&intent=true")


# -- the spider, crawling the replica -------------------------------------------------


crawled = crawled_db("blibli", "-a", f"keywords={','.join(KEYWORDS)},__block__",
                     "-a", "max_pages=12")

def test_scrapy_list_shows_blibli():
    result = run_command("scrapy", "list")
    assert result.returncode == 0, result.stderr
    assert "blibli" in result.stdout.split()


def test_pages_every_keyword_to_its_last_page_of_40(crawled):
    conn = crawled.conn
    catalogue = build_catalogue()
    for keyword in KEYWORDS:
        expected = search(catalogue, keyword)
        ids = [r["listing_id"] for r in conn.execute(
            "SELECT listing_id FROM observations WHERE keyword = ?", [keyword])]
        assert sorted(ids) == sorted(replica_blibli.product(o, catalogue, "")["sku"]
                                     for o in expected)
        per_page = [r[0] for r in conn.execute(
            "SELECT COUNT(*) FROM observations WHERE keyword = ? GROUP BY capture_id "
            "ORDER BY capture_id", [keyword])]
        pages = math.ceil(len(expected) / 40)
        assert per_page == [40] * (pages - 1) + [len(expected) - 40 * (pages - 1)]


def test_evidence_keeps_real_urls_and_normalised_cities(crawled, replica):
    conn = crawled.conn
    urls = {r["url"] for r in conn.execute("SELECT url FROM captures")}
    assert ("https://www.blibli.com/backend/search/products?page=2&start=40&searchTerm=balpres"
            "&intent=true&merchantSearch=true&multiCategory=true&channelId=web"
            "&showFacet=false") in urls
    assert not any("127.0.0.1" in url for url in urls)
    assert {r[0] for r in conn.execute("SELECT replica FROM captures")} == {replica.url}
    catalogue = build_catalogue()
    offers = {replica_blibli.product(o, catalogue, "")["sku"]: o for o in catalogue}
    rows = conn.execute("SELECT * FROM observations").fetchall()
    assert rows
    for row in rows:
        offer = offers[row["listing_id"]]
        assert row["url"].startswith("https://www.blibli.com/p/")
        assert row["location"] == offer.city
        assert row["price_idr"] == offer.price_idr
        assert row["seller_name"] == offer.seller_name
    assert sum(r["sold_count"] is not None for r in rows) > len(rows) // 2


def test_a_block_is_a_fault_with_its_capture(crawled):
    conn, log = crawled.conn, crawled.log
    faults = conn.execute("SELECT * FROM faults").fetchall()
    assert [f["kind"] for f in faults] == ["blocked"]
    capture = conn.execute("SELECT c.*, b.body FROM captures c JOIN capture_bodies b "
                           "ON b.sha256 = c.body_sha256 WHERE c.id = ?",
                           [faults[0]["capture_id"]]).fetchone()
    assert capture["status"] == 403
    assert "searchTerm=__block__" in capture["url"]
    assert b"Access Denied" in zlib.decompress(capture["body"])
    assert "blocked on GET https://www.blibli.com/backend/search/products?" in log
    blocked = conn.execute("SELECT COUNT(*) FROM observations WHERE keyword = '__block__'")
    assert blocked.fetchone()[0] == 0


def test_infinite_numbers_are_refused_not_raised():
    """JSON numbers like 1e999 decode to infinity: a price is left unset, paging is a shape
    error (never an OverflowError that would end the crawl)."""
    body = json.loads('{"code": 200, "status": "OK", "data": {"products": [{"id": "1", '
                      '"name": "Balpres", "url": "https://www.blibli.com/p/x/ps--1", '
                      '"price": {"minPrice": 1e999}}], "paging": {"page": 1, '
                      '"total_page": 2, "item_per_page": 1e999}}}')
    [listing] = parse_search_body(body, "balpres").listings
    assert listing.price_idr is None
    assert items_per_page(body) is None
    body["data"]["paging"]["total_page"] = math.inf
    with pytest.raises(ResponseShapeError):
        parse_search_body(body, "balpres")
