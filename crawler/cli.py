"""The ``thriftwatch`` command. Each subcommand lives in its own module in ``crawler.commands``."""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING

from crawler.config import ConfigError
from crawler.evidence.store import StoreError
from crawler.flagging.lexicon import LexiconError

if TYPE_CHECKING:
    from collections.abc import Sequence

# Subcommands in the order ``thriftwatch --help`` lists them.
COMMANDS = (
    "crawl", "demo", "export", "verify", "recheck", "sellers", "takedown", "retention", "flag",
    "eval", "suggest_terms", "serve", "monitor", "schedule", "report", "replica", "compile",
    "keygen", "merge", "reflag",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="thriftwatch",
        description="Find online sellers of illegally imported second-hand clothing and keep "
                    "the evidence.",
    )
    subparsers = parser.add_subparsers(required=True, metavar="COMMAND")
    for name in COMMANDS:
        import_module(f"crawler.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ConfigError, LexiconError, StoreError, ValueError) as error:
        print(f"thriftwatch: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (`| head`) has gone; say nothing more on a closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
