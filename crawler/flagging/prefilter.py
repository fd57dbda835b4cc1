"""Which rules can match a text: a required-literal prefilter.

Each rule declares its *literals*: alternatives, each a set of text that every match of
that alternative holds ("bal" and "segel" for the term spelling "bal segel"; "kg" alone
for a weight in kilos). One pass of an Aho-Corasick automaton (pyahocorasick) over a
folded text finds every literal in it, and so every rule worth trying; the flagger runs a
rule's regex only then. A rule without literals is always tried. Trying every rule
instead gives the same verdicts, only slower: that is the flagger's reference mode
(``flag(..., prefilter=False)``), which the tests hold this one to.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import ahocorasick  # type: ignore[import-not-found]  # no type stubs

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

Alternatives = tuple[frozenset[str], ...]  # any one alternative; each, all of its literals
KINDS = ("term", "signal", "negative", "context")  # the kinds of rule that search text

# The rules worth trying, by kind: their numbers among the rules of that kind, in order.
Candidates = dict[str, tuple[int, ...]]


class Prefilter:
    """The rules that can match a text, from the literals each one needs. A rule is known
    by its kind (one of :data:`KINDS`) and its number among the rules of that kind."""

    def __init__(self, rules: Mapping[str, Iterable[Alternatives | None]]):
        always: dict[str, set[int]] = {kind: set() for kind in KINDS}
        needs: dict[frozenset[str], set[tuple[str, int]]] = {}
        for kind, alternatives_of_rules in rules.items():
            for number, alternatives in enumerate(alternatives_of_rules):
                if alternatives is None:
                    always[kind].add(number)
                for alternative in alternatives or ():
                    needs.setdefault(alternative, set()).add((kind, number))
        self.every_rule: Candidates = {
            kind: tuple(range(len(list(rules.get(kind, ()))))) for kind in KINDS}
        self.always = {kind: frozenset(numbers) for kind, numbers in always.items()}
        literals = sorted({literal for alternative in needs for literal in alternative})
        number_of = {literal: number for number, literal in enumerate(literals)}
        # each alternative as the numbers of its literals, with the rules it opens, filed
        # under the first of its literals (a text without that one cannot hold it)
        self.alternatives: dict[int, list[tuple[frozenset[int], tuple[tuple[str, int], ...]]]] = {}
        for alternative, keys in needs.items():
            numbers = frozenset(map(number_of.__getitem__, alternative))
            self.alternatives.setdefault(min(numbers), []).append((numbers, tuple(keys)))
        self.automaton = ahocorasick.Automaton()
        for number, literal in enumerate(literals):
            self.automaton.add_word(literal, number)
        if literals:
            self.automaton.make_automaton()
        # Texts differ, the sets of literals in them much less: each set is worked out once.
        self.rules_opened_by = lru_cache(maxsize=50_000)(self._rules_opened_by)

    def candidates(self, text: str) -> Candidates:
        """The rules that may match ``text``."""
        if not text or not self.alternatives:
            return self.rules_opened_by(frozenset())
        return self.rules_opened_by(frozenset([number for _, number in self.automaton.iter(text)]))

    def candidates_by_field(self, text: str, starts: Sequence[int],
                            ends: Sequence[int]) -> list[Candidates]:
        """The rules that may match each field of ``text``, which start at ``starts`` and
        end at ``ends``."""
        if not self.alternatives:
            return [self.rules_opened_by(frozenset()) for _ in starts]
        iterate = self.automaton.iter
        return [self.rules_opened_by(frozenset([number for _, number in iterate(text, start, end)]))
                for start, end in zip(starts, ends, strict=True)]

    def _rules_opened_by(self, found: frozenset[int]) -> Candidates:
        opened = {kind: set(numbers) for kind, numbers in self.always.items()}
        for literal in found:
            for alternative, keys in self.alternatives.get(literal, ()):
                if alternative <= found:
                    for kind, number in keys:
                        opened[kind].add(number)
        return {kind: tuple(sorted(numbers)) for kind, numbers in opened.items()}
