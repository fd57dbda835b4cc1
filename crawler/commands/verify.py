"""``thriftwatch verify --db PATH | --bundle FILE``: prove evidence is as it was written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.evidence.verify import verify_db

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "verify", help="recompute every row hash and capture digest of an evidence DB, "
                       "or every file hash of a case bundle")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--db", type=Path, help="an evidence DB")
    target.add_argument("--bundle", type=Path, help="a bundle from `export --format bundle`")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.bundle is not None:
        return _verify_bundle(args.bundle)
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    result = verify_db(args.db)
    counts = ", ".join(f"{table} {count}" for table, count in result.rows.items())
    return _report(f"every chain and capture digest checks out ({counts})", result.problems)


def _verify_bundle(path: Path) -> int:
    from crawler.evidence.bundle import verify_bundle

    if not path.exists():
        raise ValueError(f"no bundle at {path}")
    check = verify_bundle(path)
    return _report(f"{check.files} files match the manifest (SHA-256 {check.manifest_sha256})",
                   check.problems)


def _report(ok_message: str, problems: list[str]) -> int:
    """OK and 0, or the first problem (then up to 19 more) on stderr and 1."""
    if not problems:
        print(f"OK: {ok_message}")
        return 0
    print(f"BROKEN: {problems[0]}", file=sys.stderr)
    for problem in problems[1:20]:
        print(f"  also: {problem}", file=sys.stderr)
    return 1
