"""Pure normalisers: turn the text a platform shows into typed, comparable values.

Sellers control almost every value a platform shows, so :func:`normalise_listing` also
gives each field the type the evidence store keeps it as, and sets aside what no real
listing holds (a price of 10^20, a NaN rating): the value becomes ``None`` and the
listing's ``refused_values`` says which field held what, for the run to record as a fault.

Text is made storable and harmless to show: a lone UTF-16 surrogate (which no UTF-8 text
can hold) becomes U+FFFD, and characters that drive a terminal or reorder what follows
(C0 and C1 controls, ESC, the bidirectional embeddings, overrides and isolates) are taken
out of every field; only a description keeps its line breaks. Where an id or URL had to be
changed, or any text lost a surrogate, ``refused_values`` says so (a ``value_repaired``
fault); a listing without a title keeps an empty one (a ``listing_incomplete`` fault). The
raw response, kept as the listing's capture, always holds what the platform sent.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from price_parser import Price

# Indonesian number words: "rb"/"ribu" = thousand, "jt"/"juta" = million,
# "M"/"miliar" = billion. Platforms also use English "K"/"Mio".
_MULTIPLIERS = {
    "rb": 1_000, "ribu": 1_000, "k": 1_000,
    "jt": 1_000_000, "juta": 1_000_000, "mio": 1_000_000,
    "m": 1_000_000_000, "miliar": 1_000_000_000, "milyar": 1_000_000_000,
}
_AMOUNT = re.compile(
    r"(?P<number>\d+(?:[.,]\d+)*)\s*(?P<unit>rb|ribu|k|jt|juta|mio|miliar|milyar|m)?(?![a-z])",
    re.IGNORECASE,
)
# Lone UTF-16 surrogates: JSON's "\\udfff" escapes decode to them, and UTF-8 cannot hold them.
_SURROGATE = re.compile("[\ud800-\udfff]")
# Characters that move a terminal's cursor, recolour or erase its lines, or reorder the text
# that follows: C0 controls but tab and line feed, DEL, the C1 controls (ESC's 8-bit twins,
# NEL), the bidirectional embeddings and overrides (U+202A-U+202E) and isolates (U+2066-9).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# The same, with tab and line feed, for one-line values (ids, URLs) and for escaping; and
# the Unicode line and paragraph separators, which some log viewers break lines at.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff]")
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}  # as Python's repr writes them
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
# What clean_text changes in ASCII text (NFC and surrogates aside): a control character or
# tab, two spaces, a space or line break at either end, a space beside a line break, an
# empty line.
_ASCII_UNCLEAN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]| {2}|\A[ \n]|[ \n]\Z| \n|\n |\n\n")
_MAX_IDR = 10**13  # no single listing costs ten trillion rupiah; beyond that it is noise
# The longest number read as a price or count: 10^13 with separators and cents is 22
# characters. A longer one is noise, and price_parser's time grows with its square.
_MAX_NUMBER_CHARS = 32
_MAX_COUNT = 10**12  # sold counts: more than a trillion sold is noise
_MAX_RATING = 100.0  # ratings are out of 5 (some platforms, out of 100)


def repair_surrogates(text: str) -> str:
    """``text`` with each lone UTF-16 surrogate replaced by U+FFFD, so that it can be stored."""
    return _SURROGATE.sub("\ufffd", text)


def printable(text: str, keep: str = "") -> str:
    r"""``text`` safe to write to a terminal, a log or a fault record: each control character
    (line breaks too, unless in ``keep``), bidirectional control and lone surrogate is
    written as its escape (``\x1b``, ``\u202e``, ``\udfff``); all else is kept as it is."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if char in keep:
            return char
        code = ord(char)
        return _SHORT_ESCAPES.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")

    return _UNSAFE.sub(escape, text)


def clean_text(text: str | None) -> str | None:
    """NFC-compose, drop control characters and collapse runs of spaces; ``None`` stays ``None``.

    Lone surrogates become U+FFFD. Letters are not folded: the title stays as the seller
    wrote it (fancy letters and all), because the way it was written is itself evidence.
    The flagger folds for matching.
    """
    if text is None:
        return None
    text = str(text)
    if text.isascii() and not _ASCII_UNCLEAN.search(text):
        return text or None  # what the steps below would give back (most titles)
    text = unicodedata.normalize("NFC", repair_surrogates(text))
    text = _CONTROL.sub(" ", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line) or None


def clean_line(text: str | None) -> str | None:
    """:func:`clean_text` on one line: line breaks become spaces (a title, a seller's name)."""
    text = clean_text(text)
    return text.replace("\n", " ") if text else text


