"""``thriftwatch compile [--into DIR] [--status]``: compile the flagger's hot modules with mypyc."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crawler.flagging.compiled import HOT_MODULES, build, in_use

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compile",
        help="compile the flagger's hot modules with mypyc, for speed (same verdicts)",
    )
    parser.add_argument(
        "--into", type=Path, help="build folder (default: crawler/flagging/_compiled)"
    )
    parser.add_argument(
        "--status", action="store_true", help="only say whether the flagger runs compiled"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.status:
        print("the flagger runs compiled" if in_use() else "the flagger runs as plain Python")
        return 0
    try:
        folder = build(args.into)
    except (OSError, RuntimeError) as error:
        raise ValueError(str(error)) from error
    print(
        f"compiled {', '.join(HOT_MODULES)} into {folder}; used from the next start, "
        "until their source changes (THRIFTWATCH_PURE=1 leaves them unused)"
    )
    return 0
