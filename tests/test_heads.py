"""Custody a DB's holder cannot rewrite: heads written down outside the DB, RFC 3161 tokens
on them, derived tables rebuilt from the evidence, and DBs of the previous release."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from typing import TYPE_CHECKING

import pytest

from crawler.evidence import schema
from crawler.evidence.custody import ERASABLE, EVIDENCE_TABLES, GENESIS, row_hash, text_digest
from crawler.evidence.store import EvidenceStore
from crawler.evidence.timestamping import load_certificates, request_token
from crawler.evidence.verify import _REBUILT_CHANGES, _REBUILT_LISTINGS, LISTING_COLUMNS, verify_db
from tests.helpers import REPO, run_command
from tests.tsa import LocalTSA

if TYPE_CHECKING:
    from pathlib import Path

PREVIOUS_RELEASE = REPO / "tests" / "data" / "previous-release.db.gz"


def crawl_like(db: Path, runs: int = 2, start: int = 0) -> list[str]:
    """Runs of made-up observations; each run's head as its end returned it."""
    store = EvidenceStore(db)
    heads = []
    for run in range(start, start + runs):
        run_id = store.start_run(platform="tokopedia", keywords=["balpres"])
        store.add_observations(run_id, [
            {"platform": "tokopedia", "listing_id": str(n), "url": f"https://t/{n}",
             "title": f"balpres {run} {n}", "keyword": "balpres", "price_idr": 1000 + run,
             "level": "strong", "flagged": True, "score": 0.9, "reasons": []}
            for n in range(5)])
        heads.append(store.end_run(run_id, status="finished", stats={}))
    store.close()
    return heads


def without_triggers(db: Path) -> sqlite3.Connection:
    """What someone with the file can do: drop the append-only triggers."""
    conn = sqlite3.connect(db)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                "AND name LIKE '%_no_%'").fetchall():
        conn.execute(f'DROP TRIGGER "{name}"')
    return conn


def rechain(conn: sqlite3.Connection) -> None:
    """Recompute every row hash, chain link and recorded head: a forger's last step."""
    conn.row_factory = sqlite3.Row
    for table in EVIDENCE_TABLES:  # run_ends last: the heads it records are rehashed first
        previous = GENESIS
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall():
            data = {**dict(row), "prev_hash": previous}
            for text, digest in ERASABLE.get(table, {}).items():
                if data.get(digest) is not None and data[text] is not None:
                    data[digest] = text_digest(data[text])
            if table == "run_ends":
                recorded = json.loads(row["chain_heads"])
                for other, head in recorded.items():
                    if head:
                        head["row_hash"] = conn.execute(
                            f"SELECT row_hash FROM {other} WHERE id = ?",
                            [head["id"]]).fetchone()[0]
                data["chain_heads"] = json.dumps(recorded, sort_keys=True)
            data["row_hash"] = row_hash(table, data)
            conn.execute(f"UPDATE {table} SET prev_hash = ?, row_hash = ? "
                         "WHERE id = ?", [data["prev_hash"], data["row_hash"], row["id"]])
            if table == "run_ends":
                conn.execute("UPDATE run_ends SET chain_heads = ? WHERE id = ?",
                             [data["chain_heads"], row["id"]])
            for digest in ERASABLE.get(table, {}).values():
                conn.execute(f"UPDATE {table} SET {digest} = ? WHERE id = ?",
                             [data[digest], row["id"]])
            previous = data["row_hash"]
    conn.commit()


def rebuild_listings(db: Path) -> None:
    """The derived view as the remaining observations make it (a forger's tidy-up)."""
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM listings")
    conn.execute("DELETE FROM listing_changes")
    columns = ", ".join(("platform", "listing_id", *LISTING_COLUMNS))
    conn.execute(f"INSERT INTO listings ({columns}) {_REBUILT_LISTINGS}")
    conn.execute(f"INSERT INTO listing_changes {_REBUILT_CHANGES}")
    conn.commit()
    conn.close()


def test_each_run_end_gives_the_head_verify_prints(tmp_path):
    db = tmp_path / "e.db"
    heads = crawl_like(db)
    result = verify_db(db)
    assert result.ok, result.problems
    assert result.head == heads[-1]
    assert list(result.run_heads.values()) == heads
    printed = run_command("thriftwatch", "verify", "--db", str(db))
    assert printed.stdout.splitlines()[-1] == f"head {heads[-1]}"


def test_a_grown_db_holds_its_earlier_heads(tmp_path):
    db = tmp_path / "e.db"
    first = crawl_like(db, runs=1)[0]
    crawl_like(db, runs=2, start=1)
    assert verify_db(db, heads=[first, f"1:{first}"]).ok
    accepted = run_command("thriftwatch", "verify", "--db", str(db), "--head", first)
    assert accepted.returncode == 0, accepted.stderr


def test_a_truncated_db_fails_against_a_head_written_down(tmp_path):
    """Deleting the whole last run leaves chains that verify; the written-down head fails."""
    db = tmp_path / "e.db"
    heads = crawl_like(db, runs=3)
    conn = without_triggers(db)
    for table, column in (("flags", ("observation_id IN (SELECT id FROM observations WHERE "
                                    "run_id = 3)")),
                          ("observations", "run_id = 3"), ("run_ends", "run_id = 3"),
                          ("run_starts", "id = 3"), ("listing_changes", "1"),
                          ("listings", "1")):
        conn.execute(f"DELETE FROM {table} WHERE {column}")
    conn.commit()
    conn.close()
    rebuild_listings(db)
    assert verify_db(db).ok  # what is left is consistent: only a head from outside tells
    truncated = verify_db(db, heads=[f"3:{heads[2]}"])
    assert any("run 3 is not in this DB" in problem for problem in truncated.problems)
    plain = verify_db(db, heads=[heads[2]])
    assert any(f"head {heads[2]} is not in this DB's history" in p for p in plain.problems)
    assert verify_db(db, heads=[heads[1]]).ok  # the DB is what it was after run 2


