"""Crawl throughput on the replica: the full pipeline against the same crawl with pipelines off.

    python bench/crawl.py [--pages 5] [--repeat 3] [--latency 0.3]

Prints pages/min and listings/s for both (enrichment off, so that both fetch the same
pages), their ratio (target >= 0.85), and how the flags compare with the replica
catalogue's ground truth without and with enrichment (listing pages read: target recall
>= 0.97 with it; Tokopedia's search cards carry no description). Two settings:
with --latency 0 the replica answers at once and the crawl is CPU-bound (the pipeline's
cost shows in full); with a latency like a real site's (default 0.3 s a response, 4
requests per host as in the shipped settings) the crawl is network-bound, as in real use.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from crawler.replica.catalogue import build_catalogue
from crawler.replica.server import ReplicaServer
from crawler.replica.tokopedia import ID_BASE

# Listing pages a crawl may read: every listing of the bench's crawl (the shipped 500 a run
# would leave most unread).
DETAIL_CAP = 5000
SUMMARY = re.compile(r"(\d+) pages, (\d+) listings \((\d+) flagged\) in ([\d.]+)s")
def crawl(replica: str, db: Path, pages: int, pipelines: bool, concurrency: int, *,
          enrich: bool = False) -> tuple[int, int, float]:
    thriftwatch = Path(sys.executable).parent / "thriftwatch"
    command = [str(thriftwatch), "crawl", "tokopedia", "--replica", replica, "--db", str(db),
               "--max-pages", str(pages), "--log-level", "WARNING",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
               "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
               "-s", f"THRIFTWATCH_ENRICH={enrich}", "-s", f"THRIFTWATCH_DETAIL_CAP={DETAIL_CAP}"]
    if not pipelines:
        command += ["-s", "ITEM_PIPELINES={}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    pages_done, listings, _, elapsed = SUMMARY.search(result.stdout).groups()
    return int(pages_done), int(listings), float(elapsed)


def ground_truth(db: Path) -> dict[str, float]:
    """Precision and recall of the flags against the catalogue's own labels."""
    illegal = {offer.offer_id: offer.illegal for offer in build_catalogue()}
    with sqlite3.connect(db) as conn:
        rows = conn.execute("""SELECT l.listing_id, f.flagged FROM listings l
                               JOIN flags f ON f.observation_id = l.last_observation_id""")
        verdicts = {int(listing_id) - ID_BASE: bool(flagged) for listing_id, flagged in rows}
    tp = sum(1 for oid, flagged in verdicts.items() if flagged and illegal[oid])
    fp = sum(1 for oid, flagged in verdicts.items() if flagged and not illegal[oid])
    fn = sum(1 for oid, flagged in verdicts.items() if not flagged and illegal[oid])
    return {"listings": len(verdicts), "precision": tp / max(tp + fp, 1),
            "recall": tp / max(tp + fn, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.3,
                        help="seconds each replica answer waits (0: CPU-bound crawl)")
    args = parser.parse_args()
    # Against a real-site latency, the shipped politeness (4 per host); at 0, flat out.
    concurrency = 4 if args.latency else 16
    rates: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    with ReplicaServer(latency=args.latency) as replica, tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            for pipelines in (False, True):
                db = Path(tmp) / f"run-{i}-{pipelines}.db"
                pages, listings, elapsed = crawl(replica.url, db, args.pages, pipelines,
                                                 concurrency)
                rates[pipelines].append((pages / elapsed * 60, listings / elapsed))
        truth = ground_truth(Path(tmp) / f"run-{args.repeat - 1}-True.db")
        enriched_db = Path(tmp) / "enriched.db"
        _, _, enriched_s = crawl(replica.url, enriched_db, args.pages, True, concurrency,
                                 enrich=True)
        enriched = ground_truth(enriched_db)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}; replica crawl of "
          f"tokopedia, 8 terms x {args.pages} pages, replica latency {args.latency:g} s, "
          f"{concurrency} requests per host, median of {args.repeat}")
    for pipelines, label in ((False, "pipelines off"), (True, "full pipeline")):
        pages_min = statistics.median(r[0] for r in rates[pipelines])
        listings_s = statistics.median(r[1] for r in rates[pipelines])
        print(f"{label:<14} {pages_min:8.0f} pages/min {listings_s:8.0f} listings/s")
    ratio = (statistics.median(r[1] for r in rates[True])
             / statistics.median(r[1] for r in rates[False]))
    print(f"ratio full/off  {ratio:.2f} (target >= 0.85)")
    print(f"flags vs replica truth over {truth['listings']} listings: "
          f"precision {truth['precision']:.3f}, recall {truth['recall']:.3f} (cards only)")
    print(f"with enrichment over {enriched['listings']} listings: precision "
          f"{enriched['precision']:.3f}, recall {enriched['recall']:.3f} (target >= 0.97; "
          f"listing pages read, one crawl in {enriched_s:.1f} s)")


if __name__ == "__main__":
    main()
