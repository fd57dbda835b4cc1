"""The ``thriftwatch`` command: crawl, demo, export and the replica marketplace."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from crawler.config import DEFAULT_DB, Config, ConfigError
from crawler.lexicon import LexiconError, load_lexicon
from crawler.run import LEVELS, CrawlSummary, available_platforms, project_settings, run_crawl
from crawler.store import EvidenceStore, StoreError

DEMO_MAX_PAGES = 5


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args)
    except (ConfigError, LexiconError, StoreError, ValueError) as error:
        print(f"thriftwatch: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (`| head`) has gone; say nothing more on a closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thriftwatch",
        description="Find online sellers of illegally imported second-hand clothing and keep "
                    "the evidence.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    crawl = commands.add_parser("crawl", help="search platforms and store what is found")
    crawl.add_argument("platforms", nargs="+", metavar="PLATFORM",
                       help="spider names (see `scrapy list`), or 'all'")
    crawl.add_argument("--keywords", help="comma-separated search terms (default: the shipped list)")
    _add_crawl_options(crawl)
    crawl.set_defaults(command=cmd_crawl)

    demo = commands.add_parser("demo", help="crawl every platform on the built-in replica")
    demo.add_argument("--db", type=Path, help="evidence DB (default: a new temporary file)")
    demo.add_argument("--max-pages", type=int, default=DEMO_MAX_PAGES)
    demo.add_argument("--log-level", default="WARNING")
    demo.set_defaults(command=cmd_demo)

    export = commands.add_parser("export", help="write listings from an evidence DB")
    export.add_argument("--db", type=Path, required=True)
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--flagged-only", action="store_true")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.set_defaults(command=cmd_export)

    replica = commands.add_parser("replica", help="run the replica marketplace on loopback")
    replica.add_argument("--port", type=int, default=8321)
    replica.add_argument("--host", default="127.0.0.1",
                         help="address to bind (default loopback; the replica is for local use)")
    replica.add_argument("--seed", type=int, default=2026, help="catalogue seed")
    replica.add_argument("--size", type=int, default=3000, help="catalogue size (offers)")
    replica.set_defaults(command=cmd_replica)
    return parser


def _add_crawl_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=Path(DEFAULT_DB), help="evidence DB path")
    parser.add_argument("--replica", metavar="URL",
                        help="send every request to this replica, e.g. http://127.0.0.1:8321")
    parser.add_argument("--max-pages", type=int, help="search pages per keyword")
    parser.add_argument("--lexicon", type=Path, help="lexicon file extending the shipped one")
    parser.add_argument("--operator", help="who runs this crawl (recorded with the run)")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="any Scrapy or thriftwatch setting")


def _crawl_settings(args: argparse.Namespace, replica: str | None) -> dict[str, object]:
    overrides: dict[str, object] = {"THRIFTWATCH_DB": str(args.db), "LOG_LEVEL": args.log_level}
    if replica:
        overrides["THRIFTWATCH_REPLICA"] = replica
    if args.max_pages is not None:
        overrides["THRIFTWATCH_MAX_PAGES"] = args.max_pages
    for name, value in (("THRIFTWATCH_LEXICON", getattr(args, "lexicon", None)),
                        ("THRIFTWATCH_OPERATOR", getattr(args, "operator", None))):
        if value:
            overrides[name] = str(value)
    for pair in getattr(args, "set", []):
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"-s takes NAME=VALUE, not {pair!r}")
        overrides[name] = value
    return overrides


def _checked_settings(overrides: dict[str, object]):
    """Settings with thriftwatch's config and lexicon checked before any crawl starts."""
    settings = project_settings(overrides)
    config = Config.from_settings(settings)
    load_lexicon(extra=config.lexicon_file)
    EvidenceStore(config.db_path).close()
    return settings


def cmd_crawl(args: argparse.Namespace) -> int:
    settings = _checked_settings(_crawl_settings(args, args.replica))
    known = available_platforms(settings)
    platforms = known if args.platforms == ["all"] else args.platforms
    unknown = [p for p in platforms if p not in known]
    if unknown:
        raise ValueError(f"unknown platform {', '.join(unknown)}; known: {', '.join(known)}")
    spider_args = {"keywords": args.keywords} if args.keywords else {}
    summary = run_crawl(platforms, settings, **spider_args)
    print_summary(summary, settings.get("THRIFTWATCH_DB"))
    return 0 if summary.ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from crawler.replica.server import ReplicaServer

    db = args.db or Path(tempfile.mkdtemp(prefix="thriftwatch-demo-")) / "demo.db"
    args.db, args.set = db, []
    with ReplicaServer() as replica:
        print(f"replica marketplace on {replica.url}")
        settings = _checked_settings(_crawl_settings(args, replica.url))
        # The replica is local: no politeness delays needed against it.
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        summary = run_crawl(available_platforms(settings), settings)
    print_summary(summary, str(db))
    print(f"export it:  thriftwatch export --db {db} --format csv -o listings.csv")
    return 0 if summary.ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    from crawler.export import write_records

    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    store = EvidenceStore(args.db)
    try:
        records = store.export_records(flagged_only=args.flagged_only)
        if args.output:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                count = write_records(records, out, args.format)
            print(f"{count} listings written to {args.output}", file=sys.stderr)
        else:
            write_records(records, sys.stdout, args.format)
    finally:
        store.close()
    return 0


def cmd_replica(args: argparse.Namespace) -> int:
    from crawler.replica.server import serve_forever

    print(f"replica marketplace on http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    serve_forever(args.port, args.host, args.seed, args.size)
    return 0


def print_summary(summary: CrawlSummary, db: str) -> None:
    print(f"{'platform':<12} {'pages':>6} {'listings':>9} "
          + " ".join(f"{level:>7}" for level in LEVELS) + f" {'errors':>7}  finish")
    for p in summary.platforms:
        print(f"{p.platform:<12} {p.pages:>6} {p.listings:>9} "
              + " ".join(f"{p.levels[level]:>7}" for level in LEVELS)
              + f" {p.errors:>7}  {p.finish_reason}")
    print(f"{summary.total('pages')} pages, {summary.total('listings')} listings "
          f"({summary.total('flagged')} flagged) "
          f"in {summary.elapsed:.1f}s")
    print(f"evidence DB: {db}")


if __name__ == "__main__":
    sys.exit(main())
