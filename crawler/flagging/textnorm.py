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
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "һ": "h",
        "ӏ": "l",
        "ь": "b",
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "γ": "y",
        "ϲ": "c",
        "ω": "w",
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
# A lone letter, a space, a lone letter: found in every word split by spaces ("b a l").
# (Written to start with the space, which the regex engine can skip ahead to.)
_ISOLATED_PAIR_PATTERN = " L(?!L)(?<=L L)(?<!LL L)"
_ISOLATED_PAIR = re.compile(_ISOLATED_PAIR_PATTERN.replace("L", _LETTER))
_ISOLATED_PAIR_ASCII = re.compile(_ISOLATED_PAIR_PATTERN.replace("L", "[a-z]"))
# Plain ASCII text mapped to its shape: letters become "a", digits "0", other characters
# "." (a split word shows as ".a.").
_SHAPE = bytes(
    ord("a") if chr(code).isalpha() else ord("0") if chr(code).isdigit() else ord(".")
    for code in range(256)
)
_NOT_LETTER = re.compile(r"[\W_]")
_HASHTAG = re.compile(r"(?<!\S)#+(?=\w)")
WORD = re.compile(r"[^\W_]+")  # a run of letters and digits
_MAX_REMEMBERED = 200_000  # folded chunks remembered
_FOLDED_CHUNKS: dict[str, str] = {}


class _Table(dict[int, int | str | None]):
    """A ``str.translate`` table that keeps the characters it does not list (and remembers
    them: a missing key would cost an exception for every character)."""

    def __missing__(self, code: int) -> int | str | None:
        self[code] = code
        return code


class _NonSpacingMarks(_Table):
    """A ``str.translate`` table that drops non-spacing marks (accents), filled as it is used."""

    def __missing__(self, code: int) -> int | str | None:
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
    return " ".join(fold_chunks(text))


def fold_chunks(text: str) -> list[str]:
    """The whitespace-separated chunks of ``fold(text)``."""
    chunks, apart = prepared_chunks(text)
    if not apart:
        return fold_together(chunks)
    folded = _FOLDED_CHUNKS
    return [folded.get(chunk) or _fold_chunk(chunk) for chunk in chunks]


def prepared_chunks(text: str) -> tuple[list[str], bool]:
    """*text* lower-cased, without invisible characters, fancy or look-alike letters and
    hashtags, split at whitespace; and whether each chunk folds on its own
    (:func:`fold_chunk`), which it does unless a word is split by spaces ("b a l p r e s"):
    then the chunks fold together (:func:`fold_together`)."""
    # Plain ASCII has no invisible, accented, fancy or look-alike letters to undo.
    text = text.lower() if text.isascii() else _undo_lettering(text)
    if "#" in text:
        text = _HASHTAG.sub("", text)
    chunks = text.split()
    spaced = " ".join(chunks)
    isolated_pair = _ISOLATED_PAIR_ASCII if spaced.isascii() else _ISOLATED_PAIR
    return chunks, not (isolated_pair.search(spaced) and _split_by_spaces(spaced))


def fold_chunk(chunk: str) -> str:
    """Fold one chunk of :func:`prepared_chunks` that folds on its own (not remembered:
    :func:`fold_chunks` remembers, and so does :class:`crawler.flagging._scan.Scanner`)."""
    return _fold_words(chunk)


def fold_together(chunks: list[str]) -> list[str]:
    """Fold the chunks of :func:`prepared_chunks` as one text; return its chunks."""
    return _fold_words(" ".join(chunks)).split()


def _undo_lettering(text: str) -> str:
    """Lower-case *text* without invisible characters, fancy, accented or look-alike letters."""
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text).lower()
    text = _strip_accents(text)
    if _HAS_HOMOGLYPH.search(text):
        text = text.translate(_HOMOGLYPHS)
    return text


def _split_by_spaces(text: str) -> bool:
    """Does a split word in *text* (whitespace already single spaces) have a space in it?"""
    pattern = _SPLIT_WORD_ASCII if text.isascii() else _SPLIT_WORD
    return any(" " in found.group() for found in pattern.finditer(text))


def _fold_chunk(chunk: str) -> str:
    """Fold one whitespace-free chunk of lower-cased text, and remember it."""
    if len(_FOLDED_CHUNKS) >= _MAX_REMEMBERED:
        _FOLDED_CHUNKS.clear()
    _FOLDED_CHUNKS[chunk] = folded = _fold_words(chunk)
    return folded


def _fold_words(text: str) -> str:
    """Join split words, undo leet and stretched letters in lower-cased text."""
    if text.isascii():
        if b".a." in text.encode("ascii").translate(_SHAPE):
            text = _SPLIT_WORD_ASCII.sub(_join_letters, text)
        text = _undo_leet(text)
        return _STRETCHED_ASCII.sub(r"\1", text) if _STRETCHED_ASCII.search(text) else text
    text = _undo_leet(_SPLIT_WORD.sub(_join_letters, text))
    return _STRETCHED.sub(r"\1", text) if _STRETCHED.search(text) else text


def _undo_leet(text: str) -> str:
    """Leet characters as letters, again while an undone one makes another a letter:
    "a0a0" → "aoa0" → "aoao"."""
    while _LEET_CHAR.search(text):
        text = _LEET_CHAR.sub(_leet_letter, text)
    return text


def _leet_letter(match: re.Match[str]) -> str:
    return _LEET[match.group()]


def _join_letters(match: re.Match[str]) -> str:
    return _NOT_LETTER.sub("", match.group())


def tokens(text: str) -> list[str]:
    """Return the words and numbers of the folded *text*."""
    return WORD.findall(fold(text))
