"""Words a seller misspelt or shortened on purpose, so that a keyword block misses them.

- :class:`Typos`: a word a typo or two away from a strong trade term ("ballpers",
  "blapres"), measured as optimal string alignment distance (rapidfuzz), guarded by a list
  of ordinary words that sit as close ("balpen", "express").
- :class:`Abbreviations`: a listed word disguised: written without some of its vowels,
  the way Indonesian chat shortens words ("bks"/"bkas" for *bekas*, used; "imprt" for
  *import*), backwards ("sakeb ropmi", read from the back), with its inner letters
  scrambled ("kraung", first and last letters kept), or as a short form the lexicon lists
  ("brg", "lr ngr"), with its letters doubled ("karrung", "bekass"), or run together with
  other listed or clothing words the way hashtags are written ("karungbajubekas"). A short
  form keeps the first letter and drops one inner vowel or all of them (dropping some
  makes ordinary words: "pakan", feed, from "pakaian"); no listed ordinary word is read
  as a disguise ("kurang", less, has the letters of *karung*).

Both are pure functions of a word; each distinct word is worked out once and remembered.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import ahocorasick  # type: ignore[import-not-found]  # no type stubs
from rapidfuzz.distance import OSA

from crawler.flagging.textnorm import LEET, WORD, fold, fold_chunk, spaced_letters, split_by_spaces
from crawler.flagging.words import words_matcher

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

VOWELS = frozenset("aeiou")
MIN_JOINED, MAX_JOINED = 8, 40  # the length of a run of words written as one that is cut
MIN_HEAD, MIN_TAIL = 6, 4  # a run's one joinable word, and a word of its own after it
_DOUBLED = re.compile(r"([a-z])\1")
_MEMORY = 200_000  # distinct words remembered before the memory starts afresh


class Typos:
    """Find the words that are typos of strong terms' single-word spellings."""

    def __init__(self, forms: Iterable[tuple[str, int]], *, min_length: int,
                 max_distance: int, long_length: int, long_max_distance: int,
                 ordinary_words: Iterable[str]):
        self.forms = tuple(forms)  # (spelling, its term's number)
        self.min_length, self.long_length = min_length, long_length
        self.max_distance, self.long_max_distance = max_distance, long_max_distance
        self.ordinary_words = frozenset(ordinary_words)
        reach = max(max_distance, long_max_distance)
        self.lengths = frozenset(length for form, _ in self.forms
                                 for length in range(len(form) - reach, len(form) + reach + 1)
                                 if length >= min_length)
        self.letters = frozenset("".join(form for form, _ in self.forms))
        self.spelt = frozenset(form for form, _ in self.forms)
        self._checked: set[str] = set()  # words worked out...
        self._close: dict[str, tuple[int, ...]] = {}  # ...and those close to a term

    def in_texts(self, *texts: str) -> list[tuple[int, str]]:
        """``(term number, word)`` for each typo in ``texts``, in the order of the words."""
        words = [word for text in texts for word in WORD.findall(text)]
        unchecked = set(words).difference(self._checked)
        if unchecked:
            if len(self._checked) > _MEMORY:
                self._checked.clear()
                self._close.clear()
            for word in unchecked:
                self._checked.add(word)
                if close := self.terms_of(word):
                    self._close[word] = close
        if self._close.keys().isdisjoint(words):
            return []
        return [(number, word) for word in words for number in self._close.get(word, ())]

    def terms_of(self, word: str) -> tuple[int, ...]:
        """The terms *word* is a typo of, in the order of their first close spelling (a
        spelling itself is no typo: the term's own regex finds it)."""
        if len(word) not in self.lengths or word in self.ordinary_words or word in self.spelt:
            return ()
        limit = self.long_max_distance if len(word) >= self.long_length else self.max_distance
        if len(set(word) - self.letters) > limit:  # each edit brings one new letter at most
            return ()
        close = (number for form, number in self.forms
                 if abs(len(form) - len(word)) <= limit
                 and OSA.distance(word, form, score_cutoff=limit) <= limit)
        return tuple(dict.fromkeys(close))


