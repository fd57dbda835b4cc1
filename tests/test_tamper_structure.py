"""Tampering below the rows: indexes, views, triggers, the full-text index and bodies that the
hash chains do not cover, but that exports, reports, bundles, WARC and Datasette read
through. verify names it; every reader that produces evidence refuses the DB."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pytest

from crawler.evidence import schema
from crawler.evidence.capture import Capture, sha256_hex
from crawler.evidence.custody import row_hash
from crawler.evidence.store import EvidenceStore, UnsoundStoreError
from crawler.evidence.verify import verify_db
from crawler.evidence.warc import write_warc
from tests.helpers import REPO, free_port, run_command

PAGE = b'[{"data":{"searchProductV5":{"products":["balpres korea 45kg"]}}}]'
FORGED = b'[{"data":{"searchProductV5":{"note":"FORGED: this seller never appeared"}}}]'


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A small clean DB: one run, one page, a strong listing and a clean one."""
    path = tmp_path / "evidence.db"
    store = EvidenceStore(path)
    run = store.start_run(platform="tokopedia", keywords=["balpres"])
    capture = Capture(url="https://gql.tokopedia.com/graphql/SearchProductV5Query",
                      method="POST", status=200, request_headers={}, response_headers={},
                      request_body=b'{"q":"balpres"}', body=PAGE,
                      fetched_at="2026-12-01T00:00:00.000Z")
    capture_id, digest = store.add_capture(run, capture, None)
    store.add_observations(run, [
        {"platform": "tokopedia", "listing_id": "100", "url": "https://t/100",
         "title": "Balpres korea 45kg", "keyword": "balpres", "seller_id": "7",
         "seller_name": "Supplier Second Import", "capture_id": capture_id,
         "capture_sha256": digest, "level": "strong", "flagged": True, "score": 0.95,
         "reasons": [{"rule": "term:balpres", "matched": "balpres", "weight": 0.9}]},
        {"platform": "tokopedia", "listing_id": "200", "url": "https://t/200",
         "title": "Kaos polos baru", "keyword": "balpres", "seller_id": "8",
         "capture_id": capture_id, "capture_sha256": digest, "level": "none",
         "flagged": False, "score": 0.0, "reasons": []}])
    store.end_run(run, status="finished", stats={})
    store.close()
    return path


def corrupt_index(path: Path, index: str, table: str, column: str,
                  swap: dict[object, object]) -> None:
    """What the reviewer did: rebuild ``index`` on swapped keys, then put its SQL back
    through writable_schema, so sqlite_master reads as before."""
    conn = sqlite3.connect(path)
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", [index]).fetchone()
    cases = " ".join(f"WHEN {_literal(a)} THEN {_literal(b)}" for a, b in swap.items())
    conn.execute(f"DROP INDEX {index}")
    unique = "UNIQUE " if "UNIQUE" in sql.upper() else ""
    conn.execute(f"CREATE {unique}INDEX {index} ON {table} "
                 f"(CASE {column} {cases} ELSE {column} END)")
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", [sql, index])
    conn.execute("PRAGMA writable_schema = OFF")
    conn.commit()
    conn.close()


