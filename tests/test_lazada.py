"""Lazada: the catalog-ajax parser over replica bodies and anti-bot answers, and a real crawl.

The corpus holds no real Lazada capture, so the parser is checked against the replica's
body (built from public knowledge of the shape) and hand-written punish/captcha answers.
"""

import json
import urllib.error
import urllib.request

import pytest

from crawler.replica import lazada as replica_lazada
from crawler.replica.catalogue import build_catalogue, search
from spiders.base import BlockedError, ResponseShapeError
from spiders.lazada import listing_from_item, parse_search_response, product_url, search_url
from tests.helpers import crawled_db

BLOCKED_KEYWORD = "__block__balpres"


def _body(keyword="balpres", page=1):
    offers = search(build_catalogue(), keyword)
    chunk = offers[(page - 1) * 40:page * 40]
    response = replica_lazada.search_response(keyword, chunk, page, len(offers))
    return offers, json.dumps(response, ensure_ascii=False).encode()


def test_replica_body_parses_back_to_the_catalogue_offers():
    offers, body = _body()
    page = parse_search_response(body, "balpres", page=1)
    assert len(page.listings) == 40
    assert page.has_more
    for listing, offer in zip(page.listings, offers, strict=False):
        assert listing.title == offer.title
        assert listing.price_idr == offer.price_idr
        assert listing.price_text == "Rp" + f"{offer.price_idr:,}".replace(",", ".")
        assert listing.location == offer.city
        assert listing.seller_name == offer.seller_name
        assert listing.url.startswith("https://www.lazada.co.id/products/")
        assert listing.url.endswith(
            f"-i{listing.listing_id}-s{int(listing.listing_id) * 2 + 1}.html")
    assert sum(listing.sold_text is not None for listing in page.listings) > 20


def test_last_page_stops_paging():
    last_page = len(search(build_catalogue(), "balpres")) // 40 + 1  # 408 results: 11 pages
    _, body = _body(page=last_page)
    last = parse_search_response(body, "balpres", page=last_page)
    assert 0 < len(last.listings) < 40
    assert not last.has_more
    empty = {"mods": {"listItems": []}, "mainInfo": {"totalResults": "0", "pageSize": "40"}}
    assert not parse_search_response(json.dumps(empty).encode(), "k").has_more


def test_listing_fields_from_one_item():
    listing = listing_from_item({
        "name": "Bal Kemeja Jepang", "itemId": "7512345678",
        "itemUrl": "//www.lazada.co.id/products/bal-kemeja-i7512345678-s1.html?search=1",
        "price": "1500000.00", "priceShow": "Rp1.500.000", "location": "Jakarta Utara",
        "sellerName": "Toko A", "sellerId": 100123, "itemSoldCntShow": "1.2K sold",
        "ratingScore": "4.666666666666667", "image": "//img.lazcdn.com/g/p/a.jpg",
    }, "bal")
    assert listing.url == "https://www.lazada.co.id/products/bal-kemeja-i7512345678-s1.html"
    assert listing.price_idr == 1_500_000
    assert listing.seller_id == "100123"
    assert listing.sold_text == "1.2K sold"
    assert listing.rating == pytest.approx(4.667, abs=1e-3)
    assert listing.image_urls == ["https://img.lazcdn.com/g/p/a.jpg"]
    unrated = listing_from_item({"name": "x", "itemId": 1, "ratingScore": "0", "price": "?"}, "k")
    assert unrated.rating is None
    assert unrated.price_idr is None


@pytest.mark.parametrize("body", [
    json.dumps(replica_lazada.punish_answer(BLOCKED_KEYWORD), ensure_ascii=False).encode(),
    b'{"ret":["FAIL_SYS_USER_VALIDATE","RGV587_ERROR::SM"],"data":{"url":"x"}}',
    (b"<!DOCTYPE html><html><head><title>Captcha Interception</title></head><body>"
     b"<div id=nc_1_wrapper></div></body></html>"),
    (b"<html><script>window.location.href='https://www.lazada.co.id/catalog/_____tmd_____/punish"
     b"?x5secdata=abc&x5step=1'</script></html>"),
])
def test_punish_and_captcha_answers_are_blocks(body):
    with pytest.raises(BlockedError):
        parse_search_response(body, "balpres")


