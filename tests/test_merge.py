"""Schema version 5 and ``thriftwatch merge``.

A DB of the previous release (tests/data/release-v4.db.gz, schema version 4) verifies,
migrates with every head kept, takes new runs and their nodes (``run_nodes``), and can be
merged into and merged from.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from typing import TYPE_CHECKING

import pytest

from crawler.evidence import schema
from crawler.evidence.merge import Imported, MergeRefused, merge_into
from crawler.evidence.store import EvidenceStore
from crawler.evidence.verify import verify_db
from tests.helpers import run_command
from tests.test_heads import rechain, without_triggers
from tests.test_schema_v3 import meta_version, unpack
from tests.test_sellers_command import contact, observe, photo

if TYPE_CHECKING:
    from pathlib import Path

HEAD_V4 = "c3e05bc255edf68a210aa89ac6e981edf2b08d92f560079c45f4417c3d948bb3"


def test_a_release_v4_db_verifies_migrates_and_records_run_nodes(tmp_path):
    db = unpack("release-v4.db.gz", tmp_path)
    before = verify_db(db)
    assert before.ok, before.problems
    assert (before.schema_version, before.head) == (4, HEAD_V4)
    assert sorted(before.anchored) == [1, 2, 3, 4]  # every run's head has its RFC 3161 token
    assert before.rows["erasures"] == 1

    store = EvidenceStore(db)  # a writer migrates
    assert meta_version(db) == schema.SCHEMA_VERSION == 5
    assert store.head() == HEAD_V4  # run_nodes and merges start empty
    run = store.start_run(platform="tokopedia", keywords=["karungan"])
    store.record_run_node(run, "node-b", "redis://:s3cret@10.0.0.7:6379/2?password=x&db=2",
                          "thriftwatch:tokopedia:5")
    observe(store, run, "tokopedia", "v5-1", "seller-v5", flagged=True)
    store.end_run(run, status="finished", stats={})
    [node] = store.run_nodes()
    store.close()
    assert (node["run_id"], node["node"], node["frontier_key"]) == (
        run, "node-b", "thriftwatch:tokopedia:5")
    assert node["frontier"] == "redis://10.0.0.7:6379/2?db=2"
    after = verify_db(db, heads=[f"{run_id}:{head}" for run_id, head in before.run_heads.items()])
    assert after.ok, after.problems
    assert (after.schema_version, after.rows["run_nodes"]) == (5, 1)
    assert sorted(after.anchored) == [1, 2, 3, 4]


def test_run_nodes_are_chained(tmp_path):
    db = tmp_path / "nodes.db"
    store = EvidenceStore(db)
    run = store.start_run(platform="shopee", keywords=["balpres"])
    store.record_run_node(run, "scrapyd-1", None, None)
    store.record_run_node(run, "scrapyd-2", "redis://127.0.0.1:6379/0", "k")
    store.close()
    assert verify_db(db).ok
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER run_nodes_no_update")
    conn.execute("UPDATE run_nodes SET node = 'elsewhere' WHERE id = 1")
    conn.commit()
    conn.close()
    problems = verify_db(db).problems
    assert any(p.startswith("run_nodes row id 1: content does not match") for p in problems)


# -- merging node DBs ------------------------------------------------------------------------

def make_node(db: Path, name: str, listings: int, *, runs: int = 1, start: int = 0) -> None:
    """A node DB written through the store, as a crawl writes one: each run with its node,
    sightings with captures, contacts and photos, and an erasure of its first contact."""
    store = EvidenceStore(db)
    for number in range(runs):
        run = store.start_run(platform="tokopedia", keywords=["balpres"], host=name)
        store.record_run_node(run, name, "redis://:pw@127.0.0.1:6379/0", f"tw:{name}")
        for i in range(start + number * listings, start + (number + 1) * listings):
            digest = observe(store, run, "tokopedia", f"{name}-{i}", f"seller-{i % 3}")
            contact(store, run, ("tokopedia", f"{name}-{i}"),
                    ("phone", f"+6281234567{i:03d}", f"081234567{i:03d}"), digest)
            photo(store, run, "tokopedia", f"{name}-{i}", "0123456789abcdef")
        store.end_run(run, status="finished", stats={"listings": listings})
    first = store.conn.execute("SELECT MIN(id) FROM contacts WHERE value IS NOT NULL "
                               "AND value_sha256 IS NOT NULL").fetchone()[0]
    store.erase_contacts([first], reason="test: retention")
    store.close()


def merge(case: Path, *sources: Path) -> list[Imported]:
    return list(merge_into(case, list(sources)))


def count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_merging_again_adds_nothing_and_a_grown_source_only_its_new_rows(tmp_path):
    a, b, case = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "case.db"
    make_node(a, "node-a", 5)
    make_node(b, "node-b", 4)
    node_heads = {path: verify_db(path).run_heads for path in (a, b)}
    first = merge(case, a, b)
    assert [(m.node, m.rows["observations"], m.rows["run_nodes"]) for m in first] == [
        ("node-a", 5, 1), ("node-b", 4, 1)]
    checked = verify_db(case)
    assert checked.ok, checked.problems
    assert checked.rows["observations"] == 9
    assert checked.rows["merges"] == 2
    assert checked.head == first[-1].case_head
    # Each merged run keeps the head its node recorded (what its tokens would cover).
    assert sorted(checked.run_heads.values()) == sorted(
        head for heads in node_heads.values() for head in heads.values())
    # The node erased a contact: the case holds its text no more, and says why.
    assert count(case, "contacts WHERE value IS NULL") == 2

    size = case.stat().st_size
    again = merge(case, a, b)
    assert [m.total for m in again] == [0, 0]
    assert [m.merge_id for m in again] == [None, None]
    assert verify_db(case).head == checked.head
    assert case.stat().st_size == size

    make_node(a, "node-a", 3, start=100)  # node a crawled again
    grown = merge(case, b, a)
    assert grown[0].total == 0
    assert grown[1].rows["observations"] == 3
    assert grown[1].rows["run_starts"] == 1
    assert grown[1].rows["erasures"] == 1
    after = verify_db(case, heads=[checked.head])  # the first merges' head is in the history
    assert after.ok, after.problems
    assert after.rows["observations"] == 12
    assert sorted(after.run_heads.values()) == sorted(
        [*verify_db(a).run_heads.values(), *verify_db(b).run_heads.values()])

    # A case DB takes its own crawls too, and they verify with the merged rows.
    store = EvidenceStore(case)
    run = store.start_run(platform="shopee", keywords=["karungan"])
    observe(store, run, "shopee", "own-1", "seller-own")
    head = store.end_run(run, status="finished", stats={})
    store.close()
    final = verify_db(case, heads=[f"{run}:{head}"])
    assert final.ok, final.problems
    assert len(list(EvidenceStore(case, check=True).export_records())) == 13


def test_a_release_v4_db_is_merged_from_with_its_tokens_and_into(tmp_path):
    v4 = unpack("release-v4.db.gz", tmp_path)
    node = tmp_path / "node.db"
    make_node(node, "node-n", 3)
    packed = v4.read_bytes()
    before = verify_db(v4)
    case = tmp_path / "case.db"
    [imported, _] = merge(case, v4, node)
    assert v4.read_bytes() == packed  # a source is read, never written (nor migrated)
    assert imported.tokens == 4
    assert imported.rows["takedown_requests"] == 17
    checked = verify_db(case)
    assert checked.ok, checked.problems
    # Its RFC 3161 tokens cover the heads the release recorded, and still check out.
    assert sorted(checked.anchored) == [1, 2, 3, 4]
    assert {checked.run_heads[run] for run in (1, 2, 3, 4)} == set(before.run_heads.values())
    assert checked.rows["rechecks"] == 60

    # The release's DB, migrated, takes merges into it on top of its own runs.
    merge(v4, node)
    into = verify_db(v4, heads=[f"{run}:{head}" for run, head in before.run_heads.items()])
    assert into.ok, into.problems
    assert into.rows["observations"] == 128 + 3


def test_a_tampered_node_db_is_refused_and_nothing_is_imported(tmp_path):
    a, b, case = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "case.db"
    make_node(a, "node-a", 3)
    make_node(b, "node-b", 3)
    conn = without_triggers(b)
    conn.execute("UPDATE observations SET title = 'Kaos baru' WHERE id = 2")
    conn.commit()
    conn.close()
    refused = run_command("thriftwatch", "merge", "--into", str(case), str(a), str(b))
    assert refused.returncode == 1, refused.stderr
    assert "observations row id 2: content does not match its hash" in refused.stderr
    assert str(b) in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not case.exists()  # every source is verified before anything is written

    missing = run_command("thriftwatch", "merge", "--into", str(case), str(tmp_path / "no.db"))
    assert missing.returncode == 1
    assert "no such file" in missing.stderr
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    unreadable = run_command("thriftwatch", "merge", "--into", str(case), str(junk))
    assert unreadable.returncode == 1
    assert "cannot be read as an evidence DB" in unreadable.stderr
    assert "nothing was imported" in unreadable.stderr
    assert "Traceback" not in missing.stderr + unreadable.stderr


def test_a_node_db_rewritten_after_its_merge_is_refused(tmp_path):
    a, case = tmp_path / "a.db", tmp_path / "case.db"
    make_node(a, "node-a", 3)
    merge(case, a)
    conn = without_triggers(a)
    conn.execute("UPDATE observations SET title = 'Kaos baru' WHERE id = 3")
    conn.execute("UPDATE listings SET title = 'Kaos baru' WHERE last_observation_id = 3")
    rechain(conn)  # the forger recomputes every chain: the node DB verifies again
    conn.commit()
    conn.close()
    assert verify_db(a).ok
    head = verify_db(case).head
    with pytest.raises(MergeRefused, match=r"observations row id 3 has another hash .*fork"):
        merge(case, a)
    assert verify_db(case).head == head


def test_an_imported_row_changed_in_the_case_db_is_caught(tmp_path):
    a, b, case = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "case.db"
    make_node(a, "node-a", 3)
    make_node(b, "node-b", 3)
    merge(case, a, b)
    clean = tmp_path / "clean.db"
    shutil.copy(case, clean)

    # In its case chain: the case row's hash no longer matches.
    conn = without_triggers(case)
    conn.execute("UPDATE observations SET title = 'Kaos baru' WHERE id = 5")
    conn.execute("UPDATE listings SET title = 'Kaos baru' WHERE last_observation_id = 5")
    conn.commit()
    conn.close()
    problems = verify_db(case).problems
    assert "observations row id 5: content does not match its hash (edited)" in problems
    # ... and after the case chains were recomputed, the node's chain no longer reaches the
    # head its merge recorded.
    conn = without_triggers(case)
    rechain(conn)
    conn.commit()
    conn.close()
    problems = verify_db(case).problems
    assert any("node-b" in p and "observations chain, rebuilt from the case DB, does not "
               "reach the head merges row id 2 recorded" in p for p in problems), problems

    # In where it went: a body of node a pointed at another body.
    shutil.copy(clean, case)
    conn = without_triggers(case)
    conn.execute("UPDATE merged_bodies SET case_id = case_id + 1 WHERE merge_id = 1 "
                 "AND source_id = 2")
    conn.commit()
    conn.close()
    problems = verify_db(case).problems
    assert any("node-a" in p and "capture_bodies chain" in p for p in problems), problems
    # In which run a row was: moved to node a's... run of node b.
    shutil.copy(clean, case)
    conn = without_triggers(case)
    conn.execute("UPDATE captures SET run_id = 2 WHERE id = 1")
    rechain(conn)
    conn.commit()
    conn.close()
    problems = verify_db(case).problems
    assert any("captures row id 1 names a row that is not from this source" in p
               for p in problems), problems


@pytest.mark.crawl
def test_two_real_crawls_merge_into_a_case_db_every_command_reads(replica, tmp_path):
    nodes = {"tokopedia": tmp_path / "node-1.db", "shopee": tmp_path / "node-2.db"}
    for platform, db in nodes.items():
        crawled = run_command("thriftwatch", "crawl", platform, "--keywords", "karungan",
                              "--max-pages", "1", "--db", str(db), "--replica", replica.url,
                              "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0")
        assert crawled.returncode == 0, crawled.stderr[-2000:]
    case = tmp_path / "case.db"
    merged = run_command("thriftwatch", "merge", "--into", str(case), *map(str, nodes.values()))
    assert merged.returncode == 0, merged.stderr
    assert merged.stdout.count("case head now") == 2
    checked = run_command("thriftwatch", "verify", "--db", str(case))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    exported = run_command("thriftwatch", "export", "--db", str(case), "--format", "jsonl")
    assert exported.returncode == 0, exported.stderr
    keys = {(row["platform"], row["listing_id"])
            for row in map(json.loads, exported.stdout.splitlines())}
    for db in nodes.values():
        conn = sqlite3.connect(db)
        assert set(conn.execute("SELECT platform, listing_id FROM listings")) <= keys
        conn.close()
    assert {platform for platform, _ in keys} == set(nodes)
    for command in (("sellers", "--db", str(case)),
                    ("report", "--db", str(case), "-o", str(tmp_path / "report.html")),
                    ("export", "--db", str(case), "--format", "bundle", "--flagged-only",
                     "-o", str(tmp_path / "case.zip"))):
        result = run_command("thriftwatch", *command)
        assert result.returncode == 0, (command, result.stderr[-2000:])
    assert run_command("thriftwatch", "verify", "--bundle",
                       str(tmp_path / "case.zip")).returncode == 0

    again = run_command("thriftwatch", "merge", "--into", str(case), "--json",
                        *map(str, nodes.values()))
    assert again.returncode == 0, again.stderr
    assert [json.loads(line)["rows"] for line in again.stdout.splitlines()] == [{}, {}]
