"""Seller networks at scale: contacts read from 100,000 listings of 20,000 accounts, stored
through the evidence store's API with photo fingerprints, then linked into networks.

    python bench/sellers.py [--listings 100000] [--accounts 20000] [--networks 1000]

Everything is generated from a fixed seed, so every run builds the same DB:

- every account has its own phone number, written in its listings' descriptions in one of
  the ways sellers disguise numbers (dashes, +62, spaced, dots, the letter o for 0, a
  wa.me link, the digits in words), beside prices, weights and order numbers that are not
  contacts; seller names come from a short list, so many unrelated accounts share one;
- ``--networks`` planted operators of 2 to 5 accounts: each account is joined to the
  next by the operator's number (written differently), an Instagram handle, or a
  near-identical photo (the same pHash with a few bits changed, as a re-encoded copy);
- decoys: a stock photo (near-identical copies) in the listings of 300 unrelated accounts.

It times, apart from fetching: reading the contacts out of every description (the CPU part
of enrichment; photo fingerprints are timed on generated JPEGs and projected to the photo
count), ``read_networks`` on the DB (reading it and linking), the linking alone on rows
already read, and ``thriftwatch sellers`` end to end. It then scores the networks found of
two or more accounts against the planted ones: precision and recall over pairs of accounts
placed together, planted networks found exactly, and decoys merged into anything.
"""

from __future__ import annotations

import argparse
import io
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from itertools import combinations, pairwise
from pathlib import Path

from crawler.evidence.store import EvidenceStore
from crawler.sellers.contacts import extract
from crawler.sellers.images import fingerprint
from crawler.sellers.networks import account_key, build_networks
from crawler.sellers.stored import listing_rows, read_networks

PLATFORMS = ("tokopedia", "shopee", "bukalapak", "lazada", "blibli", "tiktokshop",
             "facebook", "olx")
NAMES = ("Thrift Murah", "Bal Import", "Gudang Bal", "Preloved Korea", "Toko Baju Bekas")
DIGIT_WORDS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan",
               "sembilan")
MOBILE_PREFIXES = ("812", "813", "821", "822", "852", "857", "878", "896")
STOCK_ACCOUNTS = 300
LIMIT_SECONDS = 60  # the target for linking, apart from fetching
SAMPLE_IMAGES = 100  # JPEGs fingerprinted to time pHash


def written(e164: str, style: int) -> str:
    """``e164`` (+628...) as a seller writes it, in one of seven styles."""
    national = "0" + e164[3:]
    a, b, c = national[:4], national[4:8], national[8:]
    return (f"WA {a}-{b}-{c}", f"+62 {a[1:]} {b} {c}", f"hub {a}.{b}.{c}",
            f"wa: {national.replace('0', 'o', 1)}", f"wa.me/{e164[1:]}",
            " ".join(DIGIT_WORDS[int(d)] for d in national), f"62-{a[1:]}-{b}-{c}")[style % 7]


def flip(phash: str, rng: random.Random, bits: int) -> str:
    """``phash`` with ``bits`` random bits changed (a re-encoded or resized copy)."""
    value = int(phash, 16)
    for bit in rng.sample(range(64), bits):
        value ^= 1 << bit
    return f"{value:016x}"


