"""Values and their types: what is hashed is what SQLite gives back, for every column type
(-0.0 included), and a value whose type was changed (a hex id turned into the BLOB of its
bytes) is tampering, even when its hash would read the same."""

from __future__ import annotations

import json
import math
import sqlite3
from typing import TYPE_CHECKING, Any

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.evidence import schema
from crawler.evidence.custody import as_stored, canonical, row_hash, type_problem
from crawler.evidence.store import EvidenceStore
from crawler.evidence.verify import verify_db
from tests.helpers import run_command
from tests.test_heads import rebuild_listings, rechain

if TYPE_CHECKING:
    from pathlib import Path

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)
# What may be handed to a column of each kind: whatever a platform's JSON can become.
HANDED = {
    str: st.one_of(st.none(), st.text(), st.booleans(), INT64, FLOATS,
                   st.just(-0.0), st.just(0.0)),
    int: st.one_of(st.none(), st.booleans(), INT64, FLOATS, st.just(-0.0)),
    float: st.one_of(st.none(), st.booleans(), INT64, FLOATS, st.just(-0.0),
                     st.just(-5e-324)),
    bytes: st.one_of(st.none(), st.binary()),
}
COLUMNS = [(table, name, kind) for table, columns in schema.TABLES.items()
           for name, kind in columns.items() if name not in ("id", "prev_hash", "row_hash")]


def _as_read(value: Any) -> Any:
    """A value with the sign of a zero made visible (``-0.0 == 0.0`` in Python)."""
    if isinstance(value, float) and value == 0:
        return ("zero", math.copysign(1, value))
    return value


@pytest.fixture(scope="module")
def real_db(tmp_path_factory) -> sqlite3.Connection:
    """A real evidence DB file with thriftwatch's schema (triggers and indexes too)."""
    path = tmp_path_factory.mktemp("types") / "evidence.db"
    db = sqlite_utils.Database(path)
    schema.create(db)
    schema.create_meta(db)
    for name in schema.TABLES:  # unique indexes would refuse random repeats
        for index in db[name].indexes:
            db.execute(f'DROP INDEX "{index.name}"')
    yield db.conn
    db.close()


_ids = iter(range(1, 10**9))


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(column=st.sampled_from(COLUMNS), data=st.data())
def test_every_value_of_every_column_is_hashed_as_sqlite_gives_it_back(real_db, column, data):
    """Through a real SQLite DB: as_stored is a fixed point of a write and a read, so the row
    hash covers the value stored; -0.0 in a REAL column, which SQLite gives back as 0.0,
    included."""
    table, name, kind = column
    value = data.draw(HANDED[kind], label="value")
    try:
        stored = as_stored(kind, value)
    except (TypeError, ValueError):
        return  # refused before it is written: set aside as a fault, never hashed
    row_id = next(_ids)
    real_db.execute(f'INSERT INTO {table} (id, "{name}", prev_hash, row_hash) '
                    "VALUES (?, ?, '', '')", [row_id, stored])
    (read,) = real_db.execute(f'SELECT "{name}" FROM {table} WHERE id = ?',
                              [row_id]).fetchone()
    assert _as_read(read) == _as_read(stored)
    assert type(read) is type(stored)
    assert canonical(table, {name: read}) == canonical(table, {name: stored})
    assert type_problem(kind, read) is None


def test_negative_zero_is_stored_and_hashed_as_zero(tmp_path):
    db = tmp_path / "e.db"
    store = EvidenceStore(db)
    run = store.start_run(platform="tokopedia", keywords=["negzero"])
    store.add_observations(run, [
        {"platform": "tokopedia", "listing_id": "1", "keyword": "negzero", "rating": -0.0,
         "level": "none", "flagged": False, "score": -0.0},
        {"platform": "tokopedia", "listing_id": "2", "keyword": "negzero", "rating": -0.0,
         "price_idr": -0.0, "sold_count": -0.0}])
    store.end_run(run, status="finished", stats={})
    store.close()
    result = verify_db(db)
    assert result.ok, result.problems
    assert as_stored(float, -0.0) == 0.0
    assert math.copysign(1, as_stored(float, -0.0)) == 1.0


@pytest.mark.crawl
def test_a_crawled_rating_of_negative_zero_verifies(replica, tmp_path):
    """The reviewer's case: Tokopedia sends the rating "-0.0"; the clean DB must verify."""
    from tests.helpers import crawl_replica
    from tests.test_evidence_integrity import HOST, real_products, tokopedia_answer

    products = real_products("negzero", 3)
    products[1]["rating"] = "-0.0"
    products[2]["rating"] = -0.0
    replica.plant(HOST, "negzero", tokopedia_answer("negzero", products))
    db = tmp_path / "evidence.db"
    crawl_replica(replica, db, "tokopedia", "-a", "keywords=negzero", "-a", "max_pages=1")
    verified = run_command("thriftwatch", "verify", "--db", str(db))
    assert verified.returncode == 0, verified.stdout + verified.stderr


# -- TEXT and BLOB -----------------------------------------------------------------------------

