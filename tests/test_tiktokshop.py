"""TikTok Shop: a rendered platform, crawled in real Chromium through replica mode."""

import zlib

import pytest

from spiders.base import BlockedError, ResponseShapeError
from spiders.tiktokshop import parse_search_html
from tests.helpers import crawl_replica, crawled_db, open_db

PAGE = "https://shop-id.tokopedia.com/search?q=balpres&page=1"
DRAWN = """<html><body><div id="results" data-state="loaded" data-has-more="true">
<div class="product-card" data-product-id="1729000001">
  <img src="https://p16-oec-sg.ibyteimg.com/a.webp">\
<a class="title" href="/view/product/1729000001">
  Balpres Jaket Korea isi 100 pcs</a><span class="price">Rp8.500.000</span>
  <span class="sold">1,2rb terjual</span>
  <a class="seller" href="/shop/77" data-seller-id="77">Gudang Bal Medan</a></div>
</div></body></html>"""


def test_drawn_cards_become_listings():
    page = parse_search_html(DRAWN, PAGE, "balpres")
    [listing] = page.listings
    assert page.has_more
    assert listing.listing_id == "1729000001"
    assert listing.url == "https://shop-id.tokopedia.com/view/product/1729000001"
    assert "Balpres Jaket Korea" in listing.title
    assert listing.price_text == "Rp8.500.000"
    assert listing.sold_text == "1,2rb terjual"
    assert listing.seller_id == "77"
    assert listing.seller_url == "https://shop-id.tokopedia.com/shop/77"


def test_captcha_is_a_block_and_an_undrawn_page_is_refused():
    with pytest.raises(BlockedError):
        parse_search_html('<div id="captcha_container">Verifikasi</div>', PAGE, "k")
    with pytest.raises(ResponseShapeError):
        parse_search_html('<div id="results"></div>', PAGE, "k")  # scripts never finished


crawled = crawled_db("tiktokshop", "-a", "keywords=balpres,__block__balpres",
                     "-a", "max_pages=2", browser=True)

def test_rendered_pages_yield_listings_with_their_screenshot(crawled):
    conn = crawled.conn
    rows = conn.execute("SELECT * FROM observations").fetchall()
    assert len(rows) == 40
    assert {r["keyword"] for r in rows} == {"balpres"}
    assert all(r["price_idr"] and r["url"].startswith("https://shop-id.tokopedia.com/view/product/")
               for r in rows)
    shots = conn.execute("""SELECT c.url, c.body_sha256, b.body FROM captures c
                            JOIN capture_bodies b ON b.sha256 = c.body_sha256
                            WHERE c.kind = 'screenshot'""").fetchall()
    assert len(shots) == 3  # two result pages and the captcha wall
    for shot in shots:
        assert zlib.decompress(shot["body"]).startswith(b"\x89PNG\r\n\x1a\n")
        assert shot["url"].startswith("https://shop-id.tokopedia.com/search?")
    linked = {r["screenshot_sha256"] for r in rows}
    assert len(linked) == 2
    assert linked <= {s["body_sha256"] for s in shots}


def test_rendered_html_is_evidence_and_the_real_url_is_kept(crawled, replica):
    conn = crawled.conn
    pages = conn.execute("SELECT url, replica FROM captures WHERE kind = 'rendered'").fetchall()
    assert len(pages) == 3
    assert all(p["replica"] == replica.url and "127.0.0.1" not in p["url"] for p in pages)


def test_captcha_wall_is_recorded_as_a_block_with_its_capture(crawled):
    conn, log = crawled.conn, crawled.log
    [fault] = conn.execute("SELECT * FROM faults").fetchall()
    assert fault["kind"] == "blocked"
    assert "__block__" in fault["url"]
    capture = conn.execute("SELECT kind FROM captures WHERE id = ?", (fault["capture_id"],))
    assert capture.fetchone()["kind"] == "rendered"
    assert "'playwright/page_count/closed': 3" in log  # every page closed, none leaked


@pytest.mark.crawl
@pytest.mark.browser
def test_a_rendered_page_over_the_size_cap_is_refused_as_any_download_is(replica, tmp_path):
    """DOWNLOAD_MAXSIZE holds for pages drawn in Chromium too (scrapy-playwright ignores
    it): a results page of 40 MB is a download_error like a plain download over the cap,
    never stored as evidence or parsed."""
    db = tmp_path / "huge.db"
    replica.plant("shop-id.tokopedia.com", "q=hugescripttest",
                  '<html><body><div id="results" data-state="loaded" data-has-more="false">'
                  f'<script type="text/plain">{"x" * 40_000_000}</script></div></body></html>',
                  content_type="text/html")
    crawl_replica(replica, db, "tiktokshop", "-a", "keywords=hugescripttest", "-a", "max_pages=1")
    conn = open_db(db)
    assert (conn.execute("SELECT MAX(size) FROM capture_bodies").fetchone()[0] or 0) < 32 * 2**20
    [fault] = conn.execute("SELECT kind, detail FROM faults").fetchall()
    assert fault["kind"] == "download_error"
    assert "DownloadCancelledError" in fault["detail"]
