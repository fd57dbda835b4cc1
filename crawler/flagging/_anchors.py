"""Find the literal text that every match of a regular expression must contain.

The flagger tries a rule's regex only on text that holds one of its required literals
(its *anchors*), and only where a match can start. Both are read from the parsed pattern
(``re._parser``): a run of literal characters is required unless it sits in an optional
part; of an alternation, one required literal of each branch.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

_parser = re._parser  # type: ignore[attr-defined]  # the regex parser
_constants = re._constants  # type: ignore[attr-defined]
_LITERAL, _SUBPATTERN, _ATOMIC_GROUP, _BRANCH, _IN = (
    _constants.LITERAL,
    _constants.SUBPATTERN,
    _constants.ATOMIC_GROUP,
    _constants.BRANCH,
    _constants.IN,
)
_REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT)
_ZERO_WIDTH = (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT)
_EMPTY = frozenset([""])
_MAX_LITERALS = 64  # joined literal alternatives are given up beyond this many
_MAX_STARTS = 8  # a regex with more possible starts is searched for instead
_UPPER_OUTSIDE_ESCAPE = re.compile(r"(?<!\\)[A-Z]")


def case_flag(patterns: Iterable[str]) -> re.RegexFlag:
    """``re.IGNORECASE`` only for patterns with capital letters: the text they are matched
    against is folded to lower case, and case-blind matching is much slower."""
    return (
        re.IGNORECASE
        if any(_UPPER_OUTSIDE_ESCAPE.search(pattern) for pattern in patterns)
        else re.NOFLAG
    )


def required_literals(patterns: Iterable[str], flags: int = 0) -> frozenset[str] | None:
    """Literals of which every match of any of *patterns* contains one, or ``None`` if unknown.

    Found from the parsed patterns: a run of literal characters is required unless it
    sits in an optional part; of an alternation, one required literal of each branch.
    """
    found: set[str] = set()
    for pattern in patterns:
        required, _ = anchors(pattern, flags)
        if not required:
            return None
        found |= required[0]
    return frozenset(found)


def anchors(pattern: str, flags: int) -> tuple[list[frozenset[str]], tuple[str, ...] | None]:
    """The sets of literals of which every match contains one, most selective first, and
    the strings that every match starts with (``None`` when unknown or not worth looking for)."""
    try:
        items = _parser.parse(pattern, flags).data
    except (re.error, RecursionError):  # pragma: no cover - the patterns were compiled already
        return [], None
    ignorecase = bool(flags & re.IGNORECASE)
    required = sorted(set(_required(items, ignorecase)), key=_selectivity, reverse=True)
    return required, _starts(items, ignorecase)


def _starts(items: Iterable[tuple[Any, Any]], ignorecase: bool) -> tuple[str, ...] | None:
    heads = _heads(items, ignorecase)
    if not heads or "" in heads:
        return None
    shortest = {
        head
        for head in heads
        if not any(other != head and head.startswith(other) for other in heads)
    }
    # A single letter occurs too often to be worth looking for; a digit or a sign less so.
    if len(shortest) > _MAX_STARTS or any(len(head) < 2 and head.isalpha() for head in shortest):
        return None
    return tuple(sorted(shortest))


def _heads(items: Iterable[tuple[Any, Any]], ignorecase: bool) -> frozenset[str] | None:
    """Strings that every match of a parsed sequence starts with ("" among them: unknown)."""
    run = _EMPTY
    for op, value in items:
        exact = _exact(op, value, ignorecase)
        joined = _join(run, _item_heads(op, value, ignorecase) if exact is None else exact)
        if joined is None:
            return run
        run = joined
        if exact is None:
            break
    return run


def _item_heads(op: Any, value: Any, ignorecase: bool) -> frozenset[str] | None:
    if op is _SUBPATTERN:
        _, add_flags, del_flags, inner = value
        return _heads(inner, _case_blind(ignorecase, add_flags, del_flags))
    if op in _REPEATS and value[0] >= 1:
        return _heads(value[2], ignorecase)
    if op is _BRANCH:
        branches = [_heads(branch, ignorecase) for branch in value[1]]
        if all(branch and "" not in branch for branch in branches):
            return frozenset().union(*branches)  # type: ignore[arg-type]
    return None


def _join(heads: frozenset[str], tails: frozenset[str] | None) -> frozenset[str] | None:
    """Every head followed by every tail; ``None`` if the tails are unknown or too many."""
    if tails is None or len(heads) * len(tails) > _MAX_LITERALS:
        return None
    return frozenset(head + tail for head in heads for tail in tails)


def _required(items: Iterable[tuple[Any, Any]], ignorecase: bool) -> list[frozenset[str]]:
    """Sets of literals of a parsed sequence: every match contains a member of each set.

    Neighbouring parts that match one of a few fixed strings join into longer literals:
    ``kg|kilo`` gives {"kg", "kilo"}, ``impor(?:t)?`` gives {"impor", "import"}.
    """
    required: list[frozenset[str]] = []
    run = _EMPTY
    for op, value in items:
        exact = _exact(op, value, ignorecase)
        if exact is not None and len(run) * len(exact) <= _MAX_LITERALS:
            run = frozenset(head + tail for head in run for tail in exact)
            continue
        if "" not in run:
            required.append(run)
        run = exact or _EMPTY
        if exact is not None:
            continue
        if op is _SUBPATTERN:
            _, add_flags, del_flags, inner = value
            required += _required(inner, _case_blind(ignorecase, add_flags, del_flags))
        elif op is _ATOMIC_GROUP:
            required += _required(value, ignorecase)
        elif op in _REPEATS and value[0] >= 1:
            required += _required(value[2], ignorecase)
        elif op is _BRANCH:
            branches = [_best(_required(branch, ignorecase)) for branch in value[1]]
            known = [branch for branch in branches if branch is not None]
            if len(known) == len(branches):
                required.append(frozenset().union(*known))
    if "" not in run:
        required.append(run)
    return required


def _exact(op: Any, value: Any, ignorecase: bool) -> frozenset[str] | None:
    """The few strings that one parsed item can match, or ``None`` (many, unknown or case-blind)."""
    if op is _LITERAL:
        return None if ignorecase else frozenset(chr(value))
    if op in _ZERO_WIDTH:
        return _EMPTY
    if op is _SUBPATTERN:
        _, add_flags, del_flags, inner = value
        return _exact_sequence(inner, _case_blind(ignorecase, add_flags, del_flags))
    if op is _BRANCH:
        branches = [_exact_sequence(branch, ignorecase) for branch in value[1]]
        if any(branch is None for branch in branches):
            return None
        return frozenset().union(*branches)  # type: ignore[arg-type]
    if op is _IN and not ignorecase and all(kind is _LITERAL for kind, _ in value):
        return frozenset(chr(code) for _, code in value)
    if op in _REPEATS and (value[0], value[1]) in ((0, 1), (1, 1)):
        inner = _exact_sequence(value[2], ignorecase)
        return None if inner is None else inner | _EMPTY if value[0] == 0 else inner
    return None


def _exact_sequence(items: Iterable[tuple[Any, Any]], ignorecase: bool) -> frozenset[str] | None:
    strings = _EMPTY
    for op, value in items:
        exact = _exact(op, value, ignorecase)
        if exact is None or len(strings) * len(exact) > _MAX_LITERALS:
            return None
        strings = frozenset(head + tail for head in strings for tail in exact)
    return strings


def _case_blind(ignorecase: bool, add_flags: int, del_flags: int) -> bool:
    return (ignorecase or bool(add_flags & re.IGNORECASE)) and not del_flags & re.IGNORECASE


def _best(required: list[frozenset[str]]) -> frozenset[str] | None:
    return max(required, key=_selectivity, default=None)


def _selectivity(literals: frozenset[str]) -> tuple[int, bool, int]:
    """How rarely text holds one of *literals*: the longer the shortest literal, the rarer,
    then with punctuation (rarer than letters and digits), then the fewer."""
    return (
        min(map(len, literals)),
        all(not literal.isalnum() for literal in literals),
        -len(literals),
    )
