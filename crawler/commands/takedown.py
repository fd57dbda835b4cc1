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
        latest = store.latest_run_head()
        head = latest[1] if latest else store.head()
        listings, moved = covered_listings(store, listing_rows(store), latest)
        platforms = sorted({row["platform"] for row in listings})
        if args.platform not in platforms:
            raise ValueError(f"no listings of platform {args.platform!r} in {args.db}; it holds "
                             f"{', '.join(platforms) or 'none'}")
        networks = read_networks(store, image_distance=args.image_distance,
                                 image_max_accounts=args.image_max_accounts, listings=listings)
        if args.network is not None and args.network not in {n.network_id for n in networks}:
            raise ValueError(f"no network {args.network!r} in {args.db} (see `thriftwatch "
                             "sellers`)")
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
    if moved:
        print(f"{moved} listings were last seen by a run that has not ended: they are cited "
              "as the cited head last saw them, or left out (end or resume that run, then "
              "ask again)", file=sys.stderr)
    print(f"{len(requests)} takedown requests for {args.platform} recorded in {args.db}"
          f"{f' and written to {args.output}' if args.output else ''}; DB head cited {head}",
          file=sys.stderr)
    return 0


def covered_listings(store: EvidenceStore, listings: list[dict[str, Any]],
                     latest: tuple[int, str] | None) -> tuple[list[dict[str, Any]], int]:
    """The listings as the head a request cites (the latest ended run's) covers them: a
    listing last seen by a run that never ended (killed, still running) is taken at its
    latest sighting that head covers, with that sighting's URL, seller, capture and verdict,
    or left out when it has none. So every piece of evidence a request cites is under the
    head it cites. Returns the rows and how many were taken earlier or left out."""
    if latest is None:
        return listings, 0
    (recorded,) = store.conn.execute("SELECT chain_heads FROM run_ends WHERE run_id = ?",
                                     [latest[0]]).fetchone()
    last = (json.loads(recorded).get("observations") or {}).get("id") or 0
    covered, moved = [], 0
    for row in listings:
        if row.get("observation_id") is not None and row["observation_id"] <= last:
            covered.append(row)
            continue
        moved += 1
        earlier = store.conn.execute(
            "SELECT o.id, o.url, o.seller_id, o.capture_sha256, f.flagged FROM observations o "
            "LEFT JOIN latest_flags f ON f.observation_id = o.id WHERE o.platform = ? "
            "AND o.listing_id = ? AND o.id <= ? ORDER BY o.id DESC LIMIT 1",
            [row["platform"], row["listing_id"], last]).fetchone()
        if earlier is not None:
            covered.append({**row, "observation_id": earlier[0], "url": earlier[1],
                            "seller_id": earlier[2], "capture_sha256": earlier[3],
                            "flagged": earlier[4]})
    return covered, moved


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
