"""The batched store (one transaction and one ``executemany`` per table a flush) keeps what
writing one sighting at a time gave: the same rows, the same chains, the same current view
of each listing, and a run never stores a sighting twice."""

import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.evidence.store import EvidenceStore
from crawler.evidence.verify import verify_db
from tests.test_schema_v3 import unpack

# tests/data/release-v5.db.gz: written by the store before batching (tests/data/README.md).
HEAD_V5 = "3f1884284749e4a1fde5d93e9688ee938dda735bd5f8af8d262c54d3ceeef67b"

# What a row holds besides when it was written (seen_at differs between two writes) and
# the hashes that cover those times.
TIMELESS = {
    "observations": "id, run_id, platform, listing_id, keyword, title, price_idr, image_urls",
    "flags": "id, observation_id, flagged, score, level, reasons, reflag_id",
    "listings": "platform, listing_id, title, price_idr, first_run_id, last_run_id, "
                "last_observation_id",
    "listing_changes": "platform, listing_id, observation_id, title_before, title_after, "
                       "price_before, price_after",
}


def _listing(listing_id: str, keyword: str | None, title: str, price: int,
             level: str | None) -> dict:
    return {"platform": "tokopedia", "listing_id": listing_id, "keyword": keyword,
            "url": f"https://www.tokopedia.com/s/{listing_id}", "title": title,
            "price_idr": price, "image_urls": [f"https://img.test/{listing_id}.jpg"],
            "flagged": level in ("strong", "medium"), "score": 0.5, "level": level,
            "lexicon_version": "test",
            "reasons": [{"rule": "term:balpres", "matched": "balpres", "weight": 0.9}]}


sightings = st.lists(st.builds(
    _listing, listing_id=st.sampled_from("123"), keyword=st.sampled_from([None, "bal", "kr"]),
    title=st.sampled_from(["Balpres", "Karungan", "Bal\u00e9 korea"]),
    price=st.sampled_from([1000, 2000]), level=st.sampled_from([None, "none", "strong"])),
    min_size=1, max_size=14)


def _rows(store: EvidenceStore) -> dict[str, list[tuple]]:
    return {table: store.conn.execute(
        f"SELECT {columns} FROM {table} ORDER BY 1, 2, 3").fetchall()
        for table, columns in TIMELESS.items()}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs=st.lists(sightings, min_size=1, max_size=3), cut=st.integers(1, 5))
def test_a_batch_stores_what_one_at_a_time_stores(tmp_path_factory, runs, cut):
    folder = tmp_path_factory.mktemp("batch")
    single, batched = EvidenceStore(folder / "single.db"), EvidenceStore(folder / "batch.db")
    try:
        for listings in runs:
            run = single.start_run(platform="tokopedia")
            assert batched.start_run(platform="tokopedia") == run
            ids_one_by_one = [single.add_observation(run, listing) for listing in listings]
            ids_batched = []
            for start in range(0, len(listings), cut):
                ids_batched += batched.add_observations(run, listings[start:start + cut])
            assert ids_batched == ids_one_by_one
        assert _rows(batched) == _rows(single)
    finally:
        single.close()
        batched.close()
    for db in ("single.db", "batch.db"):
        result = verify_db(folder / db)
        assert result.ok, result.problems


def test_a_sighting_a_run_already_stored_is_not_stored_again(tmp_path):
    store = EvidenceStore(tmp_path / "evidence.db")
    run = store.start_run(platform="tokopedia")
    first = store.add_observations(run, [_listing("1", "bal", "Balpres", 1000, "strong"),
                                         _listing("2", "bal", "Balpres", 1000, "strong")])
    # A resumed crawl redoes the page: the same sightings come back, in one batch twice.
    again = store.add_observations(run, [_listing("2", "bal", "Balpres", 1000, "strong"),
                                         _listing("3", "bal", "Karungan", 1000, "strong"),
                                         _listing("3", "bal", "Karungan", 1000, "strong"),
                                         _listing("1", "bal", "Balpres", 1000, "strong")])
    assert again == [first[1], first[1] + 1, first[1] + 1, first[0]]
    assert store.db["observations"].count == 3
    assert store.db["flags"].count == 3
    # Another run sees them afresh.
    later = store.start_run(platform="tokopedia")
    assert store.add_observations(later, [_listing("1", "bal", "Balpres", 1000, "strong")]) \
        == [4]
    store.close()
    assert verify_db(tmp_path / "evidence.db").ok


