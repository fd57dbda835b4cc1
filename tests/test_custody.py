"""Custody: evidence is append-only and any tampering is found by verify, naming the row."""

import sqlite3
import zlib

import pytest

from crawler.evidence.capture import Capture
from crawler.evidence.custody import row_hash
from crawler.evidence.store import EvidenceStore
from crawler.evidence.verify import verify_db
from tests.helpers import run_command


def _capture(body: bytes) -> Capture:
    return Capture(url="https://gql.tokopedia.com/graphql/SearchProductV5Query", method="POST",
                   status=200, request_headers={}, response_headers={}, request_body=None,
                   body=body, fetched_at="2026-11-29T00:00:00.000Z")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "evidence.db"
    store = EvidenceStore(path)
    run = store.start_run(platform="tokopedia", keywords=["balpres"])
    for page in range(3):
        capture_id, digest = store.add_capture(run, _capture(b"page %d" % page), replica=None)
        store.add_observations(run, [
            {"platform": "tokopedia", "listing_id": f"{page}-{n}", "url": "https://x", "title":
             f"Balpres {page}-{n}", "capture_id": capture_id, "capture_sha256": digest,
             "flagged": True, "score": 0.9, "level": "strong", "reasons": []}
            for n in range(3)])
    store.end_run(run, status="finished", stats={})
    store.close()
    return path


def _tamper(path, *statements, drop_triggers=True):
    conn = sqlite3.connect(path)
    if drop_triggers:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                    "AND name LIKE '%_no_%'").fetchall():
            conn.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        conn.execute(*statement) if isinstance(statement, tuple) else conn.execute(statement)
    conn.commit()
    conn.close()


def test_an_untouched_db_verifies(db):
    result = verify_db(db)
    assert result.ok, result.problems
    assert result.rows["observations"] == 9
    assert result.rows["flags"] == 9


@pytest.mark.parametrize("statement", [
    "UPDATE observations SET title = 'Kaos polos' WHERE id = 4",
    "DELETE FROM observations WHERE id = 4",
    "UPDATE captures SET url = 'https://elsewhere' WHERE id = 1",
    "DELETE FROM run_ends",
])
def test_triggers_refuse_changes_to_evidence(db, statement):
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement)
    conn.close()


@pytest.mark.parametrize(("statements", "expected"), [
    (["UPDATE observations SET title = 'Kaos polos' WHERE id = 4"],
     "observations row id 4: content does not match"),
    (["UPDATE flags SET level = 'none', flagged = 0 WHERE id = 2"],
     "flags row id 2: content does not match"),
    (["DELETE FROM observations WHERE id = 5"], "observations row id 6: does not follow"),
    (["DELETE FROM observations WHERE id = 9"], "observations row id 9: recorded as chain head"),
    (["UPDATE observations SET id = 100 WHERE id = 3",
      "UPDATE observations SET id = 3 WHERE id = 4",
      "UPDATE observations SET id = 4 WHERE id = 100"], "observations row id 3: does not follow"),
    (["UPDATE captures SET body_sha256 = 'ab' WHERE id = 2"], "captures row id 2: content"),
])
def test_verify_names_the_first_broken_row(db, statements, expected):
    _tamper(db, *statements)
    result = verify_db(db)
    assert not result.ok, result.problems
    assert result.problems[0].startswith(expected), result.problems


def test_an_inserted_row_with_a_valid_hash_still_breaks_the_chain(db):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM observations WHERE id = 2").fetchone())
    conn.close()
    forged = {**row, "id": 3, "title": "Forged listing", "prev_hash": row["row_hash"]}
    forged["row_hash"] = row_hash("observations", forged)
    columns = ", ".join(forged)
    _tamper(db, *["UPDATE observations SET id = id + 100 WHERE id >= 3",
                  "UPDATE observations SET id = id - 99 WHERE id >= 100",
                  ((f"INSERT INTO observations ({columns}) VALUES "
                    f"({', '.join('?' * len(forged))})"), list(forged.values()))])
    result = verify_db(db)
    assert result.problems[0].startswith("observations row id 4: does not follow")


def test_an_altered_capture_body_is_found(db):
    _tamper(db, ("UPDATE capture_bodies SET body = ? WHERE id = 2", [zlib.compress(b"page X")]))
    result = verify_db(db)
    digest = sqlite3.connect(db).execute(
        "SELECT sha256 FROM capture_bodies WHERE id = 2").fetchone()[0]
    assert result.problems == [f"capture_bodies row id 2: body does not match its SHA-256 {digest}"]


def test_verify_command_exit_codes(db):
    ok = run_command("thriftwatch", "verify", "--db", str(db))
    assert ok.returncode == 0
    assert ok.stdout.startswith("OK")
    _tamper(db, "UPDATE observations SET price_idr = 1 WHERE id = 7")
    broken = run_command("thriftwatch", "verify", "--db", str(db))
    assert broken.returncode == 1
    assert "BROKEN: observations row id 7: content does not match" in broken.stderr
