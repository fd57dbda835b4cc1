"""Prove an evidence DB is as it was written, to a sceptic.

:func:`verify_db` recomputes, read-only:

- SQLite's integrity check, and every table, index, view and trigger against the schema
  thriftwatch writes for the DB's version (exports, reports, bundles and Datasette read
  through indexes and views, which the chains do not cover), and the full-text index;
- each stored value's type against its column's (a BLOB where TEXT belongs is tampering);
- every row hash and chain link of every evidence table of the DB's schema version (listing
  pages, contacts, images and takedown requests from version 3, erasures from version 4),
  every capture body's digest, and the body of every capture and image present;
- every contact's text against the digests its hash covers, and every erased one against a
  recorded erasure (schema version 4);
- every verdict a reflag stored (schema version 5) names a reflag that was recorded, with
  that reflag's lexicon version, and each reflag's end counts exactly the verdicts it stored;
- the chain heads each run recorded when it ended (they must still be there, unchanged);
- the derived tables (``listings``, ``listing_changes``), rebuilt from the observations:
  an edit, insertion or deletion there is named, since exports, reports and bundles read
  them;
- each RFC 3161 token, kept in the DB or outside it (``.tsr`` files), against the head it
  anchors (and, given the TSA's certificate, its signature), and its time against the
  latest capture that head covers: a token cannot be older than what it covers, and one
  much later than it is reported with the figures (a rewrite re-anchored later looks so);
  with ``require_timestamps`` every ended run must carry one;
- heads written down outside the DB (``--head``): the DB must hold each in its history,
  so a truncated or rewritten DB fails even when its own chains were recomputed.

It reports every problem it finds, the first one first, and the DB's head now.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sqlite3
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.evidence import schema
from crawler.evidence.custody import (
    EVIDENCE_TABLES,
    GENESIS,
    STORED_TYPES,
    head_digest,
    row_hash,
    run_end_head,
    text_digest,
    type_problem,
)
from crawler.evidence.merge import ImportCheck, check_imports
from crawler.evidence.timestamping import TokenProblem, check_token, message

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cryptography.x509 import Certificate

MAX_LISTED = 50  # differences of a derived table named one by one; the rest are counted
MAX_TYPE_PROBLEMS = 50  # values of the wrong type named one by one
# A token is a check on the crawler's clock too: one this much earlier than a capture it
# covers cannot be (clocks of the crawler and the TSA may differ by less).
CLOCK_SKEW = 300
LATE_TOKEN = 3600  # a token later than the latest capture it covers by this is reported
# Rows whose time says when the crawl saw something: what a run's head covers happened by then.
CAPTURE_TIMES = {"captures": "fetched_at", "observations": "seen_at", "faults": "at",
                 "rechecks": "checked_at", "listing_pages": "fetched_at",
                 "contacts": "seen_at", "images": "fetched_at"}
_RUN_FILE = re.compile(r"run-?(\d+)", re.IGNORECASE)


@dataclass
class Anchor:
    """An RFC 3161 token on a run's head: when the TSA signed, where the token was kept, the
    latest capture time the head covers and how long after it the token was made."""

    run_id: int
    gen_time: str
    source: str  # "the DB" or the token file's path
    latest_capture: str | None = None
    lag: float | None = None  # seconds from the latest capture to the token's time


@dataclass
class Verification:
    """What verify found: rows checked per table, the DB's head, what anchors it, and the
    problems (first one first)."""

    rows: dict[str, int] = field(default_factory=dict)
    head: str = ""
    run_heads: dict[int, str] = field(default_factory=dict)
    merge_heads: dict[int, str] = field(default_factory=dict)  # merge -> the head just after
    anchored: dict[int, str] = field(default_factory=dict)  # run -> token's gen_time
    anchors: dict[int, Anchor] = field(default_factory=dict)  # run -> its earliest token
    schema_version: int | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_db(path: str | Path, heads: Sequence[str] = (),
              tsa_roots: Sequence[Certificate] = (),
              tokens: Sequence[tuple[str, bytes]] = (),
              require_timestamps: bool = False) -> Verification:
    """Check an evidence DB, read-only. ``heads`` were written down outside the DB (each a
    head, or ``RUN:HEAD``); ``tsa_roots`` are the certificates RFC 3161 tokens must chain to;
    ``tokens`` are tokens kept outside the DB, each ``(where it came from, DER)``;
    ``require_timestamps``: every ended run must have a token whose signature chains to
    ``tsa_roots`` (which must then be given)."""
    if require_timestamps and not tsa_roots:
        raise ValueError("requiring time-stamps needs the TSA's CA (--tsa-ca): a token whose "
                         "signature is not checked proves nothing")
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        _check_is_evidence_db(conn, path)
        result = Verification()
        sound = schema.soundness(conn)
        result.schema_version = sound.version
        result.problems.extend(sound.problems)
        result.notes.extend(sound.notes)
        try:
            result.problems.extend(schema.fts_problems(conn))
            for table in _chains_of(conn):
                _check_chain(conn, table, result)
            _check_bodies(conn, result)
            if {"erasures", "contacts"} <= _tables(conn):
                _check_erased_contacts(conn, result)
            _check_recorded_heads(conn, result)
            if "reflags" in _tables(conn):
                _check_reflags(conn, result)
            imports = ImportCheck()
            if "merges" in _tables(conn):
                imports = check_imports(conn, result.problems, CAPTURE_TIMES, _moment)
            _check_listings(conn, result)
            _check_listing_changes(conn, result)
            result.head = _current_head(conn)
            result.run_heads = {**_run_heads(conn), **imports.run_heads}
            result.merge_heads = imports.merge_heads
            _check_timestamps(conn, result, tsa_roots, tokens, imports)
        except sqlite3.DatabaseError as error:  # a page SQLite cannot read at all
            result.problems.append(f"the DB cannot be read to the end ({error}): it is "
                                   "damaged or was edited below SQLite")
            return result
        if require_timestamps:
            _require_timestamps(result)
        for expected in heads:
            _check_head(expected, result)
        return result
    finally:
        conn.close()


def load_token_files(folder: Path) -> list[tuple[str, bytes]]:
    """Every ``*.tsr`` file in ``folder`` (RFC 3161 responses, DER), as ``(path, bytes)``."""
    if not folder.is_dir():
        raise ValueError(f"--timestamps takes a folder of .tsr files; {folder} is not one")
    files = sorted(folder.glob("*.tsr"))
    if not files:
        raise ValueError(f"no .tsr files (RFC 3161 tokens) in {folder}")
    return [(str(file), file.read_bytes()) for file in files]


def _check_is_evidence_db(conn: sqlite3.Connection, path: str | Path) -> None:
    tables = _tables(conn)
    missing = [table for table in ("meta", *schema.evidence_tables(1)) if table not in tables]
    if missing:
        raise ValueError(f"{path} is not a thriftwatch evidence DB (no {', '.join(missing)})")


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _chains_of(conn: sqlite3.Connection) -> list[str]:
    """The evidence tables to check: every one the DB holds. A DB written before schema
    version 3 has no listing_pages, say; a table its version should have and does not was
    named by the schema check (and a head a run recorded in it, by the recorded heads)."""
    present = _tables(conn)
    return [table for table in EVIDENCE_TABLES if table in present]


# -- chains, bodies and the heads each run recorded -----------------------------------------

def _check_chain(conn: sqlite3.Connection, table: str, result: Verification) -> None:
    expected_prev, count, wrong_types = GENESIS, 0, 0
    kinds = schema.TABLES[table]
    not_null = {*schema.CHAIN, *schema.NOT_NULL.get(table, ())}
    # The usual case first: a value of its column's type, or NULL where NULL may be.
    checks = [(name, kind, STORED_TYPES[kind], name in not_null) for name, kind in kinds.items()]
    for stored in conn.execute(f"SELECT * FROM {table} ORDER BY id"):
        count += 1
        row = dict(stored)
        where = f"{table} row id {row['id']}"
        for name, kind, allowed, required in checks:
            value = row.get(name)
            if (value is None and not required) or isinstance(value, allowed):
                continue
            problem = type_problem(kind, value, nullable=not required)
            if problem is not None:
                wrong_types += 1
                if wrong_types <= MAX_TYPE_PROBLEMS:
                    result.problems.append(
                        f"{where}: {name} {problem} (no thriftwatch write leaves it so: "
                        "its type was changed)")
        if row["prev_hash"] != expected_prev:
            result.problems.append(f"{where}: does not follow the row before it "
                                   "(a row was deleted, inserted or reordered)")
        elif row_hash(table, row) != row["row_hash"]:
            result.problems.append(f"{where}: content does not match its hash (edited)")
        expected_prev = row["row_hash"]
    result.rows[table] = count
    if wrong_types > MAX_TYPE_PROBLEMS:
        result.problems.append(f"{table}: {wrong_types - MAX_TYPE_PROBLEMS} more values of "
                               "the wrong type")


def _check_erased_contacts(conn: sqlite3.Connection, result: Verification) -> None:
    """A contact's hash covers the digests of its text (schema version 4): the text left
    must match them, and text gone must be covered by a recorded erasure."""
    erased: list[tuple[int, int]] = []
    for row in conn.execute("SELECT id, table_name, ids, rows FROM erasures ORDER BY id"):
        try:
            ranges = [(int(first), int(last)) for first, last in json.loads(row["ids"])]
        except (TypeError, ValueError):
            result.problems.append(f"erasures row id {row['id']}: its ids are not id ranges")
            continue
        if row["table_name"] == "contacts":
            erased.extend(ranges)
        if sum(last - first + 1 for first, last in ranges) != row["rows"]:
            result.problems.append(f"erasures row id {row['id']}: says {row['rows']} rows "
                                   "but its ids name another number")
    for row in conn.execute("SELECT id, value, raw, value_sha256, raw_sha256 FROM contacts "
                            "NOT INDEXED ORDER BY id"):
        where = f"contacts row id {row['id']}"
        if row["value_sha256"] is None:  # written before version 4: hashed over its text
            if row["value"] is None:
                result.problems.append(f"{where}: its value is gone, and it was written "
                                       "before contacts could be erased (edited)")
            continue
        for column, digest in schema.CONTACT_DIGESTS.items():
            text = row[column]
            if text is not None and (not isinstance(text, str)
                                     or text_digest(text) != row[digest]):
                result.problems.append(f"{where}: content does not match its hash (edited): "
                                       f"its {column} is not the text its digest covers")
        gone = row["value"] is None or (row["raw"] is None and row["raw_sha256"] is not None)
        if gone and not any(first <= row["id"] <= last for first, last in erased):
            result.problems.append(f"{where}: its text is gone with no erasure recorded "
                                   "(edited)")


def _check_bodies(conn: sqlite3.Connection, result: Verification) -> None:
    """Every body against its SHA-256, and every capture's body present. Tables are read
    row by row (NOT INDEXED): an index that lies must not make this check lie too."""
    stored: set[str] = set()
    for row in conn.execute("SELECT id, sha256, size, body FROM capture_bodies NOT INDEXED "
                            "ORDER BY id"):
        stored.add(row["sha256"])
        try:
            body = zlib.decompress(row["body"])
        except (zlib.error, TypeError):
            result.problems.append(f"capture_bodies row id {row['id']}: body is corrupt")
            continue
        if hashlib.sha256(body).hexdigest() != row["sha256"] or len(body) != row["size"]:
            result.problems.append(f"capture_bodies row id {row['id']}: body does not match "
                                   f"its SHA-256 {row['sha256']}")
    referred: set[str] = set()
    for row in conn.execute("SELECT id, body_sha256, request_body_sha256 FROM captures "
                            "NOT INDEXED ORDER BY id"):
        referred.update((row["body_sha256"], row["request_body_sha256"]))
        if row["body_sha256"] not in stored:
            result.problems.append(f"captures row id {row['id']}: its body "
                                   f"{row['body_sha256']} is missing")
    if "images" in _tables(conn):
        for row in conn.execute("SELECT id, body_sha256 FROM images NOT INDEXED ORDER BY id"):
            referred.add(row["body_sha256"])
            if row["body_sha256"] not in stored:
                result.problems.append(f"images row id {row['id']}: its body "
                                       f"{row['body_sha256']} is missing")
    # Each body is stored in the transaction of the capture or image that refers to it.
    unreferred = [row[0] for row in conn.execute(
        "SELECT id, sha256 FROM capture_bodies NOT INDEXED ORDER BY id") if row[1] not in referred]
    if unreferred:
        result.notes.append(
            f"capture_bodies row{'s' if len(unreferred) > 1 else ''} id "
            f"{', '.join(map(str, unreferred[:10]))}{' ...' if len(unreferred) > 10 else ''}: "
            "no capture refers to it, nor any image (a crawl stores each body with its "
            "capture or image; this one was added some other way)")


def _check_recorded_heads(conn: sqlite3.Connection, result: Verification) -> None:
    """Each ended run recorded every chain's head: those rows must still be there, unchanged."""
    present = _tables(conn)
    for run in conn.execute("SELECT run_id, chain_heads FROM run_ends ORDER BY id"):
        for table, head in json.loads(run["chain_heads"]).items():
            if head is None:
                continue
            if table not in EVIDENCE_TABLES or table not in present:
                result.problems.append(
                    f"{table} row id {head['id']}: recorded as chain head when run "
                    f"{run['run_id']} ended, but the table is gone (the DB was taken back to "
                    "an earlier schema version, or is not what that run wrote)")
                continue
            found = conn.execute(f"SELECT row_hash FROM {table} WHERE id = ?",
                                 [head["id"]]).fetchone()
            if found is None or found[0] != head["row_hash"]:
                result.problems.append(
                    f"{table} row id {head['id']}: recorded as chain head when run "
                    f"{run['run_id']} ended, but {'gone' if found is None else 'changed'}")


