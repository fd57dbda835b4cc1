"""Write the evidence store's listings as JSON Lines or CSV.

JSON Lines is exact: every value as stored. CSV is for spreadsheets, which run a cell that
starts like a formula; sellers write titles, descriptions and URLs, so a text cell that could
start a formula is written with a leading ``'`` (OWASP's advice on CSV injection). See
:func:`defuse_cell`.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from typing import TYPE_CHECKING, Any, TextIO

from crawler.evidence.store import EXPORT_FIELDS

if TYPE_CHECKING:
    from collections.abc import Iterable

FORMATS = ("jsonl", "csv")

# What starts a formula in Excel, LibreOffice Calc or Google Sheets, with their full-width
# forms (which East Asian input turns into the ASCII ones).
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
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
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _csv_cell(v) for k, v in record.items()})
        count += 1
    return count


def _csv_cell(value: Any) -> Any:
    """Lists and dicts as JSON; booleans as true/false so spreadsheets and scripts agree;
    text defused (:func:`defuse_cell`); numbers and empty values as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return defuse_cell(json.dumps(value, ensure_ascii=False))
    if isinstance(value, str):
        return defuse_cell(value)
    return value


def defuse_cell(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet could read it as a formula."""
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
