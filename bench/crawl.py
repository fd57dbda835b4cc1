"""Crawl throughput on the replica: the full pipeline against bare Scrapy with our spider.

    python bench/crawl.py [--keywords 100] [--pages 2] [--repeat 3] [--latency 0 --latency 0.3]

Bare Scrapy is the same spider with every project item pipeline, downloader and spider
middleware and extension off (``ITEM_PIPELINES``, ``DOWNLOADER_MIDDLEWARES``,
``SPIDER_MIDDLEWARES`` and ``EXTENSIONS`` set to ``{}``; Scrapy's own stay): so capture,
the fetch guard, the evidence recorder, run health and every pipeline count as pipeline
cost. Each crawl is Tokopedia, KEYWORDS search terms x PAGES pages (60 listings a page),
enrichment off (both fetch the same pages); the two alternate, median of REPEAT.

At latency 0 the replica answers at once and the crawl is CPU-bound (the pipeline's cost
shows in full; target ratio >= 0.6); at a real site's latency (0.3 s a response, 4
requests per host as in the shipped settings) it is network-bound (target >= 0.95). Then
how the flags compare with the replica catalogue's ground truth, without and with
enrichment (listing pages read: target recall >= 0.97).
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
BARE = ("ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS")


def crawl(replica: str, db: Path, pages: int, bare: bool, concurrency: int, *,
          keywords: list[str] | None = None, enrich: bool = False) -> tuple[int, int, float]:
    """One crawl in its own process; its pages, listings and seconds (as it reports them)."""
    thriftwatch = Path(sys.executable).parent / "thriftwatch"
    command = [str(thriftwatch), "crawl", "tokopedia", "--replica", replica, "--db", str(db),
               "--max-pages", str(pages), "--log-level", "WARNING",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
               "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}",
               "-s", f"THRIFTWATCH_ENRICH={enrich}", "-s", f"THRIFTWATCH_DETAIL_CAP={DETAIL_CAP}"]
    if keywords:
        command += ["--keywords", ",".join(keywords)]
    if bare:
        for name in BARE:
            command += ["-s", f"{name}={{}}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=True)
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


def compare(replica: str, tmp: Path, args: argparse.Namespace, latency: float) -> None:
    """Full and bare crawls at one latency, alternating; print their medians and ratio."""
    # Against a real-site latency, the shipped politeness (4 per host); at 0, flat out.
    concurrency = 4 if latency else 16
    keywords = [f"jaket {n}" for n in range(args.keywords)]
    rates: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for i in range(args.repeat):
        for bare in (True, False):
            db = tmp / f"run-{latency}-{i}-{bare}.db"
            pages, listings, elapsed = crawl(replica, db, args.pages, bare, concurrency,
                                             keywords=keywords)
            rates[bare].append((pages / elapsed * 60, listings / elapsed))
    print(f"latency {latency:g} s, {concurrency} requests per host, {args.keywords} terms x "
          f"{args.pages} pages, median of {args.repeat}:")
    for bare, label in ((True, "bare Scrapy"), (False, "full pipeline")):
        pages_min = statistics.median(r[0] for r in rates[bare])
        listings_s = statistics.median(r[1] for r in rates[bare])
        print(f"  {label:<14} {pages_min:8.0f} pages/min {listings_s:8.0f} listings/s")
    ratio = (statistics.median(r[1] for r in rates[False])
             / statistics.median(r[1] for r in rates[True]))
    print(f"  ratio full/bare {ratio:.2f} (target >= {0.95 if latency else 0.6})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keywords", type=int, default=100)
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, action="append",
                        help="seconds each replica answer waits (0: CPU-bound crawl); "
                             "repeat for several (default: 0 and 0.3)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{platform.python_implementation()} {platform.python_version()}; replica crawls "
          "of tokopedia, enrichment off")
    with tempfile.TemporaryDirectory() as tmp:
        for latency in args.latency or [0.0, 0.3]:
            with ReplicaServer(latency=latency) as replica:
                compare(replica.url, Path(tmp), args, latency)
        with ReplicaServer(latency=0) as replica:
            cards_db, enriched_db = Path(tmp) / "cards.db", Path(tmp) / "enriched.db"
            crawl(replica.url, cards_db, 5, False, 16)
            _, _, enriched_s = crawl(replica.url, enriched_db, 5, False, 16, enrich=True)
        truth, enriched = ground_truth(cards_db), ground_truth(enriched_db)
    print(f"flags vs replica truth over {truth['listings']} listings (shipped terms x 5 "
          f"pages): precision {truth['precision']:.3f}, recall {truth['recall']:.3f} "
          "(cards only)")
    print(f"with enrichment over {enriched['listings']} listings: precision "
          f"{enriched['precision']:.3f}, recall {enriched['recall']:.3f} (target >= 0.97; "
          f"listing pages read, one crawl in {enriched_s:.1f} s)")


if __name__ == "__main__":
    main()
