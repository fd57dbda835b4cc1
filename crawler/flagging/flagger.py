"""Decide whether a listing looks like a sale of imported used clothing, and say why.

:func:`flag` is pure: a record and a :class:`~crawler.flagging.lexicon.Lexicon` in, a
:class:`Verdict` out. Positive evidence (terms, signals, combinations of them) combines as
``1 - prod(1 - weight)``; matched legal look-alikes (negatives) are subtracted; without
a clothing, footwear or textile word the score is scaled below the flag threshold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, NamedTuple

from crawler.flagging._index import Part
from crawler.flagging._scan import Field
from crawler.flagging.lexicon import Lexicon
from crawler.flagging.textnorm import fold

# Record fields by position (crawler.flagging._scan.RECORD_FIELDS); terms and clothing words are
# looked for in the first three.
_TITLE: Final = 0
_DESCRIPTION: Final = 1
_TERM_FIELDS: Final = (0, 1, 2)


class Reason(NamedTuple):
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
            "reasons": [
                {"rule": r.rule, "matched": r.matched, "weight": r.weight} for r in self.reasons
            ],
            "lexicon_version": self.lexicon_version,
        }


_fold_repeated = lru_cache(maxsize=4096)(fold)


def _leftmost(parts: tuple[Part, ...], text: str) -> re.Match[str] | None:
    """The match that the rule's joined patterns would find: the leftmost, and at a tie
    the one of the earlier pattern."""
    if len(parts) == 1:
        return parts[0].search(text)
    best = None
    for part in parts:
        match = part.search(text)
        if match is not None and (best is None or match.start() < best.start()):
            best = match
    return best


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group())


def _apply_negatives(
    fields: tuple[Field, ...], lexicon: Lexicon
) -> tuple[tuple[Field, ...], list[Reason]]:
    """Match legal look-alikes; blank out the text of masking rules in every field.

    Returns the fields after masking and the reasons.
    """
    reasons: list[Reason] = []
    title, description, category, location = fields
    if not (
        title.plan.negatives
        or description.plan.negatives
        or category.plan.negatives
        or location.plan.negatives
    ):
        return fields, reasons
    waiting = set().union(*[field.plan.negatives for field in fields])
    check = lexicon.index.any_negative
    if check is not None and not any(check.search(field.text) for field in fields if field.text):
        return fields, reasons
    rules, masked = lexicon.index.rules, list(fields)
    pending = sorted(waiting)
    while pending:
        number = pending.pop(0)
        matched = None
        for place in rules.negative_fields[number]:
            field = masked[place]
            parts = field.plan.negatives.get(number)
            if parts and (found := _leftmost(parts, field.text)):
                matched = found.group()
                break
        if matched is None:
            continue
        reasons.append(
            Reason(rules.negative_names[number], matched, rules.negative_weights[number])
        )
        mask = rules.negative_masks[number]
        if mask is not None:
            for place in rules.negative_fields[number]:
                text = mask.sub(_blank, masked[place].text)
                if text != masked[place].text:
                    masked[place] = lexicon.scanner.scan(text)
            waiting = set().union(*[field.plan.negatives for field in masked])
            pending = sorted(later for later in waiting if later > number)
    return tuple(masked), reasons


# A term match: (minus its length, term number, field position, start, match).
TermMatch = tuple[int, int, int, int, re.Match[str]]


def _term_matches(fields: tuple[Field, ...]) -> list[TermMatch]:
    """Every term match, longest first, so "bal segel" wins over the "bal" inside it; at
    equal length in lexicon order, then field order, then position."""
    found = []
    for place in _TERM_FIELDS:
        field = fields[place]
        for number, part in field.plan.terms:
            for match in part.regex.finditer(field.text):
                start, end = match.span()
                found.append((start - end, number, place, start, match))
    # The first four values tell any two matches apart: the matches are never compared.
    found.sort()
    return found


def _near_context(field: Field, match: re.Match[str], lexicon: Lexicon) -> bool:
    """Is a context word within ``context_window`` words of *match*?"""
    text, (start, end) = field.text, _window(field.text, match, lexicon.scoring.context_window)
    # (A search between two positions sees the words there as a text of its own would:
    # the characters just outside are separators or nothing.)
    return any(part.regex.search(text, start, end) for part in field.plan.context.values())


def _window(text: str, match: re.Match[str], count: int) -> tuple[int, int]:
    """Where the *count* words before *match* start and the *count* words after it end."""
    start, end = match.span()
    if not count:
        return start, end
    words = _words(count)
    # The words before, read backwards: the same words, reversed.
    before, after = words.match(text[::-1], len(text) - start), words.match(text, end)
    return len(text) - before.end() if before else start, after.end() if after else end


@lru_cache(maxsize=8)
def _words(count: int) -> re.Pattern[str]:
    """One to *count* words and the separators before them."""
    return re.compile(rf"(?:[\W_]*[^\W_]+){{1,{count}}}")


def _terms(
    fields: tuple[Field, ...], matches: list[TermMatch], signals: list[Reason], lexicon: Lexicon
) -> list[Reason]:
    """The term reasons: terms that need a clothing context count once the listing is
    corroborated by its signals or by the other terms."""
    need_context = lexicon.index.need_context
    if not any(number in need_context for _, number, _, _, _ in matches):
        return _term_reasons(fields, matches, lexicon, corroborated=False)
    if _is_corroborated(signals, lexicon):
        return _term_reasons(fields, matches, lexicon, corroborated=True)
    terms = _term_reasons(fields, matches, lexicon, corroborated=False)
    return (
        _term_reasons(fields, matches, lexicon, corroborated=True)
        if _is_corroborated(terms, lexicon)
        else terms
    )


def _term_reasons(
    fields: tuple[Field, ...], matches: list[TermMatch], lexicon: Lexicon, corroborated: bool
) -> list[Reason]:
    """One reason per matched term; overlapping matches count once, for the longest term.

    A term with ``needs_clothing_context`` counts only when *corroborated* and a clothing
    word stands near it.
    """
    index, reasons = lexicon.index, {}
    taken: tuple[list[tuple[int, int]], ...] = ([], [], [])
    for _, number, place, start, match in matches:
        end = match.end()
        spans = taken[place]
        if spans and _overlaps(spans, start, end):
            continue
        if number in index.need_context and not (
            corroborated and _near_context(fields[place], match, lexicon)
        ):
            continue
        spans.append((start, end))
        if number not in reasons:
            reasons[number] = Reason(
                index.rules.term_names[number], match.group(), index.rules.term_weights[number]
            )
    if fields[_TITLE].typos or fields[_DESCRIPTION].typos:
        _add_typos(reasons, fields, lexicon)
    return (
        [reasons[number] for number in sorted(reasons)]
        if len(reasons) > 1
        else list(reasons.values())
    )


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in spans)


def _add_typos(reasons: dict[int, Reason], fields: tuple[Field, ...], lexicon: Lexicon) -> None:
    """Typos of strong, unambiguous terms not matched already, in title then description."""
    for place in (_TITLE, _DESCRIPTION):
        for term, word in fields[place].typos:
            number = lexicon.index.term_order[term.term]
            if number not in reasons:
                weight = round(term.weight * lexicon.fuzzy.weight_factor, 3)
                reasons[number] = Reason(lexicon.index.rules.term_names[number], word, weight)


def _signal_reasons(
    fields: tuple[Field, ...], record: Mapping[str, Any], lexicon: Lexicon
) -> list[Reason]:
    """The heaviest match of each signal kind, plus what the platform states."""
    best: dict[str, Reason] = {}
    waiting = set().union(*[field.plan.signals for field in fields])
    check, rules = lexicon.index.any_signal, lexicon.index.rules
    for number in sorted(waiting) if len(waiting) > 1 else waiting:
        for place in rules.signal_fields[number]:
            field = fields[place]
            parts = field.plan.signals.get(number)
            # Empty text is never searched for signals.
            if not parts or not field.text or (check and not check.search(field.text)):
                continue
            match = _leftmost(parts, field.text)
            if match is not None:
                _offer(
                    best,
                    Reason(rules.signal_names[number], match.group(), rules.signal_weights[number]),
                )
                break
    cues = lexicon.record
    used = _fold_repeated(str(record.get("condition") or "")) in cues.used_conditions
    imported = record.get("imported") is True
    if used and imported:
        _offer(
            best,
            Reason(
                "signal:platform_used_imported",
                f"condition={record['condition']}, imported=true",
                cues.used_imported_weight,
            ),
        )
    elif used:
        _offer(best, Reason("signal:used", f"condition={record['condition']}", cues.used_weight))
    elif imported:
        _offer(best, Reason("signal:origin", "imported=true", cues.imported_weight))
    return list(best.values())


def _offer(best: dict[str, Reason], reason: Reason) -> None:
    """Keep *reason* if it is the heaviest of its rule so far."""
    if reason.rule not in best or reason.weight > best[reason.rule].weight:
        best[reason.rule] = reason


def _combination_reasons(reasons: list[Reason], lexicon: Lexicon) -> list[Reason]:
    """Combinations whose every group has a matched rule; ``matched`` joins one match per group."""
    matched = {reason.rule: reason for reason in reasons}
    found = []
    for combination in lexicon.combinations:
        parts = []
        for group in combination.all_of:
            part = next((matched[rule] for rule in group if rule in matched), None)
            if part is None:
                break
            parts.append(part)
        else:
            found.append(
                Reason(
                    f"combination:{combination.rule}",
                    " + ".join(part.matched for part in parts),
                    combination.weight,
                )
            )
    return found


def _is_corroborated(reasons: list[Reason], lexicon: Lexicon) -> bool:
    """Evidence that lets an ambiguous word ("bal", "cakar", "monza") count: a rule of
    ``corroborated_by`` or a strong or medium unambiguous term."""
    return any(reason.rule in lexicon.index.corroborating for reason in reasons)


def _context_reasons(fields: tuple[Field, ...], lexicon: Lexicon) -> list[Reason]:
    """The first clothing (footwear, textile...) word of each group, in title, description,
    category."""
    found: dict[int, str] = {}
    for place in _TERM_FIELDS:
        field = fields[place]
        for number, part in field.plan.context.items():
            if number not in found and (match := part.search(field.text)):
                found[number] = match.group()
    names = lexicon.index.rules.context_names
    return [Reason(names[number], found[number], 0.0) for number in sorted(found)]


def _level(score: float, lexicon: Lexicon) -> str:
    scoring = lexicon.scoring
    for level, threshold in (
        ("strong", scoring.strong),
        ("medium", scoring.medium),
        ("weak", scoring.weak),
    ):
        if score >= threshold and score > 0:
            return level
    return "none"


def flag(record: Mapping[str, Any], lexicon: Lexicon) -> Verdict:
    """Score *record* (``title``, ``description``, optional ``category``, ``location``,
    ``condition``, ``imported``) against *lexicon*."""
    fields = lexicon.scanner.fields(record)
    masked, negatives = _apply_negatives(fields, lexicon)
    signals = _signal_reasons(masked, record, lexicon)
    matches = _term_matches(masked)
    terms = _terms(masked, matches, signals, lexicon)
    context = _context_reasons(fields, lexicon)
    positive = terms + signals
    positive += _combination_reasons(positive, lexicon)
    remaining = 1.0
    for reason in positive:
        remaining *= 1.0 - reason.weight
    lowered = 0.0
    for reason in negatives:
        lowered += reason.weight
    score = max(0.0, 1.0 - remaining + lowered)
    if not context:
        score *= lexicon.scoring.without_context_factor
    score = round(min(score, 1.0), 3)
    level = _level(score, lexicon)
    return Verdict(
        flagged=level in ("strong", "medium"),
        score=score,
        level=level,
        reasons=(*positive, *negatives, *context),
        lexicon_version=lexicon.version,
    )
