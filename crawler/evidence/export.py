"""Write the evidence store's listings as JSON Lines or CSV."""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING, Any, TextIO

from crawler.evidence.store import EXPORT_FIELDS

if TYPE_CHECKING:
    from collections.abc import Iterable

FORMATS = ("jsonl", "csv")


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
    """Lists and dicts as JSON; booleans as true/false so spreadsheets and scripts agree."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value