class World:
    """The generated accounts, their contacts and photos, and the planted truth."""

    def __init__(self, accounts: int, networks: int, seed: int = 2026):
        rng = random.Random(seed)
        self.keys = [account_key(PLATFORMS[n % len(PLATFORMS)], str(100_000 + n))
                     for n in range(accounts)]
        self.phone = {key: self.new_phone(rng) for key in self.keys}
        self.handles: dict[str, list[str]] = {key: [] for key in self.keys}
        self.photo = {key: f"{rng.getrandbits(64):016x}" for key in self.keys}
        self.extra_phones: dict[str, list[str]] = {key: [] for key in self.keys}
        pool = list(range(accounts))
        rng.shuffle(pool)
        self.planted: list[set[str]] = []
        for _ in range(networks):
            size = rng.randint(2, 5)
            members = [self.keys[pool.pop()] for _ in range(size)]
            operator_phone = self.new_phone(rng)
            handle = f"bal.{rng.getrandbits(32):08x}"
            for one, two in pairwise(members):
                way = rng.choice(("phone", "phone", "handle", "photo"))
                if way == "phone":
                    self.extra_phones[one].append(operator_phone)
                    self.extra_phones[two].append(operator_phone)
                elif way == "handle":
                    self.handles[one].append(handle)
                    self.handles[two].append(handle)
                else:
                    self.photo[two] = flip(self.photo[one], rng, rng.randint(1, 4))
            self.planted.append(set(members))
        stock = f"{rng.getrandbits(64):016x}"
        self.stock = {self.keys[pool.pop()] for _ in range(STOCK_ACCOUNTS)}
        self.stock_photo = {key: flip(stock, rng, rng.randint(0, 2)) for key in self.stock}
        self.rng = rng

    @staticmethod
    def new_phone(rng: random.Random) -> str:
        return f"+62{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**7, 10**8)}"

    def description(self, key: str, n: int) -> str:
        rng = self.rng
        parts = [(f"Bal press import isi {rng.randint(80, 120)} pcs, berat {rng.randint(50, 100)}"
                 f" kg, harga Rp {rng.randint(1, 9)}.{rng.randint(100, 999)}.000"),
                 f"order no {rng.randint(10**7, 10**8)}", written(self.phone[key], n)]
        parts += [written(phone, n + 3) for phone in self.extra_phones[key]]
        parts += [f"IG @{handle}" for handle in self.handles[key]]
        rng.shuffle(parts)
        return ". ".join(parts)


def build(db: Path, world: World, listings: int) -> tuple[float, int, int]:
    """The DB through the store's API; returns the seconds spent reading contacts out of
    the descriptions, and how many contacts and photos were stored."""
    store = EvidenceStore(db)
    run = store.start_run(platform="bench", keywords=["balpres"])
    extracting, contacts_stored, photos = 0.0, 0, 0
    batch, found = [], []
    for n in range(listings):
        key = world.keys[n % len(world.keys)]
        platform_name, seller_id = key.split(":")
        listing_id = f"{n:07d}"
        text = world.description(key, n)
        batch.append({
            "platform": platform_name, "listing_id": listing_id, "keyword": "balpres",
            "url": f"https://{platform_name}.example/{seller_id}/{listing_id}",
            "title": "Bal press import", "description": text, "seller_id": seller_id,
            "seller_name": NAMES[n % len(NAMES)],
            "seller_url": f"https://{platform_name}.example/shop/{seller_id}",
            "capture_sha256": "0" * 64, "flagged": True, "score": 0.9, "level": "strong",
            "reasons": [{"rule": "term:balpres", "matched": "bal press", "weight": 0.9}]})
        started = time.perf_counter()
        read = extract(text, "description")
        extracting += time.perf_counter() - started
        found += [{"platform": platform_name, "listing_id": listing_id, "source": "page",
                   "field": "description", "kind": c.kind, "value": c.value, "raw": c.raw,
                   "capture_sha256": "0" * 64} for c in read]
        if n < len(world.keys) * 2:  # two photos per account: its first two listings
            phash = world.stock_photo.get(key) if n >= len(world.keys) else None
            phash = phash or world.photo[key]
            store.add_image(run, {"platform": platform_name, "listing_id": listing_id,
                                  "url": f"https://img.example/{listing_id}.jpg",
                                  "body": f"photo {listing_id} {phash}".encode(),
                                  "phash": phash, "width": 640, "height": 640})
            photos += 1
        if len(batch) == 1000:
            store.add_observations(run, batch)
            contacts_stored += len(store.add_contacts(run, found))
            batch, found = [], []
    if batch:
        store.add_observations(run, batch)
        contacts_stored += len(store.add_contacts(run, found))
    store.end_run(run, status="finished", stats={})
    store.close()
    return extracting, contacts_stored, photos


