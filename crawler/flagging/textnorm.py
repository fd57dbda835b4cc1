"""Fold listing text so that evasive spellings match the lexicon.

Sellers dodge keyword blocks by writing "balpres" as ``b4lpres``, ``b.a.l.p.r.e.s``,
``𝐛𝐚𝐥𝐩𝐫𝐞𝐬``, ``🅑🅐🅛🅟🅡🅔🅢``, ``ʙᴀʟᴘʀᴇꜱ``, with a Cyrillic "а", with invisible characters
inside, stretched ("baaalpres"), or with emoji between the words ("BALPRES🔥KOREA").
:func:`fold` undoes these tricks; it is pure and keeps numbers such as "100 kg" or
"Rp150.000" intact.

Every letter-like block is read as its letters: the whole mathematical alphanumeric block
and the fancy letters NFKC already maps, and those it leaves alone (negative circled and
squared letters, regional indicators, small capitals). Emoji, other symbols and control
characters separate words, as a space does.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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

def _letter_blocks() -> dict[int, str]:
    """Letter-like characters that NFKC leaves alone, as their plain letters."""
    table = {}
    for first in (0x1F150, 0x1F170, 0x1F1E6):  # negative circled, negative squared, regional
        for offset in range(26):
            table[first + offset] = chr(ord("a") + offset)
    small_capitals = "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡxʏᴢ"
    for letter, plain in zip(small_capitals, "abcdefghijklmnopqrstuvwxyz", strict=True):
        if letter != plain:
            table[ord(letter)] = plain
    return table


LEET = {"4": "a", "3": "e", "0": "o", "1": "i", "5": "s", "7": "t", "@": "a", "$": "s"}
_LETTER = r"[^\W\d_]"
# A leet character counts as a letter only inside a word: between two letters
# ("b4lpres") or closing a word of at least two letters ("balpre5"). Leading digits
# ("100pcs", "3second") and runs of digits ("isi100pcs") stay numbers. (The character
# comes first in the pattern so that the regex engine can skip ahead to it.)
_LEET_CHAR = re.compile(
    rf"[013457@$](?:(?<={_LETTER}.)(?={_LETTER})|(?<={_LETTER}{_LETTER}.)(?![\w@$]))"
)
# Two leet characters between letters ("p4k41an"), and doubled pipes as a double "l"
# ("ba||pres").
_LEET_PAIR = re.compile(rf"[013457@$]{{2}}(?<={_LETTER}..)(?={_LETTER})")
_PIPES = re.compile(rf"(?<={_LETTER})\|\|(?={_LETTER})")
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
# One of these symbols between two letters splits a word to dodge a keyword block
# ("bal*pres", "karu|ngan"); it is dropped. (Dots, hyphens and slashes stay: "wa.me",
# "t-shirt", "pcs/bal"; the lexicon's spellings allow them between a word's parts.)
_INNER_SYMBOL = re.compile(r"(?<=[^\W\d_])[*|~^'\"`](?=[^\W\d_])")
WORD = re.compile(r"[^\W_]+")  # a run of letters and digits


class _Table(dict[int, int | str | None]):
    """A ``str.translate`` table that keeps the characters it does not list (and remembers
    them: a missing key would cost an exception for every character)."""

    def __missing__(self, code: int) -> int | str | None:
        self[code] = code
        return code


class _NonSpacingMarks(_Table):
    """A ``str.translate`` table that drops non-spacing and enclosing marks (accents, the
    keycap of "1️⃣"), filled as it is used."""

    def __missing__(self, code: int) -> int | str | None:
        kept = None if unicodedata.category(chr(code)) in {"Mn", "Me"} else code
        self[code] = kept
        return kept


class _Separators(_Table):
    """A ``str.translate`` table that turns emoji, other symbols, control characters and
    unassigned or private characters into spaces, and letter-like ones into letters."""

    def __missing__(self, code: int) -> int | str | None:
        kept: int | str = code
        if chr(code).isspace():
            pass
        elif code < 0x80:
            kept = " " if code < 0x20 or code == 0x7F else code
        elif unicodedata.category(chr(code)) in {"So", "Sk", "Cc", "Co", "Cs", "Cn"}:
            kept = " "
        self[code] = kept
        return kept


_DROP_MARKS = _NonSpacingMarks()
_HOMOGLYPHS = _Table(_LOOK_ALIKES)
_HAS_HOMOGLYPH = re.compile("[" + "".join(map(chr, _LOOK_ALIKES)) + "]")
_SEPARATORS = _Separators(_letter_blocks())
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).translate(_DROP_MARKS))


def fold(text: str) -> str:
    """Return *text* lower-cased and stripped of common keyword-evasion tricks, its words
    separated by single spaces."""
    chunks = [fold_chunk(chunk) for chunk in text.split()]
    spaced = spaced_letters(chunks)
    if split_by_spaces(spaced):  # "b a l p r e s": the chunks fold as one text
        return _fold_words(spaced)
    return " ".join([folded for _, folded in chunks if folded])


def spaced_letters(chunks: list[tuple[str, str]]) -> str:
    """The letters of :func:`fold_chunk`'s *chunks*, as :func:`fold` reads them for words
    split by spaces."""
    return " ".join([letters for letters, _ in chunks if letters])


@lru_cache(maxsize=200_000)
def fold_chunk(chunk: str) -> tuple[str, str]:
    """One whitespace-free chunk as plain lower-case letters (its words separated by single
    spaces where emoji or symbols stood), and folded. Listings share most of their words,
    so each distinct chunk is worked out once."""
    if chunk.isascii():
        letters = _ASCII_CONTROL.sub(" ", chunk.lower()) if not chunk.isprintable() \
            else chunk.lower()
    else:
        letters = _undo_lettering(chunk)
    if "#" in letters:
        letters = _HASHTAG.sub("", letters)
    letters = " ".join(letters.split())
    return letters, _fold_words(letters)


def split_by_spaces(text: str) -> bool:
    """Is a word of *text* (whitespace already single spaces) split by spaces?"""
    pattern = _ISOLATED_PAIR_ASCII if text.isascii() else _ISOLATED_PAIR
    if not pattern.search(text):
        return False
    words = _SPLIT_WORD_ASCII if text.isascii() else _SPLIT_WORD
    return any(" " in found.group() for found in words.finditer(text))


def _undo_lettering(text: str) -> str:
    """Lower-case *text* without invisible characters, fancy, accented or look-alike letters,
    emoji and other symbols as spaces."""
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text).translate(_SEPARATORS).lower()
    text = _strip_accents(text)
    if _HAS_HOMOGLYPH.search(text):
        text = text.translate(_HOMOGLYPHS)
    return text


def _fold_words(text: str) -> str:
    """Join split words, undo leet and stretched letters in lower-cased text."""
    text = _INNER_SYMBOL.sub("", text) if _has_inner_symbol(text) else text
    if text.isascii():
        if b".a." in text.encode("ascii").translate(_SHAPE):
            text = _SPLIT_WORD_ASCII.sub(_join_letters, text)
        text = _undo_leet_and_symbols(text)
        return _STRETCHED_ASCII.sub(r"\1", text) if _STRETCHED_ASCII.search(text) else text
    text = _undo_leet_and_symbols(_SPLIT_WORD.sub(_join_letters, text))
    return _STRETCHED.sub(r"\1", text) if _STRETCHED.search(text) else text


def _undo_leet_and_symbols(text: str) -> str:
    """Leet undone, and again while that puts letters either side of a symbol inside a
    word ("aa0*a": "aao*a", then "aaoa")."""
    text = _undo_leet(text)
    while _has_inner_symbol(text) and (joined := _INNER_SYMBOL.sub("", text)) != text:
        text = _undo_leet(joined)
    return text


def _has_inner_symbol(text: str) -> bool:
    return any(symbol in text for symbol in "*|~^'\"`")


def _undo_leet(text: str) -> str:
    """Leet characters as letters, again while an undone one makes another a letter:
    "a0a0" → "aoa0" → "aoao"."""
    if "||" in text:
        text = _PIPES.sub("ll", text)
    if _LEET_PAIR.search(text):
        text = _LEET_PAIR.sub(lambda match: "".join(LEET[c] for c in match.group()), text)
    while _LEET_CHAR.search(text):
        text = _LEET_CHAR.sub(_leet_letter, text)
    return text


def _leet_letter(match: re.Match[str]) -> str:
    return LEET[match.group()]


def _join_letters(match: re.Match[str]) -> str:
    return _NOT_LETTER.sub("", match.group())


def tokens(text: str) -> list[str]:
    """Return the words and numbers of the folded *text*."""
    return WORD.findall(fold(text))
