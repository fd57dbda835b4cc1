"""``thriftwatch export --db PATH --format jsonl|csv|warc|bundle|timestamps [filters]
[-o FILE]``. A DB that fails SQLite's integrity check or whose schema was changed is refused
(exit 2) before anything is written."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.evidence.export import write_records, write_timestamps
from crawler.evidence.store import EvidenceStore

LEVELS = ("strong", "medium", "weak", "none")
_RELATIVE = re.compile(r"^(\d+)([dhw])$")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="write listings or evidence from an evidence DB")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--format", choices=("jsonl", "csv", "warc", "bundle", "timestamps"),
                        default="jsonl",
                        help="listings as jsonl/csv, their captures as WARC 1.1, a case "
                             "bundle (zip: listings.csv, WARC, screenshots, manifest), or "
                             "each run's RFC 3161 token into folder -o DIR (run-N.tsr and "
                             "run-N.head) to keep outside the DB")
    parser.add_argument("--flagged-only", action="store_true")
    parser.add_argument("--platform", help="only this platform")
    parser.add_argument("--since", type=parse_since,
                        help="last seen since: an ISO date/time (UTC) or 7d, 24h, 2w")
    parser.add_argument("--level", choices=LEVELS, help="only this verdict level")
    parser.add_argument("-o", "--output", type=Path,
                        help="file to write (default: stdout; required for warc and bundle; "
                             "the folder for timestamps)")
    parser.add_argument("--sign", type=Path, metavar="KEYFILE",
                        help="bundle only: sign the manifest with this Ed25519 key "
                             "(see `thriftwatch keygen`)")
    parser.set_defaults(run=run)


def parse_since(value: str) -> str:
    """``7d`` / ``24h`` / ``2w`` before now, or an ISO date or time, as an ISO UTC time."""
    relative = _RELATIVE.match(value.strip())
    if relative:
        unit = {"d": "days", "h": "hours", "w": "weeks"}[relative[2]]
        moment = datetime.now(UTC) - timedelta(**{unit: int(relative[1])})
    else:
        try:
            # The replace also accepts a date-only "2026-01-02Z", which fromisoformat refuses.
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))  # noqa: FURB162
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--since takes an ISO date or time, or 7d/24h/2w, not {value!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run(args: argparse.Namespace) -> int:
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    if args.format in ("warc", "bundle", "timestamps") and args.output is None:
        raise ValueError(f"--format {args.format} writes a file: give -o FILE")
    if args.sign is not None and args.format != "bundle":
        raise ValueError("--sign signs a bundle: use it with --format bundle")
    filters = {"flagged_only": args.flagged_only, "platform": args.platform,
               "since": args.since, "level": args.level}
    store = EvidenceStore(args.db, check=True)
    try:
        if args.format == "timestamps":
            count = write_timestamps(store, args.output)
            print(f"{count} RFC 3161 tokens written to {args.output}/ (run-N.tsr, run-N.head); "
                  f"keep them where the DB's holder cannot reach: `verify --timestamps "
                  f"{args.output}` checks the DB against them", file=sys.stderr)
        elif args.format == "bundle":
            from crawler.evidence.bundle import write_bundle
            from crawler.evidence.signing import load_private

            signer = load_private(args.sign) if args.sign else None
            digest = write_bundle(store, args.output, filters, signer=signer)
            print(f"bundle written to {args.output}; manifest SHA-256 {digest}"
                  f"{'; signed' if signer else ''}; DB head {store.head()}", file=sys.stderr)
        elif args.format == "warc":
            from crawler.evidence.warc import write_warc

            capture_ids = store.evidence_of(store.export_records(**filters)) \
                if any(filters.values()) else None
            with args.output.open("wb") as out:
                count = write_warc(store, out, args.output.name, capture_ids)
            print(f"{count} WARC records written to {args.output}", file=sys.stderr)
        elif args.output is None:
            write_records(store.export_records(**filters), sys.stdout, args.format)
        else:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                count = write_records(store.export_records(**filters), out, args.format)
            print(f"{count} listings written to {args.output}", file=sys.stderr)
    finally:
        store.close()
    return 0
