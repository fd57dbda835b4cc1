r"""Write the evidence store's listings as JSON Lines or CSV.

JSON Lines is exact: every value as stored (a value stored as a BLOB, which no thriftwatch
write leaves in a listing, is written ``{"$blob": HEX}``, never as text). CSV is for
spreadsheets, which run a cell that starts like a formula; sellers write titles,
descriptions and URLs, so a text cell that could start a formula is written with a leading
``'`` (OWASP's advice on CSV injection; see :func:`defuse_cell`), and control characters
other than tab and line breaks are written as ``\xNN`` so that a CSV shown in a terminal
cannot drive it (:func:`escape_controls`; in a cell of JSON, JSON's own ``\u00NN``). A
BLOB is written ``X'HEX'``.

:func:`write_timestamps` writes each run's RFC 3161 token out as ``run-N.tsr`` with the head
it covers, to keep outside the DB (``verify --timestamps DIR`` checks them).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from typing import TYPE_CHECKING, Any, TextIO

from crawler.evidence.store import EXPORT_FIELDS

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from crawler.evidence.store import EvidenceStore

FORMATS = ("jsonl", "csv")

# What starts a formula in Excel, LibreOffice Calc or Google Sheets, with every character
# Unicode's compatibility folding (NFKC) turns into one of them: full-width forms (which East
# Asian input turns into the ASCII ones), small, superscript and subscript forms, and the
# minus sign U+2212 (which a spreadsheet may read as a minus) with its own forms.
FORMULA_STARTS = frozenset(
    "=+-@"
    "\uff1d\uff0b\uff0d\uff20"  # full-width = + - @
    "\ufe66\ufe62\ufe63\ufe6b"  # small = + - @
    "\u207c\u207a\u208c\u208a"  # superscript and subscript = +
    "\u2212\u207b\u208b"  # minus sign, superscript and subscript minus
    "\u2a75\u2a76\ufb29"  # == and ===, Hebrew alternative plus
)
# C0 and C1 control characters and DEL, but tab and line breaks (CSV's own whitespace): an
# escape sequence in seller text would drive a terminal that shows the CSV.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# OWASP's list: a formula start, or a tab or carriage return as the very first character.
OWASP_STARTS = frozenset("=+-@\t\r")
# Characters a spreadsheet may drop from the start of a cell before it looks for a formula:
# Unicode spaces and separators (NBSP included), controls, and invisible format characters
# (zero-width space, byte order mark, bidirectional marks).
_IGNORABLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})
QUOTE = "'"


def write_records(records: Iterable[dict[str, Any]], out: TextIO, fmt: str) -> int:
    """Write ``records`` to ``out`` in ``fmt``; returns how many were written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, default=_json_blob) + "\n")
            count += 1
        return count
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _csv_cell(v) for k, v in record.items()})
        count += 1
    return count


def _json_blob(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"$blob": bytes(value).hex()}
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _csv_cell(value: Any) -> Any:
    """Lists and dicts as JSON; booleans as true/false so spreadsheets and scripts agree;
    text defused (:func:`defuse_cell`); a BLOB as ``X'HEX'``; numbers and empty values as
    they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False, default=_json_blob)
        # JSON escapes C0 itself; C1 and DEL get JSON's own escape too, so the JSON still
        # reads as the same value (controls only occur inside JSON strings).
        return defuse_cell(_CONTROLS.sub(lambda found: f"\\u{ord(found[0]):04x}", text))
    if isinstance(value, (bytes, bytearray)):
        return f"X'{bytes(value).hex()}'"
    if isinstance(value, str):
        return defuse_cell(value)
    return value


def escape_controls(text: str) -> str:
    r"""``text`` with each C0 or C1 control character (and DEL), but tab, CR and LF, written
    as ``\xNN``."""
    return _CONTROLS.sub(lambda found: f"\\x{ord(found[0]):02x}", text)


def defuse_cell(text: str) -> str:
    """``text`` with its control characters escaped (:func:`escape_controls`) and a leading
    ``'`` if a spreadsheet could read it as a formula."""
    text = escape_controls(text)
    return QUOTE + text if looks_like_formula(text) else text


def looks_like_formula(text: str) -> bool:
    """Does ``text`` start with one of OWASP's characters, or, after any spaces, controls and
    invisible characters a spreadsheet may skip, with a formula start (``= + - @``)?"""
    if text[:1] in OWASP_STARTS:
        return True
    for char in text:
        if unicodedata.category(char) not in _IGNORABLE_CATEGORIES:
            return char in FORMULA_STARTS
    return False


def write_timestamps(store: EvidenceStore, folder: Path) -> int:
    """Each run's RFC 3161 token as ``run-N.tsr`` (the TSA's response, DER) beside
    ``run-N.head`` (the head it covers, the bytes the TSA was asked to sign), to keep where
    the DB's holder cannot rewrite them. ``openssl ts -verify -data run-N.head -in
    run-N.tsr -CAfile ca.pem`` checks one without thriftwatch. Returns how many."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for run_id, head, token in store.timestamps():
        (folder / f"run-{run_id}.tsr").write_bytes(token)
        (folder / f"run-{run_id}.head").write_text(head, encoding="ascii")
        count += 1
    return count