def phash_seconds() -> float:
    """Seconds to fingerprint one 640x640 JPEG (the median of SAMPLE_IMAGES)."""
    from PIL import Image

    rng = random.Random(7)
    times = []
    for _ in range(SAMPLE_IMAGES):
        picture = Image.new("RGB", (64, 64))
        picture.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                         for _ in range(64 * 64)])
        out = io.BytesIO()
        picture.resize((640, 640)).save(out, "JPEG", quality=85)
        body = out.getvalue()
        started = time.perf_counter()
        assert fingerprint(body) is not None
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def pairs(groups: list[set[str]]) -> set[tuple[str, str]]:
    return {pair for group in groups for pair in combinations(sorted(group), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--networks", type=int, default=1000)
    args = parser.parse_args()
    if args.networks * 5 + STOCK_ACCOUNTS > args.accounts:
        parser.error("too few accounts for that many networks and the stock-photo decoys")
    world = World(args.accounts, args.networks)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "sellers.db"
        started = time.perf_counter()
        extracting, contacts, photos = build(db, world, args.listings)
        building = time.perf_counter() - started - extracting
        store = EvidenceStore(db, check=True)
        started = time.perf_counter()
        networks = read_networks(store)
        reading_and_linking = time.perf_counter() - started
        rows = (list(store.accounts()), listing_rows(store), list(store.contacts()),
                list(store.images()))
        started = time.perf_counter()
        build_networks(*rows)
        linking = time.perf_counter() - started
        store.close()
        started = time.perf_counter()
        command = subprocess.run(
            [sys.executable, "-m", "crawler.cli", "sellers", "--db", str(db), "--format",
             "jsonl", "-o", str(Path(tmp) / "networks.jsonl")],
            capture_output=True, text=True, timeout=600, check=True)
        sellers_seconds = time.perf_counter() - started
        lines = sum(1 for _ in (Path(tmp) / "networks.jsonl").open(encoding="utf-8"))
    per_photo = phash_seconds()
    found = [set(n.keys) for n in networks if len(n.accounts) > 1]
    planted, got = pairs(world.planted), pairs(found)
    precision = len(planted & got) / len(got) if got else 1.0
    recall = len(planted & got) / len(planted) if planted else 1.0
    exact = len({frozenset(g) for g in world.planted} & {frozenset(g) for g in found})
    decoys_merged = sum(1 for group in found if group & world.stock)

    print(f"machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"DB: {args.listings:,} listings of {args.accounts:,} accounts, {contacts:,} contacts, "
          f"{photos:,} photos; {args.networks:,} planted networks, {STOCK_ACCOUNTS} "
          f"stock-photo decoys (built through the store's API in {building:.0f}s)")
    print(f"contacts read from {args.listings:,} descriptions: {extracting:.1f}s "
          f"({args.listings / extracting:,.0f} listings/s)")
    print(f"photo fingerprint (pHash, 640x640 JPEG): {per_photo * 1000:.1f} ms each; "
          f"{photos:,} photos: {per_photo * photos:.0f}s projected")
    print(f"read_networks (read the DB and link): {reading_and_linking:.1f}s; linking alone "
          f"(rows already read): {linking:.1f}s")
    print(f"thriftwatch sellers --format jsonl: {sellers_seconds:.1f}s "
          f"({lines:,} networks of 2+ accounts written){command.stderr and ''}")
    enrichment_and_linking = extracting + per_photo * photos + reading_and_linking
    verdict = "met" if enrichment_and_linking < LIMIT_SECONDS else "NOT met"
    print(f"enrichment and linking apart from fetching: {enrichment_and_linking:.0f}s "
          f"(target < {LIMIT_SECONDS}s: {verdict})")
    print(f"networks found: {len(found):,}; planted found exactly: {exact:,} of "
          f"{len(world.planted):,}; pairs of accounts: precision {precision:.3f}, recall "
          f"{recall:.3f}; networks holding a stock-photo decoy: {decoys_merged}")


if __name__ == "__main__":
    main()
