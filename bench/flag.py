"""Flagger throughput on one core: listings/s for ``flag()`` next to ``fold()`` alone.

    python bench/flag.py [--listings 100000] [--runs 3]

The listings cycle over the labelled set (tests/data/labelled.jsonl) and the replica
catalogue; each gets a distinct stock code so that no cache can serve a repeat. The
baseline folds the same text fields that ``flag()`` reads (timed after ``flag()``, so that
it warms nothing for it). Target: >= 20,000 listings/s.

It measures the build in use: the mypyc-compiled hot modules after ``make fast``, plain
Python with ``THRIFTWATCH_PURE=1`` (``make bench`` prints both).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import subprocess
import sys
import time
from itertools import cycle, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.flagging.compiled import in_use
from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import RECORD_FIELDS, load_lexicon
from crawler.flagging.textnorm import fold
from crawler.replica.catalogue import build_catalogue

if TYPE_CHECKING:
    from collections.abc import Callable

LABELLED = Path(__file__).resolve().parents[1] / "tests/data/labelled.jsonl"


def listings(count: int) -> list[dict[str, Any]]:
    """*count* distinct listings, built deterministically."""
    sources = [
        json.loads(line)
        for line in LABELLED.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    sources += [
        {
            "title": offer.title,
            "description": offer.description,
            "category": offer.category_breadcrumb,
            "location": offer.city,
            "condition": offer.condition,
            "imported": offer.imported,
        }
        for offer in build_catalogue()
    ]
    return [
        {**source, "description": f"{source.get('description', '')} Kode stok TW{number:06d}."}
        for number, source in enumerate(islice(cycle(sources), count))
    ]


def rate(work: Callable[[dict[str, Any]], object], records: list[dict[str, Any]]) -> float:
    start = time.perf_counter()
    for record in records:
        work(record)
    return len(records) / (time.perf_counter() - start)


def fold_fields(record: dict[str, Any]) -> None:
    for name in RECORD_FIELDS:
        if record.get(name) is not None:
            fold(str(record[name]))


def machine() -> str:
    model = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor() or platform.machine(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor() or platform.machine()
    )
    return f"{model}; {platform.system()} {platform.release()}; Python {platform.python_version()}"


def once(count: int) -> tuple[float, float]:
    """flag() and fold() listings/s in this process, from a freshly loaded lexicon."""
    lexicon = load_lexicon()
    records = listings(count)
    # The 100,000 input records are the benchmark's, not flag()'s: keep the garbage
    # collector from walking them again and again (``thriftwatch flag`` streams its input).
    gc.collect()
    gc.freeze()
    flag(records[0], lexicon)  # compile and warm up outside the timing
    return rate(lambda record: flag(record, lexicon), records), rate(fold_fields, records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument(
        "--runs", type=int, default=3, help="runs, each in a fresh process (default 3)"
    )
    parser.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.once:
        print(json.dumps(once(args.listings)))
        return
    command = [sys.executable, __file__, "--once", "--listings", str(args.listings)]
    runs = [
        json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        for _ in range(args.runs)
    ]
    flagged = sorted(run[0] for run in runs)
    baseline = statistics.median(run[1] for run in runs)
    median = statistics.median(flagged)
    print(f"machine:  {machine()}")
    print(f"build:    {'compiled (mypyc)' if in_use() else 'plain Python'}")
    print(f"listings: {args.listings:,} per run, {args.runs} runs, each in a fresh process")
    print(f"fold():   {baseline:>10,.0f} listings/s (median; baseline: folding the same fields)")
    print(
        f"flag():   {median:>10,.0f} listings/s median "
        f"({1e6 / median:.1f} us each; target >= 20,000); "
        f"runs: {', '.join(f'{rate:,.0f}' for rate in flagged)}"
    )


if __name__ == "__main__":
    main()
