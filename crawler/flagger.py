"""Decide whether a listing looks like a sale of imported used clothing, and say why.

:func:`flag` is pure: a record and a :class:`~crawler.lexicon.Lexicon` in, a
:class:`Verdict` out. Positive evidence (terms, signals, combinations of them) combines as
``1 - prod(1 - weight)``; matched legal look-alikes (negatives) are subtracted; without
a clothing, footwear or textile word the score is scaled below the flag threshold.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from rapidfuzz.distance import OSA

from crawler.lexicon import RECORD_FIELDS, Lexicon, Term
from crawler.lexicon_index import Part, Plan
from crawler.textnorm import fold, fold_chunks

_WORD = re.compile(r"[^\W_]+")
_TERM_FIELDS = ("title", "description", "category")
# Fields with few distinct values (a category path, a city, a condition) are folded once.
_REPEATED_FIELDS = frozenset({"category", "location"})
_MAX_REMEMBERED = 100_000  # distinct chunks (and repeated field texts) remembered per lexicon


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


class _Chunk(NamedTuple):
    """What one whitespace-separated chunk of folded text opens."""

    gates: frozenset[int]
    # Typos of strong terms among its words, in order: (term, word).
    typos: tuple[tuple[Term, str], ...]


class _Field(NamedTuple):
    """The folded text of one field, the gates it opens and the rules worth trying on it."""

    text: str
    gates: frozenset[int]
    typos: tuple[tuple[Term, str], ...]
    plan: Plan


_HAS_TYPOS = -1  # a gate of the chunks (and fields) with typos of terms in them
_NOTHING = _Chunk(frozenset(), ())  # most chunks open nothing
_fold_repeated = lru_cache(maxsize=4096)(fold)


def _fields(record: Mapping[str, Any], lexicon: Lexicon) -> dict[str, _Field]:
    """Each record field the lexicon looks at, folded and scanned."""
    fields = {}
    for name in RECORD_FIELDS:
        value = record.get(name)
        text = "" if value is None else str(value)
        if name in _REPEATED_FIELDS:
            fields[name] = _scan_repeated(text, lexicon)
        else:
            chunks = fold_chunks(text)
            fields[name] = _scan(" ".join(chunks), lexicon, chunks)
    return fields


def _scan(text: str, lexicon: Lexicon, words: list[str] | None = None) -> _Field:
    """The gates that folded *text* opens: those of its chunks (*words*, if already split)
    and of the spaced literals in it."""
    index, cache = lexicon.index, lexicon.index.chunks
    chunks = [cache.get(chunk) or _chunk(chunk, lexicon) for chunk in (text.split() if words is None else words)]
    gates = index.always.union(*[chunk.gates for chunk in chunks])
    for literal, opened in index.spaced:
        if literal in text:
            gates |= opened
    typos = tuple(typo for chunk in chunks for typo in chunk.typos) if _HAS_TYPOS in gates else ()
    return _Field(text, gates, typos, index.plan(gates))


def _scan_repeated(value: str, lexicon: Lexicon) -> _Field:
    """:func:`_scan` for a field with few distinct values (a category, a city), remembered."""
    cache = lexicon.index.fields
    found = cache.get(value)
    if found is None:
        if len(cache) >= _MAX_REMEMBERED:
            cache.clear()
        found = cache[value] = _scan(fold(value), lexicon)
    return found


def _chunk(chunk: str, lexicon: Lexicon) -> _Chunk:
    """Work out (and remember) the gates a chunk opens and the typos in it."""
    index, gates = lexicon.index, set()
    # A literal is listed under its first two characters (all of a one-character one).
    keys = index.literals.keys() & {*map(operator.add, chunk, chunk[1:]), *chunk}
    for key in keys:
        for literal, opened in index.literals[key]:
            if literal in chunk:
                gates |= opened
    typos = tuple((term, word) for word in _WORD.findall(chunk) for term in _typo_terms(word, lexicon))
    if typos:
        gates.add(_HAS_TYPOS)
    if len(index.chunks) >= _MAX_REMEMBERED:
        index.chunks.clear()
    found = index.chunks[chunk] = _Chunk(frozenset(gates), typos) if gates else _NOTHING
    return found


def _typo_terms(word: str, lexicon: Lexicon) -> list[Term]:
    """Strong, unambiguous terms that *word* is a typo of ("ballpers", "blapres"), guarded
    against ordinary words; each term once, in the order of its first close form."""
    fuzzy = lexicon.fuzzy
    # A word too long or too short for any form cannot be within the allowed edits.
    if len(word) not in lexicon.index.fuzzy_lengths or len(word) < fuzzy.min_length or word in fuzzy.ordinary_words:
        return []
    limit = fuzzy.long_max_distance if len(word) >= fuzzy.long_length else fuzzy.max_distance
    # Each edit brings in at most one character that the form lacks.
    if len(set(word) - lexicon.index.fuzzy_letters) > limit:
        return []
    close = (term for form, term in lexicon.fuzzy_forms if OSA.distance(word, form, score_cutoff=limit) <= limit)
    return list(dict.fromkeys(close))


def _positions(starts: tuple[str, ...], text: str) -> list[int]:
    """Where any of *starts* occurs in *text*, in order."""
    found = set()
    for start in starts:
        at = text.find(start)
        while at != -1:
            found.add(at)
            at = text.find(start, at + 1)
    return sorted(found)


def _first_match(part: Part, text: str) -> re.Match[str] | None:
    """``part.regex.search(text)``, trying the regex only where a match can start."""
    if part.starts is None:
        return part.regex.search(text)
    if len(part.starts) > 1:
        return next(filter(None, (part.regex.match(text, at) for at in _positions(part.starts, text))), None)
    start = part.starts[0]
    at = text.find(start)
    while at != -1:
        match = part.regex.match(text, at)
        if match is not None:
            return match
        at = text.find(start, at + 1)
    return None


def _all_matches(part: Part, text: str) -> list[re.Match[str]]:
    """``list(part.regex.finditer(text))`` for a regex that never matches empty text."""
    if part.starts is None:
        return list(part.regex.finditer(text))
    found: list[re.Match[str]] = []
    for position in _positions(part.starts, text):
        if not found or position >= found[-1].end():
            match = part.regex.match(text, position)
            if match is not None:
                found.append(match)
    return found


def _leftmost(parts: tuple[Part, ...], text: str) -> re.Match[str] | None:
    """The match that the rule's joined patterns would find: the leftmost, and at a tie
    the one of the earlier pattern."""
    best = None
    for part in parts:
        match = _first_match(part, text)
        if match is not None and (best is None or match.start() < best.start()):
            best = match
    return best


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _apply_negatives(fields: dict[str, _Field], lexicon: Lexicon) -> tuple[dict[str, _Field], list[Reason]]:
    """Match legal look-alikes; blank out the text of masking rules in every field.

    Returns the fields after masking and the reasons.
    """
    masked, reasons = dict(fields), []
    check = lexicon.index.any_negative
    if check is not None and not any(check.search(field.text) for field in fields.values() if field.text):
        return masked, reasons
    waiting = set().union(*[field.plan.negatives for field in masked.values()])
    for number, negative in enumerate(lexicon.negatives):
        if number not in waiting:
            continue
        matched = [
            found.group()
            for name in negative.fields
            if (parts := masked[name].plan.negatives.get(number)) and (found := _leftmost(parts, masked[name].text))
        ]
        if not matched:
            continue
        reasons.append(Reason(f"negative:{negative.rule}", matched[0], -negative.weight or 0.0))
        if negative.mask:
            for name in negative.fields:
                text = negative.matcher.sub(_blank, masked[name].text)
                if text != masked[name].text:
                    masked[name] = _scan(text, lexicon)
            waiting = set().union(*[field.plan.negatives for field in masked.values()])
    return masked, reasons


def _term_matches(fields: dict[str, _Field]) -> list[tuple[str, re.Match[str], int]]:
    """Every term match as (field, match, term number), longest first, so "bal segel" wins
    over the "bal" inside it; at equal length in lexicon order, then field order, then position."""
    found = []
    for place, name in enumerate(_TERM_FIELDS):
        field = fields[name]
        for number, part in field.plan.terms:
            for match in _all_matches(part, field.text):
                found.append((match.start() - match.end(), number, place, match.start(), name, match))
    found.sort(key=operator.itemgetter(0, 1, 2, 3))
    return [(name, match, number) for _, number, _, _, name, match in found]


def _near_context(field: _Field, match: re.Match[str], lexicon: Lexicon) -> bool:
    """Is a context word within ``context_window`` words of *match*?"""
    window, text = lexicon.scoring.context_window, field.text
    before = _words_before(text, match.start(), window)[-window:] if window else []
    after = _words_after(text, match.end(), window)[:window]
    nearby = " ".join([*before, match.group(), *after])
    # The words near the match are words of the field: a context group whose gates are
    # closed in the field cannot match them.
    return any(_first_match(part, nearby) for part in field.plan.context.values())


_NEARBY_CHARS = 120  # looked at first for the words around a match


def _words_before(text: str, end: int, count: int) -> list[str]:
    """The words of ``text[:end]``, or at least the last *count* of them."""
    words = _WORD.findall(text, max(0, end - _NEARBY_CHARS), end)
    # The first word found may be cut off; it is not among the last *count* if more were found.
    return words if len(words) > count else _WORD.findall(text, 0, end)


def _words_after(text: str, start: int, count: int) -> list[str]:
    """The words of ``text[start:]``, or at least the first *count* of them."""
    words = _WORD.findall(text, start, start + _NEARBY_CHARS)
    return words if len(words) > count else _WORD.findall(text, start)


def _fuzzy_term(fields: dict[str, _Field], found: set[str]) -> Iterator[tuple[Term, str]]:
    """Typos of strong, unambiguous terms not already *found*, in title then description."""
    for name in ("title", "description"):  # (a field's typos are there if it has any)
        for term, word in fields[name].typos:
            if term.term not in found:
                found.add(term.term)
                yield term, word


def _term_reasons(fields: dict[str, _Field], matches: list[tuple[str, re.Match[str], int]], lexicon: Lexicon, corroborated: bool) -> list[Reason]:
    """One reason per matched term; overlapping matches count once, for the longest term.

    A term with ``needs_clothing_context`` counts only when *corroborated* and a clothing
    word stands near it.
    """
    reasons: dict[int, Reason] = {}
    taken: dict[str, list[tuple[int, int]]] = {name: [] for name in fields}
    for name, match, number in matches:
        if any(match.start() < end and start < match.end() for start, end in taken[name]):
            continue
        term = lexicon.terms[number]
        if term.needs_clothing_context and not (corroborated and _near_context(fields[name], match, lexicon)):
            continue
        taken[name].append(match.span())
        if number not in reasons:
            reasons[number] = Reason(f"term:{term.term}", match.group(), term.weight)
    found = {lexicon.terms[number].term for number in reasons}
    for term, token in _fuzzy_term(fields, found):
        reasons[lexicon.index.term_order[term.term]] = Reason(
            f"term:{term.term}", token, round(term.weight * lexicon.fuzzy.weight_factor, 3)
        )
    return [reasons[number] for number in sorted(reasons)]


def _signal_reasons(fields: dict[str, _Field], record: Mapping[str, Any], lexicon: Lexicon) -> list[Reason]:
    """The heaviest match of each signal kind, plus what the platform states."""
    best: dict[str, Reason] = {}

    def offer(reason: Reason) -> None:
        if reason.rule not in best or reason.weight > best[reason.rule].weight:
            best[reason.rule] = reason

    check = lexicon.index.any_signal
    for number in sorted(set().union(*[field.plan.signals for field in fields.values()])):
        signal = lexicon.signals[number]
        for name in signal.fields:
            field = fields[name]
            parts = field.plan.signals.get(number)
            # Empty text is never searched for signals.
            if not parts or not field.text or (check and not check.search(field.text)):
                continue
            match = _leftmost(parts, field.text)
            if match is not None:
                offer(Reason(f"signal:{signal.kind}", match.group(), signal.weight))
                break
    cues = lexicon.record
    used = _fold_repeated(str(record.get("condition") or "")) in cues.used_conditions
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
    """Evidence that lets an ambiguous word ("bal", "cakar", "monza") count: a rule of
    ``corroborated_by`` or a strong or medium unambiguous term."""
    return any(reason.rule in lexicon.index.corroborating for reason in reasons)


def _context_reasons(fields: dict[str, _Field], lexicon: Lexicon) -> list[Reason]:
    """The first clothing (footwear, textile...) word of each group, in title, description, category."""
    found: dict[int, str] = {}
    for name in _TERM_FIELDS:
        field = fields[name]
        for number, part in field.plan.context.items():
            if number not in found and (match := _first_match(part, field.text)):
                found[number] = match.group()
    return [Reason(f"context:{lexicon.context[number].group}", found[number], 0.0) for number in sorted(found)]


def _level(score: float, lexicon: Lexicon) -> str:
    scoring = lexicon.scoring
    for level, threshold in (("strong", scoring.strong), ("medium", scoring.medium), ("weak", scoring.weak)):
        if score >= threshold and score > 0:
            return level
    return "none"


def flag(record: Mapping[str, Any], lexicon: Lexicon) -> Verdict:
    """Score *record* (``title``, ``description``, optional ``category``, ``location``,
    ``condition``, ``imported``) against *lexicon*."""
    fields = _fields(record, lexicon)
    masked, negatives = _apply_negatives(fields, lexicon)
    signals = _signal_reasons(masked, record, lexicon)
    matches = _term_matches(masked)
    terms = _term_reasons(masked, matches, lexicon, corroborated=False)
    # Terms that need a clothing context were left out; they count once the listing is corroborated.
    if any(lexicon.terms[number].needs_clothing_context for _, _, number in matches) and _is_corroborated(signals + terms, lexicon):
        terms = _term_reasons(masked, matches, lexicon, corroborated=True)
    context = _context_reasons(fields, lexicon)
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
