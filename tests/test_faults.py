"""Faults the replica injects: the crawl never crashes, retries what is worth retrying,
never stores a misparsed listing, and records every fault with its capture."""

import sqlite3

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.config import Config
from crawler.evidence.verify import verify_db
from crawler.keys import Stats
from crawler.ops.health import RunRecord, check_run
from crawler.runtime.recorder import EvidenceRecorder
from crawler.runtime.retry import backoff_delay
from spiders.tokopedia import TokopediaSpider
from tests.helpers import run_command

HOST = "gql.tokopedia.com"


def _crawl(replica, tmp_path, kind, count):
    db = tmp_path / f"{kind}.db"
    replica.set_fault(HOST, kind, count)
    try:
        result = run_command(
            "scrapy", "crawl", "tokopedia", "-a", "keywords=balpres", "-a", "max_pages=2",
            "-s", f"THRIFTWATCH_DB={db}", "-s", f"THRIFTWATCH_REPLICA={replica.url}",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
            "-s", "DOWNLOAD_TIMEOUT=3", "-s", "THRIFTWATCH_BACKOFF_BASE=0.1",
            "-s", "LOG_LEVEL=INFO", timeout=120)
    finally:
        replica.set_fault(HOST, kind, 0)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn, result.stderr


@pytest.mark.crawl
@pytest.mark.parametrize("kind", ["429", "5xx", "timeout", "slow", "truncated"])
def test_passing_faults_are_retried_and_the_crawl_completes(replica, tmp_path, kind):
    conn, log = _crawl(replica, tmp_path, kind, 1)
    assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 120
    assert conn.execute("SELECT COUNT(*) FROM faults").fetchone()[0] == 0
    if kind != "slow":
        assert "'retry/count': 1" in log
    if kind == "429":
        assert "'thriftwatch/backoff_seconds': 1.0" in log  # the server's Retry-After: 1


@pytest.mark.crawl
@pytest.mark.parametrize(("kind", "fault", "detail"), [
    ("malformed", "parse_error", "body is not JSON"),
    ("drift", "parse_error", "product without id or name"),
    ("captcha", "blocked", "captcha"),
    ("offsite", "blocked", "redirected to 'https://offsite.example.com/landing'"),
    ("huge", "download_error", "DownloadCancelledError"),
    ("429", "http_error", "HTTP 429"),
    ("5xx", "http_error", "HTTP 503"),
])
def test_lasting_faults_are_recorded_and_nothing_misparsed_is_stored(replica, tmp_path, kind,
                                                                       fault, detail):
    conn, _ = _crawl(replica, tmp_path, kind, -1)
    assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 0
    [row] = conn.execute("SELECT * FROM faults").fetchall()
    assert row["kind"] == fault
    assert detail in row["detail"]
    assert row["url"] == "https://gql.tokopedia.com/graphql/SearchProductV5Query"
    if fault != "download_error":  # a cancelled download has no response to keep
        capture = conn.execute("SELECT status FROM captures WHERE id = ?", [row["capture_id"]])
        assert capture.fetchone() is not None
    assert conn.execute("SELECT status FROM runs").fetchone()[0] == "finished"


@pytest.mark.parametrize(("attempt", "header", "expected"), [
    (1, None, 0.5), (2, None, 1.0), (3, None, 2.0), (10, None, 30.0),
    (1, "7", 7.0), (1, "3600", 30.0), (1, "Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    (2, "soon", 1.0),
])
def test_backoff_delay(attempt, header, expected):
    assert backoff_delay(attempt, header, base=0.5, cap=30.0) == expected


@pytest.mark.parametrize(("header", "expected"), [
    ("Wed, 21 Oct 2099 07:28:00 -0000", 30.0),  # RFC 5322's "UTC, zone not said"
    ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0),
    ("\u00b2", 1.0),  # byte 0xB2, a superscript two: a digit to str.isdigit, not to float()
])
def test_a_server_s_odd_retry_after_gives_a_delay_never_an_error(header, expected):
    """A Retry-After the server writes however it likes waits, never raises: an error in
    the retry middleware fails the page instead of retrying it."""
    assert backoff_delay(2, header, base=0.5, cap=30.0) == expected


# -- writing a fault never costs the crawl ----------------------------------------------------

def _recorder(tmp_path):
    crawler = get_crawler(TokopediaSpider, {"THRIFTWATCH_DB": str(tmp_path / "e.db")})
    crawler.spider = crawler._create_spider(keywords="balpres")
    recorder = EvidenceRecorder(crawler, Config.from_crawler(crawler))
    recorder.spider_opened(crawler.spider)
    return crawler, recorder


def test_a_fault_about_hostile_text_is_written_escaped(tmp_path):
    """A lone surrogate or a terminal escape in a fault's listing id, URL or detail made the
    fault itself raise (and, mid-run, the next page's capture fail)."""
    crawler, recorder = _recorder(tmp_path)
    listing = {"platform": "tokopedia", "listing_id": "12345\udfff\x1b[2K",
               "url": "https://www.tokopedia.com/t/\udfff?access_token=s3cret", "capture_id": 1}
    recorder.listing_fault(listing, "store_error", "not stored: \x1b[1A\udfff")
    recorder.page_fault(None, Request("https://gql.tokopedia.com/graphql/Q"), "parse_error",
                        "product 9\udfff has a field\r\x1b[2K")
    [one, two] = recorder.store.conn.execute("SELECT url, detail FROM faults ORDER BY id")
    assert one[1] == "listing tokopedia/12345\\udfff\\x1b[2K: not stored: \\x1b[1A\\udfff"
    assert one[0] == "https://www.tokopedia.com/t/\\udfff?access_token=REDACTED"
    assert two[1] == "product 9\\udfff has a field\\r\\x1b[2K"
    assert Stats.FAULT_WRITE_ERRORS not in crawler.stats.get_stats()
    recorder.spider_closed(crawler.spider, "finished")
    assert verify_db(tmp_path / "e.db").ok


def test_a_fault_that_cannot_be_written_is_logged_and_counted_not_raised(tmp_path, caplog):
    crawler, recorder = _recorder(tmp_path)
    recorder.store.close()  # a DB that takes no more writes
    recorder.listing_fault({"platform": "tokopedia", "listing_id": "1", "url": "https://x/1"},
                           "store_error", "not stored")
    recorder.page_fault(None, Request("https://gql.tokopedia.com/graphql/Q"), "blocked", "wall")
    assert crawler.stats.get_value(Stats.FAULT_WRITE_ERRORS) == 2
    assert "a blocked fault could not be written to the evidence DB" in caplog.text
    report = check_run(RunRecord("tokopedia", 1, {**crawler.stats.get_stats(),
                                                  "finish_reason": "finished", Stats.ITEMS: 1,
                                                  Stats.pages("tokopedia"): 1}), [])
    assert report.status == "failing"
    assert "fault_write_errors" in {finding.check for finding in report.findings}
