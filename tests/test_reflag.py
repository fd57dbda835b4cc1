"""``thriftwatch reflag``: stored listings judged again with a lexicon, each changed verdict
stored as chained evidence, the latest verdict what every reader shows; resumable after
SIGKILL with nothing doubled; on a DB of the previous release and on a merged case DB."""

from __future__ import annotations

import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from crawler.commands.reflag import record_of, same_verdict, summarise, verdict_of
from crawler.evidence.merge import merge_into
from crawler.evidence.store import EvidenceStore
from crawler.evidence.verify import verify_db
from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import load_lexicon
from crawler.ops.report import gather
from tests.helpers import REPO, crawl_replica, run_command
from tests.test_schema_v3 import unpack

if TYPE_CHECKING:
    from pathlib import Path

LEXICON = load_lexicon()
TITLES = ("Kemeja flanel karung super murah", "Balpres korea campur", "Kaos polos baru",
          "Jaket bekas impor karung super", "Celana jeans second", "Sepatu lari original")


def extra_lexicon(folder: Path, term: str, name: str = "case.toml") -> Path:
    path = folder / name
    path.write_text(f'[meta]\nversion = "case"\n\n[[term]]\nterm = "{term}"\n'
                    'strength = "strong"\nweight = 0.9\nneeds_clothing_context = false\n',
                    encoding="utf-8")
    return path


def listing(i: int, **more) -> dict:
    return {"platform": ("tokopedia", "shopee")[i % 2], "listing_id": str(i),
              "url": f"https://x.example/{i}", "keyword": "baju",
              "title": f"{TITLES[i % len(TITLES)]} {i}", "description": "baju bagus",
              "location": "Jakarta", "seller_id": f"s{i % 7}", "seller_name": f"Toko {i % 7}",
              **more}


def crawled_like(db: Path, count: int, *, verdicts: bool = True, runs: int = 1) -> None:
    """A DB written through the store as the crawl writes it: each record flagged with the
    shipped lexicon (the flag pipeline's verdict) and stored with it."""
    store = EvidenceStore(db)
    for number in range(runs):
        run = store.start_run(platform="tokopedia", keywords=["baju"])
        items = []
        for i in range(count):
            record = listing(i, imported=(i % 6 == 1) or None,
                             condition="Bekas" if i % 6 == 4 else None,
                             image_urls=[f"https://img.example/{i}-{number}.jpg"])
            if verdicts:
                record.update(flag(record, LEXICON).as_dict())
            items.append(record)
        for start in range(0, len(items), 2000):
            store.add_observations(run, items[start:start + 2000])
        store.end_run(run, status="finished", stats={})
    store.close()


