"""Chain of custody: every evidence row is hashed with the hash of the row before it.

Pure functions over plain rows. A row's hash covers its table, its id and every column
but the hash itself, so an edit, a deletion, an insertion or a reordering anywhere in a
table breaks the chain at or after that row.

A hash must cover what is stored, not what was handed over: SQLite converts a value to its
column's type (an integral float into an INTEGER column comes back an int, a number into a
TEXT column comes back text, NaN comes back NULL, -0.0 in a REAL column comes back 0.0).
:func:`as_stored` makes each value what its column will give back before it is hashed or
written, and refuses what a column cannot hold faithfully, so a clean DB always verifies.

The canonical form tells a BLOB from TEXT (a BLOB is ``{"$blob": HEX}``, never a bare hex
string), and :func:`type_problem` says when a stored value is not of its column's type, so
turning a hex id into the BLOB of its bytes is found. No hashed column holds bytes in a DB
any release wrote (``as_stored`` refuses bytes where text belongs), so every earlier hash
reads the same.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

GENESIS = "0" * 64  # the prev_hash of a table's first row

# Append-only evidence tables, each with its own chain, in the order they are verified
# (run_ends last: it records the others' heads). Schema version 3 added listing_pages,
# contacts, images and takedown_requests, version 4 erasures, version 5 run_nodes, merges,
# reflags and reflag_ends (before flags, whose rows a reflag adds name them); a DB of an
# earlier version has no such chain.
EVIDENCE_TABLES = (
    "run_starts", "capture_bodies", "captures", "observations", "reflags", "reflag_ends",
    "flags", "faults", "rechecks", "run_health", "listing_pages", "contacts", "images",
    "takedown_requests", "erasures", "run_nodes", "merges", "run_ends",
)


# Columns a row hash leaves out: a capture body is covered by its own SHA-256 column
# (checked against the decompressed body), so the chain need not hash it twice.
UNHASHED = {"row_hash", "body"}


_INT64 = (-(2**63), 2**63 - 1)

# What SQLite's typeof() may give for a value of each column kind (besides NULL). A number
# in an INTEGER column that is not whole stays REAL; a TEXT column converts numbers to text.
SQL_TYPE = {str: "TEXT", int: "INTEGER", float: "REAL", bytes: "BLOB"}
STORED_TYPES: dict[type, tuple[type, ...]] = {
    str: (str,), int: (int, float), float: (float,), bytes: (bytes,)}


def as_stored(kind: type, value: Any) -> Any:
    """``value`` as a column of ``kind`` (str, int, float or bytes) will give it back.

    Raises :class:`TypeError` for a value of the wrong kind (text in a number column, bytes
    where text belongs) and :class:`ValueError` for NaN, infinity, a whole number beyond 64
    bits or text with a lone UTF-16 surrogate (no UTF-8 text, so no hash, can hold one).
    """
    if value is None:
        return None
    if kind is str:
        if isinstance(value, (bytes, bytearray)):
            raise TypeError("bytes where text belongs")
        text = value if isinstance(value, str) else str(value)
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("text holds a lone UTF-16 surrogate, which UTF-8 (and so "
                                 "the DB) cannot hold") from None
        return text
    if kind is bytes:
        if not isinstance(value, (bytes, bytearray)):
            raise TypeError(f"{type(value).__name__} where bytes belong")
        return bytes(value)
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, (int, float)):
        raise TypeError(f"{type(value).__name__} where a number belongs")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number")
    if kind is float:
        # SQLite gives -0.0 back from a REAL column as 0.0: hash what it will give back.
        number = float(value)
        return 0.0 if number == 0 else number
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an INTEGER column keeps an integral float as a whole number
    if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
        raise ValueError(f"{value} is beyond a 64-bit whole number")
    return value


def stored_row(columns: Mapping[str, type], row: Mapping[str, Any]) -> dict[str, Any]:
    """Every column of a row, each value :func:`as_stored`; a problem names its column."""
    out = {}
    for name, kind in columns.items():
        value = row.get(name)
        # What as_stored would give back unchanged (the usual case) skips it.
        if value is None or (type(value) is kind and (
                (kind is str and value.isascii())
                or (kind is int and _INT64[0] <= value <= _INT64[1])
                or (kind is float and math.isfinite(value) and value != 0))):
            out[name] = value
            continue
        try:
            out[name] = as_stored(kind, value)
        except (TypeError, ValueError) as error:
            raise ValueError(f"column {name}: {error}") from None
    return out


def type_problem(kind: type, value: Any, nullable: bool = True) -> str | None:
    """Why ``value``, as read back from a column of ``kind``, is not what a thriftwatch
    write leaves there (a BLOB where text belongs, say); None when it is."""
    if value is None:
        return None if nullable else "is NULL where a value must be"
    if isinstance(value, STORED_TYPES[kind]):
        return None
    found = SQL_TYPE.get(type(value), type(value).__name__)
    article = "an" if found[0] in "AEIOU" else "a"
    return f"holds {article} {found} where the column is {SQL_TYPE[kind]}"


def _canonical_value(value: Any) -> Any:
    # A BLOB is tagged, so it can never read as the TEXT of its hex digits.
    return {"$blob": bytes(value).hex()} if isinstance(value, (bytes, bytearray)) else value


# Columns a row hash covers through their SHA-256 (a column of the row), so that personal
# data can be erased and the chain still verifies: a contact's value and raw text (schema
# version 4). A contact written before has no digests: its hash covers the text itself.
ERASABLE = {"contacts": {"value": "value_sha256", "raw": "raw_sha256"}}


def _blob(value: Any) -> Any:
    # A BLOB is tagged, so it can never read as the TEXT of its hex digits.
    if isinstance(value, (bytes, bytearray)):
        return {"$blob": bytes(value).hex()}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# One encoder for every row (json.dumps would build one per call); what it cannot encode as
# JSON, bytes, it tags through _blob, as _canonical_value does.
_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=_blob).encode


# Columns a later schema version added to a chained table: a row hash covers one only when it
# holds a value, so every row written before it was added (NULL there) hashes as it did.
# A verdict a reflag stored names the reflag (schema version 5).
LATER_COLUMNS = {"flags": "reflag_id"}


def canonical(table: str, row: Mapping[str, Any]) -> bytes:
    """The bytes a row hash covers: the table name and the row's columns, as JSON."""
    left_out = UNHASHED
    erasable = ERASABLE.get(table)
    if erasable:
        digested = row.get(next(iter(erasable.values()))) is not None
        left_out = {*UNHASHED, *(erasable if digested else erasable.values())}
    later = LATER_COLUMNS.get(table)
    if later is not None and row.get(later) is None:
        left_out = {*left_out, later}
    content = {k: v for k, v in row.items() if k not in left_out}
    return _ENCODE([table, content]).encode("utf-8")


