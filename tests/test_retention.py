"""Personal data retention: `thriftwatch retention` erases the text of old contacts of
accounts with no flagged listing, records the erasure as chained evidence, and leaves every
chain verifiable and every link between accounts in place; an erasure not recorded, or a
value changed, is tampering."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from crawler.cli import main
from crawler.evidence.retention import cutoff, expired_contacts
from crawler.evidence.store import EvidenceStore, id_ranges
from crawler.evidence.verify import verify_db
from crawler.sellers.stored import read_networks
from tests.test_heads import rechain, without_triggers
from tests.test_sellers_command import PHONE, contact, observe

LONG_AGO = "2020-01-01T00:00:00.000Z"


def build(db):
    """A flagged account and a clean one sharing a phone number (seen long ago), a clean
    account's e-mail (long ago) and a clean account's handle seen just now."""
    store = EvidenceStore(db)
    run = store.start_run(platform="tokopedia", keywords=["balpres"])
    flagged = observe(store, run, "tokopedia", "f1", "bad")
    clean = observe(store, run, "tokopedia", "c1", "clean", flagged=False)
    other = observe(store, run, "tokopedia", "c2", "other", flagged=False)
    for listing, found, digest in (
            ("f1", ("phone", PHONE, "0812 3456 7890"), flagged),
            ("c1", ("phone", PHONE, "WA 0812-3456-7890"), clean),
            ("c1", ("email", "penjual@example.com", "penjual@example.com"), clean)):
        store.add_contacts(run, [{"platform": "tokopedia", "listing_id": listing,
                                  "source": "card", "field": "description", "kind": found[0],
                                  "value": found[1], "raw": found[2],
                                  "capture_sha256": digest, "seen_at": LONG_AGO}])
    contact(store, run, ("tokopedia", "c2"), ("instagram", "tokobaru", "@tokobaru"), other)
    store.end_run(run, status="finished", stats={})
    store.close()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "case.db"
    build(path)
    return path


def contacts(db):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM contacts ORDER BY id")]
    conn.close()
    return rows


def test_a_seller_who_cleans_a_title_later_keeps_the_contacts(db):
    """Flagged once is flagged: a later clean sighting of the listing does not make its
    contacts expire, nor those of its seller's other listings."""
    store = EvidenceStore(db)
    run = store.start_run(platform="tokopedia", keywords=["kaos"])
    observe(store, run, "tokopedia", "f1", "bad", flagged=False)  # the title was cleaned
    digest = observe(store, run, "tokopedia", "f2", "bad", flagged=False)
    store.add_contacts(run, [{"platform": "tokopedia", "listing_id": "f2", "source": "card",
                              "field": "description", "kind": "email", "value": "a@b.id",
                              "raw": "a@b.id", "capture_sha256": digest,
                              "seen_at": LONG_AGO}])
    store.end_run(run, status="finished", stats={})
    assert expired_contacts(store.conn, cutoff(30)) == [2, 3]  # not f1's, nor f2's
    store.close()


def test_only_old_contacts_of_unflagged_accounts_are_named(db):
    conn = sqlite3.connect(db)
    assert expired_contacts(conn, cutoff(30)) == [2, 3]  # c1's number and e-mail
    assert expired_contacts(conn, cutoff(30), flagged_too=True) == [1, 2, 3]
    assert expired_contacts(conn, cutoff(0, datetime.now(UTC) + timedelta(days=1)),
                            flagged_too=True) == [1, 2, 3, 4]
    conn.close()


