"""``thriftwatch report --db PATH [--since 7d] -o report.html``: one self-contained HTML file,
seller networks and takedown compliance included (photo-linking options as ``sellers``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crawler.commands.sellers import add_linking_options, check_linking_options
from crawler.evidence.store import EvidenceStore
from crawler.ops.report import gather, render, since_cutoff

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="write an HTML report with charts and tables (one file, nothing external)")
    parser.add_argument("--db", type=Path, required=True, help="evidence DB")
    parser.add_argument("--since",
                        help="only what was seen in the last 7d, 12h, ... or since a date")
    parser.add_argument("-o", "--output", type=Path, default=Path("report.html"))
    parser.add_argument("--lexicon", type=Path,
                        help="the investigator's lexicon file (its terms are not suggested again)")
    parser.add_argument("--serve-url", default="http://127.0.0.1:8001",
                        help="where `thriftwatch serve` runs, for the capture links")
    add_linking_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    check_linking_options(args)
    store = EvidenceStore(args.db, check=True)
    try:
        data = gather(store, since_cutoff(args.since), args.lexicon,
                      image_distance=args.image_distance,
                      image_max_accounts=args.image_max_accounts)
    finally:
        store.close()
    args.output.write_text(render(data, args.db.name, args.serve_url), encoding="utf-8")
    print(f"report written to {args.output}")
    return 0
