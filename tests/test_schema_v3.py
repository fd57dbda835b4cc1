"""Schema version 3: listing pages, contacts, images and takedown requests as chained,
append-only evidence, and the ``accounts`` view.

A DB of each earlier release (tests/data) verifies, migrates with the same head, takes new
runs and rows in every new table, and still verifies; an edit, a deletion, an insertion and
a reordering in each new table is caught by verify, and by a head written down outside once
the forger has recomputed every chain; the accounts' status follows rechecks; hostile values
in the new writers are stored as their columns give them back or refused, never half-written.
"""

from __future__ import annotations

import gzip
import json
import math
import shutil
import sqlite3
import time
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.evidence import schema
from crawler.evidence.capture import Capture, sha256_hex
from crawler.evidence.custody import ERASABLE, EVIDENCE_TABLES, row_hash, text_digest
from crawler.evidence.store import WRITE_ERRORS, EvidenceStore
from crawler.evidence.verify import verify_db
from tests.helpers import REPO, open_db, run_command
from tests.test_heads import rechain, without_triggers

if TYPE_CHECKING:
    from pathlib import Path

DATA = REPO / "tests" / "data"
RELEASES = {  # fixture -> (its schema version, its observations)
    "previous-release.db.gz": (1, 120),
    "release-v2.db.gz": (2, 180),
}
NEW_TABLES = tuple(schema.TABLES_V3)
JPEG = bytes.fromhex("ffd8ffe000104a464946") + b"\x00" * 40 + b"\xff\xd9"


def unpack(name: str, folder: Path) -> Path:
    db = folder / name.removesuffix(".gz")
    with gzip.open(DATA / name) as packed, db.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return db


