"""Run health's ``returning_seller`` notice: the pure check on proofs handed in, and the
proofs read from a real evidence DB (written through the store's API) for the run that
first saw the returning accounts."""

from __future__ import annotations

import pytest

from crawler.evidence.store import EvidenceStore
from crawler.ops.alerts import body, subject
from crawler.ops.health import RETURNS_SHOWN, RunRecord, alert_payload, check_run
from crawler.sellers.stored import returned_in_run
from tests.test_sellers_command import PHONE, build_case

HEALTHY = RunRecord("shopee", 1, {"finish_reason": "finished", "thriftwatch/pages/shopee": 5,
                                  "item_scraped_count": 200})


def proof(returned: str, taken_down: str = "tokopedia:old", *kinds: str) -> dict:
    return {"taken_down": taken_down, "taken_down_at": "2026-03-01T00:00:00.000Z",
            "returned": returned, "first_seen": "2026-03-02T00:00:00.000Z",
            "links": [{"kind": kind, "value": PHONE} for kind in kinds or ("phone",)]}


def test_a_return_is_a_notice_that_alerts_and_names_no_contact():
    report = check_run(HEALTHY, [], returning=[proof("shopee:new"),
                                               proof("shopee:new", "lazada:gone", "image")])
    [finding] = report.findings
    assert (finding.check, finding.severity, finding.value) == ("returning_seller", "notice", 1)
    assert report.status == "ok"  # news, not trouble
    assert report.needs_alert
    assert "shopee:new after lazada:gone was taken down (through image)" in finding.message
    assert "shopee:new after tokopedia:old was taken down (through phone)" in finding.message
    payload = alert_payload(report, 7, "case.db", None, "abc")
    assert "returning_seller" in subject(payload)
    assert PHONE not in body(payload)  # contacts are personal data: never in an alert


def test_no_return_no_notice_and_many_returns_are_counted_not_listed():
    assert check_run(HEALTHY, [], returning=[]).findings == []
    many = [proof(f"shopee:new{n:02d}") for n in range(RETURNS_SHOWN + 3)]
    [finding] = check_run(HEALTHY, [], returning=many).findings
    assert finding.value == RETURNS_SHOWN + 3
    assert finding.message.endswith("; and 3 more")


def test_seller_text_in_an_account_key_is_escaped():
    [finding] = check_run(HEALTHY, [], returning=[proof("shopee:\x1b[2Kevil")]).findings
    assert "\x1b" not in finding.message
    assert "shopee:\\x1b[2Kevil" in finding.message


@pytest.fixture
def case_db(tmp_path):
    db = tmp_path / "case.db"
    build_case(db)
    return db


def test_the_runs_that_first_saw_the_returning_accounts_report_them(case_db):
    store = EvidenceStore(case_db, check=True)
    try:
        runs = {platform: run_id for run_id, platform in store.conn.execute(
            "SELECT id, platform FROM run_starts")}
        found = {platform: returned_in_run(store, run_id) for platform, run_id in runs.items()}
    finally:
        store.close()
    assert found["tokopedia"] == []  # the old account itself, before its takedown
    assert found["recheck"] == []
    [shopee] = found["shopee"]
    assert (shopee["taken_down"], shopee["returned"]) == ("tokopedia:old", "shopee:new")
    assert [link["kind"] for link in shopee["links"]] == ["phone"]
    [lazada] = found["lazada"]
    assert (lazada["returned"], [link["kind"] for link in lazada["links"]]) == (
        "lazada:third", ["phone", "image"])
    report = check_run(RunRecord("lazada", 1, HEALTHY.stats), [], returning=found["lazada"])
    assert [f.check for f in report.findings] == ["returning_seller"]


def test_nothing_is_linked_before_any_takedown(tmp_path):
    store = EvidenceStore(tmp_path / "empty.db")
    try:
        run = store.start_run(platform="shopee", keywords=["balpres"])
        assert returned_in_run(store, run) == []
        assert returned_in_run(store, run + 99) == []
    finally:
        store.close()
