"""Suggest lexicon terms: words and two-word phrases over-represented in flagged listings.

Candidates are the words and word pairs of each listing's folded title and description,
counted once per listing (keyword stuffing does not inflate them). They are ranked by
the z-score of the log-odds ratio between flagged and other listings with an informative
Dirichlet prior (Monroe, Colaresi & Quinn 2008, "Fightin' Words", eq. 16-22): the prior
of each candidate is its count over all listings, times ``prior_scale``, which shrinks
rare candidates toward no difference. Candidates the lexicon already covers are left out.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.flagging.textnorm import fold

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from crawler.flagging.lexicon import Lexicon

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Suggestion:
    """A candidate term, its z-score and in how many flagged / other listings it occurs."""

    term: str
    z: float
    flagged: int
    other: int
    examples: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "z": round(self.z, 3),
            "flagged": self.flagged,
            "other": self.other,
            "examples": list(self.examples),
        }


def candidates(text: str) -> set[str]:
    """Words and two-word phrases of the folded *text*; numbers and single letters are left out."""
    words = _WORD.findall(fold(text))
    kept = [word if len(word) > 1 and not word.isdigit() else None for word in words]
    found = {word for word in kept if word}
    found.update(
        f"{first} {second}"
        for first, second in itertools.pairwise(kept)
        if first and second
    )
    return found


def listing_candidates(listing: Mapping[str, Any]) -> set[str]:
    """Candidates of a listing's title and description (a phrase never spans the two)."""
    return candidates(str(listing.get("title") or "")) | candidates(
        str(listing.get("description") or "")
    )


def covered_by_lexicon(term: str, lexicon: Lexicon) -> bool:
    """Does every word of *term* fall inside a match of a lexicon term, signal, negative or
    context word?"""
    matchers = [
        *(entry.matcher for entry in lexicon.terms),
        *(
            entry.matcher
            for entry in lexicon.signals
            if set(entry.fields) & {"title", "description"}
        ),
        *(entry.matcher for entry in lexicon.negatives),
        *(group.matcher for group in lexicon.context),
    ]
    spans = [match.span() for matcher in matchers for match in matcher.finditer(term)]
    return all(
        any(start <= word.start() and word.end() <= end for start, end in spans)
        for word in _WORD.finditer(term)
    )


def rank(
    listings: Iterable[Mapping[str, Any]],
    lexicon: Lexicon,
    *,
    min_flagged: int = 2,
    prior_scale: float = 1.0,
    examples: int = 3,
) -> list[Suggestion]:
    """Every candidate found in at least *min_flagged* flagged listings and not covered by
    *lexicon*, most over-represented in flagged listings first."""
    in_flagged: Counter[str] = Counter()
    in_other: Counter[str] = Counter()
    titles: dict[str, list[str]] = {}
    for listing in listings:
        found = listing_candidates(listing)
        if listing.get("flagged"):
            in_flagged.update(found)
            for term in found:
                seen = titles.setdefault(term, [])
                title = str(listing.get("title") or "")
                if len(seen) < examples and title not in seen:
                    seen.append(title)
        else:
            in_other.update(found)
    flagged_total, other_total = sum(in_flagged.values()), sum(in_other.values())
    if not flagged_total or not other_total:
        return []  # over-represented against nothing: no listing to compare with
    prior_total = prior_scale * (flagged_total + other_total)
    scored = [
        (
            log_odds_z(
                count,
                in_other[term],
                flagged_total,
                other_total,
                prior_scale * (count + in_other[term]),
                prior_total,
            ),
            term,
        )
        for term, count in in_flagged.items()
        if count >= min_flagged
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [
        Suggestion(term, z, in_flagged[term], in_other[term], tuple(titles[term]))
        for z, term in scored
        if not covered_by_lexicon(term, lexicon)
    ]


def log_odds_z(  # noqa: PLR0917 - a formula's terms, passed positionally (tests/test_suggest.py)
    count_a: int, count_b: int, total_a: int, total_b: int, prior: float, prior_total: float
) -> float:
    """z-score of the log-odds ratio of a word in corpus a versus b, with Dirichlet prior
    *prior* for the word and *prior_total* over all words (Monroe et al. 2008, eq. 16, 20)."""
    delta = math.log((count_a + prior) / (total_a + prior_total - count_a - prior)) - math.log(
        (count_b + prior) / (total_b + prior_total - count_b - prior)
    )
    variance = 1 / (count_a + prior) + 1 / (count_b + prior)
    return delta / math.sqrt(variance)


def accepted_terms_toml(terms: Iterable[str], meanings: Mapping[str, str]) -> str:
    """``[[term]]`` entries for a user lexicon file: medium strength, and a search keyword."""
    default_meaning = "accepted from thriftwatch suggest-terms"
    entries = [
        (
            "[[term]]\n"
            f"term = {_toml_string(term)}\n"
            f"meaning = {_toml_string(meanings.get(term, default_meaning))}\n"
            'strength = "medium"\n'
            "weight = 0.45\n"
            "search = true\n"
        )
        for term in terms
    ]
    return "\n".join(entries)


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(text, ensure_ascii=False)
