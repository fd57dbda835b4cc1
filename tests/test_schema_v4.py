"""Schema version 4 on a DB of the previous release (tests/data/release-v3.db.gz, schema
version 3): it verifies as it is, migrates with every head kept, its contacts (hashed over
their text) are never erased, and it takes new runs whose contacts can be."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from crawler.evidence import schema
from crawler.evidence.retention import cutoff, expired_contacts
from crawler.evidence.store import EvidenceStore
from crawler.evidence.verify import verify_db
from tests.test_schema_v3 import meta_version, unpack
from tests.test_sellers_command import observe

HEAD_V3 = "08d838495d66c88bc93c04e731938487a8e0ca07f4fd58e77c6b423355feffe6"


def test_a_release_v3_db_verifies_migrates_and_keeps_its_contacts(tmp_path):
    db = unpack("release-v3.db.gz", tmp_path)
    before = verify_db(db)
    assert before.ok, before.problems
    assert (before.schema_version, before.head) == (3, HEAD_V3)
    assert before.rows["contacts"] == 4
    assert before.rows["takedown_requests"] == 17

    store = EvidenceStore(db)  # a writer migrates
    assert meta_version(db) == schema.SCHEMA_VERSION >= 4
    assert store.head() == HEAD_V3  # the erasures chain starts empty
    later = datetime.now(UTC) + timedelta(days=1)
    # Contacts written by version 3 are hashed over their text: never erased.
    assert expired_contacts(store.conn, cutoff(0, later), flagged_too=True) == []
    run = store.start_run(platform="tokopedia", keywords=["karungan"])
    digest = observe(store, run, "tokopedia", "v4-1", "seller-v4", flagged=False)
    [new] = store.add_contacts(run, [{
        "platform": "tokopedia", "listing_id": "v4-1", "source": "card", "field": "title",
        "kind": "phone", "value": "+6281234567890", "raw": "0812 3456 7890",
        "capture_sha256": digest}])
    store.end_run(run, status="finished", stats={})
    assert expired_contacts(store.conn, cutoff(0, later), flagged_too=True) == [new]
    assert store.erase_contacts([new], reason="test") == 1
    store.close()
    # Every run's head as the previous release recorded it is still in the history.
    after = verify_db(db, heads=[f"{run}:{head}" for run, head in before.run_heads.items()])
    assert after.ok, after.problems
    assert after.schema_version == schema.SCHEMA_VERSION
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM contacts WHERE value IS NULL").fetchone() == (1,)
    assert conn.execute("SELECT COUNT(*) FROM contacts WHERE value_sha256 IS NULL"
                        ).fetchone() == (4,)  # the version-3 ones
    conn.close()
