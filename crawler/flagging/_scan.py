"""Fold a listing's text fields and find which of the lexicon's rules can match them.

A field is folded chunk by chunk (:mod:`crawler.flagging.textnorm`), and each distinct chunk is
worked out once: the gates it opens (:mod:`crawler.flagging._index`) and the typos of
strong terms in it ("ballpers", "blapres"). A field's gates give its
:class:`~crawler.flagging._index.Plan`: the rules worth trying on it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from rapidfuzz.distance import OSA

from crawler.flagging._index import ALWAYS, HAS_TYPOS, RECORD_FIELDS, Index, Plan
from crawler.flagging.textnorm import WORD, fold, fold_chunk, fold_together, prepared_chunks

if TYPE_CHECKING:
    from crawler.flagging.rules import RuleSet, Term

TEXT_FIELDS = RECORD_FIELDS[:3]  # the fields rules look at by default
_REMEMBERED = 100_000  # entries per cache and generation (see Remembered)

Key = TypeVar("Key")
Value = TypeVar("Value")


class Remembered(dict[Key, Value], Generic[Key, Value]):
    """A dict that works out a missing value on first use, and keeps at most two
    generations of *limit* entries: when one is full it becomes the older one, whose
    entries move back to the new generation as they are used again."""

    def __init__(self, work: Callable[[Key], Value], limit: int = _REMEMBERED) -> None:
        super().__init__()
        self.work, self.limit = work, limit
        self.older: dict[Key, Value] = {}

    def __missing__(self, key: Key) -> Value:
        value = self.older.pop(key) if key in self.older else self.work(key)
        if len(self) >= self.limit:
            self.older = dict(self)
            self.clear()
        self[key] = value
        return value


class Chunk(NamedTuple):
    """One whitespace-separated chunk of text: folded, the gates it opens, the typos in it."""

    text: str
    gates: int
    # Typos of strong terms among its words, in order: (term, word).
    typos: tuple[tuple[Term, str], ...]


class Field(NamedTuple):
    """The folded text of one field, the gates it opens and the rules worth trying on it."""

    text: str
    gates: int
    typos: tuple[tuple[Term, str], ...]
    plan: Plan


class Scanner:
    """Scans text against one lexicon, remembering what it worked out."""

    def __init__(self, lexicon: RuleSet, index: Index) -> None:
        self.lexicon, self.index = lexicon, index
        self.chunks: Remembered[str, Chunk] = Remembered(self._new_chunk)  # as found in text
        self.folded: Remembered[str, Chunk] = Remembered(self._folded_chunk)
        self.repeated: Remembered[str, Field] = Remembered(lambda value: self.scan(fold(value)))
        self.plans: Remembered[int, Plan] = Remembered(self.index.plan)

    def fields(self, record: Mapping[str, Any]) -> tuple[Field, ...]:
        """The record fields the lexicon looks at (:data:`RECORD_FIELDS`), folded and
        scanned; those with few distinct values (a category path, a city) once per value."""
        get = record.get
        title, description, category, location = (
            get("title"),
            get("description"),
            get("category"),
            get("location"),
        )
        return (
            self.field("" if title is None else str(title)),
            self.field("" if description is None else str(description)),
            self.repeated["" if category is None else str(category)],
            self.repeated["" if location is None else str(location)],
        )

    def field(self, text: str) -> Field:
        """Fold and scan *text*, chunk by chunk where it can."""
        chunks, apart = prepared_chunks(text)
        if not apart:
            return self.scan(" ".join(fold_together(chunks)))
        cache = self.chunks
        return self._field([cache[chunk] for chunk in chunks])

    def scan(self, text: str) -> Field:
        """Scan folded *text*."""
        cache = self.folded
        return self._field([cache[chunk] for chunk in text.split()], text)

    def _field(self, chunks: list[Chunk], text: str | None = None) -> Field:
        if text is None:
            text = " ".join([chunk.text for chunk in chunks])
        gates = ALWAYS
        for chunk in chunks:
            gates |= chunk.gates
        for literal, opened in self.index.spaced:
            if literal in text:
                gates |= opened
        typos = tuple(typo for chunk in chunks for typo in chunk.typos) if gates & HAS_TYPOS else ()
        return Field(text, gates, typos, self.plans[gates])

    def _new_chunk(self, chunk: str) -> Chunk:
        return self.folded[fold_chunk(chunk)]

    def _folded_chunk(self, chunk: str) -> Chunk:
        """The gates a folded chunk opens and the typos in it."""
        literals, gates = self.index.literals, 0
        # A literal is listed under its first two characters (all of a one-character one).
        for key in literals.keys() & {*map(operator.add, chunk, chunk[1:]), *chunk}:
            for literal, opened in literals[key]:
                if literal in chunk:
                    gates |= opened
        typos = tuple(
            (term, word) for word in WORD.findall(chunk) for term in self._typo_terms(word)
        )
        return Chunk(chunk, gates | HAS_TYPOS if typos else gates, typos)

    def _typo_terms(self, word: str) -> list[Term]:
        """Strong, unambiguous terms that *word* is a typo of, guarded against ordinary
        words; each term once, in the order of its first close form."""
        fuzzy, index = self.lexicon.fuzzy, self.index
        # A word too long or too short for any form cannot be within the allowed edits.
        if (
            len(word) not in index.fuzzy_lengths
            or len(word) < fuzzy.min_length
            or word in fuzzy.ordinary_words
        ):
            return []
        limit = fuzzy.long_max_distance if len(word) >= fuzzy.long_length else fuzzy.max_distance
        # Each edit brings in at most one character that the form lacks.
        if len(set(word) - index.fuzzy_letters) > limit:
            return []
        close = (
            term
            for form, term in self.lexicon.fuzzy_forms
            if OSA.distance(word, form, score_cutoff=limit) <= limit
        )
        return list(dict.fromkeys(close))
