"""Decide whether a listing looks like a sale of imported used clothing, and say why.

:func:`flag` is pure: a record and a :class:`~crawler.lexicon.Lexicon` in, a
:class:`Verdict` out. Positive evidence (terms, signals, combinations of them) combines as
``1 - prod(1 - weight)``; matched legal look-alikes (negatives) are subtracted; without
a clothing, footwear or textile word the score is scaled below the flag threshold.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import OSA

from crawler.lexicon import RECORD_FIELDS, Lexicon, Term
from crawler.textnorm import fold

_WORD = re.compile(r"[^\W_]+")
_TERM_FIELDS = ("title", "description", "category")


@dataclass(frozen=True)
class Reason:
    """One piece of evidence: the rule, the (folded) text it matched, and its weight."""

    rule: str
    matched: str
    weight: float


@dataclass(frozen=True)
class Verdict:
    """The decision on one listing: flagged when the level is "strong" or "medium"."""

    flagged: bool
    score: float
    level: str
    reasons: tuple[Reason, ...]
    lexicon_version: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able form, for items and evidence reports."""
        return {
            "flagged": self.flagged,
            "score": self.score,
            "level": self.level,
            "reasons": [{"rule": r.rule, "matched": r.matched, "weight": r.weight} for r in self.reasons],
            "lexicon_version": self.lexicon_version,
        }


def _texts(record: Mapping[str, Any]) -> dict[str, str]:
    """Folded text of each record field the lexicon looks at."""
    return {name: fold(str(record[name])) if record.get(name) is not None else "" for name in RECORD_FIELDS}


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _apply_negatives(texts: dict[str, str], lexicon: Lexicon) -> tuple[dict[str, str], list[Reason]]:
    """Match legal look-alikes; blank out the text of masking rules in every field."""
    masked, reasons = dict(texts), []
    if not any(lexicon.prefilter.any_negative.search(text) for text in texts.values() if text):
        return masked, reasons
    for negative in lexicon.negatives:
        matched = [found.group() for name in negative.fields if (found := negative.matcher.search(masked[name]))]
        if not matched:
            continue
        reasons.append(Reason(f"negative:{negative.rule}", matched[0], -negative.weight or 0.0))
        if negative.mask:
            for name in negative.fields:
                masked[name] = negative.matcher.sub(_blank, masked[name])
    return masked, reasons


def _term_matches(texts: dict[str, str], lexicon: Lexicon) -> list[tuple[str, re.Match[str], Term]]:
    """Every term match, longest first, so "bal segel" wins over the "bal" inside it."""
    candidates = _candidate_terms(texts, lexicon)
    matches = [
        (name, match, term)
        for index, term in enumerate(lexicon.terms)
        if index in candidates
        for name in _TERM_FIELDS
        for match in term.matcher.finditer(texts[name])
    ]
    return sorted(matches, key=lambda found: found[1].start() - found[1].end())


def _candidate_terms(texts: dict[str, str], lexicon: Lexicon) -> set[int]:
    """Indexes of the terms whose first word begins a word somewhere in the text."""
    prefilter, candidates = lexicon.prefilter, set()
    for name in _TERM_FIELDS:
        text = texts[name]
        for start in prefilter.term_starts.finditer(text):
            word = _WORD.match(text, start.start()).group()
            for first, indexes in prefilter.first_words.items():
                if word.startswith(first):
                    candidates.update(indexes)
    return candidates


def _near_context(text: str, match: re.Match[str], lexicon: Lexicon) -> bool:
    """Is a context word within ``context_window`` words of *match*?"""
    window = lexicon.scoring.context_window
    before = _WORD.findall(text[: match.start()])[-window:] if window else []
    after = _WORD.findall(text[match.end() :])[:window]
    nearby = " ".join([*before, match.group(), *after])
    return any(group.matcher.search(nearby) for group in lexicon.context)


def _fuzzy_term(texts: dict[str, str], lexicon: Lexicon, found: set[str]) -> Iterator[tuple[Term, str]]:
    """Typos of strong, unambiguous terms ("ballpers", "blapres"), guarded against ordinary words."""
    fuzzy, lengths, seen = lexicon.fuzzy, lexicon.prefilter.fuzzy_lengths, set()
    for name in ("title", "description"):
        for token in _WORD.findall(texts[name]):
            # A repeated token gives the same answer; a token too long or too short for
            # any form cannot be within the allowed edits.
            if token in seen or len(token) not in lengths:
                continue
            seen.add(token)
            if len(token) < fuzzy.min_length or token in fuzzy.ordinary_words:
                continue
            limit = fuzzy.long_max_distance if len(token) >= fuzzy.long_length else fuzzy.max_distance
            for form, term in lexicon.fuzzy_forms:
                if term.term not in found and OSA.distance(token, form, score_cutoff=limit) <= limit:
                    found.add(term.term)
                    yield term, token