def _literal(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def forge_index(db: Path) -> None:
    """Swap the verdicts of the strong and the clean listing (flags index), and point the
    page's SHA-256 at an appended, validly chained, forged body (capture_bodies index)."""
    conn = sqlite3.connect(db)
    strong, clean = (conn.execute("SELECT id FROM observations WHERE listing_id = ?",
                                  [listing]).fetchone()[0] for listing in ("100", "200"))
    conn.row_factory = sqlite3.Row
    last = conn.execute("SELECT id, row_hash FROM capture_bodies ORDER BY id DESC").fetchone()
    page = conn.execute("SELECT body_sha256 FROM captures").fetchone()[0]
    row = {"id": last["id"] + 1, "sha256": sha256_hex(FORGED), "size": len(FORGED),
           "encoding": "zlib", "prev_hash": last["row_hash"]}
    row["row_hash"] = row_hash("capture_bodies", row)
    conn.execute("INSERT INTO capture_bodies (id, sha256, size, encoding, body, prev_hash, "
                 "row_hash) VALUES (:id, :sha256, :size, :encoding, :body, :prev_hash, "
                 ":row_hash)", {**row, "body": zlib.compress(FORGED)})
    conn.commit()
    conn.close()
    corrupt_index(db, "idx_flags_observation_id", "flags", "observation_id",
                  {strong: clean, clean: strong})
    corrupt_index(db, "idx_capture_bodies_sha256", "capture_bodies", "sha256",
                  {page: row["sha256"], row["sha256"]: page})


def test_the_forged_index_fools_sqlite_readers_until_checked(db):
    """The attack as it was: what a query through the index reads is forged."""
    forge_index(db)
    conn = sqlite3.connect(db)
    level = conn.execute("SELECT f.level FROM observations o JOIN flags f "
                         "ON f.observation_id = o.id WHERE o.listing_id = '100'").fetchone()
    page = conn.execute("SELECT body_sha256 FROM captures").fetchone()[0]
    body = conn.execute("SELECT body FROM capture_bodies WHERE sha256 = ?", [page]).fetchone()
    conn.close()
    assert level == ("none",)  # the strong listing reads as clean
    assert zlib.decompress(body[0]) == FORGED


def test_verify_fails_a_forged_index_even_against_a_head_kept_outside(db):
    head = verify_db(db).head
    forge_index(db)
    result = verify_db(db, heads=[head])
    assert not result.ok
    assert result.problems[0].startswith("SQLite's integrity check fails (4 findings)")
    assert any("idx_flags_observation_id" in p for p in result.problems)
    assert any("idx_capture_bodies_sha256" in p for p in result.problems)
    assert any("no capture refers to it" in note for note in result.notes)
    printed = run_command("thriftwatch", "verify", "--db", str(db), "--head", head)
    assert printed.returncode == 1
    assert "BROKEN: SQLite's integrity check fails" in printed.stderr


@pytest.mark.parametrize("args", [
    ("export", "--format", "jsonl"),
    ("export", "--format", "csv"),
    ("export", "--format", "warc", "-o", "{out}/case.warc.gz"),
    ("export", "--format", "bundle", "-o", "{out}/case.zip"),
    ("export", "--format", "timestamps", "-o", "{out}/tokens"),
    ("report", "-o", "{out}/report.html"),
])
def test_every_reader_refuses_a_db_with_a_forged_index(db, tmp_path, args):
    forge_index(db)
    out = tmp_path / "out"
    out.mkdir()
    result = run_command("thriftwatch", *(a.format(out=out) for a in args), "--db", str(db))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing to read" in result.stderr
    assert "integrity check fails" in result.stderr
    assert "FORGED" not in result.stdout
    assert not any(out.iterdir())  # nothing written


def test_serve_refuses_a_db_with_a_forged_index(db):
    forge_index(db)
    result = run_command("thriftwatch", "serve", "--db", str(db), "--port", str(free_port()),
                         timeout=60)
    assert result.returncode == 2
    assert "refusing to serve: SQLite's integrity check fails" in result.stderr


def test_the_library_refuses_too(db, tmp_path):
    forge_index(db)
    with pytest.raises(UnsoundStoreError, match="integrity check fails"):
        EvidenceStore(db, check=True)
    store = EvidenceStore(db)  # opened unchecked: the writers of evidence check themselves
    try:
        with (tmp_path / "x.warc.gz").open("wb") as out, \
                pytest.raises(UnsoundStoreError, match="integrity check"):
            write_warc(store, out, "x.warc.gz")
    finally:
        store.close()


# -- the schema: views, indexes and triggers as thriftwatch writes them ---------------------

def _alter(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


SELLERS_HIDING = schema.VIEWS["sellers"].replace("WHERE l.seller_id IS NOT NULL",
                                                 "WHERE l.seller_id IS NOT NULL "
                                                 "AND l.seller_id != '7'")


@pytest.mark.parametrize(("statements", "problem"), [
    (["DROP VIEW sellers", f"CREATE VIEW sellers AS {SELLERS_HIDING}"],
     "view sellers is not defined as thriftwatch defines it"),
    (["DROP VIEW runs", "CREATE VIEW runs AS SELECT * FROM run_starts WHERE id > 1"],
     "view runs is not defined as thriftwatch defines it"),
    ([("CREATE TRIGGER hide AFTER INSERT ON listings BEGIN "
       "DELETE FROM listings WHERE seller_id = '7'; END")],
     "trigger hide is not part of a thriftwatch evidence DB"),
    (["CREATE INDEX idx_extra ON observations (title COLLATE NOCASE)"],
     "index idx_extra is not part of a thriftwatch evidence DB"),
    (["CREATE TABLE notes (x)"], "table notes is not part of a thriftwatch evidence DB"),
    (["DROP INDEX idx_flags_level"], "index idx_flags_level is missing from the schema"),
    (["DROP VIEW listings_not_found_again"],
     "view listings_not_found_again is missing from the schema"),
    (["DROP TRIGGER listings_ai"], "trigger listings_ai is missing from the schema"),
    (["UPDATE meta SET value = '1'"],
     "table timestamps is not part of a thriftwatch evidence DB (schema version 1)"),
    (["UPDATE meta SET value = 'two'"], "the DB's schema version is missing or unknown"),
])
def test_a_schema_changed_by_hand_is_named_and_refused(db, statements, problem):
    _alter(db, *statements)
    result = verify_db(db)
    assert any(p.startswith(problem) for p in result.problems), result.problems
    refused = run_command("thriftwatch", "export", "--db", str(db), "--format", "jsonl")
    assert refused.returncode == 2
    assert "refusing to read" in refused.stderr
    assert refused.stdout == ""


def test_a_view_changed_through_writable_schema_is_found(db):
    """Restoring the original SQL text is the trick for indexes; for a view the text is what
    runs, so a changed text is a changed view."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'sellers'",
                 [f"CREATE VIEW sellers AS {SELLERS_HIDING}"])
    conn.execute("PRAGMA writable_schema = OFF")
    conn.commit()
    conn.close()
    assert any(p.startswith("view sellers is not defined") for p in verify_db(db).problems)


def test_dropped_guard_triggers_are_a_note_not_a_break(db):
    """The append-only triggers guard against mistakes; the chains prove the evidence."""
    _alter(db, "DROP TRIGGER observations_no_update", "DROP TRIGGER flags_no_delete")
    result = verify_db(db)
    assert result.ok, result.problems
    assert result.notes == [("2 append-only triggers are missing (flags_no_delete, "
                             "observations_no_update): the file was changed outside "
                             "thriftwatch; the chains show whether any evidence changed")]
    exported = run_command("thriftwatch", "export", "--db", str(db), "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    printed = run_command("thriftwatch", "verify", "--db", str(db))
    assert printed.returncode == 0
    assert "note: 2 append-only triggers are missing (flags_no_delete" in printed.stdout


def test_a_clean_db_of_every_schema_version_is_sound(tmp_path):
    import sqlite_utils

    for version in range(1, schema.SCHEMA_VERSION + 1):
        db = sqlite_utils.Database(tmp_path / f"v{version}.db")
        schema.create(db, version)
        schema.create_meta(db, version)
        found = schema.soundness(db.conn)
        assert found.ok, found.problems
        assert found.version == version
        db.close()


def test_the_planner_statistics_of_analyze_are_allowed(db):
    _alter(db, "ANALYZE")
    assert verify_db(db).ok


# -- the full-text index Datasette searches ------------------------------------------------

def test_a_full_text_index_that_hides_a_listing_is_found_and_not_served(db):
    _alter(db, "INSERT INTO listings_fts (listings_fts, rowid, title, description) "
               "SELECT 'delete', rowid, title, description FROM listings "
               "WHERE listing_id = '100'")
    conn = sqlite3.connect(db)
    hits = conn.execute("SELECT rowid FROM listings_fts WHERE listings_fts MATCH 'balpres'")
    assert hits.fetchall() == []  # a search no longer finds the strong listing
    conn.close()
    problems = verify_db(db).problems
    assert any(p.startswith("the full-text index of listings does not match") for p in problems)
    served = run_command("thriftwatch", "serve", "--db", str(db), "--port", str(free_port()),
                         timeout=60)
    assert served.returncode == 2
    assert "refusing to serve: the full-text index" in served.stderr


# -- bodies are hashed again when they are written out ---------------------------------------

def _replace_body(db: Path, body: bytes) -> str:
    """Swap the page's stored body, its guard trigger dropped and made again: the DB stays
    sound to SQLite, only the body's own SHA-256 tells."""
    conn = sqlite3.connect(db)
    (page,) = conn.execute("SELECT body_sha256 FROM captures").fetchone()
    (guard,) = conn.execute("SELECT sql FROM sqlite_master "
                            "WHERE name = 'capture_bodies_no_update'").fetchone()
    conn.execute("DROP TRIGGER capture_bodies_no_update")
    conn.execute("UPDATE capture_bodies SET body = ? WHERE sha256 = ?",
                 [zlib.compress(body), page])
    conn.execute(guard)
    conn.commit()
    conn.close()
    return page


def test_warc_and_bundle_refuse_a_body_that_does_not_match_its_sha256(db, tmp_path):
    page = _replace_body(db, FORGED)
    for fmt in ("warc", "bundle"):
        out = tmp_path / f"case.{fmt}"
        result = run_command("thriftwatch", "export", "--db", str(db), "--format", fmt,
                             "-o", str(out))
        assert result.returncode == 2, result.stderr
        assert f"the body stored under SHA-256 {page} hashes to {sha256_hex(FORGED)}" \
            in result.stderr
    assert any("body does not match its SHA-256" in p for p in verify_db(db).problems)


def test_datasette_refuses_to_serve_a_body_that_does_not_match_its_sha256(db):
    page = _replace_body(db, FORGED)
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "thriftwatch"), "serve",
                               "--db", str(db), "--port", str(port)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("datasette did not start: " + server.stderr.read().decode())
                time.sleep(0.2)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{base}/-/capture/{page}", timeout=10)
        assert refused.value.code == 500
        answer = refused.value.read()
        assert b"refusing to serve it" in answer
        assert b"FORGED" not in answer
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_clean_db_exports_as_before(db, tmp_path):
    exported = run_command("thriftwatch", "export", "--db", str(db), "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    records = {r["listing_id"]: r for r in map(json.loads, exported.stdout.splitlines())}
    assert records["100"]["level"] == "strong"
    warc = run_command("thriftwatch", "export", "--db", str(db), "--format", "warc",
                       "-o", str(tmp_path / "case.warc.gz"))
    assert warc.returncode == 0, warc.stderr
