"""Flagger throughput on one core: listings/s for ``flag()`` next to ``fold()`` alone.

    python bench/flag.py [--listings 100000]

The listings cycle over the labelled set (tests/data/labelled.jsonl) and the replica
catalogue; each gets a distinct stock code so that no cache can serve a repeat. The
baseline folds the same text fields that ``flag()`` reads. Target: >= 20,000 listings/s.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from itertools import cycle, islice
from pathlib import Path
from typing import Any

from crawler.flagger import flag
from crawler.lexicon import RECORD_FIELDS, load_lexicon
from crawler.replica.catalogue import build_catalogue
from crawler.textnorm import fold

LABELLED = Path(__file__).resolve().parents[1] / "tests/data/labelled.jsonl"


def listings(count: int) -> list[dict[str, Any]]:
    """*count* distinct listings, built deterministically."""
    sources = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    sources += [
        {"title": offer.title, "description": offer.description, "category": offer.category_breadcrumb,
         "location": offer.city, "condition": offer.condition, "imported": offer.imported}
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
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor() or platform.machine(),
    ) if Path("/proc/cpuinfo").exists() else platform.processor() or platform.machine()
    return f"{model}; {platform.system()} {platform.release()}; Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    args = parser.parse_args()
    lexicon = load_lexicon()
    records = listings(args.listings)
    flag(records[0], lexicon)  # compile and warm up outside the timing
    baseline = rate(fold_fields, records)
    flagged = rate(lambda record: flag(record, lexicon), records)
    print(f"machine:  {machine()}")
    print(f"listings: {len(records):,}")
    print(f"fold():   {baseline:>10,.0f} listings/s (baseline: folding the same fields)")
    print(f"flag():   {flagged:>10,.0f} listings/s ({1e6 / flagged:.1f} us each; target >= 20,000)")


if __name__ == "__main__":
    main()