def test_the_canonical_form_tells_a_blob_from_its_hex_text():
    text = {"id": 1, "listing_id": "101435684020"}
    blob = {"id": 1, "listing_id": bytes.fromhex("101435684020")}
    assert canonical("observations", text) != canonical("observations", blob)
    assert row_hash("observations", text) != row_hash("observations", blob)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "e.db"
    store = EvidenceStore(path)
    run = store.start_run(platform="tokopedia", keywords=["balpres"])
    store.add_observations(run, [
        {"platform": "tokopedia", "listing_id": str(101435684020 + n), "keyword": "balpres",
         "url": f"https://t/{n}", "title": f"balpres {n}", "level": "strong", "flagged": True,
         "score": 0.9, "capture_sha256": "ab" * 32, "reasons": []} for n in range(3)]
        + [{"platform": "tokopedia", "listing_id": "5", "keyword": "balpres",
            "title": "kaos polos", "level": "none", "flagged": False, "score": 0.0}])
    store.end_run(run, status="finished", stats={})
    store.close()
    return path


def blob_swap(db: Path, *, rehash: bool) -> None:
    """The reviewer's attack: a flagged listing's hex id and capture digest become the BLOBs
    of their bytes (the guard trigger dropped and made again); ``rehash``: every chain is
    recomputed too, as a forger who knows the new canonical form would."""
    conn = sqlite3.connect(db)
    (guard,) = conn.execute("SELECT sql FROM sqlite_master "
                            "WHERE name = 'observations_no_update'").fetchone()
    conn.execute("DROP TRIGGER observations_no_update")
    conn.execute("UPDATE observations SET listing_id = ?, capture_sha256 = ? "
                 "WHERE listing_id = '101435684020'",
                 [bytes.fromhex("101435684020"), bytes.fromhex("ab" * 32)])
    conn.commit()
    if rehash:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                    "AND name LIKE '%_no_%'").fetchall():
            conn.execute(f'DROP TRIGGER "{name}"')
        rechain(conn)
    else:
        conn.execute(guard)
        conn.commit()
    conn.close()
    rebuild_listings(db)


@pytest.mark.parametrize("rehash", [False, True])
def test_a_hex_text_turned_into_a_blob_is_tampering(db, rehash):
    head = verify_db(db).head
    blob_swap(db, rehash=rehash)
    result = verify_db(db, heads=[] if rehash else [head])
    assert not result.ok
    assert result.problems[0] == (
        "observations row id 1: listing_id holds a BLOB where the column is TEXT (no "
        "thriftwatch write leaves it so: its type was changed)")
    assert any("capture_sha256 holds a BLOB" in p for p in result.problems)
    if not rehash:
        assert "observations row id 1: content does not match its hash (edited)" \
            in result.problems
    printed = run_command("thriftwatch", "verify", "--db", str(db))
    assert printed.returncode == 1
    assert "listing_id holds a BLOB where the column is TEXT" in printed.stderr


def test_exports_of_a_blob_do_not_crash_and_do_not_pass_it_off_as_text(db, tmp_path):
    blob_swap(db, rehash=False)
    jsonl = run_command("thriftwatch", "export", "--db", str(db), "--format", "jsonl")
    assert jsonl.returncode == 0, jsonl.stderr
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert {"$blob": "101435684020"} in [r["listing_id"] for r in records]
    assert {"$blob": "ab" * 32} in [r["capture_sha256"] for r in records]
    csv_out = tmp_path / "x.csv"
    csv = run_command("thriftwatch", "export", "--db", str(db), "--format", "csv",
                      "-o", str(csv_out))
    assert csv.returncode == 0, csv.stderr
    text = csv_out.read_text(encoding="utf-8")
    assert "X'101435684020'" in text
    assert "b'\\x10" not in text
    report = run_command("thriftwatch", "report", "--db", str(db), "-o", str(tmp_path / "r.html"))
    assert report.returncode == 0, report.stderr
    assert "b&#x27;" not in (tmp_path / "r.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(("kind", "value", "problem"), [
    (str, b"\x10", "holds a BLOB where the column is TEXT"),
    (int, "12", "holds a TEXT where the column is INTEGER"),
    (int, b"", "holds a BLOB where the column is INTEGER"),
    (float, 3, "holds an INTEGER where the column is REAL"),
    (float, "x", "holds a TEXT where the column is REAL"),
    (bytes, "00", "holds a TEXT where the column is BLOB"),
])
def test_type_problem_names_what_a_column_holds(kind, value, problem):
    assert type_problem(kind, value) == problem
    assert type_problem(kind, None) is None
    assert type_problem(kind, None, nullable=False) == "is NULL where a value must be"


def test_a_db_of_the_previous_release_has_every_value_of_its_type(tmp_path):
    """Tagging BLOBs in the canonical form changes no hash a release wrote: none of them
    hashed a BLOB. (tests/test_heads.py checks the whole DB still verifies.)"""
    import gzip
    import shutil

    from tests.test_heads import PREVIOUS_RELEASE

    path = tmp_path / "previous.db"
    with gzip.open(PREVIOUS_RELEASE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    conn = sqlite3.connect(path)
    for table, columns in schema.TABLES.items():
        if table not in schema.evidence_tables(1):
            continue  # added by a later schema version
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        # A column a later version added (flags.reflag_id) is not in the release's table.
        hashed = [name for name in columns if name != "body" and name in present]
        for row in conn.execute(f"SELECT {', '.join(hashed)} FROM {table}"):
            assert not any(isinstance(value, bytes) for value in row), table
    conn.close()
    assert verify_db(path).ok
