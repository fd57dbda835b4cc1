"""``thriftwatch recheck --db PATH [--flagged-only]``: which known listings are still live?"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from crawler.commands.crawl import add_crawl_options, crawl_settings
from crawler.runtime.process import run_crawl

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "recheck", help="revisit known listings; record live / removed / blocked")
    parser.add_argument("--flagged-only", action="store_true", help="only flagged listings")
    parser.add_argument("--platform", help="only this platform")
    add_crawl_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    settings = crawl_settings(args, args.replica)
    spider_args = {"flagged_only": args.flagged_only}
    if args.platform:
        spider_args["platform"] = args.platform
    summary = run_crawl(["recheck"], settings, **spider_args)
    with sqlite3.connect(f"file:{args.db}?mode=ro", uri=True) as conn:
        run_id = conn.execute("SELECT MAX(run_id) FROM rechecks").fetchone()[0]
        counts = dict(conn.execute(
            "SELECT status, COUNT(*) FROM rechecks WHERE run_id = ? GROUP BY status", [run_id]))
    print(json.dumps({"run": run_id, **counts}))
    return 0 if summary.platforms and summary.platforms[0].finish_reason == "finished" else 1
