"""``thriftwatch recheck --db PATH [--flagged-only]``: which known listings are still live?"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from crawler.commands.crawl import add_crawl_options, crawl_settings
from crawler.runtime.fetch_guard import FAULT_KIND as REFUSED
from crawler.runtime.process import run_crawl

if TYPE_CHECKING:
    import argparse
    from pathlib import Path


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
    print(json.dumps(recheck_counts(args.db)))
    return 0 if summary.platforms and summary.platforms[0].finish_reason == "finished" else 1


def recheck_counts(db: Path) -> dict[str, int | None]:
    """The latest recheck run and how many listings it found in each status, with the stored
    URLs it refused to fetch (``refused``)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        run_id = conn.execute("SELECT MAX(id) FROM run_starts WHERE platform = 'recheck'"
                              ).fetchone()[0]
        counts = dict(conn.execute(
            "SELECT status, COUNT(*) FROM rechecks WHERE run_id = ? GROUP BY status", [run_id]))
        refused = conn.execute("SELECT COUNT(*) FROM faults WHERE run_id = ? AND kind = ?",
                               [run_id, REFUSED]).fetchone()[0]
    return {"run": run_id, **counts, **({"refused": refused} if refused else {})}