def text_digest(text: str | None) -> str | None:
    """The SHA-256 (hex) of ``text`` as UTF-8, or None: what an erasable column's digest holds."""
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_hash(table: str, row: Mapping[str, Any]) -> str:
    """SHA-256 of :func:`canonical`; ``row`` must already hold its ``id`` and ``prev_hash``."""
    return hashlib.sha256(canonical(table, row)).hexdigest()


def head_digest(heads: Mapping[str, Mapping[str, Any] | None]) -> str:
    """The DB's *head*: one SHA-256 over every chain's head (table, last id, last row hash).

    Empty chains are left out, so a table added by a later release changes no earlier head.
    Written down outside the DB (an e-mail, a case file, an RFC 3161 timestamp), a head
    pins the whole history before it: ``verify --head`` checks that a DB holds it.
    """
    present = {table: {"id": head["id"], "row_hash": head["row_hash"]}
               for table, head in heads.items() if head}
    text = json.dumps(present, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def run_end_head(recorded_heads: Mapping[str, Any], run_end_id: int, run_end_hash: str) -> str:
    """The head just after a run's end was written: the chain heads the end recorded, with
    the end itself at the head of ``run_ends``."""
    return head_digest({**recorded_heads, "run_ends": {"id": run_end_id,
                                                       "row_hash": run_end_hash}})
