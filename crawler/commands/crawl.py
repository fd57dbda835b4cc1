"""``thriftwatch crawl PLATFORM... --keywords K1,K2 --db PATH [--replica URL] [--max-pages N]``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crawler.config import DEFAULT_DB, Config
from crawler.evidence.store import EvidenceStore
from crawler.flagging.lexicon import load_lexicon
from crawler.runtime.process import (
    LEVELS,
    CrawlSummary,
    available_platforms,
    project_settings,
    run_crawl,
)

if TYPE_CHECKING:
    import argparse

    from scrapy.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("crawl", help="search platforms and store what is found")
    parser.add_argument("platforms", nargs="+", metavar="PLATFORM",
                        help="spider names (see `scrapy list`), or 'all'")
    parser.add_argument("--keywords",
                        help="comma-separated search terms (default: the shipped list)")
    parser.add_argument("--resume", type=Path, metavar="DIR",
                        help="keep crawl state in DIR; run again with the same DIR after a "
                             "crash or kill to finish the same runs without duplicates")
    add_crawl_options(parser)
    parser.set_defaults(run=run)


def add_crawl_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=Path(DEFAULT_DB), help="evidence DB path")
    parser.add_argument("--replica", metavar="URL",
                        help="send every request to this replica, e.g. http://127.0.0.1:8321")
    parser.add_argument("--max-pages", type=int, help="search pages per keyword")
    parser.add_argument("--lexicon", type=Path, help="lexicon file extending the shipped one")
    parser.add_argument("--operator", help="who runs this crawl (recorded with the run)")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="any Scrapy or thriftwatch setting")


def crawl_settings(args: argparse.Namespace, replica: str | None) -> Settings:
    """Settings from the command line, with config and lexicon checked before any crawl."""
    overrides: dict[str, object] = {"THRIFTWATCH_DB": str(args.db), "LOG_LEVEL": args.log_level}
    if replica:
        overrides["THRIFTWATCH_REPLICA"] = replica
    if args.max_pages is not None:
        overrides["THRIFTWATCH_MAX_PAGES"] = args.max_pages
    if args.lexicon:
        overrides["THRIFTWATCH_LEXICON"] = str(args.lexicon)
    if args.operator:
        overrides["THRIFTWATCH_OPERATOR"] = args.operator
    for pair in args.set:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"-s takes NAME=VALUE, not {pair!r}")
        overrides[name] = value
    settings = project_settings(overrides)
    config = Config.from_settings(settings)
    load_lexicon(extra=config.flagging.lexicon_file)
    EvidenceStore(config.store.db_path).close()
    return settings


def run(args: argparse.Namespace) -> int:
    if args.resume:
        args.set = [*args.set, f"THRIFTWATCH_RESUME_DIR={args.resume}"]
    settings = crawl_settings(args, args.replica)
    known = available_platforms(settings)
    platforms = known if args.platforms == ["all"] else args.platforms
    unknown = [p for p in platforms if p not in known]
    if unknown:
        raise ValueError(f"unknown platform {', '.join(unknown)}; known: {', '.join(known)}")
    spider_args = {"keywords": args.keywords} if args.keywords else {}
    summary = run_crawl(platforms, settings, **spider_args)
    print_summary(summary, str(Config.from_settings(settings).store.db_path))
    return 0 if summary.ok else 1


def print_summary(summary: CrawlSummary, db: str) -> None:
    print(f"{'platform':<12} {'pages':>6} {'listings':>9} "
          + " ".join(f"{level:>7}" for level in LEVELS)
          + f" {'blocks':>7} {'errors':>7}  finish")
    for p in summary.platforms:
        print(f"{p.platform:<12} {p.pages:>6} {p.listings:>9} "
              + " ".join(f"{p.levels[level]:>7}" for level in LEVELS)
              + f" {p.blocks:>7} {p.errors:>7}  {p.finish_reason}")
    print(f"{summary.total('pages')} pages, {summary.total('listings')} listings "
          f"({summary.total('flagged')} flagged) in {summary.elapsed:.1f}s")
    print(f"evidence DB: {db}")
    if Path(db).exists():
        store = EvidenceStore(db)
        try:
            head = store.head()
        finally:
            store.close()
        print(f"head {head}  (keep it outside this machine; `thriftwatch verify --db {db} "
              f"--head {head}` proves the DB still holds it)")
