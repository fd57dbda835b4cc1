"""The thriftwatch command end to end: demo into a temporary DB, then export."""

import csv
import io
import json

import pytest

from tests.helpers import run_command

EXPORT_FIELDS = {"platform", "listing_id", "url", "title", "description", "price_idr",
                 "seller_id", "seller_name", "location", "sold_count", "first_seen",
                 "last_seen", "flagged", "score", "level", "reasons", "capture_sha256"}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    result = run_command("thriftwatch", "demo", "--db", str(db), "--max-pages", "2")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "replica marketplace on http://127.0.0.1:" in result.stdout
    assert f"evidence DB: {db}" in result.stdout
    return db, result.stdout


@pytest.mark.crawl
def test_demo_summary_names_pages_listings_and_levels(demo_db):
    _, out = demo_db
    tokopedia = next(line for line in out.splitlines() if line.startswith("tokopedia"))
    pages, listings = (int(x) for x in tokopedia.split()[1:3])
    assert pages == 16
    assert listings == 960
    assert "flagged" in out
    assert "finished" in tokopedia


@pytest.mark.crawl
def test_export_jsonl_holds_flagged_and_unflagged_listings_with_reasons(demo_db):
    db, _ = demo_db
    result = run_command("thriftwatch", "export", "--db", str(db), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len({(r["platform"], r["listing_id"]) for r in records}) > 300
    assert EXPORT_FIELDS <= set(records[0])
    flagged = [r for r in records if r["flagged"]]
    assert flagged
    assert len(flagged) < len(records)
    assert all(r["reasons"] and 0 < r["score"] <= 1 for r in flagged)
    assert all(len(r["capture_sha256"]) == 64 for r in records)


@pytest.mark.crawl
def test_export_csv_flagged_only_to_a_file(demo_db, tmp_path):
    db, _ = demo_db
    out = tmp_path / "flagged.csv"
    result = run_command("thriftwatch", "export", "--db", str(db), "--format", "csv",
                         "--flagged-only", "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert rows
    assert all(r["flagged"] == "true" for r in rows)
    assert all(json.loads(r["reasons"]) for r in rows)
    assert f"{len(rows)} listings written" in result.stderr


@pytest.mark.crawl
def test_bad_input_gets_a_clear_error(tmp_path):
    missing = run_command("thriftwatch", "export", "--db", str(tmp_path / "nope.db"))
    assert missing.returncode == 2
    assert "no evidence DB" in missing.stderr
    unknown = run_command("thriftwatch", "crawl", "nosuchsite", "--db", str(tmp_path / "x.db"))
    assert unknown.returncode == 2
    assert "unknown platform nosuchsite" in unknown.stderr
    bad_replica = run_command("thriftwatch", "crawl", "tokopedia", "--replica", "127.0.0.1:1",
                              "--db", str(tmp_path / "y.db"))
    assert bad_replica.returncode == 2
    assert "THRIFTWATCH_REPLICA" in bad_replica.stderr