def meta_version(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT value FROM meta").fetchone()[0])
    finally:
        conn.close()


def page_capture(store: EvidenceStore, run: int, body: bytes) -> tuple[int, str]:
    return store.add_capture(run, Capture(
        url="https://gql.tokopedia.com/graphql/PDPGetLayoutQuery", method="POST", status=200,
        request_headers={}, response_headers={}, request_body=None, body=body,
        fetched_at="2026-12-02T00:00:00.000Z"), None)


def seller_evidence(store: EvidenceStore, run: int, listings: list[tuple[str, str]],
                    tag: str = "") -> dict[str, list[int]]:
    """A listing page, two contacts and an image for each of ``listings`` (platform,
    listing_id), as enrichment writes them."""
    ids: dict[str, list[int]] = {table: [] for table in NEW_TABLES}
    for n, (platform, listing_id) in enumerate(listings):
        capture_id, digest = page_capture(store, run, f"page {tag}{listing_id}".encode())
        ids["listing_pages"].append(store.add_listing_page(run, {
            "platform": platform, "listing_id": listing_id,
            "url": f"https://www.{platform}.com/p/{listing_id}", "capture_id": capture_id,
            "capture_sha256": digest, "description": f"Balpres {tag} WA 0812-3456-78{n:02d}",
            "seller_id": f"s{n}", "seller_name": f"Toko {n}", "seller_joined": "2021-03",
            "seller_location": "Bandung", "seller_followers": 1200 + n, "seller_sales": 30,
            "seller_rating": 4.8, "image_urls": [f"https://img/{listing_id}.jpg"],
            "variants": [{"size": "L", "stock": 3}], "stock": 3}))
        ids["contacts"].extend(store.add_contacts(run, [
            {"platform": platform, "listing_id": listing_id, "source": "page",
             "field": "description", "kind": "phone", "value": f"+62812345678{n:02d}",
             "raw": f"0812-3456-78{n:02d}", "capture_sha256": digest},
            {"platform": platform, "listing_id": listing_id, "source": "card",
             "field": "seller_name", "kind": "instagram", "value": f"balpres{tag}{n}",
             "raw": f"@Balpres{tag}{n}", "capture_sha256": digest}]))
        ids["images"].append(store.add_image(run, {
            "platform": platform, "listing_id": listing_id,
            "url": f"https://img/{listing_id}.jpg", "body": JPEG + f"{tag}{n}".encode(),
            "phash": f"{n:016x}", "width": 640, "height": 480}))
    return ids


def takedown(store: EvidenceStore, platform: str, listing_ids: list[str]) -> int:
    return store.add_takedown_request({
        "platform": platform, "network_id": "a1b2c3d4e5f6",
        "accounts": [{"platform": platform, "seller_id": "s0",
                      "url": f"https://www.{platform}.com/s0"}],
        "listing_urls": [f"https://www.{platform}.com/p/{n}" for n in listing_ids],
        "reason_id": "Pakaian bekas impor dilarang", "reason_en": "Imported used clothing",
        "legal_basis": "HS 6309.00.00; Permendag 40/2022; UU 7/2014 Art. 47, 111",
        "evidence": [{"listing_id": n, "capture_sha256": "ab" * 32, "observation_id": 1}
                     for n in listing_ids]})


# -- DBs of earlier releases ----------------------------------------------------------------

@pytest.mark.parametrize("fixture", list(RELEASES))
def test_a_db_of_an_earlier_release_verifies_migrates_and_takes_seller_evidence(
        fixture, tmp_path):
    version, observations = RELEASES[fixture]
    db = unpack(fixture, tmp_path)
    before = verify_db(db)
    assert before.ok, before.problems
    assert before.schema_version == version
    assert not set(NEW_TABLES) & set(before.rows)  # no such chain before version 3
    printed = run_command("thriftwatch", "verify", "--db", str(db))
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert f"the schema (version {version})" in printed.stdout
    assert meta_version(db) == version  # verify reads only

    started = time.perf_counter()
    store = EvidenceStore(db)  # opening it migrates it
    migrated_in = time.perf_counter() - started
    assert migrated_in < 5
    assert meta_version(db) == schema.SCHEMA_VERSION
    assert store.head() == before.head  # empty chains move no head
    old_heads = [f"{run}:{head}" for run, head in before.run_heads.items()]
    migrated = verify_db(db, heads=[before.head, *old_heads])
    assert migrated.ok, migrated.problems
    assert migrated.head == before.head
    assert migrated.anchored.keys() == before.anchored.keys()  # tokens still cover their heads

    # New runs on the old listings and accounts, with rows in every new table.
    known = [(row["platform"], row["listing_id"]) for row in store.db.query(
        "SELECT platform, listing_id FROM listings ORDER BY platform, listing_id LIMIT 3")]
    run = store.start_run(platform="tokopedia", keywords=["karungan"])
    ids = seller_evidence(store, run, known)
    first_new = store.end_run(run, status="finished", stats={})
    takedown(store, known[0][0], [known[0][1]])
    run = store.start_run(platform="tokopedia", keywords=["karungan"])
    seller_evidence(store, run, known, tag="again")
    second_new = store.end_run(run, status="finished", stats={})
    assert [page["listing_id"] for page in store.listing_pages()] == [n for _, n in known] * 2
    assert len(list(store.contacts())) == 12
    store.close()

    after = verify_db(db, heads=[before.head, *old_heads, first_new, second_new])
    assert after.ok, after.problems
    assert after.rows["observations"] == observations
    assert {table: after.rows[table] for table in NEW_TABLES} == {
        "listing_pages": 6, "contacts": 12, "images": 6, "takedown_requests": 1}
    assert len(ids["contacts"]) == 6
    assert not after.notes  # every image body has its image row
    printed = run_command("thriftwatch", "verify", "--db", str(db), "--head", before.head,
                          "--head", second_new)
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert "listing_pages 6, contacts 12, images 6, takedown_requests 1" in printed.stdout


@pytest.mark.parametrize("fixture", list(RELEASES))
def test_a_db_of_an_earlier_release_has_every_value_of_its_type(fixture, tmp_path):
    """No hashed column of a release's DB holds bytes (BLOBs are tagged in the canonical
    form), and none of the tables version 3 adds is there."""
    version, _ = RELEASES[fixture]
    db = unpack(fixture, tmp_path)
    conn = sqlite3.connect(db)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert tables.isdisjoint(NEW_TABLES)
    assert "accounts" not in tables
    for table in schema.evidence_tables(version):
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        # A column a later version added (flags.reflag_id) is not in the release's table.
        hashed = [name for name in schema.TABLES[table] if name != "body" and name in present]
        for row in conn.execute(f"SELECT {', '.join(hashed)} FROM {table}"):
            assert not any(isinstance(value, bytes) for value in row), table
    conn.close()


def test_the_release_v2_db_is_what_its_readme_says(tmp_path):
    db = unpack("release-v2.db.gz", tmp_path)
    result = verify_db(db)
    assert result.head == "8a22dc65e7908adb0536bf8ebfb55cc89bbc2fb9e4179ddfb180e2fd80768c57"
    conn = sqlite3.connect(db)
    runs = conn.execute("SELECT platform, keywords FROM runs ORDER BY id").fetchall()
    rechecks = dict(conn.execute("SELECT status, COUNT(*) FROM rechecks GROUP BY status"))
    (faults,) = conn.execute("SELECT COUNT(*) FROM faults WHERE kind = 'blocked'").fetchone()
    conn.close()
    assert runs == [("tokopedia", '["karungan"]'), ("shopee", '["karungan"]'),
                    ("shopee", '["__block__x"]'), ("recheck", "[]")]
    assert rechecks == {"live": 172, "removed": 6, "blocked": 2}
    assert faults == 1
    assert len(result.anchored) == 4


# -- tampering in each new table ------------------------------------------------------------

@pytest.fixture
def seller_db(tmp_path: Path) -> tuple[Path, str]:
    """Three rows in each new table, all covered by run 2's head (returned with the DB)."""
    db = tmp_path / "e.db"
    store = EvidenceStore(db)
    run = store.start_run(platform="tokopedia", keywords=["balpres"])
    listings = [("tokopedia", str(n)) for n in range(3)]
    store.add_observations(run, [
        {"platform": "tokopedia", "listing_id": n, "url": f"https://t/{n}", "title": "balpres",
         "keyword": "balpres", "seller_id": "s0", "level": "strong", "flagged": True,
         "score": 0.9, "reasons": []} for _, n in listings])
    seller_evidence(store, run, listings[:2])
    store.end_run(run, status="finished", stats={})
    for n in range(3):
        takedown(store, "tokopedia", [str(n)])
    run = store.start_run(platform="tokopedia", keywords=["balpres"])
    store.add_contacts(run, [{"platform": "tokopedia", "listing_id": "2", "source": "card",
                              "field": "title", "kind": "whatsapp", "value": "+6281299990000",
                              "raw": "wa.me/6281299990000"}])
    seller_evidence(store, run, listings[2:], tag="b")
    head = store.end_run(run, status="finished", stats={})
    store.close()
    assert verify_db(db, heads=[head]).ok
    return db, head


EDITS = {"listing_pages": ("description", "Kaos polos baru"),
         "contacts": ("value", "+6281200000000"),
         "images": ("phash", "ffffffffffffffff"),
         "takedown_requests": ("listing_urls", "[]")}


def _row(conn: sqlite3.Connection, table: str, row_id: int) -> dict[str, Any]:
    conn.row_factory = sqlite3.Row
    return dict(conn.execute(f"SELECT * FROM {table} WHERE id = ?", [row_id]).fetchone())


def tamper(db: Path, table: str, how: str) -> None:
    """An edit, a deletion, an insertion (a forged row with a valid hash, linked to the row
    before it) or a reordering at row 2 of ``table``, its triggers dropped first."""
    conn = without_triggers(db)
    column, value = EDITS[table]
    if how == "edit":
        conn.execute(f"UPDATE {table} SET {column} = ? WHERE id = 2", [value])
    elif how == "delete":
        conn.execute(f"DELETE FROM {table} WHERE id = 2")
    elif how == "insert":
        first = _row(conn, table, 1)
        forged = {**first, "id": 2, column: value, "url": "https://forged",
                  "prev_hash": first["row_hash"]}
        forged = {name: forged[name] for name in first}
        for text, digest in ERASABLE.get(table, {}).items():  # a forger rewrites digests too
            forged[digest] = text_digest(forged[text])
        forged["row_hash"] = row_hash(table, forged)
        conn.execute(f"UPDATE {table} SET id = id + 100 WHERE id >= 2")
        conn.execute(f"UPDATE {table} SET id = id - 99 WHERE id >= 100")
        conn.execute(f"INSERT INTO {table} ({', '.join(forged)}) "
                     f"VALUES ({', '.join('?' * len(forged))})", list(forged.values()))
    elif how == "reorder":
        conn.execute(f"UPDATE {table} SET id = 100 WHERE id = 2")
        conn.execute(f"UPDATE {table} SET id = 2 WHERE id = 3")
        conn.execute(f"UPDATE {table} SET id = 3 WHERE id = 100")
    conn.commit()
    conn.close()


def forge_chains(db: Path) -> None:
    """A forger's last step: each head a run recorded that is gone now names the row before
    it, then every row hash, chain link and recorded head is recomputed."""
    conn = sqlite3.connect(db)
    for end_id, text in conn.execute("SELECT id, chain_heads FROM run_ends").fetchall():
        recorded = json.loads(text)
        for table, head in recorded.items():
            if head:
                (last,) = conn.execute(f"SELECT MAX(id) FROM {table} WHERE id <= ?",
                                       [head["id"]]).fetchone()
                recorded[table] = None if last is None else {**head, "id": last}
        conn.execute("UPDATE run_ends SET chain_heads = ? WHERE id = ?",
                     [json.dumps(recorded, sort_keys=True), end_id])
    rechain(conn)
    conn.close()


FIRST_PROBLEM = {"edit": "row id 2: content does not match its hash (edited)",
                 "delete": "row id 3: does not follow the row before it",
                 "insert": "row id 3: does not follow the row before it",
                 "reorder": "row id 2: does not follow the row before it"}


@pytest.mark.parametrize("how", list(FIRST_PROBLEM))
@pytest.mark.parametrize("table", NEW_TABLES)
def test_tampering_in_each_new_table_is_caught_and_so_is_its_rewrite(seller_db, table, how):
    db, head = seller_db
    tamper(db, table, how)
    result = verify_db(db)
    assert not result.ok
    assert result.problems[0].startswith(f"{table} {FIRST_PROBLEM[how]}"), result.problems
    assert result.notes  # the dropped guard triggers
    if how == "edit":
        printed = run_command("thriftwatch", "verify", "--db", str(db))
        assert printed.returncode == 1
        assert f"BROKEN: {table} row id 2: content does not match its hash" in printed.stderr
    # A forger recomputes every chain and recorded head: only a head kept outside tells.
    forge_chains(db)
    assert verify_db(db).ok, verify_db(db).problems
    against = verify_db(db, heads=[f"2:{head}"]).problems
    assert against == [(f"head {head} of run 2 is not in this DB's history: run 2's head "
                        f"here is {verify_db(db).run_heads[2]}: the DB was rewritten at or "
                        "before run 2")]
    assert any(p.startswith(f"head {head} is not in this DB's history")
               for p in verify_db(db, heads=[head]).problems)
    if how == "edit":
        printed = run_command("thriftwatch", "verify", "--db", str(db), "--head", head)
        assert printed.returncode == 1
        assert f"head {head} is not in this DB's history" in printed.stderr


def test_the_append_only_triggers_guard_the_new_tables(seller_db):
    db, _ = seller_db
    conn = sqlite3.connect(db)
    for table in NEW_TABLES:
        for statement in (f"UPDATE {table} SET id = id WHERE id = 1",
                          f"DELETE FROM {table} WHERE id = 1"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
    conn.close()


def test_an_image_whose_body_is_gone_is_named(seller_db):
    db, _ = seller_db
    conn = without_triggers(db)
    (digest,) = conn.execute("SELECT body_sha256 FROM images WHERE id = 2").fetchone()
    conn.execute("DELETE FROM capture_bodies WHERE sha256 = ?", [digest])
    conn.commit()
    conn.close()
    forge_chains(db)
    assert verify_db(db).problems == [f"images row id 2: its body {digest} is missing"]


def test_a_null_where_a_new_table_needs_a_value_is_tampering(seller_db):
    db, _ = seller_db
    conn = without_triggers(db)
    conn.execute("UPDATE contacts SET kind = NULL WHERE id = 1")
    rechain(conn)
    conn.close()
    assert verify_db(db).problems == [
        ("contacts row id 1: kind is NULL where a value must be (no thriftwatch write "
         "leaves it so: its type was changed)")]


def test_a_db_taken_back_to_version_2_is_caught(seller_db):
    """Dropping the new tables and writing version 2 back leaves a DB sound for version 2;
    the heads the runs recorded in those tables name what is gone."""
    db, head = seller_db
    conn = without_triggers(db)
    conn.execute("DROP VIEW accounts")
    for table in (*NEW_TABLES, *schema.TABLES_V4):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("UPDATE meta SET value = '2'")
    conn.commit()
    conn.close()
    result = verify_db(db, heads=[head])
    assert result.schema_version == 2
    assert ("contacts row id 7: recorded as chain head when run 2 ended, but the table is "
            "gone (the DB was taken back to an earlier schema version, or is not what that "
            "run wrote)") in result.problems
    assert result.head != head  # the DB's head now leaves out what was dropped


@pytest.mark.parametrize(("statements", "problem"), [
    (["UPDATE meta SET value = '2'"],
     "table contacts is not part of a thriftwatch evidence DB (schema version 2)"),
    (["DROP VIEW accounts", "CREATE VIEW accounts AS SELECT * FROM sellers"],
     "view accounts is not defined as thriftwatch defines it"),
    (["DROP INDEX idx_contacts_kind_value"],
     "index idx_contacts_kind_value is missing from the schema"),
    (["DROP TABLE takedown_requests"], "table takedown_requests is missing from the schema"),
])
def test_the_new_tables_and_view_are_part_of_the_schema_check(seller_db, statements, problem):
    db, _ = seller_db
    conn = without_triggers(db)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    assert any(p.startswith(problem) for p in verify_db(db).problems)
    refused = run_command("thriftwatch", "export", "--db", str(db), "--format", "jsonl")
    assert refused.returncode == 2
    assert "refusing to read" in refused.stderr


def test_a_fresh_db_and_a_migrated_one_have_the_same_schema(tmp_path):
    import sqlite_utils

    fresh = sqlite_utils.Database(tmp_path / "fresh.db")
    schema.create(fresh)
    schema.create_meta(fresh)
    migrated = EvidenceStore(unpack("release-v2.db.gz", tmp_path))
    objects = schema._objects  # the comparison soundness makes
    assert objects(fresh.conn) == objects(migrated.conn) == schema.expected_objects(
        schema.SCHEMA_VERSION)
    later = {*schema.TABLES_V4, *schema.TABLES_V5}
    assert schema.evidence_tables(2) == tuple(
        t for t in EVIDENCE_TABLES if t not in {*NEW_TABLES, *later})
    assert schema.evidence_tables(3) == tuple(t for t in EVIDENCE_TABLES if t not in later)
    assert schema.evidence_tables(4) == tuple(t for t in EVIDENCE_TABLES
                                              if t not in schema.TABLES_V5)
    migrated.close()
    fresh.close()


# -- the writers and readers ----------------------------------------------------------------

@pytest.fixture
def store(tmp_path: Path):
    store = EvidenceStore(tmp_path / "e.db")
    yield store
    store.close()


def test_readers_give_back_what_was_written(store):
    run = store.start_run(platform="shopee", keywords=["bal"])
    seller_evidence(store, run, [("shopee", "7"), ("tokopedia", "8")])
    page = store.latest_listing_page("shopee", "7")
    assert page["image_urls"] == ["https://img/7.jpg"]
    assert page["variants"] == [{"size": "L", "stock": 3}]
    assert page["seller_followers"] == 1200
    assert store.latest_listing_page("shopee", "nope") is None
    assert [p["listing_id"] for p in store.listing_pages(platform="tokopedia")] == ["8"]
    assert [c["value"] for c in store.contacts(kind="phone")] == ["+6281234567800",
                                                                 "+6281234567801"]
    assert [c["platform"] for c in store.contacts(platform="tokopedia")] == ["tokopedia"] * 2
    [image] = store.images(platform="shopee")
    assert "body" not in image
    assert store.capture_body(image["body_sha256"]) == JPEG + b"0"
    head = store.head()
    request_id = takedown(store, "shopee", ["7"])
    [request] = store.takedown_requests(platform="shopee")
    assert request["id"] == request_id
    assert request["evidence"] == [{"listing_id": "7", "capture_sha256": "ab" * 32,
                                    "observation_id": 1}]
    assert request["db_head"] == head  # no run ended yet: the head just before it


def test_a_takedown_request_cites_the_latest_runs_head_which_verify_can_check(store):
    run = store.start_run(platform="shopee")
    seller_evidence(store, run, [("shopee", "7")])
    run_head = store.end_run(run, status="finished", stats={})
    assert store.latest_run_head() == (run, run_head)
    takedown(store, "shopee", ["7"])
    takedown(store, "tokopedia", ["7"])
    cited = {request["db_head"] for request in store.takedown_requests()}
    assert cited == {run_head}
    assert verify_db(store.path, heads=[f"{run}:{run_head}"]).ok
    explicit = store.add_takedown_request({"platform": "lazada", "db_head": "0f" * 32})
    [lazada] = store.takedown_requests(platform="lazada")
    assert lazada["db_head"] == "0f" * 32
    assert explicit == 3


def test_a_contact_or_image_seen_again_in_a_run_is_one_row(store):
    run = store.start_run(platform="tokopedia")
    contact = {"platform": "tokopedia", "listing_id": "1", "source": "card", "field": "title",
               "kind": "phone", "value": "+6281234567890", "raw": "0812 3456 7890"}
    assert store.add_contacts(run, [contact, contact, {**contact, "field": "description"}]) \
        == [1, 1, 2]
    assert store.add_contacts(run, [contact]) == [1]
    image = {"platform": "tokopedia", "listing_id": "1", "url": "https://img/1.jpg",
             "body": JPEG}
    assert store.add_image(run, image) == store.add_image(run, {**image, "body": JPEG + b"x"})
    bodies = store.db["capture_bodies"].count
    assert bodies == 1  # the second body, of a row not written, is not kept either
    later = store.start_run(platform="tokopedia")
    assert store.add_contacts(later, [contact]) == [3]
    # The same bytes for another listing: one body, two rows.
    assert store.add_image(later, {**image, "listing_id": "2"}) == 2
    assert store.db["capture_bodies"].count == 1
    assert store.add_image(later, {"platform": "tokopedia", "listing_id": "3",
                                   "url": "https://img/3.jpg",
                                   "body_sha256": sha256_hex(JPEG)}) == 3
    assert verify_db(store.path).ok


# -- hostile values -------------------------------------------------------------------------

PAGE = {"platform": "tokopedia", "listing_id": "1", "description": "ok"}
CONTACT = {"platform": "tokopedia", "listing_id": "1", "source": "page", "field": "description",
           "kind": "phone", "value": "+6281234567890", "raw": "0812 3456 7890"}
IMAGE = {"platform": "tokopedia", "listing_id": "1", "url": "https://img/1.jpg", "body": JPEG,
         "phash": "00ff00ff00ff00ff", "width": 640, "height": 480}
REQUEST = {"platform": "tokopedia", "accounts": [], "listing_urls": []}


def _deep() -> list:
    nested: list = []
    for _ in range(100_000):
        nested = [nested]
    return nested


def write(store: EvidenceStore, table: str, fields: dict[str, Any]) -> int:
    run = 1
    if table == "listing_pages":
        return store.add_listing_page(run, {**PAGE, **fields})
    if table == "contacts":
        return store.add_contacts(run, [{**CONTACT, **fields}])[0]
    if table == "images":
        return store.add_image(run, {**IMAGE, **fields})
    return store.add_takedown_request({**REQUEST, **fields})


REFUSED = [
    ("listing_pages", {"description": "kaos \udfff"}, "column description: text holds a lone"),
    ("listing_pages", {"seller_id": "\ud800"}, "column seller_id: text holds a lone"),
    ("listing_pages", {"seller_followers": 10**20}, "column seller_followers: 10"),
    ("listing_pages", {"seller_sales": -(2**63) - 1}, "column seller_sales:"),
    ("listing_pages", {"seller_rating": float("nan")}, "column seller_rating: nan is not"),
    ("listing_pages", {"seller_rating": float("inf")}, "column seller_rating: inf is not"),
    ("listing_pages", {"stock": float("nan")}, "column stock:"),
    ("listing_pages", {"description": b"balpres"}, "column description: bytes where text"),
    ("listing_pages", {"seller_followers": "1,2rb"}, "column seller_followers: str where"),
    ("listing_pages", {"listing_id": b"1"}, "bytes where text belongs"),
    ("listing_pages", {"listing_id": None}, "needs its platform and listing_id"),
    ("listing_pages", {"image_urls": ["a", float("nan")]}, "column image_urls: not storable"),
    ("listing_pages", {"variants": {"size": b"L"}}, "column variants: not storable"),
    ("listing_pages", {"variants": {"s": "\udfff"}}, "column variants: text holds a lone"),
    ("listing_pages", {"variants": _deep()}, "column variants: nested deeper"),
    ("contacts", {"value": "+62812\udfff"}, "column value: text holds a lone"),
    ("contacts", {"value": b"+6281234567890"}, "a contact's value must be non-empty text"),
    ("contacts", {"value": 6281234567890}, "a contact's value must be non-empty text"),
    ("contacts", {"value": "x" * 201}, "a contact's value is longer than 200"),
    ("contacts", {"raw": b"0812"}, "contacts raw: bytes where text belongs"),
    ("contacts", {"kind": "fax"}, "a contact's kind must be one of"),
    ("contacts", {"source": "chat"}, "a contact's source must be one of"),
    ("contacts", {"field": None}, "a contact needs the field"),
    ("contacts", {"seen_at": b"2026"}, "column seen_at: bytes where text"),
    ("images", {"width": 10**30}, "column width:"),
    ("images", {"height": float("-inf")}, "column height:"),
    ("images", {"url": b"https://img"}, "column url: bytes where text"),
    ("images", {"body": "not bytes"}, "images body: str where bytes belong"),
    ("images", {"body_sha256": "00" * 32}, "body_sha256 is not the SHA-256 of the body"),
    ("images", {"body": None, "body_sha256": "00" * 32}, "names no stored body"),
    ("images", {"body": None}, "needs its body"),
    ("images", {"phash": "F0F0F0F0F0F0F0F0"}, "phash must be 16 lower-case hex"),
    ("images", {"phash": 123}, "phash must be 16 lower-case hex"),
    ("takedown_requests", {"reason_en": "\udc80"}, "column reason_en: text holds a lone"),
    ("takedown_requests", {"network_id": b"\x00"}, "column network_id: bytes where text"),
    ("takedown_requests", {"evidence": [{"n": float("nan")}]}, "column evidence: not storable"),
    ("takedown_requests", {"db_head": "head"}, "db_head must be a head"),
    ("takedown_requests", {"platform": None}, "needs its platform"),
]


@pytest.mark.parametrize(("table", "fields", "why"), REFUSED,
                         ids=[f"{t}-{'-'.join(f)}-{n}" for n, (t, f, _) in enumerate(REFUSED)])
def test_a_value_no_column_can_hold_is_refused_and_nothing_is_written(store, table, fields,
                                                                       why):
    store.start_run(platform="tokopedia")
    with pytest.raises(WRITE_ERRORS) as refused:
        write(store, table, fields)
    assert why in str(refused.value)
    if table == "contacts":  # personal data: an error never quotes the contact
        assert "6281234567890" not in str(refused.value)
        assert "0812" not in str(refused.value)
    assert store.db[table].count == 0
    assert store.db["capture_bodies"].count == 0  # nothing half-written either
    result = verify_db(store.path)
    assert result.ok, result.problems


KEPT = [
    ("listing_pages", {"seller_rating": -0.0}, "seller_rating", 0.0),
    ("listing_pages", {"seller_followers": -0.0}, "seller_followers", 0),
    ("listing_pages", {"seller_sales": 12.0}, "seller_sales", 12),
    ("listing_pages", {"stock": True}, "stock", 1),
    ("listing_pages", {"seller_rating": 5}, "seller_rating", 5.0),
    ("listing_pages", {"seller_id": 123456789012}, "seller_id", "123456789012"),
    ("listing_pages", {"listing_id": 42}, "listing_id", "42"),
    ("listing_pages", {"seller_sales": 2**63 - 1}, "seller_sales", 2**63 - 1),
    ("listing_pages", {"image_urls": ["https://img/\u202e.jpg"]}, "image_urls",
     '["https://img/\u202e.jpg"]'),
    ("listing_pages", {"variants": {"big": 10**30}}, "variants", '{"big": ' + "1" + "0" * 30 + "}"),
    ("contacts", {"raw": "x" * 500}, "raw", "x" * 200),
    ("contacts", {"raw": 812}, "raw", "812"),
    ("images", {"width": -0.0}, "width", 0),
    ("images", {"height": 480.0}, "height", 480),
    ("takedown_requests", {"reason_id": 7}, "reason_id", "7"),
]


@pytest.mark.parametrize(("table", "fields", "column", "stored"), KEPT)
def test_a_value_is_stored_as_its_column_gives_it_back_and_verifies(store, table, fields,
                                                                    column, stored):
    run = store.start_run(platform="tokopedia")
    assert run == 1
    row_id = write(store, table, fields)
    (read,) = store.conn.execute(f"SELECT {column} FROM {table} WHERE id = ?",
                                 [row_id]).fetchone()
    assert read == stored
    assert type(read) is type(stored)
    if isinstance(stored, float):
        assert math.copysign(1, read) == 1.0
    result = verify_db(store.path)
    assert result.ok, result.problems


def test_a_batch_of_contacts_with_one_bad_contact_writes_none(store):
    run = store.start_run(platform="tokopedia")
    with pytest.raises(WRITE_ERRORS):
        store.add_contacts(run, [CONTACT, {**CONTACT, "field": "title"},
                                 {**CONTACT, "value": "\udfff"}])
    assert store.db["contacts"].count == 0
    assert store.add_contacts(run, [CONTACT]) == [1]  # the chain goes on from where it was
    assert verify_db(store.path).ok


any_value = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**25), 10**25),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20), st.binary(max_size=4),
    st.sampled_from(["\udfff", "a\ud800b", '=HYPERLINK("x")', "\x1b[2J", "-0.0"]),
    st.lists(st.one_of(st.text(max_size=5), st.floats(), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(-(10**25), 10**25), max_size=2))


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(table=st.sampled_from(NEW_TABLES), values=st.data())
def test_any_values_in_the_new_writers_are_stored_verifiably_or_refused(tmp_path_factory,
                                                                        table, values):
    db = tmp_path_factory.mktemp("any") / "e.db"
    store = EvidenceStore(db)
    store.start_run(platform="tokopedia")
    columns = [name for name in schema.TABLES[table]
               if name not in ("id", "run_id", "prev_hash", "row_hash")]
    fields = values.draw(st.dictionaries(st.sampled_from(columns), any_value, max_size=5))
    try:
        write(store, table, fields)
        written = 1
    except WRITE_ERRORS:
        written = 0
    assert store.db[table].count == written
    store.close()
    result = verify_db(db)
    assert result.ok, result.problems


