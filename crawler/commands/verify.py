"""``thriftwatch verify --db PATH``: prove the evidence DB is as it was written."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.verify import verify_db


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify", help="recompute every row hash and capture digest of an evidence DB")
    parser.add_argument("--db", type=Path, required=True)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    result = verify_db(args.db)
    counts = ", ".join(f"{table} {count}" for table, count in result.rows.items())
    if result.ok:
        print(f"OK: every chain and capture digest checks out ({counts})")
        return 0
    print(f"BROKEN: {result.problems[0]}", file=sys.stderr)
    for problem in result.problems[1:20]:
        print(f"  also: {problem}", file=sys.stderr)
    return 1
