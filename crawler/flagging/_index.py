"""Index the lexicon's rules by their anchors, so that the flagger tries few regexes per text.

Each rule's regex becomes one or more :class:`Part` objects, each waiting on *gates*:
numbered sets of literals of which every match contains one. A gate is a bit, so the
gates a text opens are one number: the bits of its whitespace-separated chunks, worked
out once per distinct chunk. The :class:`Plan` for the gates of a text lists the parts
worth trying on it, in lexicon order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from crawler.flagging._anchors import anchors, case_flag, required_literals
from crawler.flagging._wordregex import required_parts

if TYPE_CHECKING:
    from crawler.flagging.rules import Negative, RuleSet, Signal

RECORD_FIELDS = ("title", "description", "category", "location")  # the record fields read, in order

ALWAYS: Final = 1  # the bit of the gate that is open in every text
HAS_TYPOS: Final = 2  # the bit of chunks (and fields) with a typo of a strong term in them
_FIRST_GATE = 2  # gate n is the bit 1 << n
_GATES_PER_PART = 2  # a part waits for its most selective sets of literals, at most this many


@dataclass(frozen=True)
class Part:
    """A regex that the flagger tries only on text where all its gates are open.

    Each gate stands for a set of literals, one of which every match contains; a gate is
    open in a text that contains one of its literals.
    """

    gates: int
    regex: re.Pattern[str]
    # Finds the strings that every match starts with, so that the regex is tried only
    # there; ``None`` to search with the regex itself (no such strings are known, or too
    # many or too short to be worth looking for, or the regex skips ahead on its own).
    starter: re.Pattern[str] | None
    # ``regex.search``, by way of the starter if there is one.
    search: Callable[[str], re.Match[str] | None] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        search = (
            self.regex.search
            if self.starter is None
            else partial(_search_from, self.starter.search, self.regex.match)
        )
        object.__setattr__(self, "search", search)


def _search_from(
    starts: Callable[..., re.Match[str] | None],
    match: Callable[..., re.Match[str] | None],
    text: str,
) -> re.Match[str] | None:
    """The first match in *text*, trying *match* only where *starts* finds a start."""
    found = starts(text)
    while found is not None:
        at = found.start()
        hit = match(text, at)
        if hit is not None:
            return hit
        found = starts(text, at + 1)
    return None


@dataclass(frozen=True, slots=True)
class Plan:
    """The parts worth trying on a text, found from the gates it opens; in lexicon order.

    ``negatives`` and ``signals`` map a rule's number to those of its parts whose gates
    are all open; ``terms`` pairs a term's number with its part, ``context`` maps a
    group's number to its part.
    """

    negatives: Mapping[int, tuple[Part, ...]]
    signals: Mapping[int, tuple[Part, ...]]
    terms: tuple[tuple[int, Part], ...]
    context: Mapping[int, Part]


@dataclass(frozen=True)
class Rules:
    """What the flagger needs of each entry, in lexicon order: names as reasons give them
    ("term:balpres"), weights, and the record fields looked at, as positions in
    :data:`crawler.flagging._scan.RECORD_FIELDS`."""

    negative_names: tuple[str, ...]
    negative_fields: tuple[tuple[int, ...], ...]
    negative_weights: tuple[float, ...]  # as they count: below zero
    negative_masks: tuple[re.Pattern[str] | None, ...]  # the matcher of the masking ones
    signal_names: tuple[str, ...]
    signal_fields: tuple[tuple[int, ...], ...]
    signal_weights: tuple[float, ...]
    term_names: tuple[str, ...]
    term_weights: tuple[float, ...]
    context_names: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    """Literal anchors of every rule, so that a rule's regex runs only on text that holds one.

    ``literals`` maps the first two characters of literals (all of a one-character one)
    to the literals and the gates they open. A literal without whitespace lies inside one
    whitespace-separated chunk of the text, so the gates a text opens are those of its
    chunks. Literals with whitespace are looked for in the whole text (``spaced``). The
    :data:`ALWAYS` gate is open in every text: it is the gate of regexes without a known
    literal. (:class:`crawler.flagging._scan.Scanner` remembers what it works out from the
    index.)
    """

    literals: Mapping[str, tuple[tuple[str, int], ...]]
    spaced: tuple[tuple[str, int], ...]
    # Token lengths that can be within the allowed edits of a fuzzy form, and the letters
    # of the forms (a token with more other characters than allowed edits is no typo).
    fuzzy_lengths: frozenset[int]
    fuzzy_letters: frozenset[str]
    rules: Rules
    # Rule names that let an ambiguous term count (see flagger._is_corroborated).
    corroborating: frozenset[str]
    # The numbers of the terms that count only near a clothing word.
    need_context: frozenset[int]
    # Term name -> its position in the lexicon, the order of reasons.
    term_order: Mapping[str, int]
    # All signal (negative) patterns as one regex, kept only where a pattern refers to a
    # group or a negative matches empty text: the gates alone might then let through
    # text that this combined check, which decides whether any rule is tried, turns away.
    any_signal: re.Pattern[str] | None
    any_negative: re.Pattern[str] | None
    # Every part as (kind, rule number, part), in lexicon order: negatives, signals, terms, context.
    parts: tuple[tuple[int, int, Part], ...]

    def plan(self, gates: int) -> Plan:
        """The parts worth trying on a text that opens *gates*."""
        found: tuple[dict[int, list[Part]], ...] = ({}, {}, {}, {})
        for kind, rule, part in self.parts:
            if part.gates & gates == part.gates:
                found[kind].setdefault(rule, []).append(part)
        negatives, signals, terms, context = found
        return Plan(
            negatives={rule: tuple(parts) for rule, parts in negatives.items()},
            signals={rule: tuple(parts) for rule, parts in signals.items()},
            terms=tuple((rule, parts[0]) for rule, parts in terms.items()),
            context={group: parts[0] for group, parts in context.items()},
        )


class _Gates:
    """Numbers the sets of literals that parts wait for (one gate per distinct set)."""

    def __init__(self) -> None:
        self.numbers: dict[frozenset[str], int] = {}

    def part(self, regex: re.Pattern[str], patterns: Iterable[str] | None = None) -> Part:
        """A part for *regex*, or for the joined *patterns* that it was compiled from."""
        if patterns is None:
            required, starts = anchors(regex.pattern, regex.flags)
            required = required[:_GATES_PER_PART]
        else:
            literals, starts = required_literals(patterns, regex.flags), None
            required = [literals] if literals else []
        return Part(self._bits(required), regex, _starter(starts) if starts else None)

    def words(self, regex: re.Pattern[str], words: Iterable[str]) -> Part:
        """A part for the :func:`~crawler.flagging._wordregex.words_matcher` of *words*: the engine
        skips ahead to where a match can start on its own."""
        return Part(self._bits(required_parts(words)), regex, None)

    def rule(self, rule: Signal | Negative) -> tuple[Part, ...]:
        """A signal or negative as parts: one per pattern, or one for all if a pattern refers
        to a group."""
        if _refers_to_group(rule):  # numbered groups change meaning once patterns are split
            return (self.part(rule.matcher, rule.patterns),)
        return tuple(
            self.part(re.compile(pattern, rule.matcher.flags)) for pattern in rule.patterns
        )

    def _bits(self, required: Iterable[frozenset[str]]) -> int:
        bits = 0
        for literals in required:
            bits |= 1 << self.numbers.setdefault(literals, len(self.numbers) + _FIRST_GATE)
        return bits or ALWAYS


def build_index(lexicon: RuleSet) -> Index:
    gates = _Gates()
    # The parts of each rule, by kind in the order negatives, signals, terms, context.
    kinds: tuple[tuple[tuple[Part, ...], ...], ...] = (
        tuple(map(gates.rule, lexicon.negatives)),
        tuple(map(gates.rule, lexicon.signals)),
        tuple((gates.words(term.matcher, (term.term, *term.variants)),) for term in lexicon.terms),
        tuple((gates.words(group.matcher, group.words),) for group in lexicon.context),
    )
    by_literal: dict[str, int] = {}
    for literals, number in gates.numbers.items():
        for literal in literals:
            by_literal[literal] = by_literal.get(literal, 0) | 1 << number
    by_first: dict[str, list[tuple[str, int]]] = {}
    spaced = []
    for literal, opened in by_literal.items():
        if any(char.isspace() for char in literal):
            spaced.append((literal, opened))
        else:
            by_first.setdefault(literal[:2], []).append((literal, opened))
    longest = max(lexicon.fuzzy.max_distance, lexicon.fuzzy.long_max_distance)
    return Index(
        literals=MappingProxyType({key: tuple(entries) for key, entries in by_first.items()}),
        spaced=tuple(spaced),
        fuzzy_lengths=frozenset(
            length
            for form, _ in lexicon.fuzzy_forms
            for length in range(len(form) - longest, len(form) + longest + 1)
        ),
        fuzzy_letters=frozenset("".join(form for form, _ in lexicon.fuzzy_forms)),
        rules=Rules(
            negative_names=tuple(f"negative:{negative.rule}" for negative in lexicon.negatives),
            negative_fields=tuple(
                tuple(map(RECORD_FIELDS.index, negative.fields)) for negative in lexicon.negatives
            ),
            negative_weights=tuple(-negative.weight or 0.0 for negative in lexicon.negatives),
            negative_masks=tuple(
                negative.matcher if negative.mask else None for negative in lexicon.negatives
            ),
            signal_names=tuple(f"signal:{signal.kind}" for signal in lexicon.signals),
            signal_fields=tuple(
                tuple(map(RECORD_FIELDS.index, signal.fields)) for signal in lexicon.signals
            ),
            signal_weights=tuple(signal.weight for signal in lexicon.signals),
            term_names=tuple(f"term:{term.term}" for term in lexicon.terms),
            term_weights=tuple(term.weight for term in lexicon.terms),
            context_names=tuple(f"context:{group.group}" for group in lexicon.context),
        ),
        need_context=frozenset(
            number for number, term in enumerate(lexicon.terms) if term.needs_clothing_context
        ),
        corroborating=lexicon.scoring.corroborated_by
        | {
            f"term:{term.term}"
            for term in lexicon.terms
            if term.strength != "weak" and not term.needs_clothing_context
        },
        term_order=MappingProxyType(
            {term.term: number for number, term in enumerate(lexicon.terms)}
        ),
        any_signal=_any(lexicon.signals) if any(map(_refers_to_group, lexicon.signals)) else None,
        any_negative=_any(lexicon.negatives)
        if any(
            _refers_to_group(negative) or negative.matcher.search("")
            for negative in lexicon.negatives
        )
        else None,
        parts=tuple(
            (kind, rule, part)
            for kind, rules in enumerate(kinds)
            for rule, parts in enumerate(rules)
            for part in parts
        ),
    )


def _starter(starts: Iterable[str]) -> re.Pattern[str]:
    """A regex for any of *starts*, longest first: the engine skips ahead to their first
    characters."""
    return re.compile("|".join(re.escape(start) for start in sorted(starts, key=len, reverse=True)))


_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def _refers_to_group(rule: Signal | Negative) -> bool:
    return any(_GROUP_REFERENCE.search(pattern) for pattern in rule.patterns)


def _any(rules: Iterable[Signal | Negative]) -> re.Pattern[str]:
    """All patterns of *rules* as one regex; one that matches everywhere if they cannot be
    joined."""
    patterns = [pattern for rule in rules for pattern in rule.patterns]
    try:
        return re.compile(
            "|".join(f"(?:{pattern})" for pattern in patterns) or r"(?!)", case_flag(patterns)
        )
    except re.error:  # e.g. two rules with a group of the same name
        return re.compile("")
