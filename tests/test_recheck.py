"""Recheck: revisit crawled listings on the replica after some were taken down, and never
fetch what a seller stored instead of a listing URL.

The replica's live listing pages carry takedown- and block-like seller text in about one
description in three (crawler/replica/listing_pages.toml), so every recheck here also shows
that seller text does not change a verdict. How pages are classified: test_page_status.py.
"""

import html
import json
import sqlite3
from urllib.parse import urlsplit

import pytest

from crawler.evidence.store import EvidenceStore
from crawler.replica import listing_pages
from crawler.replica.listing_pages import hostile_phrase
from tests.helpers import run_command
from tests.test_fetch_safety import CountingServer

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "--log-level", "WARNING"]


@pytest.mark.crawl
def test_recheck_records_takedowns_with_their_captures(replica, tmp_path):
    db = tmp_path / "evidence.db"
    fast = FAST
    crawl = run_command("thriftwatch", "crawl", "tokopedia", "shopee", "--keywords", "balpres",
                        "--max-pages", "1", "--db", str(db), "--replica", replica.url, *fast)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        flagged = [row[0] for row in conn.execute(
            "SELECT l.url FROM listings l JOIN flags f ON f.observation_id = l.last_observation_id "
            "WHERE f.flagged = 1 ORDER BY l.platform, l.listing_id")]
        total = conn.execute("SELECT COUNT(*) FROM listings").fetchone()[0]
    removed, blocked = flagged[:5] + flagged[-5:], flagged[5:7]
    gone, walled = flagged[7:9], flagged[9:11]  # 200 with the not-found page; a captcha wall
    for url in removed:
        replica.set_listing_state(url, "removed")
    for url in blocked:
        replica.set_listing_state(url, "blocked")
    for url in gone:
        replica.set_listing_state(url, "gone")
    for url in walled:
        replica.set_listing_state(url, "captcha")
    live = flagged[11:-5]
    # Seller text that reads like a takedown or a wall is on many of the live pages.
    assert sum(hostile_phrase(url) is not None for url in live) >= len(live) // 5

    result = run_command("thriftwatch", "recheck", "--db", str(db), "--flagged-only",
                         "--replica", replica.url, *fast)
    assert result.returncode == 0, result.stderr[-2000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts == {"run": counts["run"], "live": len(live), "removed": 12, "blocked": 4}

    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = {r["url"]: r for r in conn.execute(
            "SELECT r.*, c.status AS captured_status, c.url AS captured_url FROM rechecks r "
            "JOIN captures c ON c.id = r.capture_id")}
        still_live = conn.execute(
            "SELECT COUNT(*) FROM listings l "
            "JOIN flags f ON f.observation_id = l.last_observation_id "
            "JOIN rechecks r ON r.id = (SELECT MAX(id) FROM rechecks WHERE platform = l.platform "
            "AND listing_id = l.listing_id) WHERE f.flagged = 1 AND r.status = 'live'"
        ).fetchone()[0]
    assert len(rows) == len(flagged) < total  # --flagged-only
    assert all(rows[url]["status"] == "removed" and rows[url]["captured_status"] == 404
               for url in removed)
    assert all(rows[url]["status"] == "blocked" for url in blocked + walled)
    assert all(rows[url]["status"] == "removed" and rows[url]["captured_status"] == 200
               for url in gone)
    assert all(rows[url]["status"] == "live" for url in live)
    assert all(r["captured_url"] == url for url, r in rows.items())  # the real URL, kept
    assert still_live == len(live)
    verified = run_command("thriftwatch", "verify", "--db", str(db))
    assert verified.returncode == 0, verified.stderr


# -- stored URLs are hostile input ----------------------------------------------------------

def add_listings(db, rows):
    """Store listings (platform, listing_id, url) as a crawl would, flagged, in a run of
    their own: what a seller's listing could have put in the DB."""
    store = EvidenceStore(db)
    try:
        run = store.start_run(platform="seed", keywords=["balpres"])
        for platform, listing_id, url in rows:
            store.add_observation(run, {
                "platform": platform, "listing_id": listing_id, "url": url, "title": "Balpres",
                "keyword": "balpres", "price_idr": 1_000_000, "image_urls": [], "imported": None,
                "flagged": True, "score": 0.9, "level": "strong", "lexicon_version": "test",
                "reasons": [{"rule": "term:balpres", "matched": "balpres", "weight": 0.9}]})
        store.end_run(run, status="finished", stats={}, lexicon_version="test")
    finally:
        store.close()


def hostile_rows(port):
    return [
        ("tokopedia", "file-1", "file:///etc/hostname"),
        ("tokopedia", "file-2", "file://localhost/etc/hostname"),
        ("tokopedia", "data-1", "data:text/html,<h1>live</h1>"),
        ("tokopedia", "ftp-1", f"ftp://127.0.0.1:{port}/"),
        ("tokopedia", "admin-1", f"http://127.0.0.1:{port}/internal-admin"),
        ("tokopedia", "admin-2", f"http://2130706433:{port}/internal-admin"),
        ("tokopedia", "admin-3", f"http://0x7f.1:{port}/internal-admin"),
        ("tokopedia", "admin-4", f"http://[::1]:{port}/internal-admin"),
        ("tokopedia", "admin-5", f"http://localhost:{port}/internal-admin"),
        ("tokopedia", "meta-1", "http://169.254.169.254/latest/meta-data/"),
        ("tokopedia", "nohost-1", "http:///etc/hostname"),
        ("tokopedia", "bad-1", "http://[::1"),
        ("tokopedia", "js-1", "javascript:alert(1)"),
        ("tokopedia", "other-1", "https://shopee.co.id/product/1/2"),  # another platform's
        ("tokopedia", "lookalike-1", "https://www.tokopedia.com.evil.example/x"),
        ("nosuchplatform", "x-1", "https://www.tokopedia.com/toko/kaos-1"),
    ]


def refused_faults(db):
    with sqlite3.connect(db) as conn:
        run = conn.execute("SELECT MAX(id) FROM run_starts WHERE platform = 'recheck'"
                           ).fetchone()[0]
        faults = conn.execute("SELECT url, kind, detail FROM faults WHERE run_id = ?", [run]
                              ).fetchall()
        captures = [u for (u,) in conn.execute("SELECT url FROM captures WHERE run_id = ?",
                                               [run])]
        rechecks = conn.execute("SELECT COUNT(*) FROM rechecks WHERE run_id = ?", [run]
                                ).fetchone()[0]
    return faults, captures, rechecks


@pytest.mark.crawl
def test_a_real_recheck_refuses_every_hostile_url_and_records_it(tmp_path):
    """Outside replica mode: nothing on this machine is reached, nothing is stored as
    evidence, each refusal is a refused_url fault, and the recheck finishes."""
    server = CountingServer()
    db = tmp_path / "evidence.db"
    rows = hostile_rows(server.port)
    add_listings(db, rows)
    try:
        result = run_command("thriftwatch", "recheck", "--db", str(db), *FAST)
    finally:
        server.close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert server.connections == 0
    assert json.loads(result.stdout.strip().splitlines()[-1])["refused"] == len(rows)
    faults, captures, rechecks = refused_faults(db)
    assert captures == []  # so nothing of them reaches a WARC or bundle export either
    assert rechecks == 0
    assert {kind for _, kind, _ in faults} == {"refused_url"}
    assert len(faults) == len(rows)
    details = " ".join(detail for _, _, detail in faults)
    for _, listing_id, _ in rows:
        assert f"/{listing_id}: not fetched" in details


@pytest.mark.crawl
def test_one_bad_url_never_stops_a_recheck_on_the_replica(replica, tmp_path):
    """Hostile stored URLs among real ones; a listing page that redirects (meta refresh) to
    this machine or off the platform; a platform host that redirects off it: each is refused
    and recorded, every other listing is rechecked."""
    db = tmp_path / "evidence.db"
    crawl = run_command("thriftwatch", "crawl", "tokopedia", "shopee", "--keywords", "balpres",
                        "--max-pages", "1", "--db", str(db), "--replica", replica.url, *FAST)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        urls = [u for (u,) in conn.execute(
            "SELECT url FROM listings WHERE platform = 'tokopedia' ORDER BY listing_id")]
        total = conn.execute("SELECT COUNT(*) FROM listings").fetchone()[0]
    server = CountingServer()
    rows = hostile_rows(server.port)
    add_listings(db, rows)
    to_private, to_offsite = urls[0], urls[1]
    for url, target in ((to_private, f"http://127.0.0.1:{server.port}/internal-admin"),
                        (to_offsite, "https://offsite.example.com/landing")):
        path = url.split("://", 1)[1].split("?")[0].split("/", 1)[1]
        replica.plant("www.tokopedia.com", f"/{path}", (
            "<html><head><meta http-equiv='refresh' content='0;url=" + target + "'>"
            "</head><body></body></html>"), content_type="text/html")
    try:
        result = run_command("thriftwatch", "recheck", "--db", str(db), "--replica",
                             replica.url, *FAST)
    finally:
        server.close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert server.connections == 0
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    faults, captures, rechecks = refused_faults(db)
    assert counts["refused"] == len(rows) + 2 == len(faults)
    assert rechecks == total - 2  # every crawled listing but the two redirected away
    assert sum(counts[s] for s in ("live", "removed", "blocked") if s in counts) == total - 2
    redirected = sorted(url for url, _, detail in faults if not detail.startswith("listing "))
    assert redirected == [f"http://127.0.0.1:{server.port}/internal-admin",
                          "https://offsite.example.com/landing"], faults
    assert not [u for u in captures if "127.0.0.1" in u or "offsite" in u or "file:" in u]


@pytest.mark.crawl
def test_a_redirect_off_the_platform_is_refused_on_recheck(replica, tmp_path):
    """A real 302 (the replica's offsite fault) to another site: refused, recorded."""
    db = tmp_path / "evidence.db"
    crawl = run_command("thriftwatch", "crawl", "shopee", "--keywords", "balpres",
                        "--max-pages", "1", "--db", str(db), "--replica", replica.url, *FAST)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    replica.set_fault("shopee.co.id", "offsite", count=-1)
    try:
        result = run_command("thriftwatch", "recheck", "--db", str(db), "--replica",
                             replica.url, "--platform", "shopee", *FAST)
    finally:
        replica.set_fault("shopee.co.id", "offsite", count=0)
    assert result.returncode == 0, result.stderr[-3000:]
    faults, captures, rechecks = refused_faults(db)
    assert rechecks == 0
    assert faults
    assert all(url == "https://offsite.example.com/landing" and kind == "refused_url"
               and "not on shopee.co.id" in detail for url, kind, detail in faults)
    assert not [u for u in captures if "offsite" in u]


@pytest.mark.crawl
def test_seller_html_on_a_live_lazada_page_never_makes_it_removed_or_blocked(replica, tmp_path):
    """Lazada lets sellers write HTML in descriptions. A seller closes the description and
    plants the platform's not-found container or its anti-bot wall after it: the listing,
    whose title still shows, is recorded live; a real takedown beside it is still seen."""
    db = tmp_path / "evidence.db"
    crawl = run_command("thriftwatch", "crawl", "lazada", "--keywords", "balpres",
                        "--max-pages", "1", "--db", str(db), "--replica", replica.url, *FAST)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        flagged = conn.execute(
            "SELECT l.url, l.title FROM listings l JOIN flags f "
            "ON f.observation_id = l.last_observation_id WHERE f.flagged = 1 "
            "ORDER BY l.listing_id LIMIT 3").fetchall()
    template = listing_pages.hosts()["www.lazada.co.id"].templates["live"]
    planted = {}
    for (url, title), marker in zip(flagged, ('<div id="module_page_not_found"></div>',
                                              '<div id="baxia-punish"></div>'), strict=False):
        seller = f"isi 100 pcs, siap kirim</p></div></div>{marker}<div><div><p>"
        values = {k: html.escape(v) for k, v in {
            "title": title, "price": "Rp1.500.000", "seller": "toko", "city": "Batam",
            "url": url}.items()}
        values.update(gallery="", profile="", data="")  # no photos, profile or page scripts
        replica.plant("www.lazada.co.id", urlsplit(url).path,
                      template.format_map({**values, "description": seller}),
                      content_type="text/html")
        planted[url] = marker
    taken_down = flagged[2][0]
    replica.set_listing_state(taken_down, "gone")
    result = run_command("thriftwatch", "recheck", "--db", str(db), "--flagged-only",
                         "--replica", replica.url, *FAST)
    assert result.returncode == 0, result.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT url, status || ': ' || detail FROM rechecks"))
    for url in planted:
        assert rows[url] == "live: page has #module_product_title_1 h1"
    assert rows[taken_down] == "removed: page has #module_page_not_found"
