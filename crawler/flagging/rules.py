"""What a lexicon holds: trade terms, cues, combinations, look-alikes, clothing words and
how they score. Plain frozen data, made by :mod:`crawler.flagging.lexicon`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import re
    from collections.abc import Mapping

STRENGTHS = ("strong", "medium", "weak")


@dataclass(frozen=True, slots=True)
class Term:
    """A word of the trade and its spellings."""

    term: str
    variants: tuple[str, ...]
    meaning: str
    strength: str
    weight: float
    region: str
    needs_clothing_context: bool
    source: tuple[int | str, ...]
    matcher: re.Pattern[str] = field(compare=False, repr=False)
    # Also a search keyword for the next crawl (set on terms an investigator accepted).
    search: bool = False


@dataclass(frozen=True, slots=True)
class Signal:
    """A cue such as a bale quantity, a foreign origin, used condition or a phone number."""

    kind: str
    weight: float
    patterns: tuple[str, ...]
    fields: tuple[str, ...]
    meaning: str
    source: tuple[int | str, ...]
    matcher: re.Pattern[str] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Combination:
    """Evidence that weighs more together than apart, e.g. a foreign origin and used condition.

    ``all_of`` holds groups of rule names ("signal:origin", "term:second"); the combination
    counts when every group has a matched rule.
    """

    rule: str
    weight: float
    all_of: tuple[tuple[str, ...], ...]
    meaning: str
    source: tuple[int | str, ...]


@dataclass(frozen=True, slots=True)
class Negative:
    """A legal look-alike: its weight lowers the score, ``mask`` hides the text from other rules."""

    rule: str
    weight: float
    mask: bool
    patterns: tuple[str, ...]
    fields: tuple[str, ...]
    meaning: str
    source: tuple[int | str, ...]
    matcher: re.Pattern[str] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ContextGroup:
    """Clothing, footwear or textile words; without one, nothing is flagged."""

    group: str
    words: tuple[str, ...]
    matcher: re.Pattern[str] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Scoring:
    strong: float
    medium: float
    weak: float
    without_context_factor: float
    context_window: int
    corroborated_by: frozenset[str]


@dataclass(frozen=True, slots=True)
class Fuzzy:
    min_length: int
    max_distance: int
    long_length: int
    long_max_distance: int
    weight_factor: float
    ordinary_words: frozenset[str]


@dataclass(frozen=True, slots=True)
class RecordCues:
    """Weights for what the platform itself states (``condition``, ``imported``)."""

    used_conditions: frozenset[str]
    used_weight: float
    imported_weight: float
    used_imported_weight: float


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything a lexicon holds, as loaded and checked: rules in, nothing compiled yet."""

    version: str
    sources: Mapping[str, str] = field(compare=False)
    terms: tuple[Term, ...]
    signals: tuple[Signal, ...]
    combinations: tuple[Combination, ...]
    negatives: tuple[Negative, ...]
    context: tuple[ContextGroup, ...]
    scoring: Scoring
    fuzzy: Fuzzy
    record: RecordCues
    # Single-word spellings of strong, unambiguous terms, for typo matching.
    fuzzy_forms: tuple[tuple[str, Term], ...] = field(compare=False, repr=False)
