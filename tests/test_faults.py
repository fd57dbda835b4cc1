"""Faults the replica injects: the crawl never crashes, retries what is worth retrying,
never stores a misparsed listing, and records every fault with its capture."""

import sqlite3

import pytest

from crawler.runtime.retry import backoff_delay
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
