"""Prove an evidence DB is as it was written, to a sceptic.

:func:`verify_db` recomputes, read-only:

- every row hash and chain link of every evidence table, and every capture body's digest;
- the chain heads each run recorded when it ended (they must still be there, unchanged);
- the derived tables (``listings``, ``listing_changes``), rebuilt from the observations:
  an edit, insertion or deletion there is named, since exports, reports and bundles read
  them;
- each RFC 3161 token against the head it anchors (and, given the TSA's certificate, its
  signature);
- heads written down outside the DB (``--head``): the DB must hold each in its history,
  so a truncated or rewritten DB fails even when its own chains were recomputed.

It reports every problem it finds, the first one first, and the DB's head now.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.evidence.custody import EVIDENCE_TABLES, GENESIS, head_digest, row_hash, run_end_head
from crawler.evidence.timestamping import TokenProblem, check_token

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cryptography.x509 import Certificate

MAX_LISTED = 50  # differences of a derived table named one by one; the rest are counted


@dataclass
class Verification:
    """What verify found: rows checked per table, the DB's head, what anchors it, and the
    problems (first one first)."""

    rows: dict[str, int] = field(default_factory=dict)
    head: str = ""
    run_heads: dict[int, str] = field(default_factory=dict)
    anchored: dict[int, str] = field(default_factory=dict)  # run -> token's gen_time
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_db(path: str | Path, heads: Sequence[str] = (),
              tsa_roots: Sequence[Certificate] = ()) -> Verification:
    """Check an evidence DB, read-only. ``heads`` were written down outside the DB (each a
    head, or ``RUN:HEAD``); ``tsa_roots`` are the certificates RFC 3161 tokens must chain to."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        _check_is_evidence_db(conn, path)
        result = Verification()
        for table in EVIDENCE_TABLES:
            _check_chain(conn, table, result)
        _check_bodies(conn, result)
        _check_recorded_heads(conn, result)
        _check_listings(conn, result)
        _check_listing_changes(conn, result)
        result.head = _current_head(conn)
        result.run_heads = _run_heads(conn)
        _check_timestamps(conn, result, tsa_roots)
        for expected in heads:
            _check_head(expected, result)
        return result
    finally:
        conn.close()


def _check_is_evidence_db(conn: sqlite3.Connection, path: str | Path) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    missing = [table for table in ("meta", *EVIDENCE_TABLES) if table not in tables]
    if missing:
        raise ValueError(f"{path} is not a thriftwatch evidence DB (no {', '.join(missing)})")


# -- chains, bodies and the heads each run recorded -----------------------------------------

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


# -- derived tables, rebuilt from the evidence ----------------------------------------------

LISTING_COLUMNS = ("url", "title", "description", "price_idr", "seller_id", "seller_name",
                   "location", "first_seen", "last_seen", "first_run_id", "last_run_id",
                   "last_observation_id")
# The current view of each listing as the observations make it: its last sighting, and
# when and in which run it was first seen.
_REBUILT_LISTINGS = """
    SELECT o.platform, o.listing_id, o.url, o.title, o.description, o.price_idr, o.seller_id,
           o.seller_name, o.location, f.seen_at AS first_seen, o.seen_at AS last_seen,
           f.run_id AS first_run_id, o.run_id AS last_run_id, o.id AS last_observation_id
    FROM (SELECT MIN(id) AS first_id, MAX(id) AS last_id FROM observations
          GROUP BY platform, listing_id) span
    JOIN observations o ON o.id = span.last_id
    JOIN observations f ON f.id = span.first_id"""
_REBUILT_CHANGES = """
    SELECT platform, listing_id, observation_id, before_seen_at, seen_at, title_before,
           title_after, price_before, price_after
    FROM (SELECT platform, listing_id, id AS observation_id, seen_at, title AS title_after,
                 price_idr AS price_after,
                 LAG(id) OVER sightings AS before_id,
                 LAG(seen_at) OVER sightings AS before_seen_at,
                 LAG(title) OVER sightings AS title_before,
                 LAG(price_idr) OVER sightings AS price_before
          FROM observations
          WINDOW sightings AS (PARTITION BY platform, listing_id ORDER BY id))
    WHERE before_id IS NOT NULL
      AND (title_before IS NOT title_after OR price_before IS NOT price_after)"""


def _check_listings(conn: sqlite3.Connection, result: Verification) -> None:
    columns = ", ".join(("platform", "listing_id", *LISTING_COLUMNS))
    _compare(conn, result, "listings", key=("platform", "listing_id"),
             rebuilt=_REBUILT_LISTINGS, stored=f"SELECT {columns} FROM listings")


def _check_listing_changes(conn: sqlite3.Connection, result: Verification) -> None:
    _compare(conn, result, "listing_changes", key=("observation_id",),
             rebuilt=_REBUILT_CHANGES,
             stored="SELECT platform, listing_id, observation_id, before_seen_at, seen_at, "
                    "title_before, title_after, price_before, price_after FROM listing_changes")


