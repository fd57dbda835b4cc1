"""``thriftwatch eval [FILE ...] [--lexicon FILE] [--mistakes] [--json]``: score the flagger
on labelled sets, each overall and by kind.

Without a file it scores the sets a clone of the project holds (tests/data): the labelled
set written with the lexicon, and six written independently of it (the first, third, fourth
and sixth were tuned on; the second and fifth never were: their figures are the honest ones).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from crawler.flagging.evaluate import Counts, Evaluation, evaluate, read_labelled
from crawler.flagging.lexicon import load_lexicon

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="precision, recall and F1 of the flagger on a labelled JSON Lines file",
    )
    parser.add_argument(
        "file", type=Path, nargs="*",
        help="labelled listings: flag input plus 'kind' and 'label' (true/false); "
             "default: the sets in the project's tests/data",
    )
    parser.add_argument(
        "--lexicon", type=Path, help="an investigator's lexicon file that extends the shipped one"
    )
    parser.add_argument(
        "--mistakes", action="store_true", help="also list every listing the flagger got wrong"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(run=run)


# The sets in a clone of the project, in the order they were written.
SHIPPED_SETS = tuple(Path(__file__).resolve().parents[2] / "tests/data" / name for name in (
    "labelled.jsonl", "independent.jsonl", "independent-2.jsonl", "independent-3.jsonl",
    "independent-4.jsonl", "independent-5.jsonl", "independent-6.jsonl", "independent-7.jsonl",
    "independent-8.jsonl", "independent-9.jsonl",
    "independent-10.jsonl", "independent-11.jsonl",
    "independent-12.jsonl"))


def run(args: argparse.Namespace) -> int:
    files = args.file or [path for path in SHIPPED_SETS if path.exists()]
    if not files:
        raise ValueError("name a labelled JSON Lines file (this installation holds no sets)")
    lexicon = load_lexicon(extra=args.lexicon)
    evaluations = {path: evaluate(read_set(path), lexicon) for path in files}
    if args.json:
        figures = [{"file": str(path), **evaluation.as_dict()}
                   for path, evaluation in evaluations.items()]
        # one file: its figures at the top level, as before several could be given
        body = figures[0] | {"file": str(files[0])} if len(files) == 1 else {"sets": figures}
        json.dump({"lexicon_version": lexicon.version, **body}, sys.stdout, indent=2)
        print()
    for path, evaluation in evaluations.items():
        if not args.json:
            print(f"{path}: lexicon {lexicon.version}, "
                  f"{evaluation.overall.total} labelled listings")
            write_table(evaluation, sys.stdout)
        if args.mistakes:
            write_mistakes(evaluation, sys.stdout)
    return 0


def read_set(path: Path) -> list[dict[str, object]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from error
    return read_labelled(text.splitlines(), str(path))


def write_table(evaluation: Evaluation, out: TextIO) -> None:
    """Overall precision/recall/F1; per kind recall (illegal kinds) or false-positive rate
    (legal kinds)."""
    out.write(
        f"{'':18} {'listings':>8} {'flagged':>8} {'precision':>9} {'recall':>7} {'F1':>6} "
        f"{'FP rate':>8}\n"
    )
    out.write(_row("overall", evaluation.overall, with_precision=True))
    # Within one kind every label is the same, so precision there says nothing.
    out.writelines(
        _row(kind, counts, with_precision=False) for kind, counts in evaluation.by_kind.items()
    )


def write_mistakes(evaluation: Evaluation, out: TextIO) -> None:
    for mistake in evaluation.mistakes:
        record, verdict = mistake.record, mistake.verdict
        wrong = "missed" if record["label"] else "false alarm"
        reasons = ", ".join(f"{r.rule}={r.matched!r}" for r in verdict.reasons)
        out.write(
            f"{wrong} [{record['kind']}] {verdict.score:.3f} {record.get('title', '')!r}: "
            f"{reasons}\n"
        )


def _row(name: str, counts: Counts, *, with_precision: bool) -> str:
    precision = counts.precision if with_precision else None
    f1 = counts.f1 if with_precision else None
    return (
        f"{name:18} {counts.total:>8} {counts.flagged:>8} {_figure(precision):>9} "
        f"{_figure(counts.recall):>7} {_figure(f1):>6} {_figure(counts.false_positive_rate):>8}\n"
    )


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