def test_retention_erases_records_and_still_verifies_and_links(db, capsys):
    head = verify_db(db).head
    before = read_networks(EvidenceStore(db, check=True))
    assert main(["retention", "--db", str(db), "--contact-days", "30", "--dry-run"]) == 0
    assert "2 contacts" in capsys.readouterr().out
    assert [row["value"] for row in contacts(db)][1:3] == [PHONE, "penjual@example.com"]

    assert main(["retention", "--db", str(db), "--contact-days", "30"]) == 0
    out = capsys.readouterr().out
    assert "2 contacts" in out
    assert PHONE not in out
    assert "penjual" not in out
    rows = contacts(db)
    assert [(r["value"], r["raw"]) for r in rows[1:3]] == [(None, None), (None, None)]
    assert rows[0]["value"] == PHONE
    assert rows[3]["value"] == "tokobaru"
    result = verify_db(db, heads=[head])  # the head written down before still holds
    assert result.ok, result.problems
    store = EvidenceStore(db, check=True)
    [erasure] = store.erasures()
    assert (erasure["table_name"], erasure["ids"], erasure["rows"]) == ("contacts", [[2, 3]], 2)
    assert erasure["columns"] == ["raw", "value"]
    after = read_networks(store)
    store.close()
    # The flagged and the clean account are still linked by the erased number's digest.
    assert [n.network_id for n in after] == [n.network_id for n in before]
    [link] = [link for n in after for link in n.links]
    assert link.value == PHONE  # shown from the flagged account's contact, still there

    assert main(["retention", "--db", str(db), "--contact-days", "30"]) == 0  # again: nothing
    assert "0 contacts" in capsys.readouterr().out
    assert main(["retention", "--db", str(db), "--contact-days", "0", "--flagged-too"]) == 0
    store = EvidenceStore(db, check=True)
    [*_, link] = [link for n in read_networks(store) for link in n.links]
    store.close()
    assert link.value.startswith("erased:")
    assert verify_db(db).ok


def test_an_unrecorded_erasure_or_a_changed_value_is_tampering(db):
    conn = without_triggers(db)
    conn.execute("UPDATE contacts SET value = NULL, raw = NULL WHERE id = 2")
    conn.commit()
    conn.close()
    assert verify_db(db).problems == [
        "contacts row id 2: its text is gone with no erasure recorded (edited)"]
    conn = without_triggers(db)
    conn.execute("UPDATE contacts SET value = '+6289999999999' WHERE id = 3")
    rechain(conn)  # the forger's recomputed digests and chain make it whole again ...
    conn.close()
    assert "contacts row id 2: its text is gone with no erasure recorded (edited)" in \
        verify_db(db).problems


def test_the_triggers_allow_an_erasure_and_nothing_else(db):
    conn = sqlite3.connect(db)
    conn.execute("UPDATE contacts SET value = NULL, raw = NULL WHERE id = 2")  # allowed
    for statement in ("UPDATE contacts SET value = 'x' WHERE id = 1",
                      "UPDATE contacts SET value = NULL, raw = NULL, kind = 'email' WHERE id = 1",
                      "UPDATE contacts SET value_sha256 = NULL WHERE id = 1",
                      "DELETE FROM contacts WHERE id = 1"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)
    conn.rollback()
    conn.close()
    assert main(["retention", "--db", str(db), "--contact-days", "30"]) == 0
    conn = sqlite3.connect(db)
    for statement in ("UPDATE erasures SET rows = 0", "DELETE FROM erasures"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)
    conn.close()


def test_a_value_edited_under_its_digest_is_caught(db):
    conn = without_triggers(db)
    conn.execute("UPDATE contacts SET value = '+6289999999999' WHERE id = 1")
    conn.commit()
    conn.close()
    assert verify_db(db).problems == [
        ("contacts row id 1: content does not match its hash (edited): its value is not the "
        "text its digest covers")]


def test_an_erasure_record_that_lies_about_its_rows_is_caught(db):
    assert main(["retention", "--db", str(db), "--contact-days", "30"]) == 0
    conn = without_triggers(db)
    conn.execute("UPDATE erasures SET ids = ? WHERE id = 1", [json.dumps([[2, 5]])])
    rechain(conn)
    conn.close()
    assert verify_db(db).problems == [
        "erasures row id 1: says 2 rows but its ids name another number"]


def test_id_ranges_and_cutoff():
    assert id_ranges([1, 2, 3, 7, 9, 10]) == [[1, 3], [7, 7], [9, 10]]
    assert id_ranges([]) == []
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert cutoff(30, now) == "2026-11-02T12:00:00.000Z"
    with pytest.raises(ValueError, match="days"):
        cutoff(-1, now)
