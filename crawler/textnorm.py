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
# ("100pcs", "3second") and runs of digits ("isi100pcs") stay numbers.
_LEET_CHAR = re.compile(
    rf"(?<={_LETTER})[013457@$](?={_LETTER})|(?<={_LETTER}{_LETTER})[013457@$](?![\w@$])"
)
# Three or more single letters split by one separator: a space, "_", or one or two
# symbols (punctuation, an emoji): "b.a.l.p.r.e.s", "b a l p r e s", "b🔥a🔥l".
_SEPARATOR = r"(?:\s|_|[^\w\s]{1,2})"
_SPLIT_WORD = re.compile(
    rf"(?<!{_LETTER}){_LETTER}(?:{_SEPARATOR}{_LETTER}(?!{_LETTER})){{2,}}"
)
_STRETCHED = re.compile(rf"({_LETTER})\1{{2,}}")
_HASHTAG = re.compile(r"(?<!\S)#+(?=\w)")
_TOKEN = re.compile(r"[^\W_]+")


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return unicodedata.normalize("NFC", kept)


def fold(text: str) -> str:
    """Return *text* lower-cased and stripped of common keyword-evasion tricks."""
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text).lower()
    text = _strip_accents(text).translate(_HOMOGLYPHS)
    text = _HASHTAG.sub("", text)
    text = _SPLIT_WORD.sub(lambda match: re.sub(r"[\W_]", "", match.group()), text)
    text = _LEET_CHAR.sub(lambda match: _LEET[match.group()], text)
    text = _STRETCHED.sub(r"\1", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Return the words and numbers of the folded *text*."""
    return _TOKEN.findall(fold(text))