def reflag(db: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    result = run_command("thriftwatch", "reflag", "--db", str(db), *args, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def reflag_rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT observation_id, reflag_id, level FROM flags "
                            "WHERE reflag_id IS NOT NULL ORDER BY id").fetchall()
    finally:
        conn.close()


def exported(db: Path, *args: str) -> list[dict]:
    result = run_command("thriftwatch", "export", "--db", str(db), "--format", "jsonl", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


# -- pure parts ---------------------------------------------------------------------------

def test_the_record_built_from_an_observation_is_the_one_the_crawl_flagged(tmp_path):
    item = listing(3, imported=True, condition="Bekas", category="Pakaian",
                   image_urls=["https://img.example/a.jpg"], price_idr=150000)
    store = EvidenceStore(tmp_path / "e.db")
    run = store.start_run(platform="tokopedia")
    store.add_observation(run, {**item, **flag(item, LEXICON).as_dict()})
    row = store.listings_to_reflag()[0]
    store.close()
    record = record_of(row)
    assert record["imported"] is True
    assert record["image_urls"] == item["image_urls"]
    assert {k: record[k] for k in item} == item
    assert flag(record, LEXICON) == flag(item, LEXICON)
    assert same_verdict(row, verdict_of(record, LEXICON))
    assert not same_verdict({**row, "score": row["score"] + 0.001}, verdict_of(record, LEXICON))
    assert not same_verdict({**row, "level": None}, verdict_of(record, LEXICON))


def test_the_summary_counts_levels_gone_and_new_reasons():
    strong = {"flagged": True, "level": "strong", "reasons": [{"rule": "term:a"}]}
    weak = {"flagged": False, "level": "weak", "reasons": [{"rule": "term:b"}]}
    none = {"flagged": False, "level": None, "reasons": []}
    summary = summarise(iter([(strong, weak), (strong, none), (weak, strong),
                              ({**strong, "reasons": [{"rule": "term:c"}]}, strong)]))
    assert summary["newly"] == {"strong": 2, "medium": 0, "weak": 1, "none": 0}
    assert summary["no_longer_flagged"] == 1
    assert summary["newly_flagged"] == 2
    assert summary["same_level"] == 1
    assert summary["changed"] == 4
    assert summary["top_new_reasons"][0] == ["term:a", 2]


# -- on a DB written through the store ----------------------------------------------------

def test_an_unchanged_db_and_lexicon_store_no_verdict(tmp_path):
    db = tmp_path / "e.db"
    crawled_like(db, 300, runs=2)
    printed = reflag(db)
    assert "nothing changed; nothing stored" in printed.stdout
    assert reflag_rows(db) == []
    assert verify_db(db).ok


def test_a_new_term_flags_more_listings_readers_show_the_latest_verdict(tmp_path):
    db = tmp_path / "e.db"
    crawled_like(db, 300)
    before = exported(db, "--flagged-only")
    case = extra_lexicon(tmp_path, "karung super")
    printed = reflag(db, "--lexicon", str(case))
    assert re.search(r"newly strong +\d", printed.stdout)
    assert "term:karung super" in printed.stdout
    after = exported(db, "--flagged-only")
    assert len(after) > len(before)
    assert all(row["lexicon_version"].endswith("+case") for row in after
               if "karung super" in row["title"].lower())
    # one verdict per listing still, the latest; the earlier ones stay in the evidence
    everything = exported(db)
    assert len(everything) == 300
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM flags").fetchone()[0] == 300 + len(reflag_rows(db))
    sellers = {(p, s): n for p, s, n in conn.execute(
        "SELECT platform, seller_id, flagged FROM accounts")}
    assert sum(sellers.values()) == len(after)
    assert conn.execute("SELECT SUM(flagged_listings) FROM sellers").fetchone()[0] == len(after)
    started, ended = conn.execute("SELECT lexicon_sha256, lexicon_files FROM reflags").fetchone()
    assert len(started) == 64
    assert "extra:case.toml" in json.loads(ended)
    conn.close()
    stored = len(reflag_rows(db))
    again = reflag(db, "--lexicon", str(case))
    assert "nothing changed; nothing stored" in again.stdout
    assert len(reflag_rows(db)) == stored
    # back to the shipped lexicon: the verdicts the crawl gave come back, as new evidence
    back = reflag(db)
    assert re.search(r"no longer flagged +[1-9]", back.stdout)
    assert len(exported(db, "--flagged-only")) == len(before)
    result = verify_db(db)
    assert result.ok, result.problems
    assert result.rows["reflags"] == 3
    assert result.rows["reflag_ends"] == 3


def test_platform_and_since_limit_what_is_judged(tmp_path):
    db = tmp_path / "e.db"
    crawled_like(db, 120)
    case = extra_lexicon(tmp_path, "karung super")
    reflag(db, "--lexicon", str(case), "--platform", "shopee")
    conn = sqlite3.connect(db)
    platforms = {row[0] for row in conn.execute(
        "SELECT o.platform FROM flags f JOIN observations o ON o.id = f.observation_id "
        "WHERE f.reflag_id IS NOT NULL")}
    conn.close()
    assert platforms == {"shopee"}
    assert "0 listings judged" in reflag(db, "--lexicon", str(case), "--since",
                                         "2999-01-01").stdout


def test_verify_names_a_reflag_verdict_that_lost_its_reflag(tmp_path):
    db = tmp_path / "e.db"
    crawled_like(db, 60)
    reflag(db, "--lexicon", str(extra_lexicon(tmp_path, "karung super")))
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER reflag_ends_no_update")
    conn.execute("UPDATE reflag_ends SET changed = changed + 1")
    conn.commit()
    conn.close()
    problems = verify_db(db).problems
    assert any("reflag_ends row id 1" in problem for problem in problems), problems


def test_a_sigkilled_reflag_resumes_with_nothing_doubled(tmp_path):
    db, reference = tmp_path / "e.db", tmp_path / "reference.db"
    crawled_like(db, 12_000)
    shutil.copyfile(db, reference)
    case = extra_lexicon(tmp_path, "karung super")
    reflag(reference, "--lexicon", str(case))
    expected = sorted((observation, level) for observation, _, level in reflag_rows(reference))
    assert expected
    command = [sys.executable, "-m", "crawler.cli", "reflag", "--db", str(db), "--lexicon",
               str(case), "--batch", "500"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:  # kill it once some batches are in, not all
            stored = len(reflag_rows(db)) if db.exists() else 0
            if stored >= 200 or process.poll() is not None:
                break
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed = reflag_rows(db)
    assert 0 < len(killed) < len(expected), "the reflag was not killed mid-run"
    assert verify_db(db).ok
    resumed = reflag(db, "--lexicon", str(case))
    assert "(resumed)" in resumed.stdout
    rows = reflag_rows(db)
    assert {reflag_id for _, reflag_id, _ in rows} == {1}
    assert sorted((observation, level) for observation, _, level in rows) == expected
    assert len({observation for observation, _, _ in rows}) == len(rows)
    result = verify_db(db)
    assert result.ok, result.problems
    conn = sqlite3.connect(db)
    listings, changed = conn.execute("SELECT listings, changed FROM reflag_ends").fetchone()
    conn.close()
    assert (listings, changed) == (12_000, len(expected))


def test_a_db_of_the_previous_release_is_reflagged_after_migration(tmp_path):
    db = unpack("release-v4.db.gz", tmp_path)
    before = verify_db(db)
    assert before.ok
    assert before.schema_version == 4
    conn = sqlite3.connect(db)
    title = conn.execute("SELECT title FROM listings WHERE title IS NOT NULL "
                         "ORDER BY listing_id LIMIT 1").fetchone()[0]
    conn.close()
    word = max(re.findall(r"[a-z]{5,}", title.lower()), key=len)
    reflag(db, "--lexicon", str(extra_lexicon(tmp_path, word)))
    after = verify_db(db)
    assert after.ok, after.problems
    assert after.schema_version == 5
    assert after.run_heads == before.run_heads  # every run's head as it was
    assert any(word in (row["title"] or "").lower() and row["level"] == "strong"
               for row in exported(db))


def test_a_merged_case_db_is_reflagged_and_still_verifies_and_merges(tmp_path):
    nodes = [tmp_path / "node-1.db", tmp_path / "node-2.db"]
    for number, node in enumerate(nodes):
        crawled_like(node, 100 + number * 50)
    case = tmp_path / "case.db"
    assert all(item.rows for item in merge_into(case, nodes))
    printed = reflag(case, "--lexicon", str(extra_lexicon(tmp_path, "karung super")))
    assert re.search(r"newly strong +[1-9]", printed.stdout)
    result = verify_db(case)
    assert result.ok, result.problems
    crawled_like(nodes[0], 100, runs=2)  # the node grew: its new rows come in after the reflag
    assert [bool(item.rows) for item in merge_into(case, nodes)] == [True, False]
    result = verify_db(case)
    assert result.ok, result.problems
    # a reflagged DB merged as a node: its reflags come along, translated
    other = tmp_path / "other.db"
    merge_into(other, [nodes[1]]).__next__()
    crawled = tmp_path / "reflagged-node.db"
    shutil.copyfile(nodes[1], crawled)
    reflag(crawled, "--lexicon", str(extra_lexicon(tmp_path, "karung super")))
    assert all(item.rows for item in merge_into(tmp_path / "case-2.db", [nodes[0], crawled]))
    result = verify_db(tmp_path / "case-2.db")
    assert result.ok, result.problems
    assert result.rows["reflags"] == 1


# -- on a real crawl ----------------------------------------------------------------------

@pytest.mark.crawl
def test_a_real_crawl_is_reflagged_with_a_new_word_and_every_reader_counts_it(replica,
                                                                              tmp_path):
    db = tmp_path / "crawl.db"
    crawl_replica(replica, db, "tokopedia", "-a", "keywords=karungan,kemeja",
                  "-a", "max_pages=1")
    # the crawl's own text, judged again with the lexicon it was flagged with: no change
    assert "nothing changed; nothing stored" in reflag(db).stdout
    unflagged = [row for row in exported(db) if not row["flagged"]]
    assert unflagged
    words = sorted({word for row in unflagged
                    for word in re.findall(r"[a-z]{6,}", row["title"].lower())})
    word = max(words, key=lambda w: sum(w in r["title"].lower() for r in unflagged))
    before = exported(db, "--flagged-only")
    printed = reflag(db, "--lexicon", str(extra_lexicon(tmp_path, word)))
    assert re.search(r"newly strong +[1-9]", printed.stdout), printed.stdout
    after = exported(db, "--flagged-only")
    assert len(after) > len(before)
    assert any(word in row["title"].lower() for row in after)
    report = tmp_path / "report.html"
    assert run_command("thriftwatch", "report", "--db", str(db), "-o",
                       str(report)).returncode == 0
    store = EvidenceStore(db, check=True)
    levels = gather(store, None).levels
    store.close()
    assert levels["strong"] == sum(row["level"] == "strong" for row in exported(db))
    sellers = run_command("thriftwatch", "sellers", "--db", str(db), "--format", "jsonl",
                          "--min-accounts", "1")
    assert sellers.returncode == 0, sellers.stderr
    networks = [json.loads(line) for line in sellers.stdout.splitlines()]
    assert sum(network["flagged_listings"] for network in networks) == len(
        [row for row in after if row["seller_id"]])
    assert "nothing changed; nothing stored" in reflag(
        db, "--lexicon", str(extra_lexicon(tmp_path, word))).stdout
    checked = run_command("thriftwatch", "verify", "--db", str(db))
    assert checked.returncode == 0, checked.stdout + checked.stderr
