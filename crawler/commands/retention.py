"""``thriftwatch retention --db PATH --contact-days N [--flagged-too] [--dry-run]``: erase the
text of contacts (phone numbers, handles, e-mails, shop links) kept longer than N days from
accounts that never had a flagged listing (with ``--flagged-too``: from every account, as
when a case is closed). Each erasure is recorded as chained evidence; every chain still
verifies, and accounts that shared an erased contact stay linked (through its digest).
See :mod:`crawler.evidence.retention`. Contacts are never printed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crawler.evidence.retention import cutoff, expired_contacts
from crawler.evidence.store import EvidenceStore

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "retention", help="erase contacts kept longer than their retention time "
                          "(personal data), recording the erasure as evidence")
    parser.add_argument("--db", type=Path, required=True, help="evidence DB")
    parser.add_argument("--contact-days", type=int, required=True, metavar="N",
                        help="erase the text of contacts first seen more than N days ago")
    parser.add_argument("--flagged-too", action="store_true",
                        help="also those of accounts with flagged listings (a closed case)")
    parser.add_argument("--dry-run", action="store_true",
                        help="only say how many contacts would be erased")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    before = cutoff(args.contact_days)
    store = EvidenceStore(args.db, check=True)
    try:
        ids = expired_contacts(store.conn, before, flagged_too=args.flagged_too)
        whose = "every account" if args.flagged_too else "accounts with no flagged listing"
        if args.dry_run:
            print(f"{len(ids)} contacts of {whose} seen before {before} would be erased")
            return 0
        erased = store.erase_contacts(
            ids, seen_before=before,
            reason=f"retention: contacts of {whose} kept over {args.contact_days} days")
        print(f"{erased} contacts of {whose} seen before {before} erased; the erasure is "
              f"recorded in {args.db}; DB head now {store.head()}")
    finally:
        store.close()
    return 0
