"""``thriftwatch merge --into CASE.db NODE.db [NODE.db ...]``: bring node DBs into one case
DB. Every node DB is verified first; one that fails is refused (exit 1) and nothing is
imported from any. Merging the same node DBs again adds nothing; a node DB that grew adds
its new rows; one rewritten since its last merge is refused. See
:mod:`crawler.evidence.merge`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.evidence.merge import MergeRefused, merge_into

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "merge", help="merge node DBs into one case DB, verifying each first (their chains "
                      "stay verifiable in it)")
    parser.add_argument("--into", type=Path, required=True, metavar="CASE.db",
                        help="the case DB (created if absent; it may hold its own crawls)")
    parser.add_argument("sources", nargs="+", type=Path, metavar="NODE.db",
                        help="node DBs to merge (read only, never changed)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON line per node DB instead of text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        for imported in merge_into(args.into, args.sources):
            record = {"source": str(imported.path), "node": imported.node,
                      "source_head": imported.source_head, "rows": imported.rows,
                      "timestamps": imported.tokens, "merge_id": imported.merge_id,
                      "case_head": imported.case_head or None}
            if args.json:
                print(json.dumps(record, sort_keys=True), flush=True)
                continue
            print(f"{imported.path}: node {imported.node}, source head {imported.source_head}")
            if imported.total == 0:
                print("  nothing new: every row was merged before")
            else:
                rows = ", ".join(f"{table} {count}" for table, count in imported.rows.items())
                print(f"  imported {rows or 'no rows'}"
                      f"{f', timestamps {imported.tokens}' if imported.tokens else ''}")
                if imported.merge_id is not None:
                    print(f"  merges row id {imported.merge_id}; case head now "
                          f"{imported.case_head}")
            sys.stdout.flush()
    except MergeRefused as refused:
        print(f"thriftwatch merge: refused: {refused}", file=sys.stderr)
        return 1
    return 0
