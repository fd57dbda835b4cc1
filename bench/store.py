"""Evidence store at scale: batched insert rate, canned query latency, capture dedup.

    python bench/store.py [--observations 1000000] [--batch 1000]

Builds a fresh DB of N observations (100,000 listings seen once per run, each with a verdict),
then times the serve command's canned queries and shows that storing an unchanged page
again adds no body bytes. Baselines in the same run: plain sqlite3 executemany of the same
rows into one bare table, and the same sightings through the evidence schema's own SQL with
the rows made beforehand and no chain (what SQLite alone costs the store).
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import re
import sqlite3
import tempfile
import time
from pathlib import Path

from crawler.evidence import schema
from crawler.evidence.capture import Capture, utc_now
from crawler.evidence.custody import stored_row
from crawler.evidence.schema import OBSERVED_FIELDS
from crawler.evidence.serve_metadata import CANNED_QUERIES
from crawler.evidence.store import (
    INSERT_SQL,
    RECORD_CHANGE,
    UPSERT_LISTING,
    EvidenceStore,
    flag_row,
    observation_row,
)
from crawler.replica.catalogue import build_catalogue

LISTINGS = 100_000


def observations(count: int):
    """Sightings of 100,000 listings, one pass per run; a listing keeps its title across
    runs and one sighting in twenty shows a new price, as on real marketplaces."""
    offers = build_catalogue(size=3000)
    for n in range(count):
        listing = n % LISTINGS
        offer = offers[listing % len(offers)]
        repriced = (n // LISTINGS) * (listing % 20 == 0)
        flagged = offer.illegal
        yield {
            "platform": ("tokopedia", "shopee", "bukalapak", "lazada")[listing % 4],
            "listing_id": str(listing), "url": f"https://example.test/p/{listing}",
            "title": offer.title, "description": offer.description, "keyword": "balpres",
            "price_idr": offer.price_idr + 1000 * repriced, "price_text": f"Rp{offer.price_idr}",
            "seller_id": str(offer.seller_id), "seller_name": offer.seller_name,
            "location": offer.city, "sold_count": offer.sold_count, "category": offer.category_name,
            "image_urls": [f"https://img.test/{offer.image_key}.jpg"],
            "capture_sha256": "0" * 64, "flagged": flagged, "score": 0.9 if flagged else 0.1,
            "level": "strong" if flagged else "none", "lexicon_version": "bench",
            "reasons": (
                [{"rule": "term:balpres", "matched": "balpres", "weight": 0.9}] if flagged else []
            ),
        }


def baseline_rate(rows: list[dict], path: Path) -> float:
    """Plain executemany of the same observation columns: no chain, no flags, no upsert."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    columns = ["platform", "listing_id", *OBSERVED_FIELDS]
    conn.execute(f"CREATE TABLE observations (id INTEGER PRIMARY KEY, {', '.join(columns)})")
    # Column names are the schema module's constants; the values are bound parameters.
    sql = (
        f"INSERT INTO observations ({', '.join(columns)}) "  # noqa: S608 - schema constants
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    started = time.perf_counter()
    with conn:
        conn.executemany(sql, ([json.dumps(r.get(c)) if isinstance(r.get(c), list) else r.get(c)
                                for c in columns] for r in rows))
    conn.close()
    return len(rows) / (time.perf_counter() - started)


def schema_baseline_rate(rows: list[dict], path: Path, batch: int) -> float:
    """The same sightings through the evidence schema's own SQL (observation, verdict,
    listing change, listing upsert: each an ``executemany`` a batch, one transaction a batch)
    with the rows made beforehand and no chain hashed: what SQLite alone costs the store."""
    store = EvidenceStore(path)
    runs = [store.start_run(platform="bench") for _ in range(0, len(rows), LISTINGS)]
    seen_at = utc_now()
    prepared = []
    for n, listing in enumerate(rows, start=1):
        row = observation_row(runs[(n - 1) // LISTINGS], listing, seen_at)
        row.update(id=n, observation_id=n, prev_hash="0" * 64, row_hash="0" * 64)
        flag = stored_row(schema.TABLES["flags"], {
            **flag_row(n, listing), "id": n, "prev_hash": "0" * 64, "row_hash": "0" * 64})
        prepared.append((row, flag))
    conn = store.conn
    started = time.perf_counter()
    for start in range(0, len(prepared), batch):
        chunk = prepared[start:start + batch]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT_SQL["observations"], [row for row, _ in chunk])
        conn.executemany(INSERT_SQL["flags"], [flag for _, flag in chunk])
        conn.executemany(RECORD_CHANGE, [row for row, _ in chunk])
        conn.executemany(UPSERT_LISTING, [row for row, _ in chunk])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    store.close()
    return len(rows) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = EvidenceStore(Path(tmp) / "bench.db")
        # Each run sees the 100,000 listings once, as a daily crawl would. Each run's
        # sightings are made before the clock starts: the rate is the store's alone.
        sightings = observations(args.observations)
        elapsed = 0.0
        for _ in range(0, args.observations, LISTINGS):
            run_rows = list(itertools.islice(sightings, LISTINGS))
            started = time.perf_counter()
            run = store.start_run(platform="bench")
            for start in range(0, len(run_rows), args.batch):
                store.add_observations(run, run_rows[start:start + args.batch])
            elapsed += time.perf_counter() - started
        stored = store.conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
        assert stored == args.observations, f"only {stored} observations were stored"
        rate = args.observations / elapsed
        sample = list(observations(min(args.observations, 200_000)))
        base = baseline_rate(sample, Path(tmp) / "baseline.db")
        schema_base = schema_baseline_rate(sample, Path(tmp) / "schema.db", args.batch)

        timings = {}
        for name, query in CANNED_QUERIES.items():
            sql = query["sql"]
            if "rechecks" in sql:
                continue  # no rechecks in this DB; the query is timed in tests on real data
            # A query that asks for a value (an investigator's contact, say) gets one.
            params = dict.fromkeys(re.findall(r"(?<!:):([a-z_]+)", sql), "6281234567890")
            t0 = time.perf_counter()
            store.conn.execute(sql, params).fetchall()
            timings[name] = time.perf_counter() - t0

        body = b'{"products": []}' * 4000
        capture = Capture(url="https://gql.tokopedia.com/graphql/SearchProductV5Query",
                          method="POST", status=200, request_headers={}, response_headers={},
                          request_body=None, body=body, fetched_at="2026-11-29T00:00:00.000Z")
        store.add_capture(run, capture, replica=None)

        def size():
            return store.conn.execute(
                "SELECT SUM(LENGTH(body)) FROM capture_bodies"
            ).fetchone()[0]

        first = size()
        for _ in range(10):
            store.add_capture(run, capture, replica=None)
        again = size()
        store.close()
        db_bytes = sum(p.stat().st_size for p in Path(tmp).glob("bench.db*"))

    print(f"machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"insert: {args.observations:,} observations with verdicts in batches of "
          f"{args.batch}: {rate:,.0f} observations/s ({elapsed:.1f}s)")
    print(f"baseline: plain executemany, no chain/flags/upsert: {base:,.0f} rows/s "
          f"(store / baseline = {rate / base:.2f}; target >= 0.4 or >= 40,000/s)")
    print(f"schema baseline: the same sightings through the schema's SQL, rows made "
          f"beforehand, no chain: {schema_base:,.0f} observations/s "
          f"(store / schema baseline = {rate / schema_base:.2f})")
    print(f"db size: {db_bytes / 1e6:,.0f} MB, "
          f"{db_bytes / args.observations:,.0f} bytes/observation")
    for name, seconds in timings.items():
        print(f"query {name}: {seconds * 1000:,.0f} ms (target < 1000)")
    print(f"re-storing an unchanged page 10 times added {again - first} body bytes (target 0)")


if __name__ == "__main__":
    main()
