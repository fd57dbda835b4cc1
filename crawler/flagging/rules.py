"""What a lexicon holds: trade terms, cues, combinations, look-alikes, clothing words and
how they score. Plain frozen data, made by :mod:`crawler.flagging.lexicon`.

Every rule that searches text carries a ``matcher`` (a regex over folded text) and its
``literals``: text of which every match holds at least one. The flagger tries a rule only
on text that holds one of its literals (found at once for every rule by
:class:`~crawler.flagging.prefilter.Prefilter`); ``None`` means "no literal is known":
the rule is tried on every text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import re
    from collections.abc import Mapping

    from crawler.flagging.prefilter import Prefilter
    from crawler.flagging.spelling import Abbreviations, Typos

STRENGTHS = ("strong", "medium", "weak")
RECORD_FIELDS = ("title", "description", "category", "location")  # the record fields read
TEXT_FIELDS = RECORD_FIELDS[:3]  # where rules look by default, and terms and clothing words


@dataclass(frozen=True, slots=True)
class Term:
    """A word of the trade and its spellings."""

    term: str
    variants: tuple[str, ...]
    meaning: str
    strength: str
    weight: float
    region: str
    needs_clothing_context: bool  # counts only near a clothing word...
    needs_corroboration: bool  # ...and only with a corroborating cue:
    corroborated_by: frozenset[str] | None  # one of these rules (None: [scoring]'s)
    clothing: bool  # can only mean clothing: counts as a clothing word itself
    source: tuple[int | str, ...]
    matcher: re.Pattern[str] = field(compare=False, repr=False)
    literals: tuple[frozenset[str], ...] | None = field(compare=False, repr=False)
    # Also a search keyword for the next crawl (set on terms an investigator accepted).
    search: bool = False
    name: str = field(init=False, compare=False, repr=False)  # its reasons' rule: "term:bal"

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"term:{self.term}")


@dataclass(frozen=True, slots=True)
class Signal:
    """A cue such as a bale quantity, a foreign origin, used condition or a phone number."""

    kind: str
    weight: float
    clothing: bool  # can only be about clothing: counts as a clothing word itself
    patterns: tuple[str, ...]
    fields: tuple[str, ...]
    meaning: str
    source: tuple[int | str, ...]
    matcher: re.Pattern[str] = field(compare=False, repr=False)
    literals: tuple[frozenset[str], ...] | None = field(compare=False, repr=False)
    places: tuple[int, ...] = field(compare=False, repr=False)  # fields, as RECORD_FIELDS indexes
    name: str = field(init=False, compare=False, repr=False)  # its reasons' rule: "signal:weight"

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"signal:{self.kind}")


@dataclass(frozen=True, slots=True)
class Combination:
    """Evidence that weighs more together than apart, e.g. a foreign origin and used condition.

    ``all_of`` holds groups of rule names ("signal:origin", "term:second"); the combination
    counts when every group has a matched rule.
    """

    rule: str
    weight: float
    clothing: bool  # the cues together can only be about clothing
    all_of: tuple[tuple[str, ...], ...]
    meaning: str
    source: tuple[int | str, ...]
    name: str = field(init=False, compare=False, repr=False)  # its reasons' rule

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"combination:{self.rule}")


@dataclass(frozen=True, slots=True)
class Negative:
    """A legal look-alike: its weight lowers the score, ``mask`` hides the text from other rules."""

    rule: str
    weight: float
    mask: bool
    # Says what the item is (a book, a machine, a service): counts in full in the title or
    # category; elsewhere, like other look-alikes, it cannot cancel strong evidence.
    decisive: bool
    # Positive rules that show the look-alike is a cover ("sisa ekspor", new export
    # leftovers, said of worn goods): with one of them found, it counts for nothing.
    contradicted_by: frozenset[str]
    patterns: tuple[str, ...]
    fields: tuple[str, ...]
    meaning: str
    source: tuple[int | str, ...]
    matcher: re.Pattern[str] = field(compare=False, repr=False)
    literals: tuple[frozenset[str], ...] | None = field(compare=False, repr=False)
    places: tuple[int, ...] = field(compare=False, repr=False)  # fields, as RECORD_FIELDS indexes
    name: str = field(init=False, compare=False, repr=False)  # its reasons' rule

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"negative:{self.rule}")


@dataclass(frozen=True, slots=True)
class ContextGroup:
    """Clothing, footwear or textile words; without one, nothing is flagged."""

    group: str
    words: tuple[str, ...]
    matcher: re.Pattern[str] = field(compare=False, repr=False)
    literals: tuple[frozenset[str], ...] | None = field(compare=False, repr=False)
    name: str = field(init=False, compare=False, repr=False)  # its reasons' rule

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"context:{self.group}")


@dataclass(frozen=True, slots=True)
class Scoring:
    strong: float
    medium: float
    weak: float
    without_context_factor: float
    context_window: int
    corroborated_by: frozenset[str]
    # What look-alikes found outside the title and category (and not decisive ones) may take
    # off a listing that holds a strong term: seller text cannot cancel strong evidence.
    negatives_cap: float


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


@dataclass(frozen=True, slots=True, eq=False)
class Lexicon:
    """Everything a lexicon holds, as loaded and checked, and the prefilter over its
    rules' literals. Compared (and hashed) by identity: one loaded lexicon is one object."""

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
    prefilter: Prefilter = field(compare=False, repr=False)
    typos: Typos = field(compare=False, repr=False)  # of strong, unambiguous terms
    abbreviations: Abbreviations = field(compare=False, repr=False)
    emoji: Mapping[int, str] = field(compare=False, repr=False)  # a str.translate table
    # Those emoji standing inside a word ("bal👕pres"): dropped there, not read as words.
    emoji_inside_word: re.Pattern[str] | None = field(compare=False, repr=False)
    # The rules ("term:balpres") whose match is itself a clothing word.
    clothing_rules: frozenset[str] = field(compare=False, repr=False)
    # The strong and medium terms that need no corroboration: each corroborates any term.
    corroborating_terms: frozenset[str] = field(compare=False, repr=False)
