"""``thriftwatch suggest-terms --db PATH [--top 20] [--json]``: words that flagged listings
use more than the others and the lexicon does not know yet.

``--accept TERM [--accept TERM...] --lexicon-file USER.toml`` appends the chosen terms to
the investigator's lexicon file (created if missing) as medium-strength terms marked
``search = true``, so the next crawl also searches for them.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.evidence.store import EvidenceStore
from crawler.flagging.lexicon import Lexicon, LexiconError, load_lexicon
from crawler.flagging.suggest import Suggestion, accepted_terms_toml, rank
from crawler.flagging.textnorm import fold

if TYPE_CHECKING:
    import argparse

_NEW_FILE_HEADER = """\
# thriftwatch user lexicon: extends the shipped one (thriftwatch crawl --lexicon FILE).
# Terms marked `search = true` were accepted with `thriftwatch suggest-terms --accept`
# and are also searched for by the next crawl.

"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "suggest-terms",
        help="rank words over-represented in flagged listings; accept some into a user lexicon",
    )
    parser.add_argument("--db", type=Path, required=True, help="evidence DB to learn from")
    parser.add_argument(
        "--top", type=int, default=20, help="how many suggestions to print (default: 20)"
    )
    parser.add_argument(
        "--min-listings",
        type=int,
        default=2,
        help="least number of flagged listings a term must occur in",
    )
    parser.add_argument("--json", action="store_true", help="print the suggestions as JSON")
    parser.add_argument(
        "--accept", action="append", metavar="TERM", help="add TERM to --lexicon-file (repeatable)"
    )
    parser.add_argument(
        "--lexicon-file",
        type=Path,
        help=(
            "the investigator's lexicon file: terms in it are not suggested; "
            "--accept writes to it"
        ),
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.accept and args.lexicon_file is None:
        raise ValueError("--accept needs --lexicon-file USER.toml to write the terms to")
    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    user_file = (
        args.lexicon_file if args.lexicon_file is not None and args.lexicon_file.exists() else None
    )
    lexicon = load_lexicon(extra=user_file)
    store = EvidenceStore(args.db)
    try:
        suggestions = rank(store.export_records(), lexicon, min_flagged=args.min_listings)
    finally:
        store.close()
    if args.accept:
        return accept(args.accept, args.lexicon_file, lexicon, suggestions, args.db)
    shown = suggestions[: args.top]
    if args.json:
        json.dump(
            {
                "db": str(args.db),
                "lexicon_version": lexicon.version,
                "suggestions": [s.as_dict() for s in shown],
            },
            sys.stdout,
            ensure_ascii=False,
            indent=2,
        )
        print()
        return 0
    if not shown:
        print(
            f"no suggestions: no term occurs in {args.min_listings}+ flagged listings "
            "that the lexicon does not already cover"
        )
    else:
        print(f"{'z-score':>8} {'flagged':>8} {'other':>6}  term / example titles")
    for suggestion in shown:
        print(
            f"{suggestion.z:>8.2f} {suggestion.flagged:>8} {suggestion.other:>6}  {suggestion.term}"
        )
        for title in suggestion.examples:
            print(f"{'':>26}  - {title}")
    return 0


def accept(
    terms: list[str], path: Path, lexicon: Lexicon, suggestions: list[Suggestion], db: Path
) -> int:
    """Append the new *terms* to the user lexicon at *path*; refuse to leave it unloadable."""
    known = {fold(word) for term in lexicon.terms for word in (term.term, *term.variants)}
    evidence = {suggestion.term: suggestion for suggestion in suggestions}
    new: list[str] = []
    for term in dict.fromkeys(term.strip() for term in terms):
        if fold(term) in known or fold(term) in map(fold, new):
            print(
                f"thriftwatch suggest-terms: {term!r} is already in the lexicon; not added",
                file=sys.stderr,
            )
        else:
            new.append(term)
    if not new:
        return 0
    meanings = {term: _meaning(evidence.get(fold(term)), db) for term in new}
    existing = path.read_text(encoding="utf-8") if path.exists() else _NEW_FILE_HEADER
    text = (
        existing
        + ("\n" if existing and not existing.endswith("\n\n") else "")
        + accepted_terms_toml(new, meanings)
    )
    draft = path.with_name(f".{path.name}.draft")
    draft.write_text(text, encoding="utf-8")
    try:
        load_lexicon(extra=draft)
    except LexiconError as error:
        draft.unlink()
        raise ValueError(
            f"{path} would not load with the accepted terms, nothing written: {error}"
        ) from error
    draft.replace(path)
    print(f"added to {path}: {', '.join(new)}", file=sys.stderr)
    return 0


def _meaning(suggestion: Suggestion | None, db: Path) -> str:
    where = f"accepted {date.today().isoformat()} from thriftwatch suggest-terms on {db.name}"
    if suggestion is None:
        return where
    return (
        f"{where} (z {suggestion.z:.1f}; in {suggestion.flagged} flagged, "
        f"{suggestion.other} other listings)"
    )