# -- the accounts view ----------------------------------------------------------------------

def _accounts(store: EvidenceStore) -> dict[tuple[str, str], dict[str, Any]]:
    return {(a["platform"], a["seller_id"]): a for a in store.accounts()}


def test_an_accounts_status_follows_the_rechecks_of_its_listings(store):
    run = store.start_run(platform="tokopedia")
    listings = {"A": ["a1", "a2"], "B": ["b1", "b2"], "C": ["c1"]}
    store.add_observations(run, [
        {"platform": "tokopedia", "listing_id": listing, "url": f"https://t/{listing}",
         "title": "balpres", "keyword": "balpres", "seller_id": seller,
         "seller_name": f"Toko {seller}", "seller_url": f"https://t/{seller}",
         "level": "strong" if listing != "b2" else "none", "flagged": listing != "b2",
         "score": 0.9, "reasons": []}
        for seller, owned in listings.items() for listing in owned])
    store.add_observations(run, [  # a newer sighting under a new shop name
        {"platform": "tokopedia", "listing_id": "a2", "title": "balpres", "keyword": "bal",
         "seller_id": "A", "seller_name": "Toko A Baru"}])
    store.end_run(run, status="finished", stats={})

    def recheck(listing: str, status: str) -> None:
        time.sleep(0.002)  # times are kept to the millisecond
        store.add_recheck(run, {"platform": "tokopedia", "listing_id": listing,
                                "url": f"https://t/{listing}", "status": status})

    accounts = _accounts(store)
    assert {key[1]: a["status"] for key, a in accounts.items()} == {
        "A": None, "B": None, "C": None}
    assert accounts["tokopedia", "A"]["seller_name"] == "Toko A Baru"
    assert accounts["tokopedia", "A"]["seller_url"] == "https://t/A"
    assert (accounts["tokopedia", "B"]["listings"], accounts["tokopedia", "B"]["flagged"]) \
        == (2, 1)

    recheck("a1", "removed")
    recheck("b1", "live")
    recheck("b2", "removed")
    recheck("c1", "error")  # says nothing about the listing
    accounts = _accounts(store)
    assert {key[1]: a["status"] for key, a in accounts.items()} == {
        "A": "taken_down", "B": "live", "C": None}  # a2 never rechecked: A is down as seen
    first_down = accounts["tokopedia", "A"]["taken_down_at"]
    assert first_down is not None
    assert accounts["tokopedia", "B"]["taken_down_at"] is None

    recheck("a2", "blocked")  # a captcha or login wall says nothing about the account
    assert _accounts(store)["tokopedia", "A"]["taken_down_at"] == first_down
    recheck("a2", "removed")
    recheck("b1", "removed")
    accounts = _accounts(store)
    assert accounts["tokopedia", "A"]["status"] == "taken_down"
    assert accounts["tokopedia", "A"]["taken_down_at"] > first_down  # when a2 was found down
    assert accounts["tokopedia", "B"]["status"] == "taken_down"
    a_down = accounts["tokopedia", "A"]["taken_down_at"]

    recheck("a1", "live")  # back up
    recheck("a1", "removed")  # and down again: down since this recheck
    recheck("b2", "error")
    accounts = _accounts(store)
    assert accounts["tokopedia", "A"]["status"] == "taken_down"
    assert accounts["tokopedia", "A"]["taken_down_at"] > a_down
    assert accounts["tokopedia", "B"]["status"] == "taken_down"
    recheck("b2", "live")
    assert _accounts(store)["tokopedia", "B"]["status"] == "live"
    assert verify_db(store.path).ok