def test_a_rewritten_db_fails_naming_the_run_where_it_diverges(tmp_path):
    """Drop the triggers, edit a title and a verdict, recompute every chain: the chains
    verify, but a head written down and the RFC 3161 token do not."""
    db = tmp_path / "e.db"
    with LocalTSA() as tsa:
        heads = crawl_like(db, runs=3)
        store = EvidenceStore(db)
        for run_id, head in store.runs_to_timestamp(limit=10):
            token, _ = request_token(head, [tsa.url], 10)
            store.add_timestamp(run_id, head, token.tsa_url, token.response, token.gen_time)
        store.close()
        roots = load_certificates(tsa.ca)
        assert verify_db(db, heads=heads, tsa_roots=roots).ok
        conn = without_triggers(db)
        conn.execute("UPDATE observations SET title = 'kaos polos baru' WHERE run_id = 2")
        conn.execute("UPDATE listings SET title = 'kaos polos baru' WHERE last_run_id = 2")
        conn.execute("UPDATE flags SET level = 'none', flagged = 0 WHERE observation_id IN "
                     "(SELECT id FROM observations WHERE run_id = 2)")
        rechain(conn)
        conn.close()
        plain = verify_db(db)  # no anchor given, no token checked: a consistent forgery
        token_problems = [p for p in plain.problems if p.startswith("timestamps")]
        assert token_problems
        assert "rewritten at or before run 2" in token_problems[0]
        against = verify_db(db, heads=[f"2:{heads[1]}"], tsa_roots=roots)
        assert any("rewritten at or before run 2" in p and p.startswith("head")
                   for p in against.problems)


def test_derived_tables_are_checked_against_the_evidence(tmp_path):
    db = tmp_path / "e.db"
    crawl_like(db, runs=2)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE listings SET title = 'forged' WHERE listing_id = '1'")
    conn.execute("DELETE FROM listings WHERE listing_id = '2'")
    conn.execute("INSERT INTO listings (platform, listing_id, title) VALUES ('shopee', '9', 'x')")
    conn.execute("DELETE FROM listing_changes WHERE listing_id = '3'")
    conn.commit()
    conn.close()
    problems = verify_db(db).problems
    assert any(p.startswith("listings tokopedia/1: title is 'forged'") for p in problems)
    assert "listings tokopedia/2: missing (the evidence holds it; deleted?)" in problems
    assert "listings shopee/9: not derived from any evidence (inserted?)" in problems
    assert any(p.startswith("listing_changes") and "missing" in p for p in problems)
    broken = run_command("thriftwatch", "verify", "--db", str(db))
    assert broken.returncode == 1
    assert "listings tokopedia/1" in broken.stderr


@pytest.fixture
def previous_release_db(tmp_path: Path) -> Path:
    db = tmp_path / "previous.db"
    with gzip.open(PREVIOUS_RELEASE) as packed, db.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return db


def test_a_db_of_the_previous_release_verifies_migrates_and_takes_new_runs(previous_release_db):
    db = previous_release_db
    before = verify_db(db)
    assert before.ok, before.problems
    assert before.rows["observations"] == 120
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM meta").fetchone()[0] == "1"
    conn.close()
    new_heads = crawl_like(db, runs=1, start=10)  # opening it migrates it
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM meta").fetchone()[0] == str(schema.SCHEMA_VERSION)
    assert "timestamps" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    after = verify_db(db, heads=[before.head, new_heads[0]])
    assert after.ok, after.problems
    assert after.rows["observations"] == 125
    assert len(after.run_heads) == 4


@pytest.mark.crawl
def test_crawls_anchor_their_heads_with_a_tsa_and_retry_when_it_was_down(replica, tmp_path):
    db = tmp_path / "e.db"
    with LocalTSA() as tsa:
        down = "http://127.0.0.1:9/tsa"  # nothing listens there
        common = ["--keywords", "balpres", "--max-pages", "1", "--db", str(db),
                  "--replica", replica.url, "-s", "AUTOTHROTTLE_ENABLED=False",
                  "-s", "DOWNLOAD_DELAY=0", "-s", "THRIFTWATCH_TSA_TIMEOUT=3"]
        first = run_command("thriftwatch", "crawl", "tokopedia", *common,
                            "-s", f"THRIFTWATCH_TSA_URL={down}")
        assert first.returncode == 0, first.stderr[-3000:]
        assert "is not time-stamped: no TSA answered" in first.stderr
        printed = first.stdout.splitlines()[-1].split()
        assert printed[0] == "head"
        head_after_first = printed[1]
        second = run_command("thriftwatch", "crawl", "tokopedia", *common,
                             "-s", f"THRIFTWATCH_TSA_URL={down},{tsa.url}")
        assert second.returncode == 0, second.stderr[-3000:]
        assert tsa.requests == 2  # this run's head, and the first run's, retried
        verified = run_command("thriftwatch", "verify", "--db", str(db), "--tsa-ca",
                               str(tsa.ca), "--head", f"1:{head_after_first}")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "anchors: 2 of 2 ended runs have an RFC 3161 token (signature checked)" \
            in verified.stdout
        with LocalTSA() as impostor:  # another authority's CA does not vouch for the tokens
            wrong = run_command("thriftwatch", "verify", "--db", str(db), "--tsa-ca",
                                str(impostor.ca))
        assert wrong.returncode == 1
        assert "signature does not check out" in wrong.stderr
