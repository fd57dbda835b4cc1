"""thriftwatch serve: Datasette on loopback over a real evidence DB, read-only."""

import hashlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import REPO, run_command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("content-type", ""), response.read()


@pytest.fixture(scope="module")
def served(replica, tmp_path_factory):
    db = tmp_path_factory.mktemp("serve") / "evidence.db"
    crawl = run_command("thriftwatch", "crawl", "tokopedia", "tiktokshop", "--keywords", "balpres",
                        "--max-pages", "1", "--db", str(db), "--replica", replica.url,
                        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
                        "--log-level", "WARNING")
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "thriftwatch"), "serve",
                               "--db", str(db), "--port", str(port)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            _get(base + "/-/versions.json")
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("datasette did not start: " + server.stderr.read().decode()[-2000:])
    yield base, db, before
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.crawl
@pytest.mark.browser
def test_canned_queries_answer_over_loopback(served):
    base, _, _ = served
    _, _, body = _get(base + "/evidence/flagged_by_platform_and_level.json?_shape=array")
    rows = json.loads(body)
    assert {r["platform"] for r in rows} == {"tokopedia", "tiktokshop"}
    assert all(r["listings"] > 0 and r["level"] in ("strong", "medium") for r in rows)
    for query in ("sellers_with_most_flagged_listings", "flagged_and_still_live", "new_this_week"):
        status, _, body = _get(f"{base}/evidence/{query}.json?_shape=array")
        assert status == 200
        assert isinstance(json.loads(body), list)
    _, _, body = _get(base + "/evidence/listings.json?_search=balpres&_shape=array")
    assert json.loads(body)  # full-text search over titles and descriptions


@pytest.mark.crawl
@pytest.mark.browser
def test_listing_links_to_its_capture_and_screenshot(served):
    base, _, _ = served
    _, _, body = _get(base + "/evidence/observations.json?_shape=array&platform=tiktokshop&_size=1")
    [row] = json.loads(body)
    status, content_type, png = _get(f"{base}/-/capture/{row['screenshot_sha256']}")
    assert status == 200
    assert content_type == "image/png"
    assert png.startswith(b"\x89PNG")
    assert hashlib.sha256(png).hexdigest() == row["screenshot_sha256"]
    _, content_type, page = _get(f"{base}/-/capture/{row['capture_sha256']}")
    assert content_type.startswith("text/plain")
    assert hashlib.sha256(page).hexdigest() == row["capture_sha256"]
    _, _, html = _get(base + "/evidence/observations?platform=tiktokshop&_size=1")
    assert f'href="/-/capture/{row["screenshot_sha256"]}"'.encode() in html


@pytest.mark.crawl
@pytest.mark.browser
def test_serve_never_writes_the_evidence_db(served):
    base, db, before = served
    _, _, body = _get(base + "/-/databases.json")
    assert json.loads(body)[0]["is_mutable"] is False
    with pytest.raises(urllib.error.HTTPError):
        _get(base + "/evidence.json?sql=" + urllib.parse.quote("DELETE FROM listings"))
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


@pytest.mark.crawl
@pytest.mark.browser
def test_a_page_renders_in_headless_chromium(served, tmp_path):
    from playwright.sync_api import sync_playwright

    from crawler.runtime.browser import launch_options

    base, _, _ = served
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options("/usr/bin/chromium"))
        page = browser.new_page()
        page.goto(base + "/evidence/flagged_by_platform_and_level")
        text = page.inner_text("body")
        shot = tmp_path / "serve.png"
        page.screenshot(path=shot, full_page=True)
        browser.close()
    assert "Flagged listings by platform and level" in text
    assert "tiktokshop" in text
    assert shot.stat().st_size > 10_000