def test_the_accounts_of_the_release_v2_db_match_its_rechecks(tmp_path):
    """On a DB a real crawl and recheck wrote: the view against a plain Python reading of
    the listings and rechecks."""
    store = EvidenceStore(unpack("release-v2.db.gz", tmp_path))
    latest: dict[tuple[str, str], str] = {}
    for row in store.db.query("SELECT platform, listing_id, status FROM rechecks ORDER BY id"):
        if row["status"] in ("live", "removed", "blocked"):
            latest[row["platform"], row["listing_id"]] = row["status"]
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for row in store.db.query(
            "SELECT l.platform, l.listing_id, l.seller_id, f.flagged FROM listings l "
            "LEFT JOIN flags f ON f.observation_id = l.last_observation_id"):
        account = expected.setdefault((row["platform"], row["seller_id"]),
                                      {"listings": 0, "flagged": 0, "checks": []})
        account["listings"] += 1
        account["flagged"] += row["flagged"] or 0
        if (row["platform"], row["listing_id"]) in latest:
            account["checks"].append(latest[row["platform"], row["listing_id"]])
    found = _accounts(store)
    assert found.keys() == expected.keys()
    for key, account in expected.items():
        checks = account["checks"]
        status = (None if not checks else "live" if "live" in checks else "taken_down")
        assert (found[key]["listings"], found[key]["flagged"], found[key]["status"]) == (
            account["listings"], account["flagged"], status), key
    statuses = [a["status"] for a in found.values()]
    assert statuses.count("taken_down") >= 1
    assert statuses.count("live") >= 30
    store.close()


