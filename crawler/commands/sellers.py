"""``thriftwatch sellers --db PATH [--format table|jsonl|csv] [-o FILE] [--min-accounts N]
[--flagged-only]``: seller accounts grouped into networks (one operator behind several
accounts, across platforms), one network per line or row, largest first, each link with its
evidence (see :mod:`crawler.sellers.networks`). A DB that fails SQLite's integrity check or
whose schema was changed is refused (exit 2) before anything is written.

Contacts are personal data: they are written to the output asked for (a case output),
never logged."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from crawler.evidence.export import _csv_cell
from crawler.evidence.store import EvidenceStore
from crawler.normalise import printable
from crawler.sellers.networks import DEFAULT_IMAGE_DISTANCE, DEFAULT_IMAGE_MAX_ACCOUNTS
from crawler.sellers.stored import read_networks

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

    from crawler.sellers.networks import Network

FORMATS = ("table", "jsonl", "csv")
CSV_FIELDS = ("network_id", "accounts", "links", "platforms", "flagged_listings", "returning",
              "returning_evidence")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sellers", help="seller accounts grouped into networks by shared contacts and photos")
    parser.add_argument("--db", type=Path, required=True, help="evidence DB")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="a table to read (default), one JSON network per line, or CSV "
                             "(formula-safe; lists as JSON)")
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    parser.add_argument("--min-accounts", type=int, default=2, metavar="N",
                        help="only networks of at least N accounts (default 2; 1 lists every "
                             "account)")
    parser.add_argument("--flagged-only", action="store_true",
                        help="only networks with at least one flagged listing")
    add_linking_options(parser)
    parser.set_defaults(run=run)


def add_linking_options(parser: argparse.ArgumentParser) -> None:
    """The photo-linking options ``sellers``, ``takedown`` and ``report`` share."""
    parser.add_argument("--image-distance", type=int, default=DEFAULT_IMAGE_DISTANCE,
                        metavar="BITS",
                        help="photos whose pHashes differ in at most BITS bits link accounts "
                             f"(default {DEFAULT_IMAGE_DISTANCE}; THRIFTWATCH_IMAGE_DISTANCE)")
    parser.add_argument("--image-max-accounts", type=int, default=DEFAULT_IMAGE_MAX_ACCOUNTS,
                        metavar="N",
                        help="a photo on more than N unrelated accounts is a stock photo and "
                             f"links nobody (default {DEFAULT_IMAGE_MAX_ACCOUNTS}; "
                             "THRIFTWATCH_IMAGE_MAX_ACCOUNTS)")


def check_linking_options(args: argparse.Namespace) -> None:
    if args.image_distance < 0 or args.image_distance > 32:
        raise ValueError(f"--image-distance takes 0 to 32 bits, not {args.image_distance}")
    if args.image_max_accounts < 1:
        raise ValueError(f"--image-max-accounts takes 1 or more, not {args.image_max_accounts}")


def run(args: argparse.Namespace) -> int:
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    if args.min_accounts < 1:
        raise ValueError(f"--min-accounts takes 1 or more, not {args.min_accounts}")
    check_linking_options(args)
    store = EvidenceStore(args.db, check=True)
    try:
        networks = read_networks(store, image_distance=args.image_distance,
                                 image_max_accounts=args.image_max_accounts)
    finally:
        store.close()
    shown = [n for n in networks if len(n.accounts) >= args.min_accounts
             and (n.flagged_listings or not args.flagged_only)]
    if args.output is None:
        write_networks(shown, sys.stdout, args.format)
    else:
        with args.output.open("w", encoding="utf-8", newline="") as out:
            write_networks(shown, out, args.format)
        print(f"{len(shown)} networks written to {args.output} "
              f"({sum(n.returning for n in shown)} returning)", file=sys.stderr)
    return 0


def write_networks(networks: Iterable[Network], out: TextIO, fmt: str) -> int:
    """Write ``networks`` to ``out`` in ``fmt``; returns how many were written."""
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS)
        writer.writeheader()
    for network in networks:
        shown = network.as_dict()
        if fmt == "jsonl":
            out.write(json.dumps(shown, ensure_ascii=False) + "\n")
        elif fmt == "csv":
            writer.writerow({name: _csv_cell(shown[name]) for name in CSV_FIELDS})
        else:
            out.write(table(shown) + "\n")
        count += 1
    if fmt == "table" and not count:
        out.write("no networks: no two accounts share a contact or a photo\n")
    return count


def table(network: dict[str, Any]) -> str:
    """One network as lines to read in a terminal; seller text escaped (:func:`printable`)."""
    accounts = network["accounts"]
    head = (f"network {network['network_id']}: {len(accounts)} accounts on "
            f"{', '.join(network['platforms'])}; {network['flagged_listings']} flagged "
            f"listings{'; RETURNING' if network['returning'] else ''}")
    lines = [head]
    lines += [f"  {_text(a['platform'])}:{_text(a['seller_id'])}  \"{_text(a['seller_name'])}\"  "
              f"{a['listings']} listings, {a['flagged']} flagged, seen {_day(a['first_seen'])} "
              f"to {_day(a['last_seen'])}{_status(a['status'])}  {_text(a['url'])}"
              for a in accounts]
    for link in network["links"]:
        apart = f" (distance {link['distance']})" if "distance" in link else ""
        sides = ", ".join(f"{_text(e['account'])} listing {_text(e['listing_id'])} "
                          f"{_text(e['field'])} capture {_text(e['capture_sha256'])[:12]}"
                          for e in link["evidence"])
        lines.append(f"  {link['strength']} {link['kind']} {_text(link['value'])}{apart}: "
                     f"{sides}")
    lines += [f"  returning: {_text(proof['returned'])} first seen {_day(proof['first_seen'])}, "
              f"after {_text(proof['taken_down'])} was taken down "
              f"{_day(proof['taken_down_at'])}, through "
              f"{' + '.join(link['kind'] for link in proof['links'])}"
              for proof in network["returning_evidence"]]
    return "\n".join(lines)


def _text(value: Any) -> str:
    return "" if value is None else printable(str(value))


def _day(value: Any) -> str:
    return _text(value)[:10] if value else "?"


def _status(status: Any) -> str:
    return f", {status}" if status else ""
