"""Recompute every row hash and capture digest of an evidence DB and report the first break."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from crawler.evidence.custody import EVIDENCE_TABLES, GENESIS, row_hash


@dataclass
class Verification:
    """What verify found: rows checked per table, and the problems (first one first)."""

    rows: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_db(path: str | Path) -> Verification:
    """Check an evidence DB, read-only: chains, capture digests, recorded chain heads."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        _check_is_evidence_db(conn, path)
        result = Verification()
        for table in EVIDENCE_TABLES:
            _check_chain(conn, table, result)
        _check_bodies(conn, result)
        _check_recorded_heads(conn, result)
        return result
    finally:
        conn.close()


def _check_is_evidence_db(conn: sqlite3.Connection, path: str | Path) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [table for table in ("meta", *EVIDENCE_TABLES) if table not in tables]
    if missing:
        raise ValueError(f"{path} is not a thriftwatch evidence DB (no {', '.join(missing)})")


def _check_chain(conn: sqlite3.Connection, table: str, result: Verification) -> None:
    expected_prev, count = GENESIS, 0
    for stored in conn.execute(f"SELECT * FROM {table} ORDER BY id"):
        count += 1
        row = dict(stored)
        where = f"{table} row id {row['id']}"
        if row["prev_hash"] != expected_prev:
            result.problems.append(f"{where}: does not follow the row before it "
                                   "(a row was deleted, inserted or reordered)")
        elif row_hash(table, row) != row["row_hash"]:
            result.problems.append(f"{where}: content does not match its hash (edited)")
        expected_prev = row["row_hash"]
    result.rows[table] = count


def _check_bodies(conn: sqlite3.Connection, result: Verification) -> None:
    for row in conn.execute("SELECT id, sha256, size, body FROM capture_bodies ORDER BY id"):
        try:
            body = zlib.decompress(row["body"])
        except zlib.error:
            result.problems.append(f"capture_bodies row id {row['id']}: body is corrupt")
            continue
        if hashlib.sha256(body).hexdigest() != row["sha256"] or len(body) != row["size"]:
            result.problems.append(f"capture_bodies row id {row['id']}: body does not match "
                                   f"its SHA-256 {row['sha256']}")
    for row in conn.execute("""SELECT c.id, c.body_sha256 FROM captures c
                               LEFT JOIN capture_bodies b ON b.sha256 = c.body_sha256
                               WHERE b.id IS NULL ORDER BY c.id"""):
        result.problems.append(f"captures row id {row['id']}: its body {row['body_sha256']} "
                               "is missing")


def _check_recorded_heads(conn: sqlite3.Connection, result: Verification) -> None:
    """Each ended run recorded every chain's head: those rows must still be there, unchanged."""
    for run in conn.execute("SELECT run_id, chain_heads FROM run_ends ORDER BY id"):
        for table, head in json.loads(run["chain_heads"]).items():
            if head is None:
                continue
            found = conn.execute(f"SELECT row_hash FROM {table} WHERE id = ?",
                                 [head["id"]]).fetchone()
            if found is None or found[0] != head["row_hash"]:
                result.problems.append(
                    f"{table} row id {head['id']}: recorded as chain head when run "
                    f"{run['run_id']} ended, but {'gone' if found is None else 'changed'}")
