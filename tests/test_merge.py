"""Schema version 5 and ``thriftwatch merge``.

A DB of the previous release (tests/data/release-v4.db.gz, schema version 4) verifies,
migrates with every head kept, takes new runs and their nodes (``run_nodes``), and can be
merged into and merged from.
"""

from __future__ import annotations

import sqlite3

from crawler.evidence import schema
from crawler.evidence.store import EvidenceStore
from crawler.evidence.verify import verify_db
from tests.test_schema_v3 import meta_version, unpack
from tests.test_sellers_command import observe

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
