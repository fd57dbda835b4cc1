"""The HTML report of a real crawl (and recheck) through the replica, rendered in headless
Chromium: one self-contained file whose charts draw and whose figures match the DB."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from crawler.evidence.store import EvidenceStore
from crawler.ops.report import gather, since_cutoff
from tests.helpers import run_command

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "--log-level", "WARNING"]
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A crawl with health checks, a report, three takedowns and a recheck, a second report."""
    from crawler.replica.server import ReplicaServer

    root = tmp_path_factory.mktemp("report")
    db = root / "evidence.db"
    with ReplicaServer() as replica:  # its own replica: the takedowns must not leak elsewhere
        crawl = run_command("thriftwatch", "crawl", "tokopedia", "lazada", "--keywords",
                            "balpres,karungan", "--max-pages", "1", "--db", str(db),
                            "--replica", replica.url, *FAST)
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        before = root / "before.html"
        assert run_command(
            "thriftwatch", "report", "--db", str(db), "-o", str(before)).returncode == 0
        with sqlite3.connect(db) as conn:
            taken_down = [row[0] for row in conn.execute(
                "SELECT l.url FROM listings l "
                "JOIN flags f ON f.observation_id = l.last_observation_id "
                "WHERE f.flagged = 1 AND l.platform = 'tokopedia' ORDER BY l.listing_id LIMIT 3")]
        for url in taken_down:
            replica.set_listing_state(url, "removed")
        recheck = run_command("thriftwatch", "recheck", "--flagged-only", "--db", str(db),
                              "--replica", replica.url, *FAST)
        assert recheck.returncode == 0, recheck.stderr[-3000:]
    after = root / "after.html"
    result = run_command("thriftwatch", "report", "--db", str(db), "--since", "7d",
                         "-o", str(after))
    assert result.returncode == 0, result.stderr
    return db, before.read_text(encoding="utf-8"), after


@pytest.mark.crawl
def test_the_figures_are_the_dbs(reports):
    db, _, _ = reports
    store = EvidenceStore(db)
    try:
        data = gather(store, since_cutoff("7d"))
        conn = store.conn
        listings = conn.execute("SELECT COUNT(*) FROM listings").fetchone()[0]
        flagged = conn.execute("SELECT COUNT(*) FROM listings l JOIN flags f ON "
                               "f.observation_id = l.last_observation_id WHERE f.flagged = 1"
                               ).fetchone()[0]
    finally:
        store.close()
    assert sum(data.levels.values()) == listings
    assert data.levels["strong"] > 0
    assert sum(n for day in data.flagged_per_day.values() for n in day.values()) == flagged
    assert set(next(iter(data.flagged_per_day.values()))) == {"tokopedia", "lazada"}
    assert data.top_terms[0][0] in ("balpres", "karungan")
    assert data.top_cities
    assert data.top_sellers
    assert data.rechecks["tokopedia"]["removed"] == 3
    assert {run["health"] for run in data.runs} >= {"ok"}
    assert gather(EvidenceStore(db), since_cutoff("2999-01-01")).levels["strong"] == 0


@pytest.mark.crawl
def test_before_any_recheck_the_takedown_section_says_so(reports):
    _, before, _ = reports
    assert "no recheck yet" in before


@pytest.mark.crawl
def test_the_report_is_one_file_with_nothing_external(reports):
    _, _, after = reports
    page = after.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|<img|<iframe|\ssrc=|url\(|@import", page, re.IGNORECASE)
    assert page.count("<svg") == 6
    links = re.findall(r'href="([^"]+)"', page)
    assert links
    assert all(link.startswith(("https://www.tokopedia.com/", "https://www.lazada.co.id/",
                                          "http://127.0.0.1:8001/-/capture/")) for link in links)
    assert "no recheck yet" not in page


@pytest.mark.crawl
@pytest.mark.browser
def test_it_renders_in_headless_chromium(reports):
    playwright = pytest.importorskip("playwright.sync_api")
    _, _, after = reports
    requested: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            page.goto(after.as_uri())
            charts = page.locator("svg.chart")
            sizes = [charts.nth(i).bounding_box() for i in range(charts.count())]
            bars = page.locator("svg.chart rect").count()
            takedowns = page.locator("h2:text('Takedown status') + svg text").all_text_contents()
            shot = after.with_suffix(".png")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert requested == [after.as_uri()]  # nothing fetched but the file itself
    assert len(sizes) == 6
    assert all(box["width"] > 200 and box["height"] > 20 for box in sizes)
    assert bars > 30
    assert "removed" in takedowns
    assert "3" in takedowns
    png = Path(shot).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 50_000