def _check_reflags(conn: sqlite3.Connection, result: Verification) -> None:
    """Each verdict a reflag stored names a recorded reflag, with its lexicon version, for
    an observation that exists; each reflag's end counts the verdicts it stored."""
    reflags = {row[0]: row[1] for row in conn.execute(
        "SELECT id, lexicon_version FROM reflags NOT INDEXED")}
    stored: dict[int, int] = {}
    for row in conn.execute("SELECT f.id, f.reflag_id, f.lexicon_version, o.id AS seen "
                            "FROM flags f NOT INDEXED LEFT JOIN observations o "
                            "ON o.id = f.observation_id WHERE f.reflag_id IS NOT NULL"):
        where = f"flags row id {row['id']}"
        if row["reflag_id"] not in reflags:
            result.problems.append(f"{where}: names reflag {row['reflag_id']}, which was "
                                   "never recorded (edited)")
            continue
        stored[row["reflag_id"]] = stored.get(row["reflag_id"], 0) + 1
        if row["lexicon_version"] != reflags[row["reflag_id"]]:
            result.problems.append(f"{where}: its lexicon version is not the one reflag "
                                   f"{row['reflag_id']} judged with (edited)")
        if row["seen"] is None:
            result.problems.append(f"{where}: judges an observation the DB does not hold")
    ended: set[int] = set()
    for row in conn.execute("SELECT id, reflag_id, changed FROM reflag_ends NOT INDEXED "
                            "ORDER BY id"):
        where = f"reflag_ends row id {row['id']}"
        if row["reflag_id"] not in reflags or row["reflag_id"] in ended:
            result.problems.append(f"{where}: ends reflag {row['reflag_id']}, which was never "
                                   "recorded or had ended already (edited)")
            continue
        ended.add(row["reflag_id"])
        if row["changed"] != stored.get(row["reflag_id"], 0):
            result.problems.append(
                f"{where}: says reflag {row['reflag_id']} stored {row['changed']} verdicts; "
                f"the DB holds {stored.get(row['reflag_id'], 0)} (a verdict was deleted, "
                "added or moved)")


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
    """The DB's head now; a chain a DB of its version does not have counts as empty, as
    it does in custody.head_digest, so migrating a DB moves no head."""
    heads: dict[str, dict[str, Any] | None] = {}
    present = _tables(conn)
    for table in EVIDENCE_TABLES:
        if table not in present:
            heads[table] = None
            continue
        row = conn.execute(f"SELECT id, row_hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
        heads[table] = {"id": row[0], "row_hash": row[1]} if row else None
    return head_digest(heads)


def _run_heads(conn: sqlite3.Connection) -> dict[int, str]:
    return {row["run_id"]: run_end_head(json.loads(row["chain_heads"]), row["id"],
                                        row["row_hash"])
            for row in conn.execute("SELECT id, run_id, chain_heads, row_hash FROM run_ends")}


def _check_timestamps(conn: sqlite3.Connection, result: Verification,
                      roots: Sequence[Certificate],
                      outside: Sequence[tuple[str, bytes]],
                      imports: ImportCheck | None = None) -> None:
    tables = _tables(conn)
    found: list[tuple[int, str, bytes]] = []  # (run, where the token was kept, token)
    if "timestamps" in tables:  # else a DB of schema version 1, never opened by this release
        for row in conn.execute("SELECT * FROM timestamps ORDER BY run_id"):
            run_id, where = row["run_id"], f"timestamps run {row['run_id']}"
            head = result.run_heads.get(run_id)
            if head is None:
                result.problems.append(f"{where}: anchors a run that has no end in this DB "
                                       "(the DB was truncated)")
            elif head != row["head"]:
                result.problems.append(
                    f"{where}: the RFC 3161 token anchors head {row['head']}, but run "
                    f"{run_id}'s head is now {head}: the DB was rewritten at or before run "
                    f"{run_id}")
            elif not isinstance(row["token"], bytes):
                result.problems.append(f"{where}: the token is not stored as bytes")
            else:
                found.append((run_id, "the DB", row["token"]))
    by_digest = {hashlib.sha256(message(head)).digest(): run_id
                 for run_id, head in result.run_heads.items()}
    for where, token in outside:
        try:
            digest = covered_digest_of(token)
        except TokenProblem as problem:
            result.problems.append(f"{where}: {problem}")
            continue
        run_id = by_digest.get(digest)
        if run_id is None:
            named = _RUN_FILE.search(Path(where).name)
            hint = ""
            if named and int(named[1]) in result.run_heads:
                hint = (f"; run {named[1]}'s head here is {result.run_heads[int(named[1])]}: "
                        f"the DB was rewritten at or before run {named[1]}")
            elif named:
                hint = f"; this DB has no ended run {named[1]}: it was truncated"
            result.problems.append(
                f"{where}: the RFC 3161 token covers a head that is not in this DB's history "
                f"(no run's head is the one it was made for){hint}")
            continue
        found.append((run_id, where, token))
    if not found:
        return
    covered = _latest_capture_times(conn)
    if imports is not None:  # a merged run's head covers its node's rows, in its node's order
        covered = {run: latest for run, latest in covered.items()
                   if run not in imports.imported_runs}
        covered.update(imports.latest)
    ended = dict(conn.execute("SELECT run_id, ended_at FROM run_ends").fetchall())
    for run_id, where, token_der in found:
        label = f"timestamps run {run_id}" if where == "the DB" else where
        try:
            token = check_token(token_der, result.run_heads[run_id], roots)
        except TokenProblem as problem:
            result.problems.append(f"{label}: {problem}")
            continue
        anchor = Anchor(run_id, token.gen_time, where)
        latest = covered.get(run_id)
        signed = _moment(token.gen_time)
        end = _moment(ended.get(run_id))
        if signed is not None and latest is not None:
            anchor.latest_capture = latest[1]
            anchor.lag = (signed - latest[0]).total_seconds()
        if anchor.lag is not None and anchor.lag < -CLOCK_SKEW:
            result.problems.append(
                f"{label}: the token's time {token.gen_time} is {-anchor.lag / 3600:.1f} h "
                f"before the latest capture run {run_id}'s head covers ({anchor.latest_capture}"
                "): a token cannot be older than what it covers, so capture times were edited")
            continue
        if signed is not None and end is not None \
                and (signed - end).total_seconds() < -CLOCK_SKEW:
            result.problems.append(
                f"{label}: the token's time {token.gen_time} is before run {run_id} ended "
                f"({ended.get(run_id)}): the run's end time was edited")
            continue
        if anchor.lag is not None and anchor.lag > LATE_TOKEN:
            result.notes.append(
                f"run {run_id}: its token ({where}) was made at {token.gen_time}, "
                f"{anchor.lag / 3600:.1f} h after the latest capture its head covers "
                f"({anchor.latest_capture}): the TSA was not reachable then, or the DB was "
                "rewritten and anchored again later; a head or token kept outside the DB from "
                "that time tells which")
        kept = result.anchors.get(run_id)
        if kept is None or token.gen_time < kept.gen_time:
            result.anchors[run_id] = anchor
            result.anchored[run_id] = token.gen_time


def covered_digest_of(token: bytes) -> bytes:
    """The digest an RFC 3161 token covers: SHA-256 of the head it was made for (see
    :func:`crawler.evidence.timestamping.message`)."""
    from rfc3161_client import decode_timestamp_response

    try:
        return decode_timestamp_response(bytes(token)).tst_info.message_imprint.message
    except ValueError as error:
        raise TokenProblem(f"not an RFC 3161 response ({error})") from None


def _require_timestamps(result: Verification) -> None:
    missing = [run_id for run_id in sorted(result.run_heads) if run_id not in result.anchors]
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
        result.problems.append(
            f"time-stamps required, but {len(missing)} of {len(result.run_heads)} ended runs "
            f"have no RFC 3161 token that checks out (runs {shown}): a token may have been "
            "deleted with the history it anchored")


def _latest_capture_times(conn: sqlite3.Connection) -> dict[int, tuple[datetime, str]]:
    """For each ended run, the latest capture time (of :data:`CAPTURE_TIMES`) among the
    rows its head covers (the chain heads its end recorded): one pass over each table."""
    wanted: dict[str, dict[int, list[int]]] = {table: {} for table in CAPTURE_TIMES}
    for run in conn.execute("SELECT run_id, chain_heads FROM run_ends"):
        try:
            recorded = json.loads(run["chain_heads"])
        except (TypeError, ValueError):
            continue
        for table in CAPTURE_TIMES:
            head = recorded.get(table) if isinstance(recorded, dict) else None
            if isinstance(head, dict) and isinstance(head.get("id"), int):
                wanted[table].setdefault(head["id"], []).append(run["run_id"])
    latest: dict[int, tuple[datetime, str]] = {}
    present = _tables(conn)
    for table, column in CAPTURE_TIMES.items():
        marks = sorted(wanted[table])
        if not marks or table not in present:
            continue
        best: tuple[datetime, str] | None = None
        rows = conn.execute(f"SELECT id, {column} FROM {table} WHERE id <= ? ORDER BY id",
                            [marks[-1]])
        position = 0
        for row_id, text in itertools.chain(rows, [(None, None)]):
            while position < len(marks) and (row_id is None or row_id > marks[position]):
                for run_id in wanted[table][marks[position]]:
                    if best is not None and (run_id not in latest
                                             or best[0] > latest[run_id][0]):
                        latest[run_id] = best
                position += 1
            moment = _moment(text)
            if moment is not None and (best is None or moment > best[0]):
                best = (moment, text)
    return latest


def _moment(text: Any) -> datetime | None:
    """An ISO 8601 UTC time as stored (``...Z`` or ``+00:00``); None if it is not one."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: FURB162
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _check_head(expected: str, result: Verification) -> None:
    """``expected`` (``HEAD`` or ``RUN:HEAD``) must be in the DB's history."""
    run, _, head = expected.strip().rpartition(":")
    head = head.lower()
    if len(head) != 64 or any(c not in "0123456789abcdef" for c in head):
        raise ValueError(f"--head takes a 64-digit hex head or RUN:HEAD, not {expected!r}")
    history = {*result.run_heads.values(), *result.merge_heads.values(), result.head}
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
