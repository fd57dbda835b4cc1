"""Run health: the pure checks, then real crawls that store the findings and alert a local
webhook receiver and a local SMTP server (aiosmtpd) only when something is wrong or new."""

from __future__ import annotations

import email
import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from crawler.config import HealthConfig
from crawler.ops.health import RunRecord, check_run
from tests.helpers import free_port, run_command


def run(pages: int, listings: int, keywords: int = 2, **faults: int) -> RunRecord:
    stats = {"finish_reason": "finished", "thriftwatch/pages/tokopedia": pages,
             "item_scraped_count": listings}
    for kind, count in faults.items():
        key = ("thriftwatch/blocks/tokopedia" if kind == "blocked"
               else f"thriftwatch/faults/{kind}/tokopedia")
        stats[key] = count
    return RunRecord("tokopedia", keywords, stats)


HISTORY = [run(10, 600), run(9, 540), run(10, 600)]


def checks(report) -> dict[str, str]:
    return {f.check: f.severity for f in report.findings}


def test_a_healthy_run_has_no_findings_and_no_alert():
    report = check_run(run(10, 590, http_error=1), HISTORY)
    assert report.findings == []
    assert report.status == "ok"
    assert not report.needs_alert


def test_zero_listings_and_changed_response_shape_fail():
    report = check_run(run(0, 0, parse_error=4), HISTORY)
    assert checks(report) == {"zero_listings": "failing", "parse_errors": "failing",
                              "pages_drop": "warning", "listings_drop": "warning"}
    assert report.status == "failing"
    assert "changed its response" in report.findings[1].message


def test_block_and_error_rates_fail_above_their_threshold_only():
    assert checks(check_run(run(10, 600, blocked=5), HISTORY)) == {"block_rate": "failing"}
    assert checks(check_run(run(10, 600, blocked=2, download_error=2), HISTORY)) == {}
    report = check_run(run(10, 600, http_error=5, download_error=4, token_error=1), HISTORY)
    assert checks(report) == {"error_rate": "failing"}
    assert report.findings[0].value == pytest.approx(0.5)


def test_pages_and_listings_per_keyword_fallen_against_the_median_of_earlier_runs():
    report = check_run(run(8, 200, keywords=4), HISTORY)  # 2 pages/kw (usual 5), 50 listings/kw
    assert checks(report) == {"pages_drop": "warning", "listings_drop": "warning"}
    assert report.findings[0].expected == 5.0
    assert report.findings[0].value == 2.0
    assert checks(check_run(run(8, 200, keywords=4), HISTORY[:1])) == {}  # too little history
    assert checks(
        check_run(run(3, 180, keywords=1), HISTORY, thresholds=HealthConfig(drop=0.5))
    ) == {}


def test_a_run_stopped_early_fails_and_new_strong_flags_are_news_not_faults():
    stopped = RunRecord("tokopedia", 2, {**run(10, 600).stats, "finish_reason": "shutdown"})
    assert checks(check_run(stopped, HISTORY)) == {"finish": "failing"}
    report = check_run(run(10, 600), HISTORY, new_strong=7)
    assert checks(report) == {"new_strong": "notice"}
    assert report.status == "ok"
    assert report.needs_alert


# -- real crawls, real receivers ---------------------------------------------------------------

class Webhook(ThreadingHTTPServer):
    """Collects the JSON bodies POSTed to it."""

    def __init__(self):
        self.received: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)



class Mailbox:
    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def receivers():
    webhook = Webhook()
    thread = threading.Thread(target=webhook.serve_forever, daemon=True)
    thread.start()
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    yield webhook, mailbox, f"http://127.0.0.1:{webhook.server_address[1]}/hook", \
        f"127.0.0.1:{smtp.port}"
    smtp.stop()
    webhook.shutdown()
    webhook.server_close()


@pytest.fixture(scope="module")
def crawls(replica, receivers, tmp_path_factory):
    """Three crawls into one DB: new strong flags, the same again, then a blocked keyword."""
    webhook, mailbox, hook_url, smtp = receivers
    db = tmp_path_factory.mktemp("health") / "evidence.db"
    seen = []

    def crawl(platform: str, keywords: str) -> tuple[list, list]:
        before = len(webhook.received), len(mailbox.messages)
        result = run_command(
            "scrapy", "crawl", platform, "-a", f"keywords={keywords}", "-a", "max_pages=1",
            "-s", f"THRIFTWATCH_DB={db}", "-s", f"THRIFTWATCH_REPLICA={replica.url}",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
            "-s", "THRIFTWATCH_PROGRESS_ENABLED=False",
            "-s", f"THRIFTWATCH_ALERT_WEBHOOK={hook_url}",
            "-s", f"THRIFTWATCH_ALERT_SMTP={smtp}",
            "-s", "THRIFTWATCH_ALERT_EMAIL_TO=desk@example.org",
            "-s", "THRIFTWATCH_ALERT_EMAIL_FROM=thriftwatch@example.org", timeout=60)
        assert result.returncode == 0, result.stderr[-3000:]
        deadline = time.monotonic() + 5  # the SMTP handler runs in its own thread
        while len(mailbox.messages) < before[1] + (len(webhook.received) > before[0]) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        seen.append(result.stderr)
        return webhook.received[before[0]:], mailbox.messages[before[1]:]

    alerts = [crawl("tokopedia", "balpres"), crawl("tokopedia", "balpres"),
              crawl("lazada", "balpres,__block__captcha")]
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    yield alerts, conn, seen, db
    conn.close()


@pytest.mark.crawl
def test_first_strong_flags_alert_by_webhook_and_email(crawls):
    (hooks, mails), *_ = crawls[0]
    assert len(hooks) == 1
    assert len(mails) == 1
    assert hooks[0]["platform"] == "tokopedia"
    assert hooks[0]["status"] == "ok"
    assert [f["check"] for f in hooks[0]["findings"]] == ["new_strong"]
    assert hooks[0]["findings"][0]["value"] > 10
    assert mails[0]["To"] == "desk@example.org"
    assert "new_strong" in mails[0]["Subject"]
    assert "flagged strong" in mails[0].get_payload()


@pytest.mark.crawl
def test_a_repeat_with_nothing_wrong_or_new_sends_nothing_but_is_recorded(crawls):
    alerts, conn, logs, _ = crawls
    assert alerts[1] == ([], [])
    rows = conn.execute(
        "SELECT run_id, platform, status, findings FROM run_health ORDER BY id").fetchall()
    assert [(r["platform"], r["status"]) for r in rows] == [
        ("tokopedia", "ok"), ("tokopedia", "ok"), ("lazada", "failing")]
    assert json.loads(rows[1]["findings"]) == []
    assert "health: ok" in logs[1]


@pytest.mark.crawl
def test_blocks_fail_the_run_and_alert(crawls):
    alerts, _conn, logs, _ = crawls
    hooks, mails = alerts[2]
    assert len(hooks) == 1
    assert hooks[0]["platform"] == "lazada"
    assert hooks[0]["status"] == "failing"
    block = next(f for f in hooks[0]["findings"] if f["check"] == "block_rate")
    assert block["value"] == 0.5
    assert "1 of 2 search pages blocked" in block["message"]
    assert "failing" in mails[0]["Subject"]
    assert "block_rate" in mails[0]["Subject"]
    assert "health: failing" in logs[2]
    assert "block_rate" in logs[2]


@pytest.mark.crawl
def test_health_rows_are_chained_evidence(crawls):
    *_, db = crawls
    result = run_command("thriftwatch", "verify", "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert "run_health 3" in result.stdout
