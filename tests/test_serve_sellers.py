"""Datasette's seller queries (accounts, shared contacts, a contact's accounts, shared photos,
takedown requests) on a real schema-3 evidence DB written through the store's API: each
query's SQL answers as an investigator expects, and Datasette loads the metadata and serves
every canned query."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest

from crawler.cli import main
from crawler.commands.serve import _snapshot
from crawler.evidence.serve_metadata import CANNED_QUERIES, SELLER_QUERIES, metadata
from tests.test_sellers_command import PHONE, STOCK, build_case


@pytest.fixture(scope="module")
def case_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("serve-sellers") / "case.db"
    build_case(db)
    assert main(["takedown", "--db", str(db), "--platform", "tokopedia",
                 "-o", str(db.with_suffix(".csv"))]) == 0
    return db


def query(db, name, **params):
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(CANNED_QUERIES[name]["sql"], params)]
    finally:
        conn.close()


def test_accounts_show_takedown_status(case_db):
    rows = {f"{r['platform']}:{r['seller_id']}": r for r in query(case_db, "accounts")}
    assert rows["tokopedia:old"]["status"] == "taken_down"
    assert rows["tokopedia:old"]["taken_down_at"]
    assert rows["shopee:new"]["status"] is None  # never rechecked
    assert (rows["tokopedia:old"]["listings"], rows["tokopedia:old"]["flagged"]) == (2, 2)
    assert next(iter(rows)) == "tokopedia:old"  # most flagged first


def test_a_shared_number_names_its_accounts_however_it_was_written(case_db):
    [shared] = query(case_db, "contacts_shared_by_accounts")
    assert (shared["kind"], shared["value"], shared["accounts"], shared["listings"]) == (
        "phone", PHONE, 2, 2)
    assert sorted(shared["account_keys"].split(",")) == ["shopee:new", "tokopedia:old"]
    holders = query(case_db, "accounts_with_contact", value=PHONE)
    assert [(r["account"], r["kind"], r["raw"]) for r in holders] == [
        ("tokopedia:old", "phone", "WA 0812-3456-7890"),
        ("shopee:new", "whatsapp", "wa.me/6281234567890")]
    assert all(len(r["capture_sha256"]) == 64 for r in holders)
    assert query(case_db, "accounts_with_contact", value="+620000") == []


def test_shared_photos_are_exact_matches_and_show_the_stock_photo(case_db):
    [shared] = query(case_db, "images_shared_by_accounts")
    assert (shared["phash"], shared["accounts"], shared["images"]) == (STOCK, 7, 7)
    assert len(shared["body_sha256"]) == 64


def test_takedown_requests_are_listed(case_db):
    [request] = query(case_db, "takedown_requests")
    assert request["platform"] == "tokopedia"
    assert json.loads(request["accounts"])[0]["seller_id"] == "old"
    assert len(request["db_head"]) == 64


def test_datasette_loads_the_metadata_and_serves_every_canned_query(case_db, tmp_path):
    from datasette.app import Datasette

    snapshot = tmp_path / "evidence.db"
    _snapshot(case_db, snapshot)
    served = Datasette(immutables=[str(snapshot)], metadata=metadata("case.db"))

    async def fetch_all() -> dict[str, tuple[int, list]]:
        answers = {}
        for name in CANNED_QUERIES:
            extra = f"&value={PHONE.replace('+', '%2B')}" if name == "accounts_with_contact" \
                else ""
            response = await served.client.get(f"/evidence/{name}.json?_shape=array{extra}")
            answers[name] = (response.status_code, response.json())
        return answers

    answers = asyncio.run(fetch_all())
    assert {name: status for name, (status, _) in answers.items()} == dict.fromkeys(
        CANNED_QUERIES, 200)
    assert set(SELLER_QUERIES) <= set(answers)
    assert len(answers["accounts_with_contact"][1]) == 2
    assert answers["contacts_shared_by_accounts"][1][0]["value"] == PHONE


def test_erased_contacts_are_not_shown_as_shared(tmp_path):
    """After retention has erased every contact, no erased text groups accounts together."""
    db = tmp_path / "case.db"
    build_case(db)
    before = query(db, "contacts_shared_by_accounts")
    assert [row["value"] for row in before] == [PHONE]
    assert main(["retention", "--db", str(db), "--contact-days", "0", "--flagged-too"]) == 0
    assert query(db, "contacts_shared_by_accounts") == []
