"""``thriftwatch verify --db PATH [--head HEAD ...] [--tsa-ca FILE] [--timestamps DIR]
[--require-timestamps] | --bundle FILE``: prove evidence is as it was written. For a DB the
last line is ``head <64 hex>``: write it down outside the machine, and ``--head`` later
proves the DB still holds it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.evidence.timestamping import load_certificates
from crawler.evidence.verify import load_token_files, verify_db

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
    parser.add_argument("--timestamps", type=Path, metavar="DIR",
                        help="RFC 3161 tokens kept outside the DB (DIR/*.tsr, e.g. from "
                             "`export --format timestamps`): each must cover a head in the "
                             "DB's history")
    parser.add_argument("--require-timestamps", action="store_true",
                        help="fail unless every ended run has an RFC 3161 token (in the DB or "
                             "in --timestamps DIR) whose signature chains to --tsa-ca")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.bundle is not None:
        return _verify_bundle(args.bundle, args.key)
    if args.key is not None:
        raise ValueError("--key checks a bundle's signature: use it with --bundle")
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    if args.require_timestamps and args.tsa_ca is None:
        raise ValueError("--require-timestamps needs --tsa-ca: a token whose signature is "
                         "not checked proves nothing")
    roots = load_certificates(args.tsa_ca) if args.tsa_ca else ()
    tokens = load_token_files(args.timestamps) if args.timestamps else ()
    result = verify_db(args.db, heads=args.head, tsa_roots=roots, tokens=tokens,
                       require_timestamps=args.require_timestamps)
    counts = ", ".join(f"{table} {count}" for table, count in result.rows.items())
    code = _report(f"SQLite's integrity check, the schema (version {result.schema_version}), "
                   f"every chain, value type, capture digest and derived table check out "
                   f"({counts})", result.problems)
    runs = len(result.run_heads)
    signed = "signature checked" if roots else "signature not checked: give --tsa-ca"
    print(f"anchors: {len(result.anchored)} of {runs} ended runs have an RFC 3161 token"
          + (f" ({signed})" if result.anchored else ""))
    for run_id in sorted(result.run_heads):
        anchor = result.anchors.get(run_id)
        if anchor is None:
            if result.anchors or args.require_timestamps:
                print(f"  run {run_id}: no token")
            continue
        where = "in the DB" if anchor.source == "the DB" else f"from {anchor.source}"
        after = "" if anchor.lag is None else (
            f"; latest capture it covers {anchor.latest_capture}, token "
            + (f"{_duration(anchor.lag)} after it" if anchor.lag >= 0 else
               f"{_duration(anchor.lag)} before it (within the tolerance for the clocks and "
               "a token's whole seconds)"))
        print(f"  run {run_id}: token genTime {anchor.gen_time} ({where}){after}")
    if not args.require_timestamps and runs and len(result.anchored) < runs:
        print("  (a missing token fails only with --require-timestamps; tokens and heads "
              "kept outside the DB: --timestamps DIR, --head)")
    for note in result.notes:
        print(f"  note: {note}")
    if args.head and not result.problems:
        print(f"history: holds every head given ({len(args.head)})")
    print(f"head {result.head}")
    return code


def _duration(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


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
