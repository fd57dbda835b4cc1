"""``thriftwatch demo [--db PATH]``: every platform, default terms, on the built-in replica."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.commands.crawl import crawl_settings, print_summary
from crawler.runtime.process import available_platforms, run_crawl

if TYPE_CHECKING:
    import argparse

DEMO_MAX_PAGES = 5


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="crawl every platform on the built-in replica")
    parser.add_argument("--db", type=Path, help="evidence DB (default: a new temporary file)")
    parser.add_argument("--max-pages", type=int, default=DEMO_MAX_PAGES)
    parser.add_argument("--log-level", default="WARNING")
    parser.set_defaults(run=run, lexicon=None, operator=None, set=[])


def run(args: argparse.Namespace) -> int:
    from crawler.replica.server import ReplicaServer

    args.db = args.db or Path(tempfile.mkdtemp(prefix="thriftwatch-demo-")) / "demo.db"
    with ReplicaServer() as replica:
        print(f"replica marketplace on {replica.url}")
        settings = crawl_settings(args, replica.url)
        # The replica is local: no politeness delays needed against it.
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        summary = run_crawl(available_platforms(settings), settings)
    print_summary(summary, str(args.db))
    print(f"export it:  thriftwatch export --db {args.db} --format csv -o listings.csv")
    return 0 if summary.ok else 1
