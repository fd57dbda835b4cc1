"""The SQLite evidence store: runs, captures, listings, observations, flags and faults; and
(schema version 3) listing pages, contacts, images, takedown requests and seller accounts.

Evidence tables are append-only and hash-chained (see :mod:`crawler.evidence.custody`); each write
is one ``BEGIN IMMEDIATE`` transaction, so concurrent crawls writing one DB keep one
chain per table and a killed crawl leaves no half-written rows.

What reads evidence out (exports, WARC, bundles, the report) opens the store with
``check=True``: a DB that fails SQLite's integrity check, or whose tables, indexes, views or
triggers are not the ones thriftwatch writes, is refused (:meth:`EvidenceStore.require_sound`),
since those readers go through indexes the hash chains do not cover. A capture body is
hashed again whenever it is read (:meth:`EvidenceStore.capture_body`).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from crawler.evidence import schema
from crawler.evidence.capture import Capture, compress, decompress, sha256_hex, utc_now
from crawler.evidence.custody import (
    EVIDENCE_TABLES,
    GENESIS,
    head_digest,
    row_hash,
    run_end_head,
    stored_row,
    text_digest,
)
from crawler.evidence.schema import CONTACT_KINDS, CONTACT_SOURCES, OBSERVED_FIELDS, SCHEMA_VERSION

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable, Iterator, Mapping

__all__ = ["EXPORT_FIELDS", "INSERT_SQL", "OBSERVED_FIELDS", "RECORD_CHANGE", "SCHEMA_VERSION",
           "UPSERT_LISTING", "EvidenceStore", "StoreError", "UnsoundStoreError", "flag_row",
           "observation_row"]


class StoreError(RuntimeError):
    """The evidence DB cannot be used as it is (e.g. written by a newer thriftwatch)."""


class UnsoundStoreError(StoreError):
    """The evidence DB's structure is not what thriftwatch writes (SQLite's integrity check
    fails, or its schema was changed), or a stored body does not match its SHA-256: what it
    would show may not be the evidence."""


# What one bad row raises (a value SQLite cannot hold, a column it refuses); not the errors
# of a DB that cannot be written at all, which end the crawl.
WRITE_ERRORS = (ValueError, TypeError, OverflowError, sqlite3.IntegrityError,
                sqlite3.InterfaceError, sqlite3.DataError)


def create(path: Path) -> None:
    """A new evidence DB at ``path``, whole or not at all: the schema is written under a
    name of its own, then linked into place (never over a DB another process made
    meanwhile). A crawl killed while it starts leaves no DB rather than an empty file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.creating")
    temporary.unlink(missing_ok=True)
    db = sqlite_utils.Database(temporary)
    try:
        db.conn.isolation_level = None
        db.enable_wal()
        db.conn.execute("BEGIN IMMEDIATE")
        schema.create(db)
        schema.create_meta(db)
        db.conn.execute("COMMIT")
    except BaseException:
        db.close()
        temporary.unlink(missing_ok=True)
        raise
    db.close()
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process made it first: theirs is the DB
    finally:
        temporary.unlink()


