"""Load the lexicon (``crawler/data/lexicon.toml``) into precompiled, immutable matchers.

The lexicon is data: trade words ([[term]]), cues ([[signal]]), cues that weigh more
together ([[combination]]), legal look-alikes ([[negative]]) and clothing words
([[context]]). An investigator can pass an extra file that adds entries or replaces a term
or negative rule of the same name.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from crawler.flagging.prefilter import Prefilter
from crawler.flagging.rules import (
    RECORD_FIELDS,
    STRENGTHS,
    TEXT_FIELDS,
    Combination,
    ContextGroup,
    Fuzzy,
    Lexicon,
    Negative,
    RecordCues,
    Scoring,
    Signal,
    Term,
)
from crawler.flagging.spelling import Abbreviations, Typos
from crawler.flagging.textnorm import fold
from crawler.flagging.words import reversed_spellings, split_spellings, word_literals, words_matcher

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file, the line and the problem."""


# --- reading one file ---------------------------------------------------------------

_TERM_FIELDS = {
    "term",
    "variants",
    "meaning",
    "strength",
    "weight",
    "region",
    "needs_clothing_context",
    "needs_corroboration",
    "corroborated_by",
    "clothing",
    "source",
    "search",
}
_SIGNAL_FIELDS = {"kind", "weight", "patterns", "literals", "fields", "meaning", "source",
                  "clothing"}
_COMBINATION_FIELDS = {"rule", "weight", "all_of", "meaning", "source", "clothing"}
_NEGATIVE_FIELDS = {"rule", "weight", "mask", "decisive", "contradicted_by", "patterns",
                    "literals", "fields", "meaning", "source"}
_CONTEXT_FIELDS = {"group", "words"}
_ENTRY_TABLES = ("term", "signal", "combination", "negative", "context")
_BASE_TABLES = {"meta", "scoring", "fuzzy", "record", "abbreviations", "emoji", *_ENTRY_TABLES}
_EXTRA_TABLES = {"meta", *_ENTRY_TABLES}
_TOML_LINE = re.compile(r"at line (\d+)")
_WORDLIKE = re.compile(r"[^\W_]")


class _File:
    """The text of one lexicon file, to point error messages at a line."""

    def __init__(self, label: str, text: str) -> None:
        self.label = label
        self.lines = text.splitlines()

    def error(
        self,
        problem: str,
        table: str | None = None,
        index: int | None = None,
        key: str | None = None,
    ) -> LexiconError:
        line = self._line(table, index, key)
        where = f"{self.label}, line {line}" if line else self.label
        return LexiconError(f"{where}: {problem}")

    def _line(self, table: str | None, index: int | None, key: str | None) -> int | None:
        """The line of *key* in the index-th ``[[table]]`` (or in ``[table]``), else of the
        header."""
        if table is None:
            return (
                self._find(rf"\[+\s*{re.escape(key)}\s*\]|{re.escape(key)}\s*=", 0, len(self.lines))
                if key
                else None
            )
        header = rf"\[\[\s*{table}\s*\]\]" if index is not None else rf"\[\s*{table}\s*\]"
        starts = [
            number for number, line in enumerate(self.lines) if re.match(rf"\s*{header}", line)
        ]
        if len(starts) <= (index or 0):
            return self._find(rf"{table}\s*=", 0, len(self.lines))
        start = starts[index or 0]
        end = next(
            (n for n in range(start + 1, len(self.lines)) if re.match(r"\s*\[", self.lines[n])),
            len(self.lines),
        )
        return (self._find(rf"{re.escape(key)}\s*=", start + 1, end) if key else None) or start + 1

    def _find(self, pattern: str, start: int, end: int) -> int | None:
        compiled = re.compile(rf"\s*(?:{pattern})")
        return next(
            (number + 1 for number in range(start, end) if compiled.match(self.lines[number])), None
        )


