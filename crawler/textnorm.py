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
_HOMOGLYPHS = str.maketrans(
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
_NOT_LETTER = re.compile(r"[\W_]")
_HASHTAG = re.compile(r"(?<!\S)#+(?=\w)")
_TOKEN = re.compile(r"[^\W_]+")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return unicodedata.normalize("NFC", kept)


def fold(text: str) -> str:
    """Return *text* lower-cased and stripped of common keyword-evasion tricks."""
    ascii_only = text.isascii()
    if ascii_only:
        # Plain ASCII has no invisible, accented, fancy or look-alike letters to undo.
        text = text.lower()
    else:
        text = _INVISIBLE.sub("", text)
        text = unicodedata.normalize("NFKC", text).lower()
        text = _strip_accents(text).translate(_HOMOGLYPHS)
        ascii_only = text.isascii()
    if "#" in text:
        text = _HASHTAG.sub("", text)
    text = (_SPLIT_WORD_ASCII if ascii_only else _SPLIT_WORD).sub(_join_letters, text)
    if _HAS_LEET.search(text):
        text = _LEET_CHAR.sub(lambda match: _LEET[match.group()], text)
    text = (_STRETCHED_ASCII if ascii_only else _STRETCHED).sub(r"\1", text)
    return " ".join(text.split())


def _join_letters(match: re.Match[str]) -> str:
    return _NOT_LETTER.sub("", match.group())


def tokens(text: str) -> list[str]:
    """Return the words and numbers of the folded *text*."""
    return _TOKEN.findall(fold(text))