@pytest.mark.parametrize("body", [
    b"[]", b'{"mods": {"listItems": []}}',
    b'{"mods": {"listItems": "x"}, "mainInfo": {"totalResults": "1"}}',
    b'{"mainInfo": {"totalResults": "10"}}',
    b"<html><title>Lazada Indonesia</title><body>Halaman tidak ditemukan</body></html>",
])
def test_other_shapes_are_refused_not_read_as_no_results(body):
    with pytest.raises(ResponseShapeError):
        parse_search_response(body, "balpres")


def test_a_product_named_like_a_block_marker_is_still_a_result():
    _, body = _body()
    data = json.loads(body)
    data["mods"]["listItems"][0]["name"] = "Kaos The Punisher _____tmd_____/punish x5secdata"
    page = parse_search_response(json.dumps(data).encode(), "balpres")
    assert page.listings[0].title.startswith("Kaos The Punisher")


def test_item_without_identity_is_refused():
    with pytest.raises(ResponseShapeError):
        listing_from_item({"name": "no itemId"}, "k")


def test_search_url_and_product_url():
    assert search_url("bal 'bekas'&x", 2) == \
        "https://www.lazada.co.id/catalog/?ajax=true&page=2&q=bal+%27bekas%27%26x"
    assert product_url("//www.lazada.co.id/products/a-i1-s2.html?search=1#x") == \
        "https://www.lazada.co.id/products/a-i1-s2.html"


def test_replica_answers_only_the_ajax_catalog(replica):
    for path in ("/www.lazada.co.id/catalog/?q=balpres", "/www.lazada.co.id/products/a.html"):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(replica.url + path)
        assert error.value.code == 404


crawled = crawled_db("lazada", "-a", f"keywords=balpres,{BLOCKED_KEYWORD}", "-a", "max_pages=2")

def test_crawl_pages_to_max_pages_with_real_urls(crawled):
    counts = dict(crawled.conn.execute(
        "SELECT keyword, COUNT(*) FROM observations GROUP BY keyword").fetchall())
    assert counts == {"balpres": 2 * 40}
    captured = sorted(r[0] for r in crawled.conn.execute(
        "SELECT url FROM captures WHERE url LIKE '%q=balpres' AND status = 200"))
    assert captured == [search_url("balpres", 1), search_url("balpres", 2)]
    urls = [r[0] for r in crawled.conn.execute("SELECT url FROM captures")]
    assert not any("127.0.0.1" in url for url in urls)


def test_crawled_listings_carry_normalised_catalogue_values(crawled):
    offers = {str(replica_lazada.ITEM_ID_OFFSET + o.offer_id): o
              for o in search(build_catalogue(), "balpres")[:80]}
    rows = crawled.conn.execute("SELECT * FROM observations").fetchall()
    assert {r["listing_id"] for r in rows} == set(offers)
    for row in rows:
        offer = offers[row["listing_id"]]
        assert row["price_idr"] == offer.price_idr
        assert row["location"] == offer.city
        assert row["url"].startswith("https://www.lazada.co.id/products/")
        if offer.sold_count:  # "1.2K sold" is the hundred below the count
            rounded = offer.sold_count if offer.sold_count < 1000 else offer.sold_count // 100 * 100
            assert row["sold_count"] == rounded


def test_a_blocked_keyword_is_recorded_as_a_block_with_its_capture(crawled):
    faults = crawled.conn.execute("SELECT * FROM faults").fetchall()
    assert [(f["kind"], f["url"]) for f in faults] == [("blocked", search_url(BLOCKED_KEYWORD, 1))]
    capture = crawled.conn.execute("SELECT * FROM captures WHERE id = ?",
                              [faults[0]["capture_id"]]).fetchone()
    assert capture["url"] == faults[0]["url"]
    assert "FAIL_SYS_USER_VALIDATE" in faults[0]["detail"]
    assert crawled.conn.execute("SELECT COUNT(*) FROM observations WHERE keyword = ?",
                           [BLOCKED_KEYWORD]).fetchone()[0] == 0
    stats = json.loads(crawled.conn.execute("SELECT stats FROM runs").fetchone()[0])
    assert stats["thriftwatch/blocks/lazada"] == 1
    assert stats["thriftwatch/pages/lazada"] == 2