def _compare(conn: sqlite3.Connection, result: Verification, table: str, *,
             key: tuple[str, ...], rebuilt: str, stored: str) -> None:
    """Name each row of derived ``table`` that differs from its rebuild from the evidence."""
    missing = conn.execute(f"{rebuilt} EXCEPT {stored}").fetchall()
    extra = conn.execute(f"{stored} EXCEPT {rebuilt}").fetchall()
    if not missing and not extra:
        return
    expected = {tuple(row[k] for k in key): dict(row) for row in missing}
    found = {tuple(row[k] for k in key): dict(row) for row in extra}
    differences = []
    for name in sorted(expected.keys() | found.keys(), key=str):
        label = f"{table} {'/'.join(map(str, name))}"
        if name not in found:
            differences.append(f"{label}: missing (the evidence holds it; deleted?)")
        elif name not in expected:
            differences.append(f"{label}: not derived from any evidence (inserted?)")
        else:
            changed = [column for column, value in expected[name].items()
                       if found[name][column] != value]
            shown = ", ".join(f"{column} is {found[name][column]!r:.60}, the evidence says "
                              f"{expected[name][column]!r:.60}" for column in changed)
            differences.append(f"{label}: {shown} (edited)")
    result.problems.extend(differences[:MAX_LISTED])
    if len(differences) > MAX_LISTED:
        result.problems.append(f"{table}: {len(differences) - MAX_LISTED} more rows differ "
                               "from the evidence")


# -- heads and their anchors ----------------------------------------------------------------

def _current_head(conn: sqlite3.Connection) -> str:
    heads = {}
    for table in EVIDENCE_TABLES:
        row = conn.execute(f"SELECT id, row_hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
        heads[table] = {"id": row[0], "row_hash": row[1]} if row else None
    return head_digest(heads)


def _run_heads(conn: sqlite3.Connection) -> dict[int, str]:
    return {row["run_id"]: run_end_head(json.loads(row["chain_heads"]), row["id"],
                                        row["row_hash"])
            for row in conn.execute("SELECT id, run_id, chain_heads, row_hash FROM run_ends")}


def _check_timestamps(conn: sqlite3.Connection, result: Verification,
                      roots: Sequence[Certificate]) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "timestamps" not in tables:  # a DB of schema version 1, never opened by this release
        return
    ended = dict(conn.execute("SELECT run_id, ended_at FROM run_ends").fetchall())
    for row in conn.execute("SELECT * FROM timestamps ORDER BY run_id"):
        run_id, where = row["run_id"], f"timestamps run {row['run_id']}"
        head = result.run_heads.get(run_id)
        if head is None:
            result.problems.append(f"{where}: anchors a run that has no end in this DB "
                                   "(the DB was truncated)")
            continue
        if head != row["head"]:
            result.problems.append(
                f"{where}: the RFC 3161 token anchors head {row['head']}, but run {run_id}'s "
                f"head is now {head}: the DB was rewritten at or before run {run_id}")
            continue
        try:
            token = check_token(row["token"], head, roots)
        except TokenProblem as problem:
            result.problems.append(f"{where}: {problem}")
            continue
        result.anchored[run_id] = token.gen_time
        lag = token.lag_after(ended.get(run_id))
        if lag is not None and lag > 3600:
            result.notes.append(f"run {run_id}: anchored {lag / 3600:.1f} h after it ended "
                                "(the TSA was not reachable then)")


def _check_head(expected: str, result: Verification) -> None:
    """``expected`` (``HEAD`` or ``RUN:HEAD``) must be in the DB's history."""
    run, _, head = expected.strip().rpartition(":")
    head = head.lower()
    if len(head) != 64 or any(c not in "0123456789abcdef" for c in head):
        raise ValueError(f"--head takes a 64-digit hex head or RUN:HEAD, not {expected!r}")
    history = {*result.run_heads.values(), result.head}
    if run:
        if not run.isdigit():
            raise ValueError(f"--head takes RUN:HEAD with a run number, not {expected!r}")
        found = result.run_heads.get(int(run))
        if found == head:
            return
        last = max(result.run_heads, default=None)
        why = (f"run {run} is not in this DB (its last ended run is {last}): "
               "it was truncated, or is another DB" if found is None else
               f"run {run}'s head here is {found}: the DB was rewritten at or before run {run}")
        result.problems.append(f"head {head} of run {run} is not in this DB's history: {why}")
    elif head not in history:
        last = max(result.run_heads, default=None)
        result.problems.append(
            f"head {head} is not in this DB's history ({len(result.run_heads)} ended runs, "
            f"the last run {last}; head now {result.head}): the DB is another one, or was "
            "truncated or rewritten since")
