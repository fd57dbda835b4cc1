"""The text the flagger's rules read: a record's fields, folded, and two ways to search them.

:class:`FieldTexts` is the reference: each field is its own string and every rule is tried
on every field it looks at. :class:`JoinedTexts` gives the same matches, faster: the fields
are joined into one string, a rule is tried only if the prefilter found its literals in it
(:mod:`crawler.flagging.prefilter`), and once over all the fields it looks at instead of
once per field. A match that would run from one field into the next is not taken; the rule
is then tried field by field, as the reference does.

Before any rule reads them, the fields are folded (:func:`~crawler.flagging.textnorm.fold`)
and short forms are written out (:class:`~crawler.flagging.spelling.Abbreviations`).
Places are indexes into :data:`~crawler.flagging.rules.RECORD_FIELDS`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from crawler.flagging.prefilter import KINDS
from crawler.flagging.rules import RECORD_FIELDS
from crawler.flagging.spelling import MAX_JOINED
from crawler.flagging.textnorm import fold

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from crawler.flagging.rules import Lexicon

# Between two fields in the joined text: a line break (so that a rule's ^ and $ hold at
# the edges of a field, as they do on the field alone) around a NUL, which no folded
# field holds and no word or space pattern takes.
SEPARATOR = "\n\x00\n"


# An emoji, or a run of them (with variation selectors and joiners), between two letters;
# and the letters either side of it (a word is at most MAX_JOINED letters).
_EMOJI_IN_WORD = re.compile(
    r"(?<=[^\W\d_])(?:[\u2190-\u21ff\u2300-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]"
    r"[\ufe0e\ufe0f\u200d]*)+(?=[^\W\d_])")
_LETTERS_BEFORE = re.compile(rf"[^\W\d_]{{1,{MAX_JOINED}}}\Z")
_LETTERS_AFTER = re.compile(rf"[^\W\d_]{{1,{MAX_JOINED}}}")


def folded_fields(record: Mapping[str, Any], lexicon: Lexicon) -> list[str]:
    """The record's fields (:data:`RECORD_FIELDS`): emoji the lexicon reads as words
    written as those words (dropped where they split a word), folded, and short forms
    written out."""
    return [prepared(str(value), lexicon) if (value := record.get(name)) is not None else ""
            for name in RECORD_FIELDS]


def prepared(text: str, lexicon: Lexicon) -> str:
    """*text* as the rules read it."""
    if not text.isascii():
        if lexicon.emoji_inside_word is not None:
            text = lexicon.emoji_inside_word.sub("", text)
        if _EMOJI_IN_WORD.search(text):
            text = _EMOJI_IN_WORD.sub(lambda match: letter_dropped(match, lexicon), text)
        text = text.translate(lexicon.emoji)
    return lexicon.abbreviations.read(text)


def letter_dropped(match: re.Match[str], lexicon: Lexicon) -> str:
    """An emoji standing for a letter ("thr🌸ft", "bek🔥s") is dropped where the letters
    either side spell a known word or a short form of one ("thrft" for *thrift*); anywhere
    else it separates words ("bal🔥korea")."""
    text, start, end = match.string, match.start(), match.end()
    before = _LETTERS_BEFORE.search(text, max(0, start - MAX_JOINED), start)
    after = _LETTERS_AFTER.match(text, end)
    if before and after and lexicon.abbreviations.spells_a_word(
            fold(before.group() + after.group())):
        return ""
    return match.group()


class FieldTexts:
    """The reference: every rule, on each field on its own."""

    def __init__(self, record: Mapping[str, Any], lexicon: Lexicon):
        self.fields = folded_fields(record, lexicon)
        self.every_rule = lexicon.prefilter.every_rule

    def numbers(self, kind: str, place: int | None = None) -> Sequence[int]:
        """The numbers of the rules of ``kind`` worth trying (in field ``place``, or in
        any), in lexicon order."""
        return self.every_rule[kind]

    def field(self, place: int) -> str:
        return self.fields[place]

    def string(self, place: int) -> tuple[str, int, int]:
        """The string that holds field ``place``, and where the field starts and ends in it."""
        return self.fields[place], 0, len(self.fields[place])

    def first(self, matcher: re.Pattern[str], places: Sequence[int],
              kind: str = "", number: int = 0) -> tuple[int, re.Match[str]] | None:
        """The first match of ``matcher`` in the first of ``places`` (in record order) that
        has one, with that place."""
        for place in places:
            if (match := matcher.search(self.fields[place])):
                return place, match
        return None

    def every(self, matcher: re.Pattern[str], place: int) -> list[re.Match[str]]:
        """Every match of ``matcher`` in field ``place``."""
        return list(matcher.finditer(self.fields[place]))

    def within(self, matcher: re.Pattern[str], place: int,
               start: int, end: int) -> re.Match[str] | None:
        """A match of ``matcher`` in field ``place`` between ``start`` and ``end``."""
        return matcher.search(self.fields[place], start, end)

    def mask(self, matcher: re.Pattern[str], places: Sequence[int]) -> None:
        """Blank what ``matcher`` finds in ``places`` from every later rule."""
        for place in places:
            self.fields[place] = blanked(matcher, self.fields[place])


class JoinedTexts(FieldTexts):
    """The fast path: the fields joined, each rule tried only in the fields that hold its
    literals."""

    def __init__(self, record: Mapping[str, Any], lexicon: Lexicon):
        fields = folded_fields(record, lexicon)
        self.text = SEPARATOR.join(fields)
        self.starts, start = [], 0
        for field in fields:
            self.starts.append(start)
            start += len(field) + len(SEPARATOR)
        self.ends = [start + len(field) for start, field in zip(self.starts, fields, strict=True)]
        # Masking only ever removes literals: what the prefilter found stays a superset.
        self.candidates = lexicon.prefilter.candidates_by_field(self.text, self.starts, self.ends)
        # by kind, the rules worth trying, each with the fields (in record order) that hold
        # its literals
        self.holding: dict[str, dict[int, list[int]]] = {kind: {} for kind in KINDS}
        for place, candidates in enumerate(self.candidates):
            for kind, numbers in candidates.items():
                held = self.holding[kind]
                for number in numbers:
                    held.setdefault(number, []).append(place)

    def numbers(self, kind: str, place: int | None = None) -> Sequence[int]:
        if place is not None:
            return self.candidates[place][kind]
        return sorted(self.holding[kind])

    def field(self, place: int) -> str:
        return self.text[self.starts[place]:self.ends[place]]

    def string(self, place: int) -> tuple[str, int, int]:
        return self.text, self.starts[place], self.ends[place]

    def first(self, matcher: re.Pattern[str], places: Sequence[int],
              kind: str = "", number: int = 0) -> tuple[int, re.Match[str]] | None:
        """As :meth:`FieldTexts.first`, in the places where rule ``number`` of ``kind``
        may match."""
        held = self.holding[kind].get(number, ())
        if len(held) == 1:  # the usual case: one field holds the literals
            only = held[0]
            if only not in places:
                return None
            match = matcher.search(self.text, self.starts[only], self.ends[only])
            return None if match is None else (only, match)
        places = [place for place in held if place in places]
        for run in runs(places):
            match = matcher.search(self.text, self.starts[run[0]], self.ends[run[-1]])
            if match is None:
                continue
            within = self.place_of(match)
            if within is not None:
                return within, match
            for place in run:  # the match spans fields: field by field
                if match := matcher.search(self.text, self.starts[place], self.ends[place]):
                    return place, match
        return None

    def every(self, matcher: re.Pattern[str], place: int) -> list[re.Match[str]]:
        return list(matcher.finditer(self.text, self.starts[place], self.ends[place]))

    def within(self, matcher: re.Pattern[str], place: int,
               start: int, end: int) -> re.Match[str] | None:
        return matcher.search(self.text, start, end)

    def mask(self, matcher: re.Pattern[str], places: Sequence[int]) -> None:
        for place in places:
            start, end = self.starts[place], self.ends[place]
            field = self.text[start:end]
            masked = blanked(matcher, field)
            if masked != field:  # the same length: every place keeps its offsets
                self.text = self.text[:start] + masked + self.text[end:]

    def place_of(self, match: re.Match[str]) -> int | None:
        """The field ``match`` lies in, or ``None`` if it runs past the field's end."""
        place = bisect_right(self.starts, match.start()) - 1
        return place if match.end() <= self.ends[place] else None


def runs(places: Sequence[int]) -> list[list[int]]:
    """``places`` (in record order) cut into runs of neighbours: (0, 1, 3) → (0, 1), (3,)."""
    found: list[list[int]] = []
    for place in places:
        if found and found[-1][-1] == place - 1:
            found[-1].append(place)
        else:
            found.append([place])
    return found


def blanked(matcher: re.Pattern[str], text: str) -> str:
    """*text* with what ``matcher`` finds in it replaced by as many spaces."""
    return matcher.sub(lambda match: " " * len(match.group()), text)