def clean_identifier(text: str | None) -> str | None:
    """An id or URL as storable, harmless text: lone surrogates become U+FFFD, every control
    character (line breaks and tabs too) and bidirectional control is dropped, and the
    ends are stripped. Nothing else changes (no composing: an id is matched as it is)."""
    if text is None:
        return None
    text = _UNSAFE.sub(lambda m: "\ufffd" if _SURROGATE.match(m.group()) else "",
                       str(text)).strip()
    return text or None


def _scaled(number: str, unit: str | None) -> int | None:
    if len(number) > _MAX_NUMBER_CHARS:
        return None
    amount = Price.fromstring(number).amount
    if amount is None:
        return None
    try:
        value = Decimal(amount) * _MULTIPLIERS.get((unit or "").lower(), 1)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value >= _MAX_IDR:
        return None
    return int(value)


def parse_price_idr(text: str | None) -> int | None:
    """Rupiah amount in any written form: "Rp1.500.000", "Rp 1,5 jt", "150rb", "IDR 250,000".

    A range ("Rp10.000 - Rp20.000") gives its lower bound. Unreadable text gives ``None``.
    """
    if not text:
        return None
    match = _AMOUNT.search(str(text))
    return _scaled(match["number"], match["unit"]) if match else None


def parse_sold_count(text: str | int | None) -> int | None:
    """Sold count from "750+ terjual", "10rb+ terjual", "1,2rb terjual", "1.2K sold", "Terjual 17".

    Platforms round down and add "+"; the lower bound is what can be defended.
    """
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if text >= 0 else None
    match = _AMOUNT.search(str(text))
    return _scaled(match["number"], match["unit"]) if match else None


# Spellings of the same city in platform fields.
_CITY_ALIASES = {
    "jakpus": "Jakarta Pusat", "jakbar": "Jakarta Barat", "jaktim": "Jakarta Timur",
    "jaksel": "Jakarta Selatan", "jakut": "Jakarta Utara", "jogja": "Yogyakarta",
    "jogjakarta": "Yogyakarta", "yogya": "Yogyakarta", "dki jakarta": "Jakarta",
}
_REGENCY = re.compile(r"^(?:kab\.?|kabupaten)\s+", re.IGNORECASE)
_MUNICIPALITY = re.compile(r"^kota\s+(?:adm\.?\s+|administrasi\s+)?", re.IGNORECASE)
# OLX writes the kind after the name: "Medan Kota", "Bandung Kab.".
_KIND_AFTER = re.compile(r"\s+(?P<kind>kota|kab\.?|kabupaten)$", re.IGNORECASE)


def normalise_city(text: str | None) -> str | None:
    """One spelling per place: "KOTA BANDUNG" → "Bandung", "KAB. BANDUNG" → "Kab. Bandung".

    A regency (kabupaten, "Kab.") is a different place from the city (kota) of the same
    name, so the prefix is kept for regencies and dropped for cities.
    """
    text = clean_line(text)
    if not text:
        return None
    regency = False
    # Peel off every kind word, before or after the name, so the result is its own normal form.
    while kind := _REGENCY.match(text) or _MUNICIPALITY.match(text) or _KIND_AFTER.search(text):
        regency = regency or kind.group().strip().lower().startswith("kab")
        text = text[kind.end():] if kind.start() == 0 else text[:kind.start()]
    name = _CITY_ALIASES.get(text.lower(), text)
    name = " ".join(word.capitalize() for word in name.split())
    return f"Kab. {name}" if regency else name


# How each text field is cleaned. Ids and URLs identify the listing: a change to one is
# reported. One-line text: a title, a name. A description keeps its line breaks.
_IDENTIFYING = ("listing_id", "url", "seller_id", "seller_url")
_CODES = ("currency", "posted_at")
# The spider's and the operator's own words: the keyword as the run records it.
_VERBATIM = ("platform", "keyword")
_ONE_LINE = ("title", "seller_name", "category", "price_text", "sold_text", "condition")
_MULTILINE = ("description",)
# Fields kept as text: a platform may send a number (a shop URL of 12345); it is kept as text.
_AS_TEXT = ("platform", "listing_id", "url", "keyword", "price_text", "currency", "seller_id",
            "seller_url", "sold_text", "condition", "posted_at", "location")
# Whole numbers and their range, and the real numbers.
_WHOLE = {"price_idr": _MAX_IDR, "sold_count": _MAX_COUNT}
_REAL = {"rating": _MAX_RATING}
# The fault kinds of ``refused_values`` entries that set no value aside (crawler.keys): an
# entry without a "kind" is a ``field_out_of_range`` value, stored as NULL.
REPAIRED, INCOMPLETE = "value_repaired", "listing_incomplete"