def _read(path: str | Path | None) -> tuple[_File, dict[str, Any]]:
    if path is None:
        resource = resources.files("crawler.data").joinpath("lexicon.toml")
        label, text = str(resource), resource.read_text(encoding="utf-8")
    else:
        label = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LexiconError(f"{label}: cannot read the lexicon: {exc}") from exc
    source = _File(label, text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        where = f"{label}, line {found.group(1)}" if found else label
        raise LexiconError(f"{where}: not valid TOML: {exc}") from exc
    return source, data


class _Entry:
    """Typed access to one table of a file, with errors that point at it."""

    def __init__(
        self, source: _File, data: Any, table: str, index: int | None, allowed: set[str]
    ) -> None:
        self.source, self.table, self.index = source, table, index
        if not isinstance(data, dict):
            raise self.error(f"'{table}' must be a table")
        self.data = data
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise self.error(
                f"unknown field '{unknown[0]}' (allowed: {', '.join(sorted(allowed))})", unknown[0]
            )

    def error(self, problem: str, key: str | None = None) -> LexiconError:
        name = (
            f"[[{self.table}]] #{self.index + 1}" if self.index is not None else f"[{self.table}]"
        )
        return self.source.error(f"{name}: {problem}", self.table, self.index, key)

    def _get(self, key: str, default: Any) -> Any:
        if key not in self.data:
            if default is None:
                raise self.error(f"missing '{key}'")
            return default
        return self.data[key]

    def text(self, key: str, default: str | None = None) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.error(f"'{key}' must be a non-empty string, not {value!r}", key)
        return value

    def number(
        self, key: str, default: float | None = None, low: float = 0.0, high: float = 1.0
    ) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"'{key}' must be a number, not {value!r}", key)
        if not low <= value <= high:
            raise self.error(f"'{key}' must be between {low:g} and {high:g}, not {value!r}", key)
        return float(value)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(f"'{key}' must be a whole number >= 0, not {value!r}", key)
        return value

    def flag(self, key: str, default: bool | None = None) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"'{key}' must be true or false, not {value!r}", key)
        return value

    def strings(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = self._get(key, default)
        if not isinstance(value, list | tuple) or not all(
            isinstance(item, str) and item.strip() for item in value
        ):
            raise self.error(f"'{key}' must be a list of non-empty strings", key)
        return tuple(value)

    def word(self, key: str) -> str:
        """A plain word to match: it must keep a letter or digit once folded."""
        value = self.text(key)
        if not _WORDLIKE.search(fold(value)):
            raise self.error(f"'{key}' {value!r} has no letters or digits", key)
        return value

    def words(self, key: str, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """Plain words to match: each must keep a letter or digit once folded."""
        words = self.strings(key, default)
        for word in words:
            if not _WORDLIKE.search(fold(word)):
                raise self.error(f"{word!r} in '{key}' has no letters or digits", key)
        return words

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.text(key)
        if value not in choices:
            raise self.error(
                f"unknown {key} {value!r} (expected one of: {', '.join(choices)})", key
            )
        return value

    def fields(self) -> tuple[str, ...]:
        fields = self.strings("fields", TEXT_FIELDS)
        unknown = [name for name in fields if name not in RECORD_FIELDS]
        if unknown:
            raise self.error(
                f"unknown record field {unknown[0]!r} (expected: {', '.join(RECORD_FIELDS)})",
                "fields",
            )
        return tuple(sorted(dict.fromkeys(fields), key=RECORD_FIELDS.index))  # record order

    def sources(self) -> tuple[int | str, ...]:
        value = self._get("source", [])
        if not isinstance(value, list) or not all(
            isinstance(item, int | str) and not isinstance(item, bool) for item in value
        ):
            raise self.error("'source' must be a list of source numbers", "source")
        return tuple(value)

    def literals(self) -> tuple[frozenset[str], ...] | None:
        """The rule's ``literals`` (folded), or ``None`` when it declares none: then it is
        tried on every text. Each item is an alternative: a text, or a list of texts that
        a match holds all of (``["ready", "pcs"]``: common words, rare together)."""
        if "literals" not in self.data:
            return None
        items = self.data["literals"]
        alternatives = []
        for item in items if isinstance(items, list) else ():
            texts = [item] if isinstance(item, str) else item
            if isinstance(texts, list) and texts and all(isinstance(text, str) for text in texts):
                alternatives.append(frozenset(fold(text) for text in texts))
        if not alternatives or len(alternatives) < len(items) \
                or any("" in alternative for alternative in alternatives):
            raise self.error("'literals' must list text every match of the patterns holds "
                             "(a text, or a list of texts a match holds all of)", "literals")
        return tuple(dict.fromkeys(alternatives))

    def regex(self, key: str = "patterns") -> tuple[tuple[str, ...], re.Pattern[str]]:
        """The patterns, and one regex for them all: their alternation, each written so
        that the regex engine skips ahead to where it can match (:func:`_alternation`)."""
        patterns = self.strings(key)
        if not patterns:
            raise self.error(f"'{key}' is empty", key)
        for number, pattern in enumerate(patterns, 1):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise self.error(
                    f"pattern {number} is not a valid regular expression ({exc}): {pattern!r}", key
                ) from exc
        # Multi-line: a folded field is one line, and ^ and $ hold at its edges also where
        # the flagger reads the fields joined by line breaks.
        flags = _case_flag(patterns) | re.MULTILINE
        return patterns, re.compile(_alternation(patterns), flags)


# A leading \b and the look-behinds before it; with a letter or digit or a group of plain
# words after it; one look-behind; a letter or digit that opens a word, and the run of
# them (none repeated) that opens it; a character that stands for itself, opening an
# alternative.
_BOUNDARY_START = re.compile(r"((?:\(\?<![^()]*\))*)\\b")
_WORD_START = re.compile(
    _BOUNDARY_START.pattern + r"(?:([a-z0-9])(?![*+?{])|\(\?:([a-z0-9|]+)\)(?![*+?{]))")
_LOOK_BEHIND = re.compile(r"\(\?<!([^()]*)\)")
_LETTER = re.compile(r"[a-z0-9](?![*+?{])")
_PLAIN_RUN = re.compile(r"(?:[a-z0-9](?![*+?{]))+")
_LITERAL_START = re.compile(r"[^\\\[\](){}|.^$*+?](?![*+?{])")
# Beyond this many alternatives, one alternation costs more in tries than the skipping
# ahead saves.
MAX_SPREAD = 50


def _alternation(patterns: Sequence[str]) -> str:
    """One regex for *patterns*: their alternatives, each opening with its letter
    (:func:`_spread`), when every one of them can and there are not too many; else each
    pattern opening with a letter where it can (:func:`_letter_first`)."""
    spread = [alternative for pattern in patterns for alternative in _spread(pattern)]
    if len(spread) <= MAX_SPREAD and all(map(_LITERAL_START.match, spread)) \
            and not _case_flag(patterns):  # case-blind, re skips ahead to no letter
        return "|".join(spread)
    return "|".join(f"(?:{_letter_first(pattern)})" for pattern in patterns)


def _letter_first(pattern: str) -> str:
    r"""*pattern* with a leading ``\b`` and word (``\bbekas``) as the word's letters and a
    look-behind (``bekas(?<!\w.{5})``), and a leading ``\b(?:satu|dua)`` as
    ``(?:satu(?<!\w.{4})|dua(?<!\w.{3}))``: the same matches, but Python's ``re`` skips
    ahead to where such a letter occurs instead of trying the pattern at every position
    (:func:`_opened`)."""
    match = _WORD_START.match(pattern)
    if match is None:
        return pattern
    rest = pattern[match.end():]
    if match[2]:
        return _opened(match[2] + rest, match[1])
    words = match[3].split("|")
    if "" in words:
        return pattern
    return "(?:" + "|".join(_opened(word, match[1]) for word in words) + ")" + rest


def _opened(word: str, behinds: str) -> str:
    r"""*word* (a regex that opens with a plain letter) as it stands after ``\b`` and the
    look-behinds *behinds*, opening with its letters instead: its plain letters first, then
    the word boundary and the look-behinds as look-behinds past them (``(?<!\bex )\bkorea``
    as ``korea(?<!\w.{5})(?<!\bex .{5})``), so that a letter inside a word fails on the
    letters after it before any look-behind is tried."""
    width = len(_PLAIN_RUN.match(word).group())  # callers check that it opens with one
    moved = "".join(rf"(?<!(?:{inner}).{{{width}}})" for inner in _LOOK_BEHIND.findall(behinds))
    return rf"{word[:width]}(?<!\w.{{{width}}}){moved}{word[width:]}"


def _spread(pattern: str) -> list[str]:
    r"""*pattern* as alternatives that open with a letter where they can, one a word of a
    leading group: ``\b(?:satu|dua) kg|\bsekarung`` as ``satu(?<!\w.{4}) kg``,
    ``dua(?<!\w.{3}) kg`` and ``sekarung(?<!\w.{8})`` (:func:`_opened`), tried in that
    order, so the same matches (a group that may be left out, ``\b(?:di)?jual``, as
    ``dijual(?<!\w.{6})`` then ``jual(?<!\w.{4})``).
    When every alternative of a regex opens with a letter, Python's ``re`` skips ahead to
    where one of those letters occurs (a group in front hides them from it). A pattern
    with groups that capture is kept whole (its backreferences count its groups)."""
    if re.compile(pattern).groups:
        return [f"(?:{pattern})"]
    return [opened for alternative in _top_level_alternatives(pattern)
            for opened in _opened_by_letters(alternative)]


def _opened_by_letters(alternative: str) -> list[str]:
    """One alternative (no ``|`` outside its groups) as :func:`_spread` writes it."""
    match = _BOUNDARY_START.match(alternative)
    if match is None:
        return [alternative]
    behinds, start = match[1], match.end()
    if alternative.startswith("(?:", start):
        end = _group_end(alternative, start)
        after = alternative[end:end + 2]
        if after[:1] == "?" and after[1:] not in ("?", "+"):  # a group that may be left out
            opening = alternative[:end]
            return _opened_by_letters(opening + alternative[end + 1:]) \
                + _opened_by_letters(alternative[:start] + alternative[end + 1:])
        if after[:1] in ("*", "+", "?", "{"):  # the group is repeated
            return [alternative]
        words, rest = _top_level_alternatives(alternative[start + 3:end - 1]), alternative[end:]
    else:
        words, rest = [alternative[start:]], ""
    return [_opened(word + rest, behinds) if _LETTER.match(word)
            else rf"{behinds}\b{word}{rest}" for word in words]


def _top_level_alternatives(pattern: str) -> list[str]:
    """*pattern* cut at each ``|`` that is outside its groups and character classes."""
    parts, start = [], 0
    for index, char, depth in _structure(pattern, 0):
        if char == "|" and not depth:
            parts.append(pattern[start:index])
            start = index + 1
    return [*parts, pattern[start:]]


def _group_end(pattern: str, index: int) -> int:
    """Just past the ``)`` that closes the group opening at *index* of *pattern*."""
    for at, char, depth in _structure(pattern, index):
        if char == ")" and not depth:
            return at + 1
    return len(pattern)


def _structure(pattern: str, index: int) -> Iterator[tuple[int, str, int]]:
    """From *index* on, each character of *pattern* that is neither escaped nor inside a
    character class, where it stands, and how many groups are open after it."""
    depth = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(pattern, index)
            continue
        depth += (char == "(") - (char == ")")
        yield index, char, depth
        index += 1


def _class_end(pattern: str, index: int) -> int:
    """Just past the end of the character class that opens at *index* of *pattern*."""
    index += 1
    if pattern.startswith("^", index):
        index += 1
    if pattern.startswith("]", index):  # a ']' first is one of the class's characters
        index += 1
    while index < len(pattern) and pattern[index] != "]":
        index += 2 if pattern[index] == "\\" else 1
    return index + 1


def _case_flag(patterns: Iterable[str]) -> re.RegexFlag:
    """``re.IGNORECASE`` only for patterns with capital letters: the text they are matched
    against is folded to lower case, and case-blind matching is much slower."""
    upper = re.compile(r"(?<!\\)[A-Z]")
    return re.IGNORECASE if any(upper.search(pattern) for pattern in patterns) else re.NOFLAG


def _term(entry: _Entry) -> Term:
    name = entry.word("term")
    variants = entry.words("variants", ())
    strength = entry.choice("strength", STRENGTHS)
    needs_context = entry.flag("needs_clothing_context", False)
    spellings = (name, *variants)
    if strength != "weak":  # a symbol or a space put inside a word
        spellings += split_spellings(spellings)
    if strength == "strong" and not needs_context:
        spellings += reversed_spellings((name, *variants))
    return Term(
        term=name,
        variants=variants,
        meaning=entry.text("meaning", ""),
        strength=strength,
        weight=entry.number("weight"),
        region=entry.text("region", ""),
        needs_clothing_context=needs_context,
        needs_corroboration=entry.flag("needs_corroboration", needs_context),
        corroborated_by=frozenset(entry.strings("corroborated_by"))
        if "corroborated_by" in entry.data else None,
        clothing=entry.flag("clothing", False),
        source=entry.sources(),
        matcher=words_matcher(spellings),
        literals=word_literals(spellings),
        search=entry.flag("search", False),
    )


def _signal(entry: _Entry) -> Signal:
    patterns, matcher = entry.regex()
    return Signal(
        kind=entry.text("kind"),
        weight=entry.number("weight"),
        clothing=entry.flag("clothing", False),
        patterns=patterns,
        fields=(fields := entry.fields()),
        meaning=entry.text("meaning", ""),
        source=entry.sources(),
        matcher=matcher,
        literals=entry.literals(),
        places=tuple(map(RECORD_FIELDS.index, fields)),
    )


def _combination(entry: _Entry) -> Combination:
    groups = entry.data.get("all_of")
    if (
        not isinstance(groups, list)
        or not groups
        or not all(isinstance(group, list) for group in groups)
    ):
        raise entry.error("'all_of' must be a non-empty list of lists of rule names", "all_of")
    for group in groups:
        if not group or not all(
            isinstance(rule, str) and rule.startswith(("term:", "signal:")) for rule in group
        ):
            raise entry.error(
                "each 'all_of' group must list rule names starting with 'term:' or 'signal:'",
                "all_of",
            )
    rules = [rule for group in groups for rule in group]
    if len(set(rules)) < len(rules):
        raise entry.error("a rule may appear in only one 'all_of' group", "all_of")
    return Combination(
        rule=entry.text("rule"),
        weight=entry.number("weight"),
        clothing=entry.flag("clothing", False),
        all_of=tuple(tuple(group) for group in groups),
        meaning=entry.text("meaning", ""),
        source=entry.sources(),
    )


def _negative(entry: _Entry) -> Negative:
    patterns, matcher = entry.regex()
    mask = entry.flag("mask", False)
    contradicted_by = frozenset(entry.strings("contradicted_by", ()))
    if contradicted_by and mask:
        raise entry.error("a look-alike that masks its text cannot be contradicted: what it "
                          "hides is gone before the rules that would contradict it run",
                          "contradicted_by")
    for rule in contradicted_by:
        if not rule.startswith(("term:", "signal:", "combination:")):
            raise entry.error(f"contradicted_by entry {rule!r} must start with 'term:', "
                              "'signal:' or 'combination:'", "contradicted_by")
    return Negative(
        rule=entry.text("rule"),
        weight=entry.number("weight"),
        mask=mask,
        decisive=entry.flag("decisive", False),
        contradicted_by=contradicted_by,
        patterns=patterns,
        fields=(fields := entry.fields()),
        meaning=entry.text("meaning", ""),
        source=entry.sources(),
        matcher=matcher,
        literals=entry.literals(),
        places=tuple(map(RECORD_FIELDS.index, fields)),
    )


def _context(entry: _Entry) -> ContextGroup:
    words = entry.words("words")
    if not words:
        raise entry.error("'words' is empty", "words")
    return ContextGroup(group=entry.text("group"), words=words, matcher=words_matcher(words),
                        literals=word_literals(words))


_BUILDERS = {
    "term": (_TERM_FIELDS, _term, lambda item: fold(item.term)),
    "signal": (_SIGNAL_FIELDS, _signal, None),
    "combination": (_COMBINATION_FIELDS, _combination, lambda item: item.rule),
    "negative": (_NEGATIVE_FIELDS, _negative, lambda item: item.rule),
    "context": (_CONTEXT_FIELDS, _context, lambda item: item.group),
}


@dataclass
class _Parsed:
    version: str | None
    sources: dict[str, str]
    entries: dict[str, list[Any]]
    settings: dict[str, Any]


def _parse(source: _File, data: dict[str, Any], allowed_tables: set[str]) -> _Parsed:
    for key in data:
        if key not in allowed_tables:
            raise source.error(
                f"unknown table '{key}' (allowed: {', '.join(sorted(allowed_tables))})", key=key
            )
    meta = _Entry(source, data.get("meta", {}), "meta", None, {"version", "sources"})
    version = meta.text("version") if "version" in meta.data else None
    sources = meta.data.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(url, str) for url in sources.values()):
        raise meta.error("'sources' must be a table of source number = \"address\"", "sources")
    entries: dict[str, list[Any]] = {}
    for table in _ENTRY_TABLES:
        raw = data.get(table, [])
        if not isinstance(raw, list):
            raise source.error(
                f"'{table}' must be an array of tables, written [[{table}]]", key=table
            )
        allowed, build, key_of = _BUILDERS[table]
        items, seen = [], set()
        for index, item in enumerate(raw):
            entry = _Entry(source, item, table, index, allowed)
            built = build(entry)
            if key_of is not None:
                if key_of(built) in seen:
                    raise entry.error(f"duplicate {table} {key_of(built)!r}")
                seen.add(key_of(built))
            items.append(built)
        entries[table] = items
    settings: dict[str, Any] = {
        name: data[name]
        for name in ("scoring", "fuzzy", "record", "abbreviations", "emoji") if name in data
    }
    return _Parsed(version, {str(key): url for key, url in sources.items()}, entries, settings)


# --- the base file's settings ---------------------------------------------------------


def _table(source: _File, parsed: _Parsed, name: str, allowed: set[str]) -> _Entry:
    if name not in parsed.settings:
        raise source.error(f"missing table [{name}]")
    return _Entry(source, parsed.settings[name], name, None, allowed)


def _scoring(source: _File, parsed: _Parsed) -> Scoring:
    entry = _table(
        source,
        parsed,
        "scoring",
        {"strong", "medium", "weak", "without_context_factor", "context_window", "corroborated_by",
         "negatives_cap"},
    )
    scoring = Scoring(
        strong=entry.number("strong"),
        medium=entry.number("medium"),
        weak=entry.number("weak"),
        without_context_factor=entry.number("without_context_factor"),
        context_window=entry.integer("context_window"),
        corroborated_by=frozenset(entry.strings("corroborated_by")),
        negatives_cap=entry.number("negatives_cap", 1.0),
    )
    if not scoring.weak <= scoring.medium <= scoring.strong:
        raise entry.error("levels must satisfy weak <= medium <= strong", "weak")
    if scoring.without_context_factor >= scoring.medium:
        raise entry.error(
            (
                "'without_context_factor' must stay below 'medium' so nothing is flagged "
                "without context"
            ),
            "without_context_factor",
        )
    for rule in scoring.corroborated_by:
        if not rule.startswith(("term:", "signal:")):
            raise entry.error(
                f"corroborated_by entry {rule!r} must start with 'term:' or 'signal:'",
                "corroborated_by",
            )
    return scoring


def _fuzzy(source: _File, parsed: _Parsed) -> Fuzzy:
    entry = _table(
        source,
        parsed,
        "fuzzy",
        {
            "min_length",
            "max_distance",
            "long_length",
            "long_max_distance",
            "weight_factor",
            "ordinary_words",
        },
    )
    return Fuzzy(
        min_length=entry.integer("min_length"),
        max_distance=entry.integer("max_distance"),
        long_length=entry.integer("long_length"),
        long_max_distance=entry.integer("long_max_distance"),
        weight_factor=entry.number("weight_factor"),
        ordinary_words=frozenset(fold(word) for word in entry.strings("ordinary_words")),
    )


def _abbreviations(source: _File, parsed: _Parsed, terms: Iterable[Term],
                   context: Iterable[ContextGroup]) -> Abbreviations:
    """The optional [abbreviations]: words whose disguised forms are written out, and short
    forms given as they are. A form that is an ordinary word, or a spelling of a term or
    clothing word, stays."""
    if "abbreviations" not in parsed.settings:
        return Abbreviations((), ())
    entry = _table(source, parsed, "abbreviations", {"words", "ordinary_words", "forms"})
    known = {fold(word) for term in terms for word in (term.term, *term.variants)}
    known |= {fold(word) for group in context for word in group.words}
    forms = entry.data.get("forms", {})
    if not isinstance(forms, dict) or not all(
            isinstance(short, str) and isinstance(word, str) and fold(short) and fold(word)
            for short, word in forms.items()):
        raise entry.error("'forms' must be a table of short form = \"word\"", "forms")
    return Abbreviations(
        (fold(word) for word in entry.words("words")),
        {*(fold(word) for word in entry.strings("ordinary_words", ())), *known},
        {fold(short): fold(word) for short, word in forms.items()},
        joinable=(fold(word) for group in context for word in group.words),
    )


def _emoji(source: _File, parsed: _Parsed) -> Mapping[int, str]:
    """The optional [emoji] table: an emoji read as a word ("👕" = "kaos")."""
    if "emoji" not in parsed.settings:
        return MappingProxyType({})
    data = parsed.settings["emoji"]
    entry = _Entry(source, data, "emoji", None, set(data))
    table = {}
    for emoji in data:
        word = entry.text(emoji)
        if len(emoji) != 1 or not fold(word):
            raise entry.error("each entry must map one emoji character to a word", emoji)
        table[ord(emoji)] = f" {word} "
    return MappingProxyType(table)


def _inside_word(emoji: Mapping[int, str]) -> re.Pattern[str] | None:
    """The emoji of the [emoji] table standing between two letters (a variation selector
    may follow): a seller splitting a word with them ("bal👕pres", "ka🎒rung")."""
    if not emoji:
        return None
    characters = "".join(re.escape(chr(code)) for code in emoji)
    return re.compile(rf"(?<=[^\W\d_])[{characters}][\ufe0e\ufe0f]?(?=[^\W\d_])")


def _record(source: _File, parsed: _Parsed) -> RecordCues:
    entry = _table(
        source,
        parsed,
        "record",
        {"used_conditions", "used_weight", "imported_weight", "used_imported_weight"},
    )
    return RecordCues(
        used_conditions=frozenset(fold(word) for word in entry.strings("used_conditions")),
        used_weight=entry.number("used_weight"),
        imported_weight=entry.number("imported_weight"),
        used_imported_weight=entry.number("used_imported_weight"),
    )


# --- merging and the public entry point ---------------------------------------------


def _merge(base: list[Any], extra: list[Any], key_of: Any) -> list[Any]:
    """Replace base items that share a key with an extra item; append the rest."""
    merged = list(base)
    positions = {key_of(item): number for number, item in enumerate(merged)}
    for item in extra:
        if key_of(item) in positions:
            merged[positions[key_of(item)]] = item
        else:
            merged.append(item)
    return merged


def _merge_context(base: list[ContextGroup], extra: list[ContextGroup]) -> list[ContextGroup]:
    """Extra words join the group of the same name."""
    by_group = {group.group: group for group in base}
    for group in extra:
        merged = group
        if group.group in by_group:
            words = tuple(dict.fromkeys((*by_group[group.group].words, *group.words)))
            merged = replace(group, words=words, matcher=words_matcher(words),
                             literals=word_literals(words))
        by_group[group.group] = merged
    return list(by_group.values())


def _fuzzy_forms(terms: Iterable[Term], fuzzy: Fuzzy) -> tuple[tuple[str, int], ...]:
    """Single-word spellings of strong, unambiguous terms, each with its term's number."""
    forms: list[tuple[str, int]] = []
    for number, term in enumerate(terms):
        if term.strength != "strong" or term.needs_clothing_context:
            continue
        forms.extend(
            (form, number)
            for form in dict.fromkeys(fold(word) for word in (term.term, *term.variants))
            if re.fullmatch(r"[^\W\d_]+", form) and len(form) >= fuzzy.min_length
        )
    return tuple(forms)


def load_lexicon(path: str | Path | None = None, extra: str | Path | None = None) -> Lexicon:
    """Load the lexicon at *path* (default: the one shipped in ``crawler.data``).

    *extra* is an investigator's file with [[term]], [[negative]], [[signal]],
    [[combination]] and [[context]] entries: a term, negative or combination with the
    same name as a shipped one replaces it, context words join their group, everything else
    is added. Its ``meta.version`` (or file name) is appended to the version:
    "2026.12.1+local".
    Raises :class:`LexiconError` naming the file and line of any problem.
    """
    source, data = _read(path)
    parsed = _parse(source, data, _BASE_TABLES)
    if parsed.version is None:
        raise source.error("[meta]: missing 'version'", "meta")
    scoring, fuzzy, record = (
        _scoring(source, parsed),
        _fuzzy(source, parsed),
        _record(source, parsed),
    )
    entries, version, sources = parsed.entries, parsed.version, parsed.sources
    if extra is not None:
        extra_source, extra_data = _read(extra)
        added = _parse(extra_source, extra_data, _EXTRA_TABLES)
        entries = {
            "term": _merge(entries["term"], added.entries["term"], _BUILDERS["term"][2]),
            "negative": _merge(
                entries["negative"], added.entries["negative"], _BUILDERS["negative"][2]
            ),
            "signal": entries["signal"] + added.entries["signal"],
            "combination": _merge(
                entries["combination"], added.entries["combination"], _BUILDERS["combination"][2]
            ),
            "context": _merge_context(entries["context"], added.entries["context"]),
        }
        version = f"{version}+{added.version or Path(extra).stem}"
        sources = {**sources, **added.sources}
    terms, signals, negatives = (
        tuple(entries["term"]),
        tuple(entries["signal"]),
        tuple(entries["negative"]),
    )
    context = tuple(entries["context"])
    prefilter = Prefilter({
        "term": [term.literals for term in terms],
        "signal": [signal.literals for signal in signals],
        "negative": [negative.literals for negative in negatives],
        "context": [group.literals for group in context],
    })
    typos = Typos(_fuzzy_forms(terms, fuzzy), min_length=fuzzy.min_length,
                  max_distance=fuzzy.max_distance, long_length=fuzzy.long_length,
                  long_max_distance=fuzzy.long_max_distance,
                  ordinary_words=fuzzy.ordinary_words)
    emoji = _emoji(source, parsed)
    clothing_rules = frozenset(
        [term.name for term in terms if term.clothing]
        + [signal.name for signal in signals if signal.clothing]
        + [combination.name for combination in entries["combination"] if combination.clothing])
    return Lexicon(
        version=version,
        sources=MappingProxyType(sources),
        terms=terms,
        signals=signals,
        combinations=tuple(entries["combination"]),
        negatives=negatives,
        context=context,
        scoring=scoring,
        fuzzy=fuzzy,
        record=record,
        typos=typos,
        abbreviations=_abbreviations(source, parsed, terms, context),
        emoji=emoji,
        emoji_inside_word=_inside_word(emoji),
        clothing_rules=clothing_rules,
        corroborating_terms=frozenset(term.name for term in terms if term.strength != "weak"
                                      and not term.needs_corroboration),
        prefilter=prefilter,
    )


def search_terms(lexicon: Lexicon) -> list[str]:
    """The terms marked ``search = true`` (those an investigator accepted), to add to a
    crawl's keywords."""
    return [term.term for term in lexicon.terms if term.search]


def default_search_terms(lexicon_file: Path | None = None) -> list[str]:
    """The shipped search terms, then the terms the investigator accepted into their lexicon
    (``thriftwatch suggest-terms --accept``)."""
    with resources.files("crawler.data").joinpath("search_terms.toml").open("rb") as handle:
        shipped = tomllib.load(handle)["terms"]
    return list(dict.fromkeys([*shipped, *search_terms(load_lexicon(extra=lexicon_file))]))
