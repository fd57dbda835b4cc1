"""``thriftwatch takedown --db PATH --platform P [--network ID] [--format csv|jsonl]
[-o FILE]``: what to send platform P to take accounts down, one request per account with
flagged listings (see :mod:`crawler.sellers.takedown`): account URL, listing URLs, reason in
Indonesian and English, legal basis, evidence hashes and the DB head. Each request is
recorded in the evidence DB's chained ``takedown_requests`` table, so that the report can
show, after ``recheck``, how the platform complied. A DB that fails SQLite's integrity
check or whose schema was changed is refused (exit 2) before anything is written."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from crawler.commands.sellers import add_linking_options, check_linking_options
from crawler.evidence.capture import utc_now
from crawler.evidence.export import _csv_cell
from crawler.evidence.store import EvidenceStore
from crawler.sellers.stored import listing_rows, read_networks
from crawler.sellers.takedown import as_record, takedown_requests

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

FORMATS = ("csv", "jsonl")
CSV_FIELDS = ("request_id", "platform", "account_url", "seller_id", "seller_name",
              "network_id", "listing_urls", "reason_id", "reason_en", "legal_basis",
              "evidence", "linked_accounts", "db_head", "created_at")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "takedown", help="write takedown requests for a platform, one per account, and record "
                         "them as evidence")
    parser.add_argument("--db", type=Path, required=True, help="evidence DB")
    parser.add_argument("--platform", required=True, help="the platform to ask (tokopedia, ...)")
    parser.add_argument("--network", metavar="ID",
                        help="only the accounts of this network (a network_id of `sellers`)")
    parser.add_argument("--format", choices=FORMATS, default="csv",
                        help="CSV for a report form or spreadsheet (formula-safe; lists one "
                             "per line in a cell), or one JSON request per line")
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    add_linking_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    check_linking_options(args)
    store = EvidenceStore(args.db, check=True)
    try:
        listings = listing_rows(store)
        platforms = sorted({row["platform"] for row in listings})
        if args.platform not in platforms:
            raise ValueError(f"no listings of platform {args.platform!r} in {args.db}; it holds "
                             f"{', '.join(platforms) or 'none'}")
        networks = read_networks(store, image_distance=args.image_distance,
                                 image_max_accounts=args.image_max_accounts, listings=listings)
        if args.network is not None and args.network not in {n.network_id for n in networks}:
            raise ValueError(f"no network {args.network!r} in {args.db} (see `thriftwatch "
                             "sellers`)")
        latest = store.latest_run_head()
        head = latest[1] if latest else store.head()
        requests = takedown_requests(args.platform, networks, listings, db_head=head,
                                     created_at=utc_now(), network=args.network)
        for request in requests:
            request["request_id"] = store.add_takedown_request(as_record(request))
    finally:
        store.close()
    if args.output is None:
        write_requests(requests, sys.stdout, args.format)
    else:
        with args.output.open("w", encoding="utf-8", newline="") as out:
            write_requests(requests, out, args.format)
    print(f"{len(requests)} takedown requests for {args.platform} recorded in {args.db}"
          f"{f' and written to {args.output}' if args.output else ''}; DB head cited {head}",
          file=sys.stderr)
    return 0


def write_requests(requests: Iterable[dict[str, Any]], out: TextIO, fmt: str) -> int:
    """Write ``requests`` to ``out`` as CSV or JSON Lines; returns how many."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
    for request in requests:
        if fmt == "jsonl":
            out.write(json.dumps(request, ensure_ascii=False) + "\n")
        else:
            writer.writerow({name: _csv_cell(_cell(name, request[name])) for name in CSV_FIELDS})
        count += 1
    return count


def _cell(name: str, value: Any) -> Any:
    """Lists one item a line, as a report form takes them; evidence as 'LISTING CAPTURE_SHA256
    observation N'."""
    if name == "evidence":
        return "\n".join(f"{item['listing_id']} {item['capture_sha256']} observation "
                         f"{item['observation_id']}" for item in value)
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return value