class EvidenceStore:
    """All reads and writes of one evidence DB. Plain Python; no Scrapy."""

    def __init__(self, path: str | Path, *, check: bool = False):
        """Open (or create) the evidence DB at ``path``; ``check``: refuse it, before
        anything is written, unless it is sound (see :meth:`require_sound`)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            create(self.path)
        self.db = sqlite_utils.Database(self.path)
        self.conn = self.db.conn
        self.conn.isolation_level = None  # transactions are explicit: see _transaction
        self.conn.execute("PRAGMA busy_timeout = 60000")
        self._soundness: schema.Soundness | None = None
        if check:
            try:
                self.require_sound()
            except UnsoundStoreError:
                self.db.close()
                raise
        self.db.enable_wal()
        self.conn.execute("PRAGMA synchronous = NORMAL")
        # A 64 MB page cache keeps the indexes of a million-observation DB in memory.
        self.conn.execute("PRAGMA cache_size = -65536")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    def require_sound(self) -> None:
        """Raise :class:`UnsoundStoreError` unless SQLite's integrity check passes and every
        table, index, view and trigger is as thriftwatch writes it (checked once per store;
        :func:`crawler.evidence.schema.soundness`). Every reader that produces evidence
        calls this before it reads."""
        if self._soundness is None:
            self._soundness = schema.soundness(self.conn)
        problems = self._soundness.problems
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise UnsoundStoreError(
                f"refusing to read {self.path}: {problems[0]}{more}. What it would show may "
                f"not be the evidence; `thriftwatch verify --db {self.path}` lists every "
                "problem")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction; chain heads are read once inside it, then kept in memory."""
        self.conn.execute("BEGIN IMMEDIATE")
        self._heads: dict[str, tuple[int, str]] = {}
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        finally:
            self._heads = {}
        self.conn.execute("COMMIT")

    def _migrate(self) -> None:
        meta = self.db["meta"]
        if meta.exists():
            found = int(meta.get("schema_version")["value"])
            if found > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {found}; this thriftwatch knows up to "
                    f"{SCHEMA_VERSION}. Upgrade thriftwatch to read it."
                )
            if found < SCHEMA_VERSION:
                self._upgrade()
            return
        with self._transaction():
            if meta.exists():  # another process created it meanwhile
                return
            schema.create(self.db)
            schema.create_meta(self.db)

    def _upgrade(self) -> None:
        """Bring a DB of an earlier schema version up to this one, in one transaction; the
        chains are untouched, so everything verifies as before."""
        with self._transaction():
            found = int(self.db["meta"].get("schema_version")["value"])
            for version in range(found + 1, SCHEMA_VERSION + 1):
                schema.MIGRATIONS[version](self.db)
            self.conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                              [str(SCHEMA_VERSION)])

    # -- chained appends ------------------------------------------------------------------

    def _append(self, table: str, row: Mapping[str, Any]) -> int:
        """Insert ``row`` at the head of ``table``'s chain; call inside a transaction."""
        head = self._heads.get(table)
        if head is None:
            head = self.conn.execute(
                f"SELECT id, row_hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone() \
                or (0, GENESIS)
        # Every column as SQLite will give it back, so the hash covers what is stored.
        full = stored_row(schema.TABLES[table], {**row, "id": head[0] + 1, "prev_hash": head[1]})
        for name in schema.NOT_NULL.get(table, ()):
            if full[name] is None:
                raise ValueError(f"column {name}: a row of {table} needs a value there")
        full["row_hash"] = row_hash(table, full)
        self.conn.execute(INSERT_SQL[table], full)
        self._heads[table] = (full["id"], full["row_hash"])
        return full["id"]

    def _append_many(self, table: str, rows: list[Mapping[str, Any]]) -> list[int]:
        """Insert ``rows`` at the head of ``table``'s chain, in order, with one
        ``executemany``; call inside a transaction. Each row is checked and hashed as
        :meth:`_append` does."""
        columns = schema.TABLES[table]
        return self._append_stored(table, [stored_row(columns, row) for row in rows])

    def _append_stored(self, table: str, rows: list[dict[str, Any]]) -> list[int]:
        """:meth:`_append_many` of rows already as stored (:func:`custody.stored_row`): each
        gets its id, ``prev_hash`` and ``row_hash`` in order, then one ``executemany``."""
        head = self._heads.get(table)
        if head is None:
            head = self.conn.execute(
                f"SELECT id, row_hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone() \
                or (0, GENESIS)
        row_id, previous = head
        required = schema.NOT_NULL.get(table, ())
        first = row_id + 1
        for row in rows:
            row_id += 1
            row["id"], row["prev_hash"] = row_id, previous
            for name in required:
                if row[name] is None:
                    raise ValueError(f"column {name}: a row of {table} needs a value there")
            row["row_hash"] = previous = row_hash(table, row)
        if rows:
            self.conn.executemany(INSERT_SQL[table], rows)
            self._heads[table] = (row_id, previous)
        return list(range(first, row_id + 1))

    def head(self) -> str:
        """The DB's head now: one digest over every chain's head (see custody.head_digest)."""
        return head_digest(self.chain_heads())

    def run_heads(self) -> list[tuple[int, str]]:
        """Each ended run and the DB's head just after its end was written, oldest first; a
        run merged from a node DB has the head its node recorded (crawler.evidence.merge)."""
        imported = self._imported_run_heads()
        return [(run_id, imported.get(run_id) or run_end_head(json.loads(heads), end_id,
                                                             end_hash))
                for run_id, heads, end_id, end_hash in self.conn.execute(
                    "SELECT run_id, chain_heads, id, row_hash FROM run_ends ORDER BY id")]

    def latest_run_head(self) -> tuple[int, str] | None:
        """The latest ended run and the DB's head just after its end was written (its node's,
        for a merged run), or None."""
        row = self.conn.execute("SELECT run_id, chain_heads, id, row_hash FROM run_ends "
                                "ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        imported = self._imported_run_heads().get(row[0])
        return row[0], imported or run_end_head(json.loads(row[1]), row[2], row[3])

    def _imported_run_heads(self) -> dict[int, str]:
        from crawler.evidence.merge import imported_run_heads

        return imported_run_heads(self.conn)

    def chain_heads(self) -> dict[str, dict[str, Any]]:
        """The last row (id and hash) of every evidence table."""
        heads = {}
        for table in EVIDENCE_TABLES:
            row = self.conn.execute(
                f"SELECT id, row_hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
            heads[table] = {"id": row[0], "row_hash": row[1]} if row else None
        return heads

    # -- runs ---------------------------------------------------------------------------

    def start_run(self, **fields: Any) -> int:
        """Open a run; ``fields`` are columns of ``run_starts`` (lists and dicts become JSON)."""
        row = {k: _column_value(v) for k, v in fields.items()}
        with self._transaction():
            return self._append("run_starts", {**row, "started_at": utc_now()})

    def unfinished_run(self, run_id: int) -> bool:
        """Did run ``run_id`` start and never end (a killed crawl to resume)?"""
        return self.conn.execute(
            "SELECT 1 FROM run_starts s LEFT JOIN run_ends e ON e.run_id = s.id "
            "WHERE s.id = ? AND e.id IS NULL", [run_id]).fetchone() is not None

    def end_run(self, run_id: int, *, status: str, stats: Mapping[str, Any],
                lexicon_version: str | None = None) -> str:
        """Close a run, recording its final stats and every table's chain head; returns the
        DB's head just after (the run's head, to write down outside the DB)."""
        with self._transaction():
            heads = self.chain_heads()
            end_id = self._append("run_ends", {
                "run_id": run_id, "ended_at": utc_now(), "status": status,
                "stats": json.dumps(stats, default=str, sort_keys=True),
                "lexicon_version": lexicon_version,
                "chain_heads": json.dumps(heads, sort_keys=True),
            })
            return run_end_head(heads, end_id, self._heads["run_ends"][1])

    def record_run_node(self, run_id: int, node: str, frontier: str | None,
                        frontier_key: str | None) -> None:
        """Record which node ran run ``run_id`` (a scrapyd node's name or the host) and the
        shared frontier it used: ``frontier`` a Redis URL, kept without any password (one
        given is taken out here), and ``frontier_key`` the prefix of its keys; None for the
        local scheduler. Chained evidence (``run_nodes``, schema version 5)."""
        if not isinstance(node, str) or not node:
            raise ValueError("a run's node needs a name")
        with self._transaction():
            self._append("run_nodes", {
                "run_id": run_id, "node": node, "frontier": _without_password(frontier),
                "frontier_key": frontier_key, "recorded_at": utc_now()})

    def run_nodes(self) -> Iterator[dict[str, Any]]:
        """Every run's node and frontier recorded, oldest first."""
        yield from self._rows("run_nodes")

    def add_timestamp(self, run_id: int, head: str, tsa_url: str, token: bytes,
                      gen_time: str) -> None:
        """Keep the RFC 3161 token that anchors run ``run_id``'s head."""
        with self._transaction():
            self.conn.execute(
                "INSERT INTO timestamps (run_id, head, tsa_url, token, gen_time, requested_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", [run_id, head, tsa_url, token, gen_time, utc_now()])

    def timestamps(self) -> list[tuple[int, str, bytes]]:
        """Every RFC 3161 token kept in the DB: (run, the head it covers, the token), by run."""
        if not self.db["timestamps"].exists():
            return []
        return [(run_id, head, bytes(token)) for run_id, head, token in self.conn.execute(
            "SELECT run_id, head, token FROM timestamps ORDER BY run_id")]

    def runs_to_timestamp(self, limit: int) -> list[tuple[int, str]]:
        """The latest ended runs whose head has no RFC 3161 token yet, with their heads."""
        anchored = {row[0] for row in self.conn.execute("SELECT run_id FROM timestamps")}
        return [(run_id, head) for run_id, head in self.run_heads()
                if run_id not in anchored][-limit:]

    # -- captures and faults ------------------------------------------------------------

    def add_capture(self, run_id: int, capture: Capture, replica: str | None,
                    kind: str = "response") -> tuple[int, str]:
        """Store a fetch (or a screenshot); its body is stored once however often it is seen."""
        digest = capture.body_sha256
        with self._transaction():
            self._keep_body(digest, capture.body)
            if capture.request_body:
                self._keep_body(capture.request_body_sha256, capture.request_body)
            capture_id = self._append("captures", {
                "run_id": run_id, "kind": kind, "url": capture.url, "method": capture.method,
                "status": capture.status,
                "request_headers": json.dumps(capture.request_headers, sort_keys=True),
                "response_headers": json.dumps(capture.response_headers, sort_keys=True),
                "request_body_sha256": capture.request_body_sha256,
                "body_sha256": digest, "fetched_at": capture.fetched_at, "replica": replica,
            })
        return capture_id, digest

    def _keep_body(self, digest: str, body: bytes) -> None:
        """Store ``body`` under its SHA-256 unless it is stored already."""
        if self.conn.execute("SELECT 1 FROM capture_bodies WHERE sha256 = ?",
                             [digest]).fetchone() is None:
            self._append("capture_bodies", {"sha256": digest, "size": len(body),
                                            "encoding": "zlib", "body": compress(body)})

    def capture_body(self, sha256: str) -> bytes:
        """The stored body with SHA-256 ``sha256``, hashed again: a body that does not match
        (a forged row an index was pointed at, say) raises :class:`UnsoundStoreError`."""
        row = self.conn.execute("SELECT body FROM capture_bodies WHERE sha256 = ?",
                                [sha256]).fetchone()
        if row is None:
            raise KeyError(sha256)
        try:
            body = decompress(row[0])
        except (zlib.error, TypeError) as error:
            raise UnsoundStoreError(f"capture body {sha256} is corrupt ({error}); refusing "
                                    "to write it out") from None
        found = sha256_hex(body)
        if found != sha256:
            raise UnsoundStoreError(
                f"the body stored under SHA-256 {sha256} hashes to {found}: refusing to write "
                f"it out as that capture (run `thriftwatch verify --db {self.path}`)")
        return body

    def add_fault(self, run_id: int, *, url: str, kind: str, detail: str,
                  capture_id: int | None = None) -> int:
        """Record what went wrong with a page: a block, a parse error, an HTTP or network error."""
        with self._transaction():
            return self._append("faults", {"run_id": run_id, "capture_id": capture_id, "url": url,
                                           "kind": kind, "detail": detail[:2000], "at": utc_now()})

    def add_recheck(self, run_id: int, recheck: Mapping[str, Any]) -> int:
        """Record a revisit of a known listing: live, removed or blocked, with its capture."""
        with self._transaction():
            return self._append("rechecks", {
                "run_id": run_id, **{k: recheck.get(k) for k in (
                    "platform", "listing_id", "url", "status", "http_status", "detail",
                    "capture_id")},
                "checked_at": utc_now()})

    def add_run_health(self, run_id: int, *, platform: str, status: str,
                       findings: Iterable[Mapping[str, Any]]) -> int:
        """Record a run's health check (see :mod:`crawler.ops.health`)."""
        with self._transaction():
            return self._append("run_health", {
                "run_id": run_id, "platform": platform, "status": status,
                "findings": json.dumps(list(findings), ensure_ascii=False, sort_keys=True),
                "checked_at": utc_now()})

    def finished_runs(self, platform: str, before_run: int,
                      limit: int) -> list[tuple[list[str], dict[str, Any]]]:
        """Keywords and final stats of ``platform``'s finished runs before ``before_run``,
        newest first."""
        rows = self.conn.execute(
            "SELECT keywords, stats FROM runs WHERE platform = ? AND id < ? "
            "AND status = 'finished' ORDER BY id DESC LIMIT ?", [platform, before_run, limit])
        return [(json.loads(keywords or "[]"), json.loads(stats)) for keywords, stats in rows]

    def new_strong_listings(self, run_id: int) -> int:
        """Listings flagged ``strong`` in ``run_id`` and in no earlier run."""
        return self.conn.execute("""
            SELECT COUNT(DISTINCT o.platform || '/' || o.listing_id)
            FROM observations o JOIN latest_flags f ON f.observation_id = o.id
            WHERE o.run_id = ? AND +f.level = 'strong' AND NOT EXISTS (
                SELECT 1 FROM observations p JOIN flags g ON g.observation_id = p.id
                WHERE p.platform = o.platform AND p.listing_id = o.listing_id
                  AND p.run_id < o.run_id AND +g.level = 'strong')""", [run_id]).fetchone()[0]
        # (``+level``: the run's own sightings lead, each listing's earlier ones by its index;
        # led by the level index, this read every strong verdict of the DB per sighting.)

    def listings_to_recheck(self, *, flagged_only: bool = False,
                            platform: str | None = None) -> list[dict[str, Any]]:
        """Known listings (platform, listing_id, url), optionally only the flagged ones."""
        sql = """SELECT l.platform, l.listing_id, l.url FROM listings l
                 LEFT JOIN latest_flags f ON f.observation_id = l.last_observation_id
                 WHERE l.url IS NOT NULL AND l.url != ''"""
        params: list[Any] = []
        if flagged_only:
            sql += " AND f.flagged = 1"
        if platform:
            sql += " AND l.platform = ?"
            params.append(platform)
        return list(self.db.query(sql + " ORDER BY l.platform, l.listing_id", params))

    # -- listings -------------------------------------------------------------------------

    def add_observation(self, run_id: int, listing: Mapping[str, Any]) -> int:
        """Record one sighting of a listing, its verdict, and update the listing's current view."""
        return self.add_observations(run_id, [listing])[0]

    def add_observations(self, run_id: int, listings: Iterable[Mapping[str, Any]]) -> list[int]:
        """Record many sightings in one transaction (all or none of them): one
        ``executemany`` per table, the chains hashed in order over the batch. A sighting this
        run already stored (same listing and keyword: a resumed crawl redoes pages a killed
        one may have stored) is not stored again; its id is returned."""
        listings = list(listings)
        seen_at = utc_now()
        rows = [observation_row(run_id, listing, seen_at) for listing in listings]
        keys = [_sighting(row) for row in rows]
        with self._transaction():
            new, refs = _new_rows(rows, keys, self._stored_observations(run_id, keys))
            self._append_stored("observations", new)
            # The verdicts of the sightings new in this batch (each stands for itself).
            self._append_many("flags", [
                flag_row(row["id"], listing)
                for row, ref, listing in zip(rows, refs, listings, strict=True)
                if ref is row and listing.get("level") is not None])
            self._update_listings(new)
            return _ids(refs)

    def _stored_observations(self, run_id: int,
                             keys: list[tuple[str, str, str] | None],
                             ) -> dict[tuple[str, str, str], int]:
        """Which of the sightings ``keys`` (:func:`_sighting`) run ``run_id`` already
        stored, and their ids."""
        wanted = [key for key in keys if key is not None]
        if not wanted:
            return {}
        found = self.conn.execute(
            "SELECT o.platform, o.listing_id, o.keyword, o.id FROM json_each(?) j CROSS "
            "JOIN observations o ON o.run_id = ? AND o.platform = j.value ->> 0 "
            "AND o.listing_id = j.value ->> 1 AND o.keyword = j.value ->> 2",
            [json.dumps(wanted), run_id])
        return {(platform, listing_id, keyword): row_id
                for platform, listing_id, keyword, row_id in found}

    def _update_listings(self, rows: list[dict[str, Any]]) -> None:
        """Move each listing's current view on to its new sightings, keeping what changed
        (``listing_changes``) first. A listing seen twice in the batch moves on in rounds, so
        its second sighting is compared with its first, as one at a time would."""
        rounds: list[list[dict[str, Any]]] = []
        times: dict[tuple[str, str], int] = {}
        for row in rows:
            listing = (row["platform"], row["listing_id"])
            nth = times.get(listing, 0)
            times[listing] = nth + 1
            if nth == len(rounds):
                rounds.append([])
            row["observation_id"] = row["id"]
            rounds[nth].append(row)
        for batch in rounds:
            self.conn.executemany(RECORD_CHANGE, batch)
            self.conn.executemany(UPSERT_LISTING, batch)

    def add_observations_salvaging(
            self, run_id: int, listings: list[Mapping[str, Any]],
    ) -> tuple[int, list[tuple[Mapping[str, Any], str]]]:
        """Record a batch in one transaction; if a row cannot be written, split the batch
        so that every good row is still stored. Returns how many were stored and each
        listing that could not be, with why."""
        try:
            self.add_observations(run_id, listings)
        except WRITE_ERRORS as error:
            if len(listings) == 1:
                return 0, [(listings[0], f"{type(error).__name__}: {error}")]
            half = len(listings) // 2
            stored_first, failed_first = self.add_observations_salvaging(run_id, listings[:half])
            stored_last, failed_last = self.add_observations_salvaging(run_id, listings[half:])
            return stored_first + stored_last, failed_first + failed_last
        return len(listings), []

    def export_records(self, *, flagged_only: bool = False, platform: str | None = None,
                       since: str | None = None, level: str | None = None,
                       ) -> Iterator[dict[str, Any]]:
        """One record per listing: its latest observation, verdict and first/last sighting.

        Filters: only flagged listings, one platform, last seen at or after ``since``
        (an ISO UTC time), or one verdict level.
        """
        conditions, params = [], []
        if flagged_only:
            conditions.append("f.flagged = 1")
        if platform:
            conditions.append("l.platform = ?")
            params.append(platform)
        if since:
            conditions.append("l.last_seen >= ?")
            params.append(since)
        if level:
            conditions.append("COALESCE(f.level, 'none') = ?")
            params.append(level)
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        sql = f"""
            SELECT o.*, l.first_seen, l.last_seen, f.flagged, f.score, f.level, f.reasons,
                   f.lexicon_version
            FROM listings l
            JOIN observations o ON o.id = l.last_observation_id
            LEFT JOIN latest_flags f ON f.observation_id = o.id
            {where}
            ORDER BY l.platform, l.listing_id
        """
        for row in self.db.query(sql, params):
            yield _export_record(row)

    def evidence_of(self, listings: Iterable[Mapping[str, Any]]) -> list[int]:
        """Ids of the captures behind ``listings``: every sighting's page and screenshot."""
        keys = [(r["platform"], r["listing_id"]) for r in listings]
        ids: set[int] = set()
        for platform, listing_id in keys:
            for capture_id, shot in self.conn.execute(
                    "SELECT capture_id, screenshot_sha256 FROM observations "
                    "WHERE platform = ? AND listing_id = ?", [platform, listing_id]):
                if capture_id is not None:
                    ids.add(capture_id)
                if shot is not None:
                    ids.update(row[0] for row in self.conn.execute(
                        "SELECT id FROM captures WHERE kind = 'screenshot' AND body_sha256 = ?",
                        [shot]))
        return sorted(ids)

    # -- reflags: stored listings judged again with another lexicon (schema version 5) ----

    def start_reflag(self, *, lexicon_version: str, lexicon_sha256: str,
                     lexicon_files: Mapping[str, str], platform: str | None = None,
                     since: str | None = None, tool_version: str | None = None,
                     host: str | None = None) -> int:
        """Record the start of a reflag (chained, ``reflags``); returns its id."""
        with self._transaction():
            return self._append("reflags", {
                "started_at": utc_now(), "lexicon_version": lexicon_version,
                "lexicon_sha256": lexicon_sha256,
                "lexicon_files": json.dumps(dict(lexicon_files), sort_keys=True),
                "platform": platform, "since": since, "tool_version": tool_version,
                "host": host})

    def unfinished_reflag(self, *, lexicon_sha256: str, platform: str | None,
                          since: str | None) -> int | None:
        """The latest reflag with this lexicon and these filters that started and never
        ended (a killed one, to resume), or None."""
        row = self.conn.execute(
            "SELECT r.id FROM reflags r LEFT JOIN reflag_ends e ON e.reflag_id = r.id "
            "WHERE e.id IS NULL AND r.lexicon_sha256 = ? AND r.platform IS ? AND r.since IS ? "
            "ORDER BY r.id DESC LIMIT 1", [lexicon_sha256, platform, since]).fetchone()
        return None if row is None else row[0]

    def reflag_resume_point(self, reflag_id: int) -> tuple[str, str] | None:
        """The last listing (platform, listing_id) for which reflag ``reflag_id`` stored a
        verdict: listings are judged in that order and each batch is committed whole, so
        every listing up to it was judged."""
        row = self.conn.execute(
            "SELECT o.platform, o.listing_id FROM flags f "
            "JOIN observations o ON o.id = f.observation_id WHERE f.reflag_id = ? "
            "ORDER BY o.platform DESC, o.listing_id DESC LIMIT 1", [reflag_id]).fetchone()
        return None if row is None else (row[0], row[1])

    def count_listings(self, *, platform: str | None = None, since: str | None = None,
                       after: tuple[str, str] | None = None) -> int:
        """How many listings (of ``platform``, last seen since ``since``, after the listing
        ``after``) a reflag judges."""
        where, params = _listing_filter(platform, since, after)
        return self.conn.execute(f"SELECT COUNT(*) FROM listings l {where}",
                                 params).fetchone()[0]

    def listings_to_reflag(self, *, platform: str | None = None, since: str | None = None,
                           after: tuple[str, str] | None = None, limit: int = 5000,
                           ) -> list[dict[str, Any]]:
        """The next ``limit`` listings after ``after`` in (platform, listing_id) order: each
        latest observation's observed fields, ``observation_id``, and its current verdict
        (``flag_id``, ``flagged``, ``score``, ``level``, ``reasons``; None without one)."""
        where, params = _listing_filter(platform, since, after)
        cursor = self.conn.execute(f"""
            SELECT l.platform, l.listing_id, o.id AS observation_id,
                   {', '.join(f'o.{name}' for name in OBSERVED_FIELDS)},
                   f.id AS flag_id, f.flagged, f.score, f.level, f.reasons
            FROM listings l
            JOIN observations o ON o.id = l.last_observation_id
            LEFT JOIN latest_flags f ON f.observation_id = o.id
            {where}
            ORDER BY l.platform, l.listing_id LIMIT ?""", [*params, limit])
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def add_reflag_verdicts(self, reflag_id: int, lexicon_version: str,
                            verdicts: Iterable[tuple[int, int | None, Mapping[str, Any]]],
                            ) -> int:
        """Store, in one transaction, each new verdict ``(observation_id, flag_id it
        replaces (None: none), verdict)`` as a ``flags`` row naming reflag ``reflag_id``.
        A verdict whose observation got another verdict meanwhile (its latest is no longer
        ``flag_id``) is left out, so two reflags at once store nothing twice. Returns how
        many were stored."""
        wanted = list(verdicts)
        with self._transaction():
            latest: dict[int, int] = {}
            ids = [observation_id for observation_id, _, _ in wanted]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                latest.update(self.conn.execute(
                    f"SELECT observation_id, MAX(id) FROM flags WHERE observation_id IN "
                    f"({', '.join('?' * len(chunk))}) GROUP BY observation_id", chunk))
            rows = [{
                "observation_id": observation_id, "flagged": int(bool(verdict["flagged"])),
                "score": verdict["score"], "level": verdict["level"],
                "reasons": (verdict["reasons"] if isinstance(verdict["reasons"], str) else
                            json.dumps(verdict["reasons"], ensure_ascii=False)),
                "lexicon_version": lexicon_version, "reflag_id": reflag_id}
                for observation_id, flag_id, verdict in wanted
                if latest.get(observation_id) == flag_id]
            return len(self._append_many("flags", rows))

    def end_reflag(self, reflag_id: int, *, listings: int, summary: Mapping[str, Any]) -> None:
        """Record a reflag's end (chained, ``reflag_ends``): how many listings it judged (in
        this run and any it resumed), how many verdicts it stored in all, and ``summary``."""
        with self._transaction():
            changed = self.conn.execute("SELECT COUNT(*) FROM flags WHERE reflag_id = ?",
                                        [reflag_id]).fetchone()[0]
            self._append("reflag_ends", {
                "reflag_id": reflag_id, "ended_at": utc_now(), "listings": listings,
                "changed": changed,
                "summary": json.dumps(summary, ensure_ascii=False, sort_keys=True)})

    def reflag_changes(self, reflag_id: int) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Each verdict reflag ``reflag_id`` stored, with the one before it of the same
        observation (``level`` None: it had none): ``flagged``, ``level``, ``reasons``
        (decoded)."""
        for row in self.conn.execute("""
                SELECT f.flagged, f.level, f.reasons, p.flagged, p.level, p.reasons
                FROM flags f LEFT JOIN flags p ON p.id = (
                    SELECT MAX(g.id) FROM flags g
                    WHERE g.observation_id = f.observation_id AND g.id < f.id)
                WHERE f.reflag_id = ? ORDER BY f.id""", [reflag_id]):
            yield ({"flagged": bool(row[0]), "level": row[1], "reasons": _decoded(row[2]) or []},
                   {"flagged": bool(row[3]), "level": row[4], "reasons": _decoded(row[5]) or []})

    def reflags(self) -> Iterator[dict[str, Any]]:
        """Every reflag, oldest first, with its end's columns (None while unfinished)."""
        yield from self.db.query(
            "SELECT r.*, e.ended_at, e.listings, e.changed, e.summary FROM reflags r "
            "LEFT JOIN reflag_ends e ON e.reflag_id = r.id ORDER BY r.id")

    # -- listing pages, contacts, images and takedown requests (schema version 3) --------
    #
    # Each writer is one transaction, all or nothing. A value a column cannot hold as it is
    # (NaN, a number beyond 64 bits, bytes where text belongs, a lone surrogate, a JSON
    # value nested beyond reason) raises ValueError or TypeError (see WRITE_ERRORS) naming
    # the column, never quoting the value, and nothing is written. Numbers are kept as
    # their column gives them back (custody.as_stored: -0.0 is 0.0, True is 1).

    def add_listing_page(self, run_id: int, page: Mapping[str, Any]) -> int:
        """Record a listing's own page as fetched and parsed: ``page`` holds ``platform``,
        ``listing_id`` and any of the other columns of ``listing_pages`` (``image_urls`` a
        list and ``variants`` any JSON value, stored as JSON; ``fetched_at`` defaults to
        now). Returns its id."""
        row = {name: page.get(name) for name in _PAGE_FIELDS}
        row.update(run_id=run_id, **_listing_key(page), fetched_at=page.get("fetched_at")
                   or utc_now(), image_urls=_json_column("image_urls", page.get("image_urls")),
                   variants=_json_column("variants", page.get("variants")))
        with self._transaction():
            return self._append("listing_pages", row)

    def add_contacts(self, run_id: int, contacts: Iterable[Mapping[str, Any]]) -> list[int]:
        """Record contacts found in listings, each with ``platform``, ``listing_id``,
        ``source`` ('card' or 'page'), ``field``, ``kind`` (schema.CONTACT_KINDS), ``value``
        (normalised), ``raw`` (as written; cut to 200 characters), ``capture_sha256`` and
        ``seen_at`` (default now). A contact this run already recorded in the same field
        of the same listing is not repeated: its id is returned. Returns the ids in order."""
        seen_at = utc_now()
        rows = [_contact_row(run_id, contact, seen_at) for contact in contacts]
        keys = [tuple(row[name] for name in _CONTACT_KEY) for row in rows]
        with self._transaction():
            new, refs = _new_rows(rows, keys, self._stored_contacts(keys))
            self._append_stored("contacts", new)
            return _ids(refs)

    def _stored_contacts(self, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
        """Which of the contacts ``keys`` (their ``_CONTACT_KEY`` values) are recorded
        already, and their ids."""
        found = {key: self._recorded("contacts", _CONTACT_KEY, key)
                 for key in dict.fromkeys(keys)}
        return {key: row_id for key, row_id in found.items() if row_id is not None}

    def erase_contacts(self, ids: Iterable[int], *, reason: str, seen_before: str | None = None,
                       ) -> int:
        """Erase the text (value and raw) of the contacts ``ids`` and record the erasure as
        chained evidence (``erasures``), in one transaction. Each row keeps the digests its
        hash covers, so every chain still verifies and accounts that shared a contact stay
        linked. Contacts written before schema version 4, and ones already erased, are left
        as they are. Returns how many were erased."""
        wanted = sorted(set(ids))
        with self._transaction():
            erased = [row_id for row_id in wanted if self.conn.execute(
                "SELECT 1 FROM contacts WHERE id = ? AND value_sha256 IS NOT NULL "
                "AND (value IS NOT NULL OR raw IS NOT NULL)", [row_id]).fetchone()]
            if not erased:
                return 0
            self.conn.executemany("UPDATE contacts SET value = NULL, raw = NULL WHERE id = ?",
                                  [(row_id,) for row_id in erased])
            self._append("erasures", {
                "erased_at": utc_now(), "table_name": "contacts",
                "columns": json.dumps(sorted(schema.CONTACT_DIGESTS)),
                "ids": json.dumps(id_ranges(erased)), "rows": len(erased), "reason": reason,
                "seen_before": seen_before})
        return len(erased)

    def erasures(self) -> Iterator[dict[str, Any]]:
        """Every erasure of personal data recorded, oldest first; ``columns`` and ``ids``
        decoded from their JSON."""
        for row in self._rows("erasures"):
            yield {**row, "columns": _decoded(row["columns"]), "ids": _decoded(row["ids"])}

    def add_image(self, run_id: int, image: Mapping[str, Any]) -> int:
        """Record an image of a listing: ``platform``, ``listing_id``, ``url``, ``body``
        (the bytes, stored once in ``capture_bodies`` like any body; or ``body_sha256`` of
        a body already stored), ``phash`` (16 hex digits), ``width``, ``height`` and
        ``fetched_at`` (default now). The same image URL of the same listing in one run is
        recorded once: its id is returned."""
        body = image.get("body")
        if body is not None:
            if not isinstance(body, (bytes, bytearray)):
                raise TypeError(f"images body: {type(body).__name__} where bytes belong")
            body = bytes(body)
            digest = sha256_hex(body)
            if image.get("body_sha256") not in (None, digest):
                raise ValueError("images body_sha256 is not the SHA-256 of the body given")
        else:
            digest = image.get("body_sha256")
            if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
                raise ValueError("an image needs its body (bytes) or the body_sha256 of a "
                                 "stored body")
        phash = image.get("phash")
        if phash is not None and (not isinstance(phash, str) or not _PHASH.fullmatch(phash)):
            raise ValueError("images phash must be 16 lower-case hex digits")
        row = stored_row(schema.TABLES["images"], {
            "run_id": run_id, **_listing_key(image), "url": image.get("url"),
            "body_sha256": digest, "phash": phash, "width": image.get("width"),
            "height": image.get("height"), "fetched_at": image.get("fetched_at") or utc_now()})
        with self._transaction():
            existing = self._recorded("images", _IMAGE_KEY,
                                      tuple(row[name] for name in _IMAGE_KEY))
            if existing is not None:
                return existing
            if body is not None:
                self._keep_body(digest, body)
            elif self.conn.execute("SELECT 1 FROM capture_bodies WHERE sha256 = ?",
                                   [digest]).fetchone() is None:
                raise ValueError("images body_sha256 names no stored body")
            return self._append_stored("images", [row])[0]

    def add_takedown_request(self, request: Mapping[str, Any]) -> int:
        """Record a takedown request as made: ``platform``, ``network_id``, ``accounts``,
        ``listing_urls`` and ``evidence`` (JSON values: lists of dicts and URLs), ``reason_id``,
        ``reason_en``, ``legal_basis`` and ``db_head``. By default ``db_head`` is the head of
        the latest ended run (:meth:`latest_run_head`), which covers every capture,
        observation and recheck the request can cite and which ``verify --head RUN:HEAD``
        checks for good (the DB's head of the moment would not be in its history once a
        second request is written); the DB's head now if no run has ended. Returns its id."""
        if not request.get("platform"):
            raise ValueError("a takedown request needs its platform")
        head = request.get("db_head")
        if head is not None and (not isinstance(head, str) or not _SHA256.fullmatch(head)):
            raise ValueError("takedown_requests db_head must be a head (64 hex digits)")
        row = {name: request.get(name) for name in (
            "platform", "network_id", "reason_id", "reason_en", "legal_basis")}
        row.update({name: _json_column(name, request.get(name) or [])
                    for name in ("accounts", "listing_urls", "evidence")})
        row["created_at"] = request.get("created_at") or utc_now()
        with self._transaction():
            if head is None:
                latest = self.latest_run_head()
                head = latest[1] if latest else self.head()
            row["db_head"] = head
            return self._append("takedown_requests", row)

    def _recorded(self, table: str, key: tuple[str, ...], values: tuple[Any, ...]) -> int | None:
        """The id of the row of ``table`` whose ``key`` columns hold ``values`` (as stored;
        its unique index allows one), or None."""
        found = self.conn.execute(
            f"SELECT id FROM {table} WHERE {' AND '.join(f'{k} = ?' for k in key)}",
            values).fetchone()
        return None if found is None else found[0]

    def listing_pages(self, platform: str | None = None) -> Iterator[dict[str, Any]]:
        """Every listing page recorded (of ``platform``), oldest first; ``image_urls`` and
        ``variants`` decoded from their JSON."""
        sql, params = "SELECT * FROM listing_pages", []
        if platform:
            sql += " WHERE platform = ?"
            params.append(platform)
        for row in self.db.query(sql + " ORDER BY id", params):
            yield _page_record(row)

    def latest_listing_page(self, platform: str, listing_id: str) -> dict[str, Any] | None:
        """The listing's most recent page, or None if none was recorded."""
        for row in self.db.query(
                "SELECT * FROM listing_pages WHERE platform = ? AND listing_id = ? "
                "ORDER BY id DESC LIMIT 1", [platform, str(listing_id)]):
            return _page_record(row)
        return None

    def contacts(self, *, platform: str | None = None, kind: str | None = None,
                 ) -> Iterator[dict[str, Any]]:
        """Every contact recorded (of ``platform``, of ``kind``), oldest first. Personal
        data: never log what this yields above DEBUG."""
        yield from self._rows("contacts", platform=platform, kind=kind)

    def images(self, *, platform: str | None = None) -> Iterator[dict[str, Any]]:
        """Every image recorded (of ``platform``), oldest first, without its bytes (read
        them with :meth:`capture_body` and the row's ``body_sha256``)."""
        yield from self._rows("images", platform=platform)

    def takedown_requests(self, *, platform: str | None = None) -> Iterator[dict[str, Any]]:
        """Every takedown request recorded (to ``platform``), oldest first; ``accounts``,
        ``listing_urls`` and ``evidence`` decoded from their JSON."""
        for row in self._rows("takedown_requests", platform=platform):
            yield {**row, **{name: _decoded(row[name]) for name in (
                "accounts", "listing_urls", "evidence")}}

    def accounts(self, *, platform: str | None = None) -> Iterator[dict[str, Any]]:
        """The ``accounts`` view: one row per seller account (platform, seller_id,
        seller_name, seller_url, listings, flagged, first_seen, last_seen, status,
        taken_down_at), by platform and seller id."""
        sql, params = "SELECT * FROM accounts", []
        if platform:
            sql += " WHERE platform = ?"
            params.append(platform)
        yield from self.db.query(sql + " ORDER BY platform, seller_id", params)

    def _rows(self, table: str, **equal: Any) -> Iterator[dict[str, Any]]:
        wanted = {name: value for name, value in equal.items() if value is not None}
        where = " AND ".join(f"{name} = ?" for name in wanted)
        yield from self.db.query(
            f"SELECT * FROM {table}{f' WHERE {where}' if where else ''} ORDER BY id",
            list(wanted.values()))

_PLAIN = frozenset({str, int, float, type(None)})  # what a column takes as it is

_OBSERVATION_COLUMNS = {name: kind for name, kind in schema.TABLES["observations"].items()
                        if name not in ("id", "prev_hash", "row_hash")}

# A sighting as the store writes it, public so that bench/store.py can time the schema's own
# SQL apart from the chain: INSERT_SQL["observations"] of its observation_row, then
# INSERT_SQL["flags"] of its flag_row, RECORD_CHANGE and UPSERT_LISTING (of the observation
# row, its ``observation_id`` set). Each table's INSERT takes a whole row by column name.
INSERT_SQL = {
    table: f"INSERT INTO {table} ({', '.join(columns)}) "
           f"VALUES ({', '.join(':' + c for c in columns)})"
    for table, columns in schema.TABLES.items()
}

# Before the listing's current view moves on: keep what changed since its last sighting.
RECORD_CHANGE = """
INSERT INTO listing_changes (platform, listing_id, observation_id, before_seen_at, seen_at,
                             title_before, title_after, price_before, price_after)
SELECT platform, listing_id, :observation_id, last_seen, :seen_at, title, :title,
       price_idr, :price_idr
FROM listings
WHERE platform = :platform AND listing_id = :listing_id
  AND (title IS NOT :title OR price_idr IS NOT :price_idr)
"""

UPSERT_LISTING = f"""
{schema.INSERT_LISTING}
VALUES (:platform, :listing_id, :url, :title, :description, :price_idr, :seller_id,
        :seller_name, :location, :seen_at, :seen_at, :run_id, :run_id, :observation_id)
{schema.ON_LISTING_CONFLICT}
"""

EXPORT_FIELDS = (
    "platform", "listing_id", "url", "title", "description", "price_idr", "price_text",
    "currency", "seller_id", "seller_name", "seller_url", "location", "sold_count", "rating",
    "category", "image_urls", "condition", "imported", "posted_at", "keyword", "first_seen",
    "last_seen", "flagged", "score", "level", "reasons", "lexicon_version", "capture_sha256",
    "screenshot_sha256",
)


def _export_record(row: Mapping[str, Any]) -> dict[str, Any]:
    record = {name: row.get(name) for name in EXPORT_FIELDS}
    record["image_urls"] = json.loads(row["image_urls"]) if row["image_urls"] else []
    record["reasons"] = json.loads(row["reasons"]) if row["reasons"] else []
    record["imported"] = None if row["imported"] is None else bool(row["imported"])
    record["flagged"] = bool(row["flagged"])
    record["level"] = row["level"] or "none"
    record["score"] = row["score"] if row["score"] is not None else 0.0
    return record


# -- schema version 3's rows ------------------------------------------------------------------

_PAGE_FIELDS = tuple(name for name in schema.TABLES["listing_pages"]
                     if name not in ("id", "run_id", "prev_hash", "row_hash"))
_CONTACT_KEY = ("run_id", "platform", "listing_id", "source", "field", "kind", "value_sha256")
_IMAGE_KEY = ("run_id", "platform", "listing_id", "url")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PHASH = re.compile(r"[0-9a-f]{16}")
MAX_CONTACT = 200  # characters of a contact's value and of its raw text


def _listing_filter(platform: str | None, since: str | None,
                    after: tuple[str, str] | None) -> tuple[str, list[Any]]:
    """The WHERE clause (on ``listings l``) and its parameters of a reflag's listings."""
    conditions: list[str] = []
    params: list[Any] = []
    if platform:
        conditions.append("l.platform = ?")
        params.append(platform)
    if since:
        conditions.append("l.last_seen >= ?")
        params.append(since)
    if after is not None:
        conditions.append("(l.platform, l.listing_id) > (?, ?)")
        params.extend(after)
    return (f"WHERE {' AND '.join(conditions)}" if conditions else ""), params


def observation_row(run_id: int, listing: Mapping[str, Any], seen_at: str) -> dict[str, Any]:
    """A sighting as its ``observations`` row, as stored (so the listing's current view is
    made of the very values observed); its id and hashes come when it is chained."""
    return stored_row(_OBSERVATION_COLUMNS, {
        "run_id": run_id, "platform": listing["platform"],
        "listing_id": str(listing["listing_id"]), "seen_at": seen_at,
        **{name: _column_value(listing.get(name)) for name in OBSERVED_FIELDS},
        "capture_id": listing.get("capture_id"),
        "capture_sha256": listing.get("capture_sha256"),
        "screenshot_sha256": listing.get("screenshot_sha256")})


def _sighting(row: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """What a run stores once: a listing seen for a keyword (the unique index of
    ``observations``; a sighting with no keyword is never the same as another)."""
    keyword = row["keyword"]
    return None if keyword is None else (row["platform"], row["listing_id"], keyword)


def _new_rows(rows: list[dict[str, Any]], keys: list[Hashable | None],
              stored: Mapping[Hashable, int],
              ) -> tuple[list[dict[str, Any]], list[int | dict[str, Any]]]:
    """The rows of a batch to store, and what each row stands for: the id stored under its
    key (``stored``), else the first row of the batch with its key (itself, if it is that
    row). A key of None is never the same as another. :func:`_ids` reads the ids once the
    new rows are chained."""
    known: dict[Hashable, int | dict[str, Any]] = dict(stored)
    new: list[dict[str, Any]] = []
    refs: list[int | dict[str, Any]] = []
    for row, key in zip(rows, keys, strict=True):
        ref = None if key is None else known.get(key)
        if ref is None:
            ref = row
            new.append(row)
            if key is not None:
                known[key] = row
        refs.append(ref)
    return new, refs


def _ids(refs: list[int | dict[str, Any]]) -> list[int]:
    """The id of each row :func:`_new_rows` stands for (a new row's, once chained)."""
    return [ref if isinstance(ref, int) else ref["id"] for ref in refs]


def flag_row(observation_id: int, listing: Mapping[str, Any]) -> dict[str, Any]:
    """A sighting's verdict as its ``flags`` row."""
    return {"observation_id": observation_id, "flagged": int(bool(listing.get("flagged"))),
            "score": listing.get("score"), "level": listing["level"],
            "reasons": json.dumps(listing.get("reasons") or [], ensure_ascii=False),
            "lexicon_version": listing.get("lexicon_version")}


def _listing_key(fields: Mapping[str, Any]) -> dict[str, str]:
    """``platform`` and ``listing_id`` (as text), which every row about a listing needs."""
    platform, listing_id = fields.get("platform"), fields.get("listing_id")
    if not platform or listing_id is None or listing_id == "":
        raise ValueError("a row about a listing needs its platform and listing_id")
    if isinstance(listing_id, (bytes, bytearray)) or isinstance(platform, (bytes, bytearray)):
        raise TypeError("bytes where text belongs (platform, listing_id)")
    return {"platform": platform, "listing_id": str(listing_id)}


def id_ranges(ids: list[int]) -> list[list[int]]:
    """Sorted ids as ``[first, last]`` runs: ``[1, 2, 3, 7]`` → ``[[1, 3], [7, 7]]``."""
    ranges: list[list[int]] = []
    for row_id in ids:
        if ranges and row_id == ranges[-1][1] + 1:
            ranges[-1][1] = row_id
        else:
            ranges.append([row_id, row_id])
    return ranges


def _contact_row(run_id: int, contact: Mapping[str, Any], seen_at: str) -> dict[str, Any]:
    """A contact as a row, checked; errors never quote the contact (personal data)."""
    kind, source, field = contact.get("kind"), contact.get("source"), contact.get("field")
    if kind not in CONTACT_KINDS:
        raise ValueError(f"a contact's kind must be one of {', '.join(CONTACT_KINDS)}")
    if source not in CONTACT_SOURCES:
        raise ValueError(f"a contact's source must be one of {', '.join(CONTACT_SOURCES)}")
    if not isinstance(field, str) or not field:
        raise ValueError("a contact needs the field it was found in")
    value, raw = contact.get("value"), contact.get("raw")
    if not isinstance(value, str) or not value:
        raise ValueError("a contact's value must be non-empty text")
    if len(value) > MAX_CONTACT:
        raise ValueError(f"a contact's value is longer than {MAX_CONTACT} characters")
    if isinstance(raw, (bytes, bytearray)):
        raise TypeError("contacts raw: bytes where text belongs")
    raw = None if raw is None else str(raw)[:MAX_CONTACT]
    row = {"run_id": run_id, **_listing_key(contact), "source": source, "field": field,
           "kind": kind, "value": value, "raw": raw,
           "capture_sha256": contact.get("capture_sha256"),
           "seen_at": contact.get("seen_at") or seen_at}
    # The chain covers the text through its digests, so the text can be erased later.
    stored = stored_row(schema.TABLES["contacts"], row)
    return {**stored, **{digest: text_digest(stored[column])
                         for column, digest in schema.CONTACT_DIGESTS.items()}}


def _json_column(name: str, value: Any) -> str | None:
    """``value`` as the JSON text a column keeps (text is kept as given: it is JSON already);
    NaN, infinity, bytes and nesting beyond reason are refused."""
    if value is None or isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, sort_keys=True)
    except RecursionError:
        raise ValueError(f"column {name}: nested deeper than any answer thriftwatch reads") \
            from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"column {name}: not storable as JSON ({error})") from None


def _decoded(text: Any) -> Any:
    """A JSON column read back; text that is not JSON (only a hand-edited DB holds it) is
    returned as it is."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _page_record(row: Mapping[str, Any]) -> dict[str, Any]:
    return {**row, "image_urls": _decoded(row["image_urls"]) or [],
            "variants": _decoded(row["variants"])}


def _without_password(url: str | None) -> str | None:
    """``url`` with any password (and user name) in it taken out: ``redis://:pw@h:6379/0``
    is kept as ``redis://h:6379/0``."""
    if url is None:
        return None
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in ("password", "username", "user")]
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query)))


def _column_value(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value