@pytest.mark.crawl
def test_a_migrated_v2_db_takes_a_crawl_and_a_recheck_and_its_accounts_follow(replica,
                                                                             tmp_path):
    db = unpack("release-v2.db.gz", tmp_path)
    before = verify_db(db).head
    fast = ["--replica", replica.url, "-s", "AUTOTHROTTLE_ENABLED=False", "-s",
            "DOWNLOAD_DELAY=0", "--log-level", "WARNING"]
    crawled = run_command("thriftwatch", "crawl", "tokopedia", "--keywords", "balpres",
                          "--max-pages", "1", "--db", str(db), *fast)
    assert crawled.returncode == 0, crawled.stderr[-3000:]
    assert meta_version(db) == schema.SCHEMA_VERSION
    conn = open_db(db)
    (run,) = conn.execute("SELECT MAX(id) FROM run_starts").fetchone()
    seller, platform = conn.execute(
        "SELECT seller_id, platform FROM listings WHERE last_run_id = ? AND seller_id "
        "IS NOT NULL GROUP BY seller_id ORDER BY COUNT(*) DESC LIMIT 1", [run]).fetchone()
    urls = [row[0] for row in conn.execute(
        "SELECT url FROM listings WHERE platform = ? AND seller_id = ?", [platform, seller])]
    conn.close()
    for url in urls:
        replica.set_listing_state(url, "removed")
    rechecked = run_command("thriftwatch", "recheck", "--db", str(db), "--platform", platform,
                            *fast)
    assert rechecked.returncode == 0, rechecked.stderr[-3000:]
    store = EvidenceStore(db)
    account = _accounts(store)[platform, seller]
    assert account["status"] == "taken_down"
    assert account["taken_down_at"] is not None
    assert sum(a["status"] == "live" for a in store.accounts()) >= 10
    store.close()
    for url in urls:
        replica.set_listing_state(url, "live")
    again = run_command("thriftwatch", "recheck", "--db", str(db), "--platform", platform,
                        *fast)
    assert again.returncode == 0, again.stderr[-3000:]
    store = EvidenceStore(db)
    assert _accounts(store)[platform, seller]["status"] == "live"
    store.close()
    verified = run_command("thriftwatch", "verify", "--db", str(db), "--head", before)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert json.loads(rechecked.stdout.strip().splitlines()[-1])["removed"] >= len(urls)
