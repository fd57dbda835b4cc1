"""The flagger's regression corpus, built afresh by a script rather than committed.

``records()`` gives the labelled sets (``tests/data/*.jsonl``), the replica catalogue,
the real clothing listings in ``../shared/corpus`` when present, and listings put together
from the trade's vocabulary with the sellers' tricks (leet, split letters, fancy and
look-alike letters, emoji between and inside words, vowels dropped, words reversed),
from a fixed seed: the same records on every machine.

    python -m tests.flag_corpus        # how many records of each source
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from crawler.replica.catalogue import build_catalogue

DATA = Path(__file__).parent / "data"
SHARED_CSV = Path(__file__).resolve().parents[2] / "shared/corpus/tokopedia-fashion-csv-2025"

WORDS = (
    "bal", "balpres", "ballpress", "karungan", "karung", "goni", "koli", "iket", "bekas",
    "import", "impor", "korea", "jepang", "hk", "ex", "dari", "baju", "kaos", "jaket",
    "kemeja", "celana", "sepatu", "tas", "isi", "100", "250", "pcs", "kg", "per", "kiloan",
    "sekarung", "wa", "0812", "3456", "7890", "wa.me/62812", "dm", "japri", "second",
    "preloved", "pre-owned", "thrift", "segel", "grade", "a", "cakar", "ayam", "monza",
    "cimol", "awul", "rombengan", "sisa", "ekspor", "baru", "bukan", "kw", "donasi", "pribadi",
    "mesin", "press", "baler", "used", "clothing", "bale", "from", "japan", "lokal", "anak",
    "kami", "ebook", "buku", "jasa", "laundry", "barang", "kapal", "pecah", "kawat", "pbi",
    "bbi", "100kg", "20kg", "bb", "60", "kg", "satu", "bal", "bal-balan", "negeri", "sakura",
)

Trick = Callable[[str], str]
TRICKS: tuple[Trick, ...] = (
    str,
    str.upper,
    ".".join,
    " ".join,
    "🔥".join,
    lambda w: w.replace("a", "4").replace("e", "3").replace("o", "0"),
    lambda w: w.replace("a", "а"),  # Cyrillic а
    lambda w: w + w[-1] * 3,
    lambda w: "".join(chr(0x1D41A + ord(c) - 97) if "a" <= c <= "z" else c for c in w),
    lambda w: "".join(chr(0x1F150 + ord(c) - 97) if "a" <= c <= "z" else c for c in w),
    lambda w: w[: len(w) // 2] + "*" + w[len(w) // 2:],
    lambda w: w[0] + "".join(c for c in w[1:-1] if c not in "aeiou") + w[-1:],
    lambda w: w[::-1],
    lambda w: f"{w}👕",
)


def labelled() -> Iterator[dict[str, Any]]:
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)


def catalogue() -> Iterator[dict[str, Any]]:
    for offer in build_catalogue():
        yield {"title": offer.title, "description": offer.description,
               "category": offer.category_breadcrumb, "location": offer.city,
               "condition": offer.condition, "imported": offer.imported}


def shared_listings() -> Iterator[dict[str, Any]]:
    for path in sorted(SHARED_CSV.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                yield {"title": row.get("name", ""), "category": row.get("category_breadcrumb"),
                       "location": row.get("shop_city")}


def tricked(count: int = 6000, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for _ in range(count):
        title = " ".join(rng.choice(TRICKS)(rng.choice(WORDS)) for _ in range(rng.randint(1, 12)))
        description = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 25)))
        yield {"title": title, "description": description,
               "category": rng.choice([None, "Fashion Pria > Kaos", "buku/ebook", "Otomotif"]),
               "location": rng.choice([None, "Batam", "Medan", "Jakarta"]),
               "condition": rng.choice([None, "Baru", "Bekas"]),
               "imported": rng.choice([None, True, False])}


SOURCES: dict[str, Callable[[], Iterator[dict[str, Any]]]] = {
    "labelled": labelled, "catalogue": catalogue, "shared": shared_listings, "tricked": tricked,
}


def records() -> list[dict[str, Any]]:
    """Every record of every source, in a fixed order."""
    return [record for source in SOURCES.values() for record in source()]


if __name__ == "__main__":
    for name, source in SOURCES.items():
        print(f"{name:<10} {sum(1 for _ in source()):>6}")
