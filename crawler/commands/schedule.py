"""``thriftwatch schedule --cron --every 6h [PLATFORM...]``: crontab lines for recurring crawls."""

from __future__ import annotations

import shlex
import sys
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.commands.monitor import add_monitor_options, state_db
from crawler.ops.scheduler import parse_every
from crawler.ops.scrapyd import has_credentials

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schedule", help="print crontab lines that run `thriftwatch monitor --once` on a schedule")
    parser.add_argument("platforms", nargs="*", metavar="PLATFORM",
                        help="spider names (default: every search platform)")
    parser.add_argument("--cron", action="store_true", required=True,
                        help="print crontab lines (the only output there is, for now)")
    parser.add_argument("--log", type=Path, default=Path("var/monitor.log"),
                        help="file the cron runs append their output to")
    add_monitor_options(parser)
    parser.set_defaults(run=run)


def cron_times(seconds: int) -> str:
    """The crontab time fields for "every ``seconds``", which must divide an hour or a day."""
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds % 60 or not minutes:
        raise ValueError("cron counts in whole minutes: --every must be 1m or more, in minutes")
    if minutes < 60 and 60 % minutes == 0:
        return f"*/{minutes} * * * *" if minutes > 1 else "* * * * *"
    if seconds % 3600 == 0 and hours < 24 and 24 % hours == 0:
        return f"0 */{hours} * * *" if hours > 1 else "0 * * * *"
    if seconds % 86400 == 0 and days <= 31:
        return f"0 0 */{days} * *" if days > 1 else "0 0 * * *"
    raise ValueError(f"cron cannot repeat every {seconds}s evenly: use a divisor of an hour "
                     "(1m-30m), of a day (1h-12h), or whole days; or run `thriftwatch monitor`")


def monitor_command(args: argparse.Namespace) -> list[str]:
    """The ``thriftwatch monitor --once`` command line a cron entry runs."""
    command = [str(Path(sys.argv[0]).resolve()) if Path(sys.argv[0]).name == "thriftwatch"
               else "thriftwatch", "monitor", "--once", "--every", args.every,
               "--db", str(args.db if args.scrapyd else args.db.resolve())]
    for server in args.scrapyd:
        if has_credentials(server):
            raise ValueError("a cron line would keep the password of --scrapyd in the crontab: "
                             "put it in a scrapy.cfg [deploy:NAME] (username, password) and "
                             "give --scrapyd NAME, or set THRIFTWATCH_SCRAPYD_USERNAME and "
                             "THRIFTWATCH_SCRAPYD_PASSWORD in the cron environment")
        command += ["--scrapyd", server]
    if args.frontier and urllib.parse.urlsplit(args.frontier).password:
        raise ValueError("a cron line would keep the Redis password of --frontier in the "
                         "crontab: give the password in the cron environment instead "
                         "(docs/operations.md, shared frontier)")
    for option in ("keywords", "replica", "max_pages", "lexicon", "state_db", "round_timeout",
                   "frontier", "merge_into"):
        value = getattr(args, option)
        if value is not None:
            value = value.resolve() if isinstance(value, Path) else value
            command += [f"--{option.replace('_', '-')}", str(value)]
    for pair in args.set:
        command += ["-s", pair]
    return command + list(args.platforms)


def run(args: argparse.Namespace) -> int:
    times = cron_times(parse_every(args.every))
    lock = state_db(args).resolve().with_suffix(".monitor.lock")
    line = (f"{times} cd {shlex.quote(str(Path.cwd()))} && flock -n {shlex.quote(str(lock))} "
            f"{shlex.join(monitor_command(args))} >> {shlex.quote(str(args.log.resolve()))} 2>&1")
    print(f"# thriftwatch: crawl every {args.every}; install with `crontab -e` (or "
          "`thriftwatch schedule --cron ... | crontab -`, which replaces your crontab)")
    print(line)
    return 0
