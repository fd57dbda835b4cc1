"""Recheck: revisit crawled listings on the replica after some were taken down."""

import json
import sqlite3

import pytest

from crawler.page_status import classify
from tests.helpers import run_command


@pytest.mark.parametrize(("status", "text", "expected"), [
    (200, "<h1>Kemeja flanel</h1>", "live"),
    (404, "", "removed"),
    (410, "", "removed"),
    (200, "<h1>Produk tidak ditemukan</h1>", "removed"),
    (200, "This listing is no longer available", "removed"),
    (403, "", "blocked"),
    (200, "<div id='captcha_container'>Verifikasi untuk melanjutkan</div>", "blocked"),
    (200, "Log in to continue", "blocked"),
    (503, "", "blocked"),
])
def test_classify_pages(status, text, expected):
    assert classify(status, text)[0] == expected


@pytest.mark.crawl
def test_recheck_records_takedowns_with_their_captures(replica, tmp_path):
    db = tmp_path / "evidence.db"
    fast = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "--log-level", "WARNING"]
    crawl = run_command("thriftwatch", "crawl", "tokopedia", "shopee", "--keywords", "balpres",
                        "--max-pages", "1", "--db", str(db), "--replica", replica.url, *fast)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        flagged = [row[0] for row in conn.execute(
            "SELECT l.url FROM listings l JOIN flags f ON f.observation_id = l.last_observation_id "
            "WHERE f.flagged = 1 ORDER BY l.platform, l.listing_id")]
        total = conn.execute("SELECT COUNT(*) FROM listings").fetchone()[0]
    removed, blocked = flagged[:5] + flagged[-5:], flagged[5:7]
    for url in removed:
        replica.set_listing_state(url, "removed")
    for url in blocked:
        replica.set_listing_state(url, "blocked")

    result = run_command("thriftwatch", "recheck", "--db", str(db), "--flagged-only",
                         "--replica", replica.url, *fast)
    assert result.returncode == 0, result.stderr[-2000:]
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts == {"run": counts["run"], "live": len(flagged) - 12, "removed": 10, "blocked": 2}

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
    assert all(rows[url]["status"] == "blocked" for url in blocked)
    assert all(r["captured_url"] == url for url, r in rows.items())  # the real URL, kept
    assert still_live == len(flagged) - 12
    verified = run_command("thriftwatch", "verify", "--db", str(db))
    assert verified.returncode == 0, verified.stderr