def _term_reasons(texts: dict[str, str], matches: list[tuple[str, re.Match[str], Term]], lexicon: Lexicon, corroborated: bool) -> list[Reason]:
    """One reason per matched term; overlapping matches count once, for the longest term.

    A term with ``needs_clothing_context`` counts only when *corroborated* and a clothing
    word stands near it.
    """
    reasons: dict[str, Reason] = {}
    taken: dict[str, list[tuple[int, int]]] = {name: [] for name in texts}
    for name, match, term in matches:
        if any(match.start() < end and start < match.end() for start, end in taken[name]):
            continue
        if term.needs_clothing_context and not (corroborated and _near_context(texts[name], match, lexicon)):
            continue
        taken[name].append(match.span())
        reasons.setdefault(term.term, Reason(f"term:{term.term}", match.group(), term.weight))
    for term, token in _fuzzy_term(texts, lexicon, set(reasons)):
        reasons[term.term] = Reason(f"term:{term.term}", token, round(term.weight * lexicon.fuzzy.weight_factor, 3))
    return [reasons[term.term] for term in lexicon.terms if term.term in reasons]


def _signal_reasons(texts: dict[str, str], record: Mapping[str, Any], lexicon: Lexicon) -> list[Reason]:
    """The heaviest match of each signal kind, plus what the platform states."""
    best: dict[str, Reason] = {}

    def offer(reason: Reason) -> None:
        if reason.rule not in best or reason.weight > best[reason.rule].weight:
            best[reason.rule] = reason

    with_signals = {name for name, text in texts.items() if text and lexicon.prefilter.any_signal.search(text)}
    for signal in lexicon.signals:
        for name in signal.fields:
            if name not in with_signals:
                continue
            match = signal.matcher.search(texts[name])
            if match is not None:
                offer(Reason(f"signal:{signal.kind}", match.group(), signal.weight))
                break
    cues = lexicon.record
    used = fold(str(record.get("condition") or "")) in cues.used_conditions
    imported = record.get("imported") is True
    if used and imported:
        offer(Reason("signal:platform_used_imported", f"condition={record['condition']}, imported=true", cues.used_imported_weight))
    elif used:
        offer(Reason("signal:used", f"condition={record['condition']}", cues.used_weight))
    elif imported:
        offer(Reason("signal:origin", "imported=true", cues.imported_weight))
    return list(best.values())


def _combination_reasons(reasons: list[Reason], lexicon: Lexicon) -> list[Reason]:
    """Combinations whose every group has a matched rule; ``matched`` joins one match per group."""
    matched = {reason.rule: reason for reason in reasons}
    found = []
    for combination in lexicon.combinations:
        parts = [next((matched[rule] for rule in group if rule in matched), None) for group in combination.all_of]
        if all(parts):
            found.append(Reason(f"combination:{combination.rule}", " + ".join(part.matched for part in parts), combination.weight))
    return found


def _is_corroborated(reasons: list[Reason], lexicon: Lexicon) -> bool:
    """Evidence that lets an ambiguous word ("bal", "cakar", "monza") count."""
    strong_terms = {f"term:{term.term}" for term in lexicon.terms if term.strength != "weak" and not term.needs_clothing_context}
    return any(reason.rule in lexicon.scoring.corroborated_by or reason.rule in strong_terms for reason in reasons)


def _context_reasons(texts: dict[str, str], lexicon: Lexicon) -> list[Reason]:
    reasons = []
    for group in lexicon.context:
        match = next(filter(None, (group.matcher.search(texts[name]) for name in ("title", "description", "category"))), None)
        if match is not None:
            reasons.append(Reason(f"context:{group.group}", match.group(), 0.0))
    return reasons


def _level(score: float, lexicon: Lexicon) -> str:
    scoring = lexicon.scoring
    for level, threshold in (("strong", scoring.strong), ("medium", scoring.medium), ("weak", scoring.weak)):
        if score >= threshold and score > 0:
            return level
    return "none"


def flag(record: Mapping[str, Any], lexicon: Lexicon) -> Verdict:
    """Score *record* (``title``, ``description``, optional ``category``, ``location``,
    ``condition``, ``imported``) against *lexicon*."""
    texts = _texts(record)
    masked, negatives = _apply_negatives(texts, lexicon)
    signals = _signal_reasons(masked, record, lexicon)
    matches = _term_matches(masked, lexicon)
    terms = _term_reasons(masked, matches, lexicon, corroborated=False)
    if _is_corroborated(signals + terms, lexicon):
        terms = _term_reasons(masked, matches, lexicon, corroborated=True)
    context = _context_reasons(texts, lexicon)
    positive = terms + signals
    positive += _combination_reasons(positive, lexicon)
    score = 1 - math.prod(1 - reason.weight for reason in positive)
    score = max(0.0, score + sum(reason.weight for reason in negatives))
    if not context:
        score *= lexicon.scoring.without_context_factor
    score = round(min(score, 1.0), 3)
    level = _level(score, lexicon)
    return Verdict(
        flagged=level in ("strong", "medium"),
        score=score,
        level=level,
        reasons=tuple(positive + negatives + context),
        lexicon_version=lexicon.version,
    )
