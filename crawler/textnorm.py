"""Fold listing text so that evasive spellings match the lexicon.

Sellers dodge keyword blocks by writing "balpres" as ``b4lpres``, ``b.a.l.p.r.e.s``,
``𝐛𝐚𝐥𝐩𝐫𝐞𝐬``, with a Cyrillic "а", with invisible characters inside, or stretched
("baaalpres"). :func:`fold` undoes these tricks; it is pure and keeps numbers such as
"100 kg" or "Rp150.000" intact.
"""

from __future__ import annotations

import re
import unicodedata

# Zero-width and other invisible characters, including the soft hyphen (U+00AD) and the
# emoji variation selectors (U+FE0E/U+FE0F) that would otherwise split "b❤️a❤️l".
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufe00-\ufe0f\ufeff]"
)

# Cyrillic and Greek letters that look like Latin ones (already lower-cased).
_LOOK_ALIKES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
        "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ь": "b",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ϲ": "c", "ω": "w",
    }
)

_LEET = {"4": "a", "3": "e", "0": "o", "1": "i", "5": "s", "7": "t", "@": "a", "$": "s"}
_LETTER = r"[^\W\d_]"
# A leet character counts as a letter only inside a word: between two letters
# ("b4lpres") or closing a word of at least two letters ("balpre5"). Leading digits
# ("100pcs", "3second") and runs of digits ("isi100pcs") stay numbers. (The character
# comes first in the pattern so that the regex engine can skip ahead to it.)
_LEET_CHAR = re.compile(
    rf"[013457@$](?:(?<={_LETTER}.)(?={_LETTER})|(?<={_LETTER}{_LETTER}.)(?![\w@$]))"
)
_HAS_LEET = re.compile(r"[013457@$]")
# Three or more single letters split by one separator: a space, "_", or one or two
# symbols (punctuation, an emoji): "b.a.l.p.r.e.s", "b a l p r e s", "b🔥a🔥l".
_SEPARATOR = r"(?:\s|_|[^\w\s]{1,2})"
_SPLIT_WORD_PATTERN = r"(?<!L)L(?:{sep}L(?!L)){{2,}}"
_STRETCHED_PATTERN = r"(L)\1{2,}"
# The same patterns for text that is plain ASCII once lower-cased, where a letter is a-z
# (faster than the Unicode letter class).
_SPLIT_WORD = re.compile(_SPLIT_WORD_PATTERN.replace("L", _LETTER).format(sep=_SEPARATOR))
_SPLIT_WORD_ASCII = re.compile(_SPLIT_WORD_PATTERN.replace("L", "[a-z]").format(sep=_SEPARATOR))
_STRETCHED = re.compile(_STRETCHED_PATTERN.replace("L", _LETTER))
_STRETCHED_ASCII = re.compile(_STRETCHED_PATTERN.replace("L", "[a-z]"))
# Any character three times in a row: a cheap first look for stretched letters.
_TRIPLE = re.compile(r"(.)\1\1")
_IS_LETTER = re.compile(_LETTER)
# Plain ASCII text mapped to its shape: letters become "a", digits "0", other characters
# "." (a split word shows as ".a."); and to its whitespace: spaces stay, other whitespace
# becomes "\n", everything else "x".
_SHAPE = bytes(
    ord("a") if chr(code).isalpha() else ord("0") if chr(code).isdigit() else ord(".") for code in range(256)
)
_WHITESPACE = bytes(
    code if code == 32 else ord("\n") if chr(code).isspace() else ord("x") for code in range(256)
)
_NOT_LETTER = re.compile(r"[\W_]")
_HASHTAG = re.compile(r"(?<!\S)#+(?=\w)")
_TOKEN = re.compile(r"[^\W_]+")


class _Table(dict[int, int | None]):
    """A ``str.translate`` table that keeps the characters it does not list (and remembers
    them: a missing key would cost an exception for every character)."""

    def __missing__(self, code: int) -> int | None:
        self[code] = code
        return code


class _NonSpacingMarks(_Table):
    """A ``str.translate`` table that drops non-spacing marks (accents), filled as it is used."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.category(chr(code)) == "Mn" else code
        self[code] = kept
        return kept


_DROP_MARKS = _NonSpacingMarks()
_HOMOGLYPHS = _Table(_LOOK_ALIKES)
_HAS_HOMOGLYPH = re.compile("[" + "".join(map(chr, _LOOK_ALIKES)) + "]")


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).translate(_DROP_MARKS))


def fold(text: str) -> str:
    """Return *text* lower-cased and stripped of common keyword-evasion tricks."""
    if text.isascii():
        # Plain ASCII has no invisible, accented, fancy or look-alike letters to undo.
        return _fold_ascii(text.lower())
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text).lower()
    text = _strip_accents(text)
    if _HAS_HOMOGLYPH.search(text):
        text = text.translate(_HOMOGLYPHS)
    if text.isascii():
        return _fold_ascii(text)
    if "#" in text:
        text = _HASHTAG.sub("", text)
    # Spaces first, so that "b  a  l" (two spaces) is one split word like "b a l".
    text = _undo_leet(_SPLIT_WORD.sub(_join_letters, " ".join(text.split())))
    if _has_stretched_letters(text):
        text = _STRETCHED.sub(r"\1", text)
    return text


def _fold_ascii(text: str) -> str:
    """:func:`fold` for lower-case ASCII text, skipping the steps that cannot change it."""
    if "#" in text:
        text = _HASHTAG.sub("", text)
    encoded = text.encode("ascii")
    whitespace = encoded.translate(_WHITESPACE)
    # Spaces first, so that "b  a  l" (two spaces) is one split word like "b a l". The steps
    # below only remove or replace characters next to letters, so single spaces stay single.
    if b"\n" in whitespace or b"  " in whitespace or whitespace.startswith(b" ") or whitespace.endswith(b" "):
        text = " ".join(text.split())
        encoded = text.encode("ascii")
    if b".a." in encoded.translate(_SHAPE):
        text = _SPLIT_WORD_ASCII.sub(_join_letters, text)
    text = _undo_leet(text)
    if _has_stretched_letters(text):
        text = _STRETCHED_ASCII.sub(r"\1", text)
    return text


def _undo_leet(text: str) -> str:
    """Leet characters as letters, again while an undone one makes another a letter:
    "a0a0" → "aoa0" → "aoao"."""
    while _HAS_LEET.search(text):
        undone = _LEET_CHAR.sub(lambda match: _LEET[match.group()], text)
        if undone == text:
            break
        text = undone
    return text


def _has_stretched_letters(text: str) -> bool:
    return any(_IS_LETTER.match(found.group(1)) for found in _TRIPLE.finditer(text))


def _join_letters(match: re.Match[str]) -> str:
    return _NOT_LETTER.sub("", match.group())


def tokens(text: str) -> list[str]:
    """Return the words and numbers of the folded *text*."""
    return _TOKEN.findall(fold(text))