def normalise_listing(fields: dict[str, Any]) -> dict[str, Any]:
    """Clean a listing's text fields and derive ``price_idr``, ``sold_count`` and ``location``.

    Values the spider already read from structured data (a numeric price, say) are kept,
    within range; each refused value is listed in ``refused_values``, and so is each id or
    URL that had to be repaired to be stored, and a missing title (stored as ``""``).
    """
    out = dict(fields)
    refused: list[dict[str, str]] = list(out.get("refused_values") or [])
    for name in _AS_TEXT:
        if out.get(name) is not None and not isinstance(out[name], str):
            out[name] = str(out[name])
    title = out.get("title")
    if isinstance(title, bool):  # JSON's false is no title, not the word "False"
        out["title"] = None
    for names, clean in ((_IDENTIFYING, clean_identifier), (_CODES, clean_identifier),
                         (_VERBATIM, repair_surrogates), (_ONE_LINE, clean_line),
                         (_MULTILINE, clean_text)):
        for name in names:
            if out.get(name) is not None:
                value = str(out[name])
                out[name] = clean(value)
                _note_repair(name, value, out[name], refused)
    if out.get("title") is None:
        out["title"] = ""
        refused.append({**_refusal("title", title, "no title"), "kind": INCOMPLETE,
                        "stored": "stored with an empty title"})
    for name, limit in _WHOLE.items():
        out[name] = _bounded_whole(out, name, limit, refused)
    for name, limit in _REAL.items():
        out[name] = _bounded_real(out, name, limit, refused)
    if out.get("imported") is not None and not isinstance(out["imported"], bool):
        refused.append(_refusal("imported", out["imported"], "not true or false"))
        out["imported"] = None
    if "image_urls" in out:
        urls = out["image_urls"] if isinstance(out["image_urls"], (list, tuple)) else []
        cleaned = [(url, clean_identifier(url)) for url in urls if isinstance(url, str)]
        for url, repaired in cleaned:
            _note_repair("image_urls", url, repaired, refused)
        out["image_urls"] = [repaired for _, repaired in cleaned if repaired]
    if out.get("price_idr") is None:
        out["price_idr"] = parse_price_idr(out.get("price_text"))
    if out.get("sold_count") is None:
        out["sold_count"] = parse_sold_count(out.get("sold_text"))
    location = out.get("location")
    out["location"] = normalise_city(location)
    if location is not None:
        _note_repair("location", location, out["location"], refused)
    out["refused_values"] = refused
    return out


def _note_repair(name: str, value: str, cleaned: str | None,
                 refused: list[dict[str, str]]) -> None:
    """List ``name`` in ``refused`` when its text could not be stored as sent: it held lone
    surrogates, or it identifies the listing and held control characters."""
    if _SURROGATE.search(value):
        why = "held lone UTF-16 surrogates, replaced by U+FFFD"
    elif name in _IDENTIFYING and _UNSAFE.search(value):
        why = "held control or bidirectional characters, taken out"
    else:
        return
    stored = repr(cleaned) if cleaned is None or len(cleaned) <= 80 else f"{cleaned[:77]!r}..."
    refused.append({**_refusal(name, value, why), "kind": REPAIRED,
                    "stored": f"stored as {stored}"})


def _bounded_whole(out: dict[str, Any], name: str, limit: int,
                   refused: list[dict[str, str]]) -> int | None:
    """A whole number from 0 to ``limit``; anything else is refused (``None``)."""
    value = out.get(name)
    if value is None:
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        refused.append(_refusal(name, value, "not a whole number"))
        return None
    if not 0 <= value < limit:
        refused.append(_refusal(name, value, f"out of range (0 to {limit:.0e})"))
        return None
    return value


def _bounded_real(out: dict[str, Any], name: str, limit: float,
                  refused: list[dict[str, str]]) -> float | None:
    """A finite number from 0 to ``limit``; anything else is refused (``None``)."""
    value = out.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        refused.append(_refusal(name, value, "not a number"))
        return None
    if not (math.isfinite(value) and 0 <= value <= limit):
        refused.append(_refusal(name, value, f"out of range (0 to {limit:g})"))
        return None
    return float(value)


def _refusal(field: str, value: Any, why: str) -> dict[str, str]:
    shown = repr(value)
    return {"field": field, "value": shown if len(shown) <= 80 else f"{shown[:77]}...",
            "why": why}
