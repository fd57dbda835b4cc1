"""``thriftwatch demo [--db PATH]``: every platform, default terms, on the built-in replica;
then a takedown and the sellers who come back, and the seller networks found.

1. Crawl every platform (the default search terms, ``--max-pages`` pages).
2. Take down the accounts the replica plans to take down (``take_down_planted``: as a
   platform does after a takedown request), recheck the flagged listings of their
   platforms (``thriftwatch recheck``), and crawl those platforms again (one page per
   term): the planted operators' returning accounts list now, after the takedown.
3. Read the seller networks from the DB (``crawler.sellers.stored.read_networks``) and say
   how many networks of two or more accounts and how many returning sellers were found.

A Scrapy crawl runs once per process (Twisted's reactor cannot start twice), so steps 2's
recheck and crawl run as ``thriftwatch`` subprocesses against the same replica.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.commands.crawl import crawl_settings, print_summary
from crawler.evidence.store import EvidenceStore
from crawler.runtime.process import available_platforms, run_crawl
from crawler.sellers.stored import read_networks

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Sequence

    from crawler.replica.server import ReplicaServer
    from crawler.sellers.networks import Network

DEMO_MAX_PAGES = 5
RETURN_MAX_PAGES = 1  # the returning sellers' offers come first in their platform's search
PROFILE_SPIDER = "profile"  # crawls the platforms described by site profiles (OLX)
STEP_TIMEOUT = 300  # seconds one recheck or crawl subprocess may take
FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0")
# Enrichment as a demo needs it, on one process's CPU: listing pages of flagged listings only
# and each one's first two photos (a listing's cover, then the photos an operator's accounts
# share); a crawl's defaults read every listing with a reason and four photos. The enrich
# pipeline reads one page of every account before a second of any (pipelines/enrich.py), so
# a cap above the accounts with flagged listings a platform shows (at most 175 here) reads a
# page of each: what links accounts is on every page of a seller's.
DEMO_ENRICH = {"THRIFTWATCH_ENRICH_FLOOR": "weak", "THRIFTWATCH_IMAGE_CAP": 2,
               "THRIFTWATCH_DETAIL_CAP": 180}
# The search after the takedown reads the pages of accounts no earlier run read first: the
# returning sellers' new accounts, then a few more.
RETURN_DETAIL_CAP = 40


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="crawl every platform on the built-in replica, take planted accounts "
                     "down, recheck, crawl again, and count seller networks")
    parser.add_argument("--db", type=Path, help="evidence DB (default: a new temporary file)")
    parser.add_argument("--max-pages", type=int, default=DEMO_MAX_PAGES)
    parser.add_argument("--log-level", default="WARNING")
    parser.set_defaults(run=run, lexicon=None, operator=None, set=[])


def run(args: argparse.Namespace) -> int:
    from crawler.replica.server import ReplicaServer

    args.db = args.db or Path(tempfile.mkdtemp(prefix="thriftwatch-demo-")) / "demo.db"
    started = time.monotonic()
    with ReplicaServer() as replica:
        print(f"replica marketplace on {replica.url}")
        settings = crawl_settings(args, replica.url)
        # The replica is local: no politeness delays needed against it.
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        for name, value in DEMO_ENRICH.items():
            settings.set(name, value, priority="cmdline")
        known = available_platforms(settings)
        summary = run_crawl(known, settings)
        print_summary(summary, str(args.db))
        returned = take_down_and_return(replica, args.db, known, args.log_level)
    print(sellers_line(read_db_networks(args.db)))
    print(f"in {time.monotonic() - started:.0f}s")
    print(f"see them:   thriftwatch sellers --db {args.db}")
    print(f"export it:  thriftwatch export --db {args.db} --format csv -o listings.csv")
    return 0 if summary.ok and returned else 1


def take_down_and_return(replica: ReplicaServer, db: Path, known: Sequence[str],
                         log_level: str) -> bool:
    """Step 2: take the planted accounts down, recheck their platforms' flagged listings,
    crawl those platforms again. True when every step finished."""
    taken = replica.take_down_planted()
    platforms = sorted({key.split(":", 1)[0] for key in taken})
    print(f"takedown: the replica took down {len(taken)} accounts on {', '.join(platforms)}; "
          "rechecking their flagged listings and searching again")
    common = ["--db", str(db), "--replica", replica.url, "--log-level", log_level, *FAST,
              *(arg for name, value in DEMO_ENRICH.items() for arg in ("-s", f"{name}={value}"))]
    ok = True
    for platform in platforms:
        ok &= _thriftwatch("recheck", "--flagged-only", "--platform", platform, *common)
    return ok & _thriftwatch("crawl", *return_spiders(platforms, known), *common,
                             "--max-pages", str(RETURN_MAX_PAGES),
                             "-s", f"THRIFTWATCH_DETAIL_CAP={RETURN_DETAIL_CAP}")


def return_spiders(platforms: Iterable[str], known: Sequence[str]) -> list[str]:
    """The spiders that search ``platforms`` again: a platform's own spider, or the profile
    spider for a platform described by a site profile."""
    return sorted({platform if platform in known else PROFILE_SPIDER for platform in platforms})


def _thriftwatch(*arguments: str) -> bool:
    """Run ``thriftwatch ARGUMENTS`` (this Python's), show its output; True if it worked."""
    try:
        done = subprocess.run([sys.executable, "-m", "crawler.cli", *arguments],  # noqa: S603
                              capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        print(f"thriftwatch {arguments[0]} took longer than {STEP_TIMEOUT}s", file=sys.stderr)
        return False
    shown = [line for line in done.stdout.splitlines()
             if not line.startswith(("evidence DB:", "head "))]
    print("\n".join(f"  {line}" for line in shown))
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
    return done.returncode == 0


def read_db_networks(db: Path) -> list[Network]:
    store = EvidenceStore(db, check=True)
    try:
        return read_networks(store)
    finally:
        store.close()


def sellers_line(networks: Sequence[Network]) -> str:
    """How many networks of two or more accounts, and returning sellers, were found."""
    linked = [network for network in networks if len(network.accounts) > 1]
    returning = {proof["returned"] for network in linked
                 for proof in network.returning_evidence}
    platforms = {platform for network in linked for platform in network.platforms}
    return (f"sellers: {len(linked)} networks of two or more accounts "
            f"({sum(len(n.accounts) for n in linked)} accounts on {len(platforms)} platforms), "
            f"{len(returning)} returning sellers (accounts first seen after a linked account "
            "was taken down)")
