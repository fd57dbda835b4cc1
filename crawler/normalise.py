"""Pure normalisers: turn the text a platform shows into typed, comparable values.

Sellers control almost every value a platform shows, so :func:`normalise_listing` also
gives each field the type the evidence store keeps it as, and sets aside what no real
listing holds (a price of 10^20, a NaN rating): the value becomes ``None`` and the
listing's ``refused_values`` says which field held what, for the run to record as a fault.
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
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_MAX_IDR = 10**13  # no single listing costs ten trillion rupiah; beyond that it is noise
_MAX_COUNT = 10**12  # sold counts: more than a trillion sold is noise
_MAX_RATING = 100.0  # ratings are out of 5 (some platforms, out of 100)


def clean_text(text: str | None) -> str | None:
    """NFC-compose, drop control characters and collapse runs of spaces; ``None`` stays ``None``.

    Letters are not folded: the title stays as the seller wrote it (fancy letters and all),
    because the way it was written is itself evidence. The flagger folds for matching.
    """
    if text is None:
        return None
    text = unicodedata.normalize("NFC", str(text))
    text = _CONTROL.sub(" ", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line) or None


def _scaled(number: str, unit: str | None) -> int | None:
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
    text = clean_text(text)
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


_TEXT_FIELDS = ("title", "description", "seller_name", "category", "price_text", "sold_text")
# Fields kept as text: a platform may send a number (a shop URL of 12345); it is kept as text.
_AS_TEXT = ("platform", "listing_id", "url", "keyword", "price_text", "currency", "seller_id",
            "seller_url", "sold_text", "condition", "posted_at", "location")
# Whole numbers and their range, and the real numbers.
_WHOLE = {"price_idr": _MAX_IDR, "sold_count": _MAX_COUNT}
_REAL = {"rating": _MAX_RATING}


def normalise_listing(fields: dict[str, Any]) -> dict[str, Any]:
    """Clean a listing's text fields and derive ``price_idr``, ``sold_count`` and ``location``.

    Values the spider already read from structured data (a numeric price, say) are kept,
    within range; each refused value is listed in ``refused_values``.
    """
    out = dict(fields)
    refused: list[dict[str, str]] = list(out.get("refused_values") or [])
    for name in _AS_TEXT:
        if out.get(name) is not None and not isinstance(out[name], str):
            out[name] = str(out[name])
    for name in _TEXT_FIELDS:
        if out.get(name) is not None:
            out[name] = clean_text(out[name])
    for name, limit in _WHOLE.items():
        out[name] = _bounded_whole(out, name, limit, refused)
    for name, limit in _REAL.items():
        out[name] = _bounded_real(out, name, limit, refused)
    if out.get("imported") is not None and not isinstance(out["imported"], bool):
        refused.append(_refusal("imported", out["imported"], "not true or false"))
        out["imported"] = None
    if "image_urls" in out:
        urls = out["image_urls"] if isinstance(out["image_urls"], (list, tuple)) else []
        out["image_urls"] = [url for url in urls if isinstance(url, str) and url]
    if out.get("price_idr") is None:
        out["price_idr"] = parse_price_idr(out.get("price_text"))
    if out.get("sold_count") is None:
        out["sold_count"] = parse_sold_count(out.get("sold_text"))
    out["location"] = normalise_city(out.get("location"))
    out["refused_values"] = refused
    return out


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
