"""Merging node DBs into one case DB: observations per second, case DB size, verify time.

    python bench/merge.py [--observations 1000000] [--nodes 4]

Builds NODES node DBs holding OBSERVATIONS observations in all (each node: 5 runs, a page
capture and its body per 50 sightings, a verdict per sighting, the run's node, every run's
end with its chain heads) with a fast generator: rows are written with executemany through
the same chain writer merges use (``crawler.evidence.merge.ChainWriter``: each row hashed in
order as the store hashes it), and ``listings`` / ``listing_changes`` derived as a merge
derives them, so each node DB verifies like one a crawl wrote. Then it times ``thriftwatch
merge``'s work (``merge_into``: verifying every node DB, then importing each) into a fresh
case DB, and ``verify_db`` of the case DB. Baseline in the same run: verifying the node DBs
alone, which a merge must do first. Bounded: every loop runs a fixed number of times.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from crawler.evidence.capture import compress, sha256_hex
from crawler.evidence.custody import EVIDENCE_TABLES
from crawler.evidence.merge import DERIVE_CHANGES, DERIVE_LISTINGS, ChainWriter, merge_into
from crawler.evidence.store import EvidenceStore
from crawler.evidence.verify import verify_db

RUNS = 5  # runs per node
PAGE = 50  # sightings per captured page
LISTINGS = 100_000  # distinct listings over all nodes
PLATFORMS = ("tokopedia", "shopee", "bukalapak", "lazada")
REASONS = json.dumps([{"rule": "term:balpres", "field": "title", "weight": 0.9}])


def search_capture(writers: dict[str, Any], run_id: int, label: str, page: int,
                   at: str) -> tuple[int, str]:
    """A search page's body and capture, chained; its capture id and body digest."""
    body = f"search page {label} ".encode() * 40
    digest = sha256_hex(body)
    writers["capture_bodies"].append({"sha256": digest, "size": len(body),
                                      "encoding": "zlib", "body": compress(body)})
    capture_id = writers["captures"].append({
        "run_id": run_id, "kind": "response", "url": f"https://x.test/s?p={page}",
        "method": "GET", "status": 200, "request_headers": "{}",
        "response_headers": "{}", "body_sha256": digest, "fetched_at": at})
    return capture_id, digest


