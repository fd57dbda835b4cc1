"""Chain of custody: every evidence row is hashed with the hash of the row before it.

Pure functions over plain rows. A row's hash covers its table, its id and every column
but the hash itself, so an edit, a deletion, an insertion or a reordering anywhere in a
table breaks the chain at or after that row.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

GENESIS = "0" * 64  # the prev_hash of a table's first row

# Append-only evidence tables, each with its own chain, in the order they are verified.
EVIDENCE_TABLES = (
    "run_starts", "capture_bodies", "captures", "observations", "flags", "faults", "rechecks",
    "run_health", "run_ends",
)


# Columns a row hash leaves out: a capture body is covered by its own SHA-256 column
# (checked against the decompressed body), so the chain need not hash it twice.
UNHASHED = {"row_hash", "body"}


def canonical(table: str, row: Mapping[str, Any]) -> bytes:
    """The bytes a row hash covers: the table name and the row's columns, as JSON."""
    content = {k: (v.hex() if isinstance(v, bytes) else v)
               for k, v in row.items() if k not in UNHASHED}
    return json.dumps([table, content], sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def row_hash(table: str, row: Mapping[str, Any]) -> str:
    """SHA-256 of :func:`canonical`; ``row`` must already hold its ``id`` and ``prev_hash``."""
    return hashlib.sha256(canonical(table, row)).hexdigest()
