"""Build the regex that finds a list of words (a term's spellings, a group of clothing words).

A word matches whole, in folded text, with optional separators between its parts: "kaos
kaki" also matches "kaos-kaki" and "kaoskaki". The regex is written for Python's engine:

- each alternative starts with its first character and only then looks back for a word
  boundary, so that the engine can skip ahead to the characters a match can start with;
- alternatives that start alike share their start (letter by letter, like a trie), so
  that at each position the engine tries one branch per character, not every word.

Sharing keeps the meaning of the plain alternation exactly: an alternative moves ahead
of others only when they cannot match the same first character, so the first
alternative that matches is the same.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from crawler.flagging.textnorm import WORD, fold

if TYPE_CHECKING:
    from collections.abc import Iterable

_SEPARATOR = r"[\W_]*"
_BOUNDARY_BEHIND = r"(?<![^\W_].)"  # after a word's first character: no letter or digit before it
_BOUNDARY_AHEAD = r"(?![^\W_])"

Tokens = tuple[str, ...]


def words_matcher(words: Iterable[str]) -> re.Pattern[str]:
    """Match any of *words* as whole words in folded text; inner spaces or hyphens are optional.

    Longer spellings come first, so "bal segel" is found rather than the "bal" in it.
    """
    forms = {fold(word) for word in words}
    spellings = sorted(_tokens(WORD.findall(form)) for form in forms)
    spellings.sort(key=lambda tokens: len("".join(tokens)), reverse=True)
    return re.compile(_alternation(spellings) + _BOUNDARY_AHEAD)


def required_parts(words: Iterable[str]) -> list[frozenset[str]]:
    """Sets of text of which every match of ``words_matcher(words)`` holds one: the first
    parts of the spellings, and their last parts."""
    spellings = [WORD.findall(fold(word)) for word in words]
    firsts, lasts = (
        frozenset(parts[0] for parts in spellings),
        frozenset(parts[-1] for parts in spellings),
    )
    return [firsts] if firsts == lasts else [firsts, lasts]


def _tokens(parts: list[str]) -> Tokens:
    """The regex of one spelling, token by token: characters, separators and the boundary."""
    tokens = []
    for number, part in enumerate(parts):
        if number:
            tokens.append(_SEPARATOR)
        tokens.extend(re.escape(char) for char in part)
    tokens.insert(1, _BOUNDARY_BEHIND)
    return tuple(tokens)


def _alternation(alternatives: list[Tokens]) -> str:
    """A regex matching what the first of *alternatives* (in order) that matches would."""
    branches = [_branch(key, rests) for key, rests in _groups(alternatives)]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _groups(alternatives: list[Tokens]) -> list[tuple[str | None, list[Tokens]]]:
    """Alternatives grouped by their first token, keeping their order where it matters.

    An alternative joins the last group with its first token only if it cannot match
    where any alternative it would move ahead of matches: their first characters differ.
    """
    groups: list[tuple[str | None, list[Tokens]]] = []
    for tokens in alternatives:
        key, first = (tokens[0] if tokens else None), _first_characters(tokens)
        target = None
        for number in range(len(groups) - 1, -1, -1):
            if key is not None and groups[number][0] == key:
                target = number
                break
            if not all(_exclusive(first, _first_characters(other)) for other in groups[number][1]):
                break
        if target is None:
            groups.append((key, [tokens]))
        else:
            groups[target][1].append(tokens)
    return groups


def _branch(key: str | None, alternatives: list[Tokens]) -> str:
    """One branch: the shared first token, then the alternation of what follows it."""
    if key is None:
        return ""
    rests = [tokens[1:] for tokens in alternatives]
    prefix = key
    # The boundary check that every rest starts with is shared too (it matches no text).
    while all(rest[:1] == (_BOUNDARY_BEHIND,) for rest in rests):
        prefix += _BOUNDARY_BEHIND
        rests = [rest[1:] for rest in rests]
    return prefix + _alternation(rests)


def _first_characters(tokens: Tokens) -> frozenset[str] | None:
    """What the first character matched can be (a separator counts as one): ``None`` if
    anything, for an alternative that matches empty text."""
    if not tokens:
        return None
    if tokens[0] == _SEPARATOR:  # a separator, or the character that follows it
        return frozenset((_SEPARATOR, tokens[1]))
    return frozenset((tokens[0],))


def _exclusive(first: frozenset[str] | None, other: frozenset[str] | None) -> bool:
    return first is not None and other is not None and first.isdisjoint(other)