def test_a_bad_row_stores_nothing_of_its_batch(tmp_path):
    store = EvidenceStore(tmp_path / "evidence.db")
    run = store.start_run(platform="tokopedia")
    good = _listing("1", "bal", "Balpres", 1000, "strong")
    bad = {**_listing("2", "bal", "Balpres", 1000, "strong"), "price_idr": float("nan")}
    try:
        store.add_observations(run, [good, bad])
    except ValueError as error:
        assert "price_idr" in str(error)
    else:
        raise AssertionError("a NaN price was stored")
    assert store.db["observations"].count == 0
    assert store.db["listings"].count == 0
    stored, failed = store.add_observations_salvaging(run, [good, bad])
    assert stored == 1
    assert [listing["listing_id"] for listing, _ in failed] == ["2"]
    # The chain heads kept in memory were dropped with the failed transaction.
    store.add_observations(run, [_listing("3", "bal", "Balpres", 1000, "strong")])
    store.close()
    assert verify_db(tmp_path / "evidence.db").ok


def test_the_append_only_triggers_still_guard_batched_rows(tmp_path):
    store = EvidenceStore(tmp_path / "evidence.db")
    run = store.start_run(platform="tokopedia")
    store.add_observations(run, [_listing(str(n), "bal", "Balpres", 1000, "strong")
                                 for n in range(5)])
    for statement in ("UPDATE observations SET title = 'x' WHERE id = 2",
                      "DELETE FROM flags WHERE id = 3"):
        try:
            store.conn.execute(statement)
        except sqlite3.DatabaseError as error:
            assert "append-only" in str(error) or "evidence" in str(error), error
        else:
            raise AssertionError(f"{statement} was allowed")
    store.close()


def test_a_db_of_the_store_before_batching_verifies_and_takes_batched_runs(tmp_path):
    db = unpack("release-v5.db.gz", tmp_path)
    before = verify_db(db)
    assert before.ok, before.problems
    assert (before.schema_version, before.head) == (5, HEAD_V5)
    assert sorted(before.anchored) == [1, 2, 3, 4]
    store = EvidenceStore(db)
    assert store.head() == HEAD_V5
    known = store.conn.execute("SELECT listing_id, title, price_idr FROM listings "
                               "WHERE platform = 'tokopedia' ORDER BY listing_id LIMIT 3"
                               ).fetchall()
    run = store.start_run(platform="tokopedia", keywords=["karungan"])
    # Its listings seen again (one repriced), and new ones, in one batch.
    again = [_listing(listing_id, "karungan", title, price + 1000 * (n == 0), "strong")
             for n, (listing_id, title, price) in enumerate(known)]
    ids = store.add_observations(run, [*again, _listing("v6-1", "karungan", "Balpres", 5,
                                                        "strong")])
    store.end_run(run, status="finished", stats={})
    [(changed, price_after)] = store.conn.execute(
        "SELECT observation_id, price_after FROM listing_changes WHERE observation_id >= ?",
        [ids[0]]).fetchall()
    assert (changed, price_after) == (ids[0], known[0][2] + 1000)
    assert store.conn.execute("SELECT last_run_id FROM listings WHERE platform = 'tokopedia' "
                              "AND listing_id = ?", [known[1][0]]).fetchone()[0] == run
    store.close()
    after = verify_db(db, heads=[f"{run_id}:{head}" for run_id, head in before.run_heads.items()])
    assert after.ok, after.problems
    assert after.rows["observations"] == before.rows["observations"] + 4
    assert sorted(after.anchored) == [1, 2, 3, 4]
