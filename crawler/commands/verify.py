"""``thriftwatch verify --db PATH [--head HEAD ...] [--tsa-ca FILE] | --bundle FILE``: prove
evidence is as it was written. For a DB the last line is ``head <64 hex>``: write it down
outside the machine, and ``--head`` later proves the DB still holds it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.evidence.timestamping import load_certificates
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
    parser.add_argument("--head", action="append", default=[], metavar="HEAD",
                        help="a head written down earlier (HEAD or RUN:HEAD); the DB must hold "
                             "it in its history (repeatable)")
    parser.add_argument("--key", type=Path, metavar="PUBFILE",
                        help="bundle only: the maker's Ed25519 public key; the bundle must be "
                             "signed with it")
    parser.add_argument("--tsa-ca", type=Path, metavar="FILE",
                        help="the TSA's CA certificate(s), PEM: RFC 3161 tokens must chain to it")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.bundle is not None:
        return _verify_bundle(args.bundle, args.key)
    if args.key is not None:
        raise ValueError("--key checks a bundle's signature: use it with --bundle")
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    roots = load_certificates(args.tsa_ca) if args.tsa_ca else ()
    result = verify_db(args.db, heads=args.head, tsa_roots=roots)
    counts = ", ".join(f"{table} {count}" for table, count in result.rows.items())
    code = _report(f"every chain, capture digest and derived table checks out ({counts})",
                   result.problems)
    runs = len(result.run_heads)
    signed = "signature checked" if roots else "signature not checked: give --tsa-ca"
    print(f"anchors: {len(result.anchored)} of {runs} ended runs have an RFC 3161 token"
          + (f" ({signed})" if result.anchored else ""))
    for note in result.notes:
        print(f"  note: {note}")
    if args.head and not result.problems:
        print(f"history: holds every head given ({len(args.head)})")
    print(f"head {result.head}")
    return code


def _verify_bundle(path: Path, key_file: Path | None) -> int:
    from crawler.evidence.bundle import verify_bundle
    from crawler.evidence.signing import load_public

    if not path.exists():
        raise ValueError(f"no bundle at {path}")
    check = verify_bundle(path, load_public(key_file) if key_file else None)
    code = _report(f"{check.files} files match the manifest (SHA-256 {check.manifest_sha256}); "
                   f"{check.signed}", check.problems)
    if check.db_head:
        print(f"db head {check.db_head} (`verify --db DB --head` ties the bundle to its DB)")
    return code


def _report(ok_message: str, problems: list[str]) -> int:
    """OK and 0, or the first problem (then up to 19 more) on stderr and 1."""
    if not problems:
        print(f"OK: {ok_message}")
        return 0
    print(f"BROKEN: {problems[0]}", file=sys.stderr)
    for problem in problems[1:20]:
        print(f"  also: {problem}", file=sys.stderr)
    return 1
