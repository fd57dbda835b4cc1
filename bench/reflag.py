"""``thriftwatch reflag`` on a big evidence DB: listings/s end to end, next to ``flag()`` alone.

    python bench/reflag.py [--observations 1000000] [--listings 100000] [--jobs 1 2]

Builds (once; reused while the file is there) a DB of OBSERVATIONS sightings of LISTINGS
listings (OBSERVATIONS / LISTINGS runs, each seeing every listing once; a page capture per
50 sightings, a verdict per sighting, every run's end with its chain heads) with the fast
generator of bench/merge.py (``ChainWriter``: each row hashed in order as the store hashes
it; ``listings`` derived as a merge derives them), so it verifies like a crawled DB. The
listings' text is bench/flag.py's (the labelled set and the replica catalogue, each with a
distinct stock code); each verdict is the shipped lexicon's, as a crawl would have stored.

Then, on a fresh copy each time, it times the whole command in a subprocess (start-up,
reading, flagging, comparing, storing, the summary): ``thriftwatch reflag`` with an
investigator's file that adds a term (some verdicts change and are stored), and again with
the same file (nothing changes, nothing is stored), for each ``--jobs``. Baseline in the
same run: ``flag()`` alone, in this process, on the same records (each listing's latest
observation as reflag builds it). Target: reflag >= 20,000 listings/s, and at least half
the rate of ``flag()`` alone. The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flag import listings as flag_listings  # bench/flag.py
from merge import search_capture  # bench/merge.py

from crawler.commands.reflag import record_of, verdict_of
from crawler.evidence.custody import EVIDENCE_TABLES
from crawler.evidence.merge import DERIVE_CHANGES, DERIVE_LISTINGS, ChainWriter
from crawler.evidence.schema import OBSERVED_FIELDS
from crawler.evidence.store import EvidenceStore
from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import load_lexicon

PAGE = 50  # sightings per captured page
PLATFORMS = ("tokopedia", "shopee", "bukalapak", "lazada")
# An investigator's new words: sellers' "karung super" and a made-up code most listings lack.
EXTRA = """[meta]
version = "bench"

[[term]]
term = "karung super"
variants = ["karungan super"]
strength = "strong"
weight = 0.9
needs_clothing_context = false

[[term]]
term = "kode stok"
strength = "weak"
weight = 0.15
needs_clothing_context = true
"""


def build(path: Path, observations: int, count: int) -> float:
    """The DB at ``path`` (see the module docstring); returns seconds taken."""
    started = time.perf_counter()
    texts = flag_listings(count)
    lexicon = load_lexicon()
    verdicts = []
    for text in texts:
        verdict = flag({**text, "imported": text.get("imported")}, lexicon).as_dict()
        verdicts.append((int(verdict["flagged"]), verdict["score"], verdict["level"],
                         json.dumps(verdict["reasons"], ensure_ascii=False),
                         verdict["lexicon_version"]))
    store = EvidenceStore(path)
    conn = store.conn
    conn.execute("BEGIN IMMEDIATE")
    writers = {table: ChainWriter(conn, table) for table in (
        "run_starts", "capture_bodies", "captures", "observations", "flags", "run_ends")}
    runs = max(1, observations // count)
    for run in range(runs):
        day = f"2026-{1 + run // 28:02d}-{1 + run % 28:02d}T00:00:00.000Z"
        run_id = writers["run_starts"].append({
            "platform": "all", "keywords": '["balpres"]', "started_at": day,
            "tool_version": "bench", "host": "bench", "operator": "bench"})
        capture_id, digest = 0, ""
        for i in range(count):
            if i % PAGE == 0:
                capture_id, digest = search_capture(writers, run_id, f"{run} {i}", i, day)
            text = texts[i]
            imported = text.get("imported")
            observation = writers["observations"].append({
                "run_id": run_id, "platform": PLATFORMS[i % 4], "listing_id": str(i),
                "seen_at": day, "url": f"https://x.test/p/{i}", "keyword": "balpres",
                "title": text.get("title"), "description": text.get("description"),
                "category": text.get("category"), "location": text.get("location"),
                "condition": text.get("condition"),
                "imported": None if imported is None else int(bool(imported)),
                "price_idr": 150_000 + (i % 7) * 1000, "currency": "IDR",
                "seller_id": f"s{i % 997}", "seller_name": f"Toko {i % 997}",
                "image_urls": "[]", "capture_id": capture_id, "capture_sha256": digest})
            flagged, score, level, reasons, version = verdicts[i]
            writers["flags"].append({"observation_id": observation, "flagged": flagged,
                                     "score": score, "level": level, "reasons": reasons,
                                     "lexicon_version": version})
        heads: dict[str, Any] = dict.fromkeys(EVIDENCE_TABLES)
        for table, writer in writers.items():
            if writer.next_id > 1:
                heads[table] = {"id": writer.next_id - 1, "row_hash": writer.prev}
        writers["run_ends"].append({
            "run_id": run_id, "ended_at": day, "status": "finished", "stats": "{}",
            "lexicon_version": lexicon.version,
            "chain_heads": json.dumps(heads, sort_keys=True)})
        for writer in writers.values():
            writer.flush()
    conn.execute(DERIVE_CHANGES, [1])
    conn.execute(DERIVE_LISTINGS, [1])
    conn.execute("COMMIT")
    store.close()
    return time.perf_counter() - started


def latest_records(path: Path) -> list[dict[str, Any]]:
    """Each listing's latest observation as reflag builds its record."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    columns = ", ".join(f"o.{name}" for name in OBSERVED_FIELDS)
    rows = conn.execute(
        f"SELECT l.platform, l.listing_id, {columns} FROM listings l "  # noqa: S608 - constants
        "JOIN observations o ON o.id = l.last_observation_id "
        "ORDER BY l.platform, l.listing_id").fetchall()
    conn.close()
    return [record_of(dict(row)) for row in rows]


