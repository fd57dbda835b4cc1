"""``thriftwatch export --db PATH --format jsonl|csv [--flagged-only] [-o FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crawler.export import FORMATS, write_records
from crawler.store import EvidenceStore


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="write listings from an evidence DB")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--format", choices=FORMATS, default="jsonl")
    parser.add_argument("--flagged-only", action="store_true")
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    store = EvidenceStore(args.db)
    try:
        records = store.export_records(flagged_only=args.flagged_only)
        if args.output is None:
            write_records(records, sys.stdout, args.format)
            return 0
        with args.output.open("w", encoding="utf-8", newline="") as out:
            count = write_records(records, out, args.format)
        print(f"{count} listings written to {args.output}", file=sys.stderr)
    finally:
        store.close()
    return 0
