"""The evidence store over real SQLite files."""

import json
import sqlite3

import pytest

from crawler.evidence.capture import Capture, redact_headers, strip_query_secrets
from crawler.evidence.store import SCHEMA_VERSION, EvidenceStore, StoreError


def _capture(body: bytes, url="https://gql.tokopedia.com/graphql/SearchProductV5Query"):
    return Capture(url=url, method="POST", status=200, request_headers={"accept": "*/*"},
                   response_headers={"content-type": "application/json"},
                   request_body=b'[{"q": "balpres"}]', body=body,
                   fetched_at="2026-11-29T00:00:00.000Z")


def _listing(**fields):
    base = {"platform": "tokopedia", "listing_id": "1", "url": "https://www.tokopedia.com/s/p",
            "title": "Balpres jaket korea", "keyword": "balpres", "price_idr": 8_000_000,
            "image_urls": ["https://img/1.jpg"], "imported": None, "flagged": True,
            "score": 0.9, "level": "strong", "lexicon_version": "test",
            "reasons": [{"rule": "term:balpres", "matched": "balpres", "weight": 0.9}]}
    return {**base, **fields}


@pytest.fixture
def store(tmp_path):
    store = EvidenceStore(tmp_path / "evidence.db")
    yield store
    store.close()


def test_identical_bodies_are_stored_once_and_read_back(store):
    run = store.start_run(platform="tokopedia", keywords=["balpres"])
    first = store.add_capture(run, _capture(b'{"a": 1}' * 100), replica=None)
    second = store.add_capture(run, _capture(b'{"a": 1}' * 100), replica="http://127.0.0.1:9")
    assert first[1] == second[1]
    assert first[0] != second[0]
    # one response body and one request body, each stored once
    assert store.db["capture_bodies"].count == 2
    assert store.db["captures"].count == 2
    assert store.capture_body(first[1]) == b'{"a": 1}' * 100
    [request_digest] = {c["request_body_sha256"] for c in store.db["captures"].rows}
    assert store.capture_body(request_digest) == b'[{"q": "balpres"}]'
    [stored] = store.db["capture_bodies"].rows_where("sha256 = ?", [first[1]])
    assert stored["size"] == 800
    assert len(stored["body"]) < 100


def test_listing_keeps_first_seen_and_tracks_the_latest_sighting(store):
    run1 = store.start_run(platform="tokopedia")
    _, digest = store.add_capture(run1, _capture(b"page1"), replica=None)
    first_observation = store.add_observation(run1, _listing(capture_sha256=digest))
    store.end_run(run1, status="finished", stats={"item_scraped_count": 1})
    run2 = store.start_run(platform="tokopedia")
    store.add_observation(run2, _listing(title="Karungan jaket korea", price_idr=7_500_000,
                                         flagged=False, score=0.2, level="weak", reasons=[]))
    [record] = store.export_records()
    assert record["title"] == "Karungan jaket korea"
    assert record["price_idr"] == 7_500_000
    assert record["first_seen"] == store.db["observations"].get(first_observation)["seen_at"]
    assert record["last_seen"] >= record["first_seen"]
    listing = store.db["listings"].get(("tokopedia", "1"))
    assert listing["first_run_id"] == run1
    assert listing["last_run_id"] == run2
    assert store.db["observations"].count == 2
    assert store.db["flags"].count == 2
    assert record["flagged"] is False
    assert record["level"] == "weak"
    runs = {r["id"]: r for r in store.db.query("SELECT * FROM runs")}
    assert runs[run1]["status"] == "finished"
    assert runs[run2]["status"] == "running"
    assert json.loads(runs[run1]["stats"]) == {"item_scraped_count": 1}


def test_export_filters_flagged_and_decodes_json(store):
    run = store.start_run(platform="tokopedia")
    store.add_observation(run, _listing(listing_id="1"))
    store.add_observation(run, _listing(listing_id="2", flagged=False, level="none", score=0.0,
                                        reasons=[]))
    store.add_observation(run, _listing(listing_id="3", flagged=None, level=None, score=None,
                                        reasons=[]))
    records = list(store.export_records())
    assert [r["listing_id"] for r in records] == ["1", "2", "3"]
    assert records[0]["reasons"][0]["rule"] == "term:balpres"
    assert records[0]["image_urls"] == ["https://img/1.jpg"]
    assert records[2]["flagged"] is False
    assert records[2]["level"] == "none"
    assert [r["listing_id"] for r in store.export_records(flagged_only=True)] == ["1"]


def test_titles_are_full_text_searchable(store):
    run = store.start_run(platform="tokopedia")
    store.add_observation(run, _listing(listing_id="1", title="Karungan kemeja flanel"))
    store.add_observation(run, _listing(listing_id="2", title="Kaos polos"))
    hits = list(store.db["listings"].search("karungan"))
    assert [h["listing_id"] for h in hits] == ["1"]


def test_a_db_from_a_newer_thriftwatch_is_refused(tmp_path):
    path = tmp_path / "newer.db"
    EvidenceStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                     (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match=r"newer|Upgrade"):
        EvidenceStore(path)


def test_secrets_never_reach_the_capture_record():
    headers = redact_headers({b"Cookie": [b"SPC_EC=secret"], b"Set-Cookie": [b"a=b"],
                              b"Authorization": [b"Bearer x"], b"Accept": [b"*/*"]})
    assert headers == {"accept": "*/*"}
    url = strip_query_secrets("https://api.bukalapak.com/p?keywords=bal&access_token=SECRET")
    assert "SECRET" not in url
    assert "keywords=bal" in url


def test_lifecycle_views_show_changes_and_listings_not_found_again(store):
    first = store.start_run(platform="tokopedia")
    store.add_observation(first, _listing(listing_id="1"))
    store.add_observation(first, _listing(listing_id="2"))
    store.end_run(first, status="finished", stats={})
    second = store.start_run(platform="tokopedia")
    store.add_observation(second, _listing(listing_id="1", title="Karungan jaket korea",
                                           price_idr=7_000_000))
    store.end_run(second, status="finished", stats={})
    [change] = store.db.query("SELECT * FROM listing_changes")
    assert (change["listing_id"], change["title_before"], change["title_after"],
            change["price_before"], change["price_after"]) == (
        "1", "Balpres jaket korea", "Karungan jaket korea", 8_000_000, 7_000_000)
    gone = [row["listing_id"] for row in store.db.query("SELECT * FROM listings_not_found_again")]
    assert gone == ["2"]


def test_a_new_db_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    from crawler.evidence import schema
    from crawler.evidence.verify import verify_db

    path = tmp_path / "evidence.db"

    def interrupted(db):
        raise KeyboardInterrupt  # as a kill would, half-way through the schema

    with monkeypatch.context() as patched:
        patched.setattr(schema, "create_meta", interrupted)
        with pytest.raises(KeyboardInterrupt):
            EvidenceStore(path)
    # no empty file that is no evidence DB, and nothing half-made left beside it
    assert list(tmp_path.iterdir()) == []
    EvidenceStore(path).close()
    assert [p.name for p in tmp_path.iterdir()] == ["evidence.db"]
    assert verify_db(path).ok