class Abbreviations:
    """Write out the disguised forms of a few words: short forms with vowels dropped, the
    word backwards ("sakeb" for *bekas*), its inner letters scrambled ("kmejea" for
    *kemeja*, first and last letters kept), and the short forms the lexicon lists ("brg"
    for *barang*, "lr ngr" for *luar negeri*)."""

    def __init__(self, words: Iterable[str], ordinary_words: Iterable[str],
                 forms: Mapping[str, str] | None = None, joinable: Iterable[str] = ()):
        self.ordinary = frozenset(ordinary_words)
        forms = dict(forms or {})
        self.full_word: dict[str, str] = {
            short: word for short, word in forms.items() if " " not in short}
        self.scrambled: dict[tuple[str, str, str], str] = {}
        self.undoubled: dict[str, str] = {}
        words = tuple(words)
        for word in words:
            disguises = [*vowel_dropped(word), word[::-1] if len(word) >= 4 else word]
            for short in disguises:
                if short != word and short not in self.ordinary:
                    self.full_word.setdefault(short, word)
            if len(word) >= 5:
                self.scrambled.setdefault(scrambled_key(word), word)
            self.undoubled.setdefault(undoubled(word), word)
        # Words a hashtag-like run of words is cut into ("karungbajubekas"): the listed
        # words, the other words given (clothing words) and the ordinary ones ("bekasi", a
        # city, is no "bekas" and an "i"), three letters or more.
        self.joinable = frozenset(word for word in (*words, *joinable, *self.ordinary)
                                  if word.isalpha() and len(word) >= 3)
        self.longest_joinable = max(map(len, self.joinable), default=0)
        # Phrases ("lr ngr") are rare: one pass of an automaton tells whether to look.
        self.phrases = {short: word for short, word in forms.items() if " " in short}
        self.phrase_matcher = words_matcher(self.phrases) if self.phrases else None
        self.automaton = ahocorasick.Automaton()
        for short in self.phrases:
            self.automaton.add_word(short, short)
        if self.phrases:
            self.automaton.make_automaton()
        self.chunk = lru_cache(maxsize=200_000)(self._chunk)
        self.read_chunk = lru_cache(maxsize=200_000)(self._read_chunk)

    def expand(self, text: str) -> str:
        """*text* (folded) with each disguised word written out in full."""
        return self.phrases_written(self.expand_words(text))

    def read(self, text: str) -> str:
        """*text* folded, each disguised word written out: ``expand(fold(text))``, in one
        step (remembered) for each whitespace-free chunk of *text*."""
        chunks = [self.read_chunk(chunk) for chunk in text.split()]
        if split_by_spaces(spaced_letters(chunks)):  # "b a l p r e s": folded as one text
            return self.expand(fold(text))
        return self.phrases_written(" ".join([read for _, read in chunks if read]))

    def _read_chunk(self, chunk: str) -> tuple[str, str]:
        """:func:`~crawler.flagging.textnorm.fold_chunk`'s letters of *chunk*, and its
        folded text expanded."""
        letters, folded = fold_chunk(chunk)
        return letters, self.expand_words(folded) if folded else ""

    def expand_words(self, text: str) -> str:
        """*text* (folded) with each disguised word written out, phrases apart."""
        if self.full_word or self.scrambled:
            return " ".join([self.chunk(chunk) for chunk in text.split(" ")])
        return text

    def phrases_written(self, text: str) -> str:
        """*text* with each listed short phrase ("lr ngr") written out."""
        if self.phrase_matcher is not None and next(self.automaton.iter(text), None) is not None:
            text = self.phrase_matcher.sub(lambda match: self.phrases[match.group()], text)
        return text

    def _chunk(self, chunk: str) -> str:
        if chunk.isalnum():
            return self.word(chunk)
        if "-" in chunk and chunk not in self.ordinary:
            # a word cut in syllables ("im-por", "se-ken") that, joined, is a listed word
            joined = chunk.replace("-", "")
            if joined.isalpha() and " " not in (written := self.word(joined)) \
                    and (written != joined or joined in self.joinable):
                return written
        return WORD.sub(lambda match: self.word(match.group()), chunk)

    def spells_a_word(self, word: str) -> bool:
        """Is *word* (folded) a known word (a term's, a clothing word, an ordinary one) or a
        listed word disguised?"""
        return word in self.ordinary or self.word(word) != word

    def word(self, word: str) -> str:
        """The word *word* disguises, or *word*."""
        if word in self.full_word:
            return self.full_word[word]
        if word[0] in LEET and len(word) >= 4 and word[1:].isalpha():
            # The folder keeps a leading digit a number ("3second"); as a listed word's
            # first letter it was leet: "1mport" (from "1MP0RT") is "import".
            spelt = LEET[word[0]] + word[1:]
            if spelt in self.joinable:
                return spelt
            if (written := self.word(spelt)) != spelt:
                return written
        if len(word) < 5 or word in self.ordinary:
            return word
        if found := self.scrambled.get(scrambled_key(word)):
            return found
        if (single := undoubled(word)) != word and single in self.undoubled:
            return self.undoubled[single]  # "karrung", "bekass"
        if len(word) >= MIN_JOINED and (parts := self.cut(word)):
            return " ".join(parts)
        return word

    def cut(self, word: str) -> list[str] | None:
        """*word* as two or more joinable words run together, longest first, or None. A
        hashtag often ends in a word of its own, a place or a price word
        ("bekasimporbatam", "balpresmurah"): after two joinable words, or one of
        ``MIN_HEAD`` letters, the rest is a word of its own if it is ``MIN_TAIL`` letters."""
        if not word.isalpha() or len(word) > MAX_JOINED:
            return None
        cuts: list[list[str] | None] = [[]] + [None] * len(word)
        for end in range(3, len(word) + 1):
            for start in range(max(0, end - self.longest_joinable), end - 2):
                before = cuts[start]
                if before is not None and word[start:end] in self.joinable:
                    cuts[end] = [*before, word[start:end]]
                    break
        parts = cuts[-1]
        if parts is not None:
            return parts if len(parts) >= 2 else None
        for end in range(len(word) - MIN_TAIL, 2, -1):
            head = cuts[end]
            if head and (len(head) >= 2 or len(head[0]) >= MIN_HEAD):
                return [*head, word[end:]]
        return None


def undoubled(word: str) -> str:
    """*word* with each doubled letter written once ("karrung" → "karung")."""
    return _DOUBLED.sub(r"\1", word)


def scrambled_key(word: str) -> tuple[str, str, str]:
    """What a word with its inner letters scrambled keeps: first, last, and its letters."""
    return word[0], word[-1], "".join(sorted(word))


def vowel_dropped(word: str) -> list[str]:
    """The short forms of *word* without one of its inner vowels (neither the first letter
    nor the last), or without all of them, that are still four letters long or three
    consonants: "bekas" gives "bkas", "beks" and "bks"; "korea" gives "krea"."""
    if not word.isalpha():
        return []
    last = len(word) - 1
    inner_vowels = [index for index, letter in enumerate(word)
                    if letter in VOWELS and 0 < index < last]
    drops: list[tuple[int, ...]] = [(index,) for index in inner_vowels]
    if len(inner_vowels) > 1:
        drops.append(tuple(inner_vowels))
    forms = ["".join(letter for index, letter in enumerate(word) if index not in dropped)
             for dropped in drops]
    return [form for form in dict.fromkeys(forms)
            if len(form) >= 4 or (len(form) == 3 and not VOWELS & set(form))]
