"""``thriftwatch monitor --every 6h [PLATFORM...] [--scrapyd URL ...]``: crawl again and again."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.commands.crawl import crawl_settings
from crawler.config import DEFAULT_DB
from crawler.ops.scheduler import (
    Monitor,
    MonitorState,
    Plan,
    monitor_keywords,
    parse_every,
    search_platforms,
    status_lines,
)
from crawler.ops.scrapyd import resolve_servers

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "monitor", help="crawl the platforms every interval, here or on scrapyd servers")
    parser.add_argument("platforms", nargs="*", metavar="PLATFORM",
                        help="spider names (default: every search platform)")
    add_monitor_options(parser)
    parser.add_argument("--rounds", type=int, help="stop after this many rounds (default: never)")
    parser.add_argument("--once", dest="rounds", action="store_const", const=1,
                        help="one round, then stop (what a cron line runs)")
    parser.add_argument("--status", action="store_true",
                        help="print the last round, its jobs and when the next is due; "
                             "crawl nothing")
    parser.set_defaults(run=run)


def add_monitor_options(parser: argparse.ArgumentParser) -> None:
    """Options ``monitor`` and ``schedule`` share."""
    parser.add_argument("--every", default="6h", help="time between rounds: 90s, 30m, 6h, 1d")
    parser.add_argument("--db", type=Path, default=Path(DEFAULT_DB),
                        help="evidence DB (with --scrapyd: its path on the scrapyd hosts)")
    parser.add_argument("--scrapyd", action="append", default=[], metavar="URL_OR_TARGET",
                        help="a scrapyd server to run the crawls on: its URL, or a "
                             "[deploy:NAME] of scrapy.cfg with its username and password "
                             "(repeatable: jobs are spread over them, and retried on the next "
                             "when one is down)")
    parser.add_argument("--keywords", help="comma-separated search terms (default: the shipped "
                                           "terms and those accepted into --lexicon)")
    parser.add_argument("--replica", metavar="URL", help="crawl this replica, not the real sites")
    parser.add_argument("--max-pages", type=int, help="search pages per keyword")
    parser.add_argument("--lexicon", type=Path, help="lexicon file extending the shipped one")
    parser.add_argument("--state-db", type=Path,
                        help="where the monitor keeps its rounds (default: --db)")
    parser.add_argument("--round-timeout", metavar="DURATION",
                        help="give up on a round's unfinished crawls after this (default: --every)")
    parser.add_argument("--frontier", metavar="REDIS_URL",
                        help="share each platform's crawl over every --scrapyd server through "
                             "this Redis (redis://[:PASSWORD@]HOST:PORT/DB): one job per "
                             "platform per server, each writing its node's DB (--db with "
                             "{node} in it, else NAME-NODE.db)")
    parser.add_argument("--merge-into", type=Path, metavar="CASE_DB",
                        help="after each round, thriftwatch merge the node DBs reachable here "
                             "(a shared path, or copied back) into this case DB")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="any Scrapy or thriftwatch setting for the crawls")


def build_plan(args: argparse.Namespace) -> Plan:
    """The plan from the command line, checked as a crawl would check it."""
    known = search_platforms()
    unknown = [p for p in args.platforms if p not in known]
    if unknown:
        raise ValueError(f"unknown platform {', '.join(unknown)}; known: {', '.join(known)}")
    if not args.scrapyd:  # crawls run here: check DB, lexicon and settings now, not in a round
        args.operator, args.log_level = None, "INFO"
        crawl_settings(args, args.replica)
    if args.frontier and not args.scrapyd:
        raise ValueError("--frontier shares a crawl over scrapyd servers: name them with "
                         "--scrapyd")
    extra = dict(pair.partition("=")[::2] for pair in args.set)
    keywords = ([k.strip() for k in args.keywords.split(",") if k.strip()] if args.keywords
                else monitor_keywords(args.lexicon))
    return Plan(
        platforms=tuple(args.platforms or known), keywords=tuple(keywords),
        db=str(args.db if args.scrapyd else args.db.resolve()), every=parse_every(args.every),
        servers=resolve_servers(args.scrapyd), max_pages=args.max_pages, replica=args.replica,
        lexicon=str(args.lexicon) if args.lexicon else None, settings=extra,
        round_timeout=parse_every(args.round_timeout) if args.round_timeout else None,
        frontier=args.frontier,
        merge_into=str(args.merge_into.resolve()) if args.merge_into else None,
    )


def state_db(args: argparse.Namespace) -> Path:
    """Where the monitor keeps its rounds: --state-db, else --db (its ``{node}`` read as
    ``monitor`` when each node writes its own DB)."""
    return args.state_db or Path(str(args.db).replace("{node}", "monitor"))


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [monitor] %(message)s")
    state = MonitorState(state_db(args))
    try:
        if args.status:
            print("\n".join(status_lines(state, parse_every(args.every))))
            return 0
        Monitor(build_plan(args), state).run(args.rounds)
        last = state.last_round()
        return 0 if last is None or last["status"] == "finished" else 1
    finally:
        state.close()
