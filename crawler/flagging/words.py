"""Match a list of plain words (a term's spellings, a group of clothing words) in folded text.

A word matches whole, with optional separators between its parts: "kaos kaki" also
matches "kaos-kaki", "kaos🔥kaki" and "kaoskaki". Longer spellings are tried first, so
"bal segel" is found rather than the "bal" in it.

Each spelling starts with the letters of its first part, and only then looks back to check
that no letter or digit stands before it: a regex that opens with a plain character lets
Python's ``re`` skip ahead to where that character occurs, several times faster than one
that opens with a look-behind.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from crawler.flagging.textnorm import WORD, fold

if TYPE_CHECKING:
    from collections.abc import Iterable

_SEPARATOR = r"[\W_]*"


def spellings(words: Iterable[str]) -> list[list[str]]:
    """Each word folded and split into its parts (letters and digits), longest first."""
    parts = {tuple(WORD.findall(fold(word))) for word in words}
    return sorted((list(p) for p in parts if p), key=lambda p: (-len("".join(p)), p))


def words_matcher(words: Iterable[str]) -> re.Pattern[str]:
    """The regex finding any of ``words`` as whole words in folded text."""
    alternatives = [_word_start(parts) for parts in spellings(words)]
    return re.compile(rf"(?:{'|'.join(alternatives)})(?![^\W_])")


def _word_start(parts: list[str]) -> str:
    """A spelling's *parts* (letters and digits), with separators between them, found only
    where no letter or digit stands before the first: checked once its letters matched, so
    that the same letters inside another word fail on the first letter that differs."""
    first, *rest = map(re.escape, parts)
    boundary = rf"(?<![^\W_].{{{len(parts[0])}}})"
    return first + boundary + "".join(_SEPARATOR + part for part in rest)


def word_literals(words: Iterable[str]) -> tuple[frozenset[str], ...]:
    """What a match of :func:`words_matcher` holds: one alternative per spelling, its parts
    ("bal" and "segel" for "bal segel"); parts of one or two characters, found in almost
    any text, only when the spelling has no longer one ("t" of "t-shirt" is left out)."""
    alternatives = []
    for parts in spellings(words):
        long_parts = frozenset(part for part in parts if len(part) > 2)
        alternatives.append(long_parts or frozenset([max(parts, key=len)]))
    return tuple(dict.fromkeys(alternatives))


def reversed_spellings(words: Iterable[str], min_length: int = 6) -> tuple[str, ...]:
    """Single-word spellings of at least ``min_length`` letters written backwards ("serplab"
    for "balpres", a seller's trick: "read it from the back")."""
    return tuple(dict.fromkeys(
        folded[::-1] for word in words
        if (folded := fold(word)).isalpha() and len(folded) >= min_length
        and folded[::-1] != folded))


def split_spellings(words: Iterable[str], min_length: int = 6) -> tuple[str, ...]:
    """Single-word spellings of at least ``min_length`` letters split once inside, each
    side two letters or more ("kar ungan" for "karungan"): the matcher then also finds the
    word with a dot, a hyphen, an emoji or a space put inside it ("kar.ungan")."""
    return tuple(dict.fromkeys(
        f"{folded[:cut]} {folded[cut:]}" for word in words
        if (folded := fold(word)).isalpha() and len(folded) >= min_length
        for cut in range(2, len(folded) - 1)))