def build_node(path: Path, node: int, observations: int) -> None:
    """A node DB of ``observations`` sightings that verifies (see the module docstring)."""
    store = EvidenceStore(path)
    conn = store.conn
    conn.execute("BEGIN IMMEDIATE")
    writers = {table: ChainWriter(conn, table) for table in (
        "run_starts", "capture_bodies", "captures", "observations", "flags", "run_nodes",
        "run_ends")}
    per_run = observations // RUNS
    for run in range(RUNS):
        started = f"2026-12-0{run + 1}T0{node}:00:00.000Z"
        run_id = writers["run_starts"].append({
            "platform": PLATFORMS[node % 4], "keywords": '["balpres"]', "started_at": started,
            "tool_version": "bench", "host": f"node-{node}", "operator": "bench"})
        writers["run_nodes"].append({"run_id": run_id, "node": f"node-{node}",
                                     "frontier": "redis://10.0.0.1:6379/0",
                                     "frontier_key": "tw", "recorded_at": started})
        capture_id = 0
        for i in range(per_run):
            if i % PAGE == 0:
                capture_id, digest = search_capture(writers, run_id, f"{node} {run} {i}", i,
                                                    started)
            listing = (node * (LISTINGS // 4) + i) % LISTINGS
            price = 150_000 + (listing % 7) * 1000 + run * (listing % 20 == 0) * 500
            observation = writers["observations"].append({
                "run_id": run_id, "platform": PLATFORMS[node % 4], "listing_id": str(listing),
                "seen_at": started, "url": f"https://x.test/p/{listing}", "keyword": "balpres",
                "title": f"Balpres karungan {listing}", "price_idr": price,
                "price_text": f"Rp{price}", "currency": "IDR", "seller_id": f"s{listing % 997}",
                "seller_name": f"Toko {listing % 997}", "location": "Jakarta",
                "sold_count": listing % 50, "capture_id": capture_id,
                "capture_sha256": digest})
            writers["flags"].append({"observation_id": observation, "flagged": 1, "score": 0.9,
                                     "level": "strong", "reasons": REASONS,
                                     "lexicon_version": "bench"})
        heads: dict[str, Any] = dict.fromkeys(EVIDENCE_TABLES)
        for table, writer in writers.items():
            if writer.next_id > 1 and table != "run_ends":
                heads[table] = {"id": writer.next_id - 1, "row_hash": writer.prev}
        if writers["run_ends"].next_id > 1:
            heads["run_ends"] = {"id": writers["run_ends"].next_id - 1,
                                 "row_hash": writers["run_ends"].prev}
        writers["run_ends"].append({
            "run_id": run_id, "ended_at": started, "status": "finished", "stats": "{}",
            "lexicon_version": "bench", "chain_heads": json.dumps(heads, sort_keys=True)})
    for writer in writers.values():
        writer.flush()
    conn.execute(DERIVE_CHANGES, [1])
    conn.execute(DERIVE_LISTINGS, [1])
    conn.execute("COMMIT")
    store.close()


def measure(observations: int, nodes: int) -> dict[str, float]:
    """Build ``nodes`` node DBs of ``observations`` sightings in all, merge them into a
    fresh case DB and verify it; the figures (bench/scaleout.py calls this)."""
    with tempfile.TemporaryDirectory(prefix="thriftwatch-merge-") as folder:
        paths = [Path(folder) / f"node-{n}.db" for n in range(nodes)]
        started = time.perf_counter()
        for n, path in enumerate(paths):
            build_node(path, n, observations // nodes)
        built = time.perf_counter() - started
        started = time.perf_counter()
        for path in paths:
            assert verify_db(path).ok, path
        verify_nodes = time.perf_counter() - started
        case = Path(folder) / "case.db"
        started = time.perf_counter()
        imported = list(merge_into(case, paths))
        merge_seconds = time.perf_counter() - started
        merged = sum(item.rows.get("observations", 0) for item in imported)
        started = time.perf_counter()
        checked = verify_db(case)
        verify_case = time.perf_counter() - started
        assert checked.ok, checked.problems[:5]
        size = sum(p.stat().st_size for p in Path(folder).glob("case.db*"))
        again = time.perf_counter()
        assert all(item.total == 0 for item in merge_into(case, paths))
        remerge = time.perf_counter() - again
    return {
        "observations": merged, "nodes": nodes, "build_seconds": round(built, 1),
        "verify_nodes_seconds": round(verify_nodes, 1),
        "merge_seconds": round(merge_seconds, 1),
        "observations_per_second": round(merged / merge_seconds),
        "case_db_bytes": size,
        "case_db_mb_per_million_observations": round(size / 1e6 * 1e6 / max(merged, 1)),
        "verify_case_seconds": round(verify_case, 1),
        "merge_again_seconds": round(remerge, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, default=4)
    args = parser.parse_args()
    figures = measure(args.observations, args.nodes)
    print(f"{figures['observations']:,} observations from {figures['nodes']} node DBs "
          f"(built in {figures['build_seconds']} s)")
    print(f"merge (verify every node DB, then import): {figures['merge_seconds']} s, "
          f"{figures['observations_per_second']:,} observations/s (target >= 20,000/s)")
    print(f"  baseline, verifying the node DBs alone: {figures['verify_nodes_seconds']} s")
    print(f"case DB: {figures['case_db_bytes'] / 1e6:.0f} MB, "
          f"{figures['case_db_mb_per_million_observations']} MB per million observations")
    print(f"verify --db CASE.db: {figures['verify_case_seconds']} s")
    print(f"merging the same node DBs again: {figures['merge_again_seconds']} s, no rows")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
