r"""Index the lexicon's rules by their anchors, so that the flagger tries few regexes per text.

Each rule's regex becomes one or more :class:`Part`\ s, each waiting on *gates*: numbered
sets of literals of which every match contains one. The gates a text opens are found
from its whitespace-separated chunks (worked out once per distinct chunk); the
:class:`Plan` for a set of open gates lists the parts worth trying, in lexicon order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from crawler.anchors import anchors, case_flag, required_literals

if TYPE_CHECKING:
    from crawler.lexicon import Lexicon, Negative, Signal

_ALWAYS = 0  # the gate that is open in every text
_GATES_PER_PART = 2  # a part waits for its most selective sets of literals, at most this many
_MAX_PLANS = 100_000  # distinct sets of open gates remembered


@dataclass(frozen=True)
class Part:
    """A regex that the flagger tries only on text where all its gates are open.

    Each gate stands for a set of literals, one of which every match contains; a gate is
    open in a text that contains one of its literals.
    """

    gates: frozenset[int]
    regex: re.Pattern[str]
    # Every match starts with one of these, so the regex need only be tried where one
    # occurs; ``None`` when unknown, or too many or too short to be worth looking for.
    starts: tuple[str, ...] | None


@dataclass(frozen=True)
class Anchored:
    """A signal or negative as parts: one per pattern, or one for all if a pattern refers to a group."""

    parts: tuple[Part, ...]
    gates: frozenset[int]  # of all its parts


@dataclass(frozen=True)
class Index:
    """Literal anchors of every rule, so that a rule's regex runs only on text that holds one.

    ``literals`` maps the first two characters of literals (all of a one-character one)
    to the literals and the gates they open. A literal without whitespace lies inside one
    whitespace-separated chunk of the text, so the gates a text opens are the union of its
    chunks' gates, worked out once per distinct chunk (``chunks``). Literals with
    whitespace are looked for in the whole text (``spaced``). The ``always`` gate is open
    in every text: it is the gate of regexes without a known literal.
    """

    negatives: tuple[Anchored, ...]
    signals: tuple[Anchored, ...]
    terms: tuple[Part, ...]
    context: tuple[Part, ...]
    literals: Mapping[str, tuple[tuple[str, frozenset[int]], ...]]
    spaced: tuple[tuple[str, frozenset[int]], ...]
    always: frozenset[int]
    # Token lengths that can be within the allowed edits of a fuzzy form, and the letters
    # of the forms (a token with more other characters than allowed edits is no typo).
    fuzzy_lengths: frozenset[int]
    fuzzy_letters: frozenset[str]
    # Rule names that let an ambiguous term count (see flagger._is_corroborated).
    corroborating: frozenset[str]
    # Term name -> its position in the lexicon, the order of reasons.
    term_order: Mapping[str, int]
    # All signal (negative) patterns as one regex, kept only where a pattern refers to a
    # group or a negative matches empty text: the gates alone might then let through
    # text that this combined check, which decides whether any rule is tried, turns away.
    any_signal: re.Pattern[str] | None
    any_negative: re.Pattern[str] | None
    # Chunk -> what it opens, and the same for the whole text of fields with few distinct
    # values (category, location); filled by the flagger as it meets new ones.
    chunks: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    # Gate -> the parts that wait on it, as (kind, rule number, part number); and the plans made.
    waiting: Mapping[int, tuple[tuple[int, int, int], ...]] = field(default_factory=dict)
    plans: dict[frozenset[int], Plan] = field(default_factory=dict)

    def plan(self, gates: frozenset[int]) -> Plan:
        """The parts worth trying on a text that opens *gates* (remembered per distinct set)."""
        found = self.plans.get(gates)
        if found is None:
            if len(self.plans) >= _MAX_PLANS:
                self.plans.clear()
            found = self.plans[gates] = self._make_plan(gates)
        return found

    def _make_plan(self, gates: frozenset[int]) -> Plan:
        rules: tuple[dict[int, list[Part]], ...] = ({}, {}, {}, {})
        waiting = sorted({slot for gate in gates for slot in self.waiting.get(gate, ())})
        for kind, rule, number in waiting:
            part = self._part(kind, rule, number)
            if part.gates <= gates:
                rules[kind].setdefault(rule, []).append(part)
        negatives, signals, terms, context = ({rule: tuple(parts) for rule, parts in found.items()} for found in rules)
        return Plan(
            negatives=negatives,
            signals=signals,
            terms=tuple((rule, parts[0]) for rule, parts in terms.items()),
            context={group: parts[0] for group, parts in context.items()},
        )

    def _part(self, kind: int, rule: int, number: int) -> Part:
        if kind == 0:
            return self.negatives[rule].parts[number]
        if kind == 1:
            return self.signals[rule].parts[number]
        return (self.terms, self.context)[kind - 2][rule]


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


class _Gates:
    """Numbers the sets of literals that parts wait for (one gate per distinct set)."""

    def __init__(self) -> None:
        self.gates: dict[frozenset[str], int] = {}

    def part(self, regex: re.Pattern[str], patterns: Iterable[str] | None = None) -> Part:
        """A part for *regex*, or for the joined *patterns* that it was compiled from."""
        if patterns is None:
            required, starts = anchors(regex.pattern, regex.flags)
            required = required[:_GATES_PER_PART]
        else:
            literals, starts = required_literals(patterns, regex.flags), None
            required = [literals] if literals else []
        gates = frozenset(self.gates.setdefault(literals, len(self.gates) + 1) for literals in required)
        return Part(gates or frozenset([_ALWAYS]), regex, starts)

    def rule(self, rule: Signal | Negative) -> Anchored:
        if _refers_to_group(rule):  # numbered groups change meaning once patterns are split
            parts: tuple[Part, ...] = (self.part(rule.matcher, rule.patterns),)
        else:
            parts = tuple(self.part(re.compile(pattern, rule.matcher.flags)) for pattern in rule.patterns)
        return Anchored(parts, frozenset().union(*(part.gates for part in parts)))


def build_index(lexicon: Lexicon) -> Index:
    gates = _Gates()
    negatives = tuple(map(gates.rule, lexicon.negatives))
    signals = tuple(map(gates.rule, lexicon.signals))
    terms = tuple(gates.part(term.matcher) for term in lexicon.terms)
    context = tuple(gates.part(group.matcher) for group in lexicon.context)
    by_literal: dict[str, set[int]] = {}
    for literals, gate in gates.gates.items():
        for literal in literals:
            by_literal.setdefault(literal, set()).add(gate)
    by_first: dict[str, list[tuple[str, frozenset[int]]]] = {}
    spaced = []
    for literal, opened in by_literal.items():
        if any(char.isspace() for char in literal):
            spaced.append((literal, frozenset(opened)))
        else:
            by_first.setdefault(literal[:2], []).append((literal, frozenset(opened)))
    waiting: dict[int, list[tuple[int, int, int]]] = {}
    for kind, rules in enumerate((negatives, signals, terms, context)):
        for rule, anchored in enumerate(rules):
            parts = anchored.parts if isinstance(anchored, Anchored) else (anchored,)
            for number, part in enumerate(parts):
                for gate in part.gates:
                    waiting.setdefault(gate, []).append((kind, rule, number))
    longest = max(lexicon.fuzzy.max_distance, lexicon.fuzzy.long_max_distance)
    return Index(
        negatives=negatives,
        signals=signals,
        terms=terms,
        context=context,
        literals=MappingProxyType({char: tuple(entries) for char, entries in by_first.items()}),
        spaced=tuple(spaced),
        always=frozenset([_ALWAYS]),
        fuzzy_lengths=frozenset(
            length for form, _ in lexicon.fuzzy_forms for length in range(len(form) - longest, len(form) + longest + 1)
        ),
        fuzzy_letters=frozenset("".join(form for form, _ in lexicon.fuzzy_forms)),
        corroborating=lexicon.scoring.corroborated_by | {
            f"term:{term.term}" for term in lexicon.terms if term.strength != "weak" and not term.needs_clothing_context
        },
        term_order=MappingProxyType({term.term: number for number, term in enumerate(lexicon.terms)}),
        any_signal=_any(lexicon.signals) if any(map(_refers_to_group, lexicon.signals)) else None,
        any_negative=_any(lexicon.negatives) if any(
            _refers_to_group(negative) or negative.matcher.search("") for negative in lexicon.negatives
        ) else None,
        waiting=MappingProxyType({gate: tuple(slots) for gate, slots in waiting.items()}),
    )


_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def _refers_to_group(rule: Signal | Negative) -> bool:
    return any(_GROUP_REFERENCE.search(pattern) for pattern in rule.patterns)


def _any(rules: Iterable[Signal | Negative]) -> re.Pattern[str]:
    """All patterns of *rules* as one regex; one that matches everywhere if they cannot be joined."""
    patterns = [pattern for rule in rules for pattern in rule.patterns]
    try:
        return re.compile("|".join(f"(?:{pattern})" for pattern in patterns) or r"(?!)", case_flag(patterns))
    except re.error:  # e.g. two rules with a group of the same name
        return re.compile("")