def flag_alone(records: list[dict[str, Any]]) -> float:
    lexicon = load_lexicon(extra=None)
    started = time.perf_counter()
    for record in records:
        verdict_of(record, lexicon)
    return len(records) / (time.perf_counter() - started)


def timed_reflag(db: Path, extra: Path, jobs: int) -> tuple[float, str]:
    command = [str(Path(sys.executable).parent / "thriftwatch"), "reflag", "--db", str(db),
               "--lexicon", str(extra), "--jobs", str(jobs)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"reflag failed: {done.stderr[-2000:]}")
    return seconds, done.stdout


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()),
                        help="where the built DB is kept for the next run (default: /tmp)")
    args = parser.parse_args()
    pristine = args.keep / f"thriftwatch-reflag-{args.observations}-{args.listings}.db"
    if not pristine.exists():
        building = pristine.with_suffix(".building")
        building.unlink(missing_ok=True)
        seconds = build(building, args.observations, args.listings)
        building.rename(pristine)
        print(f"built {pristine} ({pristine.stat().st_size / 1e6:,.0f} MB) in {seconds:.0f} s")
    else:
        print(f"reusing {pristine} ({pristine.stat().st_size / 1e6:,.0f} MB)")
    print(load())
    records = latest_records(pristine)
    alone = flag_alone(records)
    print(f"flag() alone, one process, on the same {len(records):,} records: {alone:,.0f}/s")
    with tempfile.TemporaryDirectory(prefix="thriftwatch-reflag-") as folder:
        extra = Path(folder) / "case.toml"
        extra.write_text(EXTRA, encoding="utf-8")
        for jobs in args.jobs:
            db = Path(folder) / "work.db"
            shutil.copyfile(pristine, db)
            first, printed = timed_reflag(db, extra, jobs)
            again, _ = timed_reflag(db, extra, jobs)
            changed = printed.splitlines()[1]
            print(f"reflag --jobs {jobs}: {len(records) / first:,.0f} listings/s end to end "
                  f"({first:.1f} s; {changed}); again, nothing changes: "
                  f"{len(records) / again:,.0f}/s ({again:.1f} s); "
                  f"{len(records) / first / alone:.2f} x flag() alone")
            db.unlink()
    print(load())


if __name__ == "__main__":
    main()
