"""Merging node DBs into one case DB (``thriftwatch merge --into CASE.db NODE.db ...``).

Each node of a spread crawl writes its own evidence DB; an investigator hands over one case
DB. A merge copies each node DB's (the *source's*) evidence into the case DB so that every
reader works on it as on any DB, and every source chain can still be recomputed from it.

- **Verified first.** Every source is verified (:func:`crawler.evidence.verify.verify_db`)
  before anything is written; if one fails, the whole command imports nothing and names
  its first broken row. A source is opened read-only: a node DB is never changed.
- **Rows become case rows.** Imported rows go into the normal evidence tables with new
  (case) ids, chained in the case DB's chains like any row, so exports, reports, sellers,
  bundles and the case's own chain checks read them as they read a crawl's. Ids they hold
  are translated to case ids: ``run_id``, ``capture_id``, ``observation_id``,
  ``reflag_id``, the contact ids of an ``erasures`` row and the chain heads each
  ``run_ends`` row recorded. Takedown requests are kept as made: they cite the node's
  observation ids and head, as sent.
  Capture bodies are stored once by SHA-256, so a body two nodes fetched is kept once.
- **Where they went.** A source's rows of a table are consecutive there and are appended
  consecutively here, so one range per table and merge says where they went (``ranges``
  in the merge's record); only capture bodies, stored once, need a row each
  (``merged_bodies``).
- **The imports are chained too.** Each import is a row of the chained ``merges`` table:
  the node, the source's path, its origin (the hash of its first row: which DB it is), its
  chain heads and head at import, the ranges, each imported run's head as the node
  recorded it (what its RFC 3161 tokens cover, which come along in ``timestamps``), and the
  case DB's chain heads just before (so a merge's head is a checkpoint, like a run's end).
- **Again adds nothing; grown adds the rest; rewritten is refused.** A source merged before
  (same origin) is imported from the row after the last one imported, so merging the same
  sources again writes no row at all. A source whose row at the last imported id no longer
  has the hash imported (a fork: rewritten after the merge) is refused, as is a case DB
  given as a source (merge its nodes instead).
- **Verify checks both.** :func:`check_imports` (called by ``verify_db``) rebuilds every
  source row from its case row (ids and references mapped back) and recomputes each
  source's chains from GENESIS: they must reach the heads each merge recorded, and each
  imported run's head (and so its tokens) must be what the node recorded.

Each source is imported in one transaction (all its rows or none); a later source that
fails leaves the earlier ones of the same command imported, complete.
"""

from __future__ import annotations

import bisect
import json
import os
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crawler.evidence import schema
from crawler.evidence.capture import utc_now
from crawler.evidence.custody import EVIDENCE_TABLES, GENESIS, head_digest, row_hash, run_end_head

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path

    from crawler.evidence.store import EvidenceStore

# The ids a row of each table holds, and the table they name.
FOREIGN: dict[str, dict[str, str]] = {
    "captures": {"run_id": "run_starts"},
    "observations": {"run_id": "run_starts", "capture_id": "captures"},
    "flags": {"observation_id": "observations", "reflag_id": "reflags"},
    "reflag_ends": {"reflag_id": "reflags"},
    "faults": {"run_id": "run_starts", "capture_id": "captures"},
    "rechecks": {"run_id": "run_starts", "capture_id": "captures"},
    "run_health": {"run_id": "run_starts"},
    "listing_pages": {"run_id": "run_starts", "capture_id": "captures"},
    "contacts": {"run_id": "run_starts"},
    "images": {"run_id": "run_starts"},
    "run_nodes": {"run_id": "run_starts"},
    "run_ends": {"run_id": "run_starts"},
}
# Every chain a source brings, in the order it is imported and rebuilt (the tables a row
# names come before it; run_ends, which records the others' heads, last).
IMPORTED = tuple(table for table in EVIDENCE_TABLES if table != "merges")
BATCH = 5000  # rows read, hashed and written at a time


class MergeRefused(ValueError):
    """A source cannot be merged (it fails verify, was rewritten since its last merge, ...)."""


@dataclass
class Imported:
    """What one source brought: rows per table (none: nothing new), its heads, the case's."""

    path: Path
    node: str
    source_head: str
    rows: dict[str, int] = field(default_factory=dict)
    tokens: int = 0
    merge_id: int | None = None
    case_head: str = ""

    @property
    def total(self) -> int:
        return sum(self.rows.values()) + self.tokens


# -- where a source's rows went ---------------------------------------------------------------

class Ranges:
    """One source's rows of each table: ``(first source id, first case id, rows)`` per merge,
    in source order; maps an id either way."""

    def __init__(self) -> None:
        self.merge_ids: list[int] = []  # the merges that brought them
        self.spans: dict[str, list[tuple[int, int | None, int]]] = {}
        self.span_merges: dict[str, list[int]] = {}  # each span's index in merge_ids
        self._by_case: dict[str, list[tuple[int, int, int]]] = {}

    def add(self, table: str, source_first: int, case_first: int | None, count: int) -> None:
        self.spans.setdefault(table, []).append((source_first, case_first, count))
        self.span_merges.setdefault(table, []).append(len(self.merge_ids) - 1)
        if case_first is not None:
            bisect.insort(self._by_case.setdefault(table, []), (case_first, source_first, count))

    def last(self, table: str) -> int:
        """The last source id of ``table`` imported (0: none)."""
        spans = self.spans.get(table)
        return spans[-1][0] + spans[-1][2] - 1 if spans else 0

    def to_case(self, table: str, source_id: int) -> int | None:
        for first, case_first, count in self.spans.get(table, ()):
            if first <= source_id < first + count and case_first is not None:
                return case_first + source_id - first
        return None

    def to_source(self, table: str, case_id: int) -> int | None:
        spans = self._by_case.get(table, [])
        at = bisect.bisect_right(spans, (case_id, float("inf"), 0)) - 1
        if at >= 0:
            case_first, first, count = spans[at]
            if case_first <= case_id < case_first + count:
                return first + case_id - case_first
        return None


def _merges(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'merges'").fetchone() is None:
        return []
    cursor = conn.execute("SELECT * FROM merges ORDER BY id")
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _ranges_of(merges: Sequence[Mapping[str, Any]]) -> Ranges:
    ranges = Ranges()
    for merge in merges:
        ranges.merge_ids.append(merge["id"])
        for table, (first, case_first, count) in sorted(
                json.loads(merge["ranges"]).items(), key=lambda item: IMPORTED.index(item[0])):
            ranges.add(table, first, case_first, count)
    return ranges


# -- the command's work -----------------------------------------------------------------------

def merge_into(case_path: Path, sources: Sequence[Path]) -> Iterator[Imported]:
    """Verify every source, then import each into the case DB at ``case_path`` (created if
    absent), yielding what each brought. Raises :class:`MergeRefused` (nothing imported)
    when a source is missing, unreadable, not an evidence DB, fails verify, is a case DB,
    or was rewritten since it was merged."""
    from crawler.evidence.store import EvidenceStore

    if not sources:
        raise MergeRefused("give at least one node DB to merge")
    for path in sources:
        if not path.is_file():
            raise MergeRefused(f"{path}: no such file")
        if case_path.exists() and path.resolve() == case_path.resolve():
            raise MergeRefused(f"{path} is the case DB itself")
    checked = []
    for path, (problems, head) in zip(sources, _verify_all(sources), strict=True):
        if problems:
            more = len(problems) - 1
            raise MergeRefused(
                f"{path} fails verify: {problems[0]}{f' (and {more} more)' if more else ''}; "
                f"nothing was imported (`thriftwatch verify --db {path}` lists every problem)")
        checked.append((path, head))
    store = EvidenceStore(case_path, check=case_path.exists())
    try:
        for path, head in checked:  # refuse a fork before anything is written
            with _read_only(path) as source:
                _plan(store.conn, source, path, head)
        for path, head in checked:
            with _read_only(path) as source:
                yield _import(store, source, path, head)
    finally:
        store.close()


def _verify_all(sources: Sequence[Path]) -> list[tuple[list[str], str]]:
    """Each source's problems and head, verified in up to as many processes as there are
    cores (each verify is one CPU-bound pass over one file)."""
    workers = min(len(sources), os.cpu_count() or 1)
    if workers <= 1:
        return [_verify_one(path) for path in sources]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_verify_one, sources))


def _verify_one(path: Path) -> tuple[list[str], str]:
    from crawler.evidence.verify import verify_db

    try:
        verification = verify_db(path)
    except (sqlite3.DatabaseError, ValueError) as error:
        return [f"it cannot be read as an evidence DB ({error})"], ""
    return verification.problems, verification.head


class _read_only:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _source_heads(source: sqlite3.Connection) -> dict[str, dict[str, Any] | None]:
    present = _tables(source)
    heads: dict[str, dict[str, Any] | None] = {}
    for table in IMPORTED:
        row = source.execute(f"SELECT id, row_hash FROM {table} ORDER BY id DESC LIMIT 1"
                             ).fetchone() if table in present else None
        heads[table] = {"id": row[0], "row_hash": row[1]} if row else None
    return heads


def _origin(source: sqlite3.Connection) -> str | None:
    """Which DB this is: the hash of the first row of its first non-empty chain."""
    present = _tables(source)
    for table in IMPORTED:
        if table in present:
            row = source.execute(f"SELECT row_hash FROM {table} ORDER BY id LIMIT 1").fetchone()
            if row:
                return row[0]
    return None


def _node_name(source: sqlite3.Connection, path: Path) -> str:
    """The node that wrote the source: its latest run's node, else its host, else the
    file's name."""
    present = _tables(source)
    for sql, table in (("SELECT node FROM run_nodes ORDER BY id DESC LIMIT 1", "run_nodes"),
                       (("SELECT host FROM run_starts WHERE host IS NOT NULL AND host != '' "
                         "ORDER BY id DESC LIMIT 1"), "run_starts")):
        if table in present:
            row = source.execute(sql).fetchone()
            if row and row[0]:
                return str(row[0])
    return path.stem


def _plan(case: sqlite3.Connection, source: sqlite3.Connection, path: Path,
          head: str) -> tuple[str | None, list[dict[str, Any]]]:
    """The source's origin and the case's earlier merges of it; refuses a case DB and a
    source rewritten since its last merge."""
    if "merges" in _tables(source) and source.execute("SELECT 1 FROM merges").fetchone():
        raise MergeRefused(f"{path} is a case DB (it holds merges): merge the node DBs it was "
                           "made from instead; nothing was imported")
    origin = _origin(source)
    earlier = [m for m in _merges(case) if m["source_origin"] == origin]
    if earlier:
        recorded = json.loads(earlier[-1]["source_heads"])
        present = _tables(source)
        for table, mark in recorded.items():
            if not mark:
                continue
            found = source.execute(f"SELECT row_hash FROM {table} WHERE id = ?",
                                   [mark["id"]]).fetchone() if table in present else None
            if found is None or found[0] != mark["row_hash"]:
                why = "is gone" if found is None else "has another hash"
                raise MergeRefused(
                    f"{path}: its {table} row id {mark['id']} {why} than the row merges row id "
                    f"{earlier[-1]['id']} imported from it (head {earlier[-1]['source_head']}): "
                    f"the node DB was rewritten after it was merged (a fork); refusing it, "
                    f"nothing was imported (its head now is {head})")
    return origin, earlier


def _import(store: EvidenceStore, source: sqlite3.Connection, path: Path,
            head: str) -> Imported:
    conn = store.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = _import_in(conn, source, path, head)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    if result.merge_id is not None:
        result.case_head = store.head()
    return result


def _import_in(conn: sqlite3.Connection, source: sqlite3.Connection, path: Path,
               head: str) -> Imported:
    origin, earlier = _plan(conn, source, path, head)
    node = _node_name(source, path)
    result = Imported(path=path, node=node, source_head=head)
    if origin is None:
        return result  # an empty DB: nothing to import
    ranges = _ranges_of(earlier)
    merge_id = (conn.execute("SELECT MAX(id) FROM merges").fetchone()[0] or 0) + 1
    ranges.merge_ids.append(merge_id)
    present = _tables(source)
    new_ranges: dict[str, list[int | None]] = {}
    run_heads: dict[str, str] = {}
    first_observation: int | None = None
    for table in IMPORTED:
        if table not in present:
            continue
        since = ranges.last(table)
        writer = ChainWriter(conn, table)
        first_case = writer.next_id
        count = 0
        cursor = source.execute(f"SELECT * FROM {table} WHERE id > ? ORDER BY id", [since])
        names = [column[0] for column in cursor.description]
        while batch := cursor.fetchmany(BATCH):
            bodies: list[tuple[int, int, int]] = []
            for values in batch:
                row = dict(zip(names, values, strict=True))
                source_id = row["id"]
                if source_id != since + count + 1:
                    raise MergeRefused(
                        f"{path}: {table} row id {source_id} follows row id {since + count}: "
                        "its ids are not consecutive, as thriftwatch writes them; nothing was "
                        "imported from it")
                count += 1
                if table == "capture_bodies":
                    case_id = writer.body(row)
                    bodies.append((merge_id, source_id, case_id))
                    continue
                _to_case(conn, table, row, ranges, path)
                if table == "run_ends":
                    run_heads[str(row["run_id"])] = run_end_head(
                        json.loads(values[names.index("chain_heads")]), source_id,
                        values[names.index("row_hash")])
                    writer.flush()  # an end records the one before it, maybe of this batch
                    current = (since, first_case)
                    row["chain_heads"] = _case_heads(conn, row["chain_heads"], ranges, path,
                                                     current)
                writer.append(row)
            writer.flush()
            if bodies:
                conn.executemany("INSERT INTO merged_bodies (merge_id, source_id, case_id) "
                                 "VALUES (?, ?, ?)", bodies)
        if count:
            case_first = None if table == "capture_bodies" else first_case
            ranges.add(table, since + 1, case_first, count)
            new_ranges[table] = [since + 1, case_first, count]
            result.rows[table] = count
            if table == "observations":
                first_observation = first_case
    if first_observation is not None:
        conn.execute(DERIVE_CHANGES, [first_observation])
        conn.execute(DERIVE_LISTINGS, [first_observation])
    result.tokens = _import_tokens(conn, source, ranges)
    if not new_ranges:
        return result
    heads = _case_chain_heads(conn)
    writer = ChainWriter(conn, "merges")
    result.merge_id = writer.append({
        "merged_at": utc_now(), "node": node, "source_path": str(path.resolve()),
        "source_origin": origin,
        "source_version": int(source.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]),
        "source_head": head, "source_heads": json.dumps(_source_heads(source), sort_keys=True),
        "chain_heads": json.dumps(heads, sort_keys=True),
        "ranges": json.dumps(new_ranges, sort_keys=True),
        "run_heads": json.dumps(run_heads, sort_keys=True),
        "rows": json.dumps({**result.rows, "timestamps": result.tokens}, sort_keys=True)})
    writer.flush()
    return result


def _to_case(conn: sqlite3.Connection, table: str, row: dict[str, Any], ranges: Ranges,
             path: Path) -> None:
    """Translate the ids ``row`` holds to case ids, in place."""
    for column, target in FOREIGN.get(table, {}).items():
        value = row.get(column)  # a source of an earlier version may lack a later column
        if value is None:
            continue
        mapped = ranges.to_case(target, value) if isinstance(value, int) else None
        if mapped is None:
            raise MergeRefused(f"{path}: {table} row id {row['id']} names {target} row id "
                               f"{value!r}, which the source does not hold; nothing was "
                               "imported from it")
        row[column] = mapped
    if table == "erasures" and row["table_name"] == "contacts":
        original = row["ids"]
        ids = [ranges.to_case("contacts", row_id) for first, last in json.loads(original)
               for row_id in range(first, last + 1)]
        if None in ids or json.dumps(json.loads(original)) != original:
            raise MergeRefused(f"{path}: erasures row id {row['id']} names contacts the "
                               "source does not hold, or is not written as thriftwatch writes "
                               "it; nothing was imported from it")
        from crawler.evidence.store import id_ranges

        case_ids = sorted(ids)
        row["ids"] = json.dumps(id_ranges(case_ids))  # type: ignore[arg-type]
        # The node erased these contacts' text: so does the case, where it still holds it.
        conn.executemany("UPDATE contacts SET value = NULL, raw = NULL WHERE id = ? AND "
                         "value_sha256 IS NOT NULL AND (value IS NOT NULL OR raw IS NOT NULL)",
                         [(case_id,) for case_id in case_ids])


def _case_heads(conn: sqlite3.Connection, recorded: str, ranges: Ranges, path: Path,
                current: tuple[int, int]) -> str:
    """A run end's chain heads (source ids and hashes) as case ids and hashes; ``current``:
    the last run end imported before this merge and the case id of this merge's first."""
    heads = json.loads(recorded)
    if json.dumps(heads, sort_keys=True) != recorded:
        raise MergeRefused(f"{path}: a run_ends row's chain heads are not written as "
                           "thriftwatch writes them; nothing was imported from it")
    out: dict[str, Any] = {}
    for table, mark in heads.items():
        if not mark:
            out[table] = mark
            continue
        if table == "capture_bodies":
            case_id = _body_case_id(conn, ranges.merge_ids, mark["id"])
        elif table == "run_ends" and mark["id"] > current[0]:
            case_id = current[1] + mark["id"] - current[0] - 1
        else:
            case_id = ranges.to_case(table, mark["id"])
        hashed = conn.execute(f"SELECT row_hash FROM {table} WHERE id = ?",
                              [case_id]).fetchone() if case_id is not None else None
        if hashed is None:
            raise MergeRefused(f"{path}: a run_ends row records {table} row id {mark['id']} "
                               "as a chain head, which was not imported; nothing was imported "
                               "from it")
        out[table] = {"id": case_id, "row_hash": hashed[0]}
    return json.dumps(out, sort_keys=True)


def _body_case_id(conn: sqlite3.Connection, merge_ids: list[int], source_id: int,
                  ) -> int | None:
    """The case id of a source's body, imported by one of ``merge_ids`` (its merges)."""
    marks = ", ".join("?" * len(merge_ids))
    found = conn.execute(f"SELECT case_id FROM merged_bodies WHERE merge_id IN ({marks}) "
                         "AND source_id = ?", [*merge_ids, source_id]).fetchone()
    return found[0] if found else None


class ChainWriter:
    """Appends rows to one chain of a DB, hashing each in order, written in batches of
    :data:`BATCH` (call :meth:`flush` at the end); inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, table: str) -> None:
        self.conn, self.table = conn, table
        head = conn.execute(f"SELECT id, row_hash FROM {table} ORDER BY id DESC LIMIT 1"
                            ).fetchone() or (0, GENESIS)
        self.next_id, self.prev = head[0] + 1, head[1]
        self.columns = list(schema.TABLES[table])
        self.sql = (f"INSERT INTO {table} ({', '.join(self.columns)}) "
                    f"VALUES ({', '.join('?' * len(self.columns))})")
        self.pending: list[list[Any]] = []

    def append(self, row: dict[str, Any]) -> int:
        """Chain ``row`` (a source row, or new values) as the next row; returns its id."""
        full = {name: row.get(name) for name in self.columns}
        full["id"], full["prev_hash"] = self.next_id, self.prev
        full["row_hash"] = self.prev = row_hash(self.table, full)
        self.pending.append([full[name] for name in self.columns])
        self.next_id += 1
        if len(self.pending) >= BATCH:
            self.flush()
        return full["id"]

    def body(self, row: dict[str, Any]) -> int:
        """A capture body's case id: the one stored under its SHA-256, else a new row."""
        found = self.conn.execute("SELECT id FROM capture_bodies WHERE sha256 = ?",
                                  [row["sha256"]]).fetchone()
        if found is None:
            for pending in self.pending:  # stored by this batch already
                if pending[1] == row["sha256"]:
                    return pending[0]
            return self.append(row)
        return found[0]

    def flush(self) -> None:
        if self.pending:
            self.conn.executemany(self.sql, self.pending)
            self.pending = []


def _case_chain_heads(conn: sqlite3.Connection) -> dict[str, dict[str, Any] | None]:
    heads: dict[str, dict[str, Any] | None] = {}
    for table in EVIDENCE_TABLES:
        row = conn.execute(f"SELECT id, row_hash FROM {table} ORDER BY id DESC LIMIT 1"
                           ).fetchone()
        heads[table] = {"id": row[0], "row_hash": row[1]} if row else None
    return heads


def _import_tokens(conn: sqlite3.Connection, source: sqlite3.Connection,
                   ranges: Ranges) -> int:
    """The source's RFC 3161 tokens of imported runs the case has no token for yet."""
    if "timestamps" not in _tables(source):
        return 0
    added = 0
    for run_id, head, tsa_url, token, gen_time, requested_at in source.execute(
            "SELECT run_id, head, tsa_url, token, gen_time, requested_at FROM timestamps "
            "ORDER BY run_id"):
        case_run = ranges.to_case("run_starts", run_id)
        if case_run is None or conn.execute("SELECT 1 FROM timestamps WHERE run_id = ?",
                                            [case_run]).fetchone():
            continue
        conn.execute("INSERT INTO timestamps (run_id, head, tsa_url, token, gen_time, "
                     "requested_at) VALUES (?, ?, ?, ?, ?, ?)",
                     [case_run, head, tsa_url, token, gen_time, requested_at])
        added += 1
    return added


# The derived tables, brought up to date for the observations from :first on as the store
# does one sighting at a time (see store.RECORD_CHANGE and store.UPSERT_LISTING).
DERIVE_CHANGES = """
INSERT INTO listing_changes (platform, listing_id, observation_id, before_seen_at, seen_at,
                             title_before, title_after, price_before, price_after)
SELECT platform, listing_id, observation_id, before_seen_at, seen_at, title_before,
       title_after, price_before, price_after
FROM (SELECT platform, listing_id, id AS observation_id, seen_at, title AS title_after,
             price_idr AS price_after, LAG(id) OVER sightings AS before_id,
             LAG(seen_at) OVER sightings AS before_seen_at,
             LAG(title) OVER sightings AS title_before,
             LAG(price_idr) OVER sightings AS price_before
      FROM observations
      WHERE (platform, listing_id) IN (SELECT platform, listing_id FROM observations
                                       WHERE id >= ?1)
      WINDOW sightings AS (PARTITION BY platform, listing_id ORDER BY id))
WHERE observation_id >= ?1 AND before_id IS NOT NULL
  AND (title_before IS NOT title_after OR price_before IS NOT price_after)
"""
DERIVE_LISTINGS = f"""
{schema.INSERT_LISTING}
SELECT o.platform, o.listing_id, o.url, o.title, o.description, o.price_idr, o.seller_id,
       o.seller_name, o.location, f.seen_at, o.seen_at, f.run_id, o.run_id, o.id
FROM (SELECT MIN(id) AS first_id, MAX(id) AS last_id FROM observations WHERE id >= ?1
      GROUP BY platform, listing_id) span
JOIN observations o ON o.id = span.last_id
JOIN observations f ON f.id = span.first_id
WHERE 1
{schema.ON_LISTING_CONFLICT}
"""


# -- verify: every source chain, rebuilt from the case DB ------------------------------------

@dataclass
class ImportCheck:
    """What :func:`check_imports` found besides problems: each imported run's head as its
    node recorded it, the latest capture time that head covers (in the node's own order),
    and each merge's head (the case DB's head just after the merge was recorded)."""

    run_heads: dict[int, str] = field(default_factory=dict)
    latest: dict[int, tuple[Any, str]] = field(default_factory=dict)
    imported_runs: set[int] = field(default_factory=set)
    merge_heads: dict[int, str] = field(default_factory=dict)


def check_imports(conn: sqlite3.Connection, problems: list[str],
                  capture_times: Mapping[str, str], moment: Any) -> ImportCheck:
    """Rebuild every merged source's rows from the case DB and recompute its chains from
    GENESIS: they must reach the heads each of its merges recorded, and each imported run's
    head must be the one its node recorded. ``capture_times``: the column of each table
    that says when the crawl saw something; ``moment`` parses it (see verify)."""
    found = ImportCheck()
    merges = _merges(conn)
    by_origin: dict[str, list[dict[str, Any]]] = {}
    for merge in merges:
        by_origin.setdefault(merge["source_origin"], []).append(merge)
        try:
            recorded = json.loads(merge["chain_heads"])
            found.merge_heads[merge["id"]] = head_digest(
                {**recorded, "merges": {"id": merge["id"], "row_hash": merge["row_hash"]}})
        except (TypeError, ValueError, KeyError, AttributeError):
            problems.append(f"merges row id {merge['id']}: its chain heads are not JSON")
            continue
        for table, mark in recorded.items():
            if not mark:
                continue
            row = conn.execute(f"SELECT row_hash FROM {table} WHERE id = ?",
                               [mark["id"]]).fetchone() if table in EVIDENCE_TABLES else None
            if row is None or row[0] != mark["row_hash"]:
                problems.append(f"{table} row id {mark['id']}: recorded as chain head by merges "
                                f"row id {merge['id']}, but {'gone' if row is None else 'changed'}")
    for group in by_origin.values():
        try:
            _check_source(conn, group, problems, capture_times=capture_times, moment=moment,
                          found=found)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            problems.append(f"source {group[-1]['source_path']} (merges row ids "
                            f"{', '.join(str(m['id']) for m in group)}): its merge records "
                            f"cannot be read ({type(error).__name__}: {error}): edited")
    return found


def _check_source(conn: sqlite3.Connection, group: list[dict[str, Any]], problems: list[str], *,
                  capture_times: Mapping[str, str], moment: Any, found: ImportCheck) -> None:
    label = (f"source {group[-1]['node']} ({group[-1]['source_path']}, merges row id"
             f"{'s' if len(group) > 1 else ''} {', '.join(str(m['id']) for m in group)})")
    ranges = _ranges_of(group)
    merge_ids = ranges.merge_ids
    for table, spans in ranges.spans.items():
        expected = 1
        for first, _case_first, count in spans:
            if first != expected:
                problems.append(f"{label}: its {table} rows imported start at source row id "
                                f"{first}, not {expected} (edited)")
            expected = first + count
    # Heads each merge recorded, in the source's own ids.
    checkpoints: dict[str, dict[int, list[tuple[int, str]]]] = {}
    for merge in group:
        heads = json.loads(merge["source_heads"])
        if head_digest(heads) != merge["source_head"]:
            problems.append(f"merges row id {merge['id']}: its source head is not the digest "
                            "of the chain heads it records (edited)")
        for table, mark in heads.items():
            if mark:
                checkpoints.setdefault(table, {}).setdefault(mark["id"], []).append(
                    (merge["id"], mark["row_hash"]))
    recorded_run_heads = {int(run): head for merge in group
                          for run, head in json.loads(merge["run_heads"]).items()}
    # The heads each imported run's end recorded, in the source's ids: hashed on the way.
    wanted: dict[str, dict[int, list[int]]] = {}
    for case_id, run_id, text in _case_rows_plain(conn, "run_ends", ranges):
        found.imported_runs.add(run_id)
        for table, mark in json.loads(text).items():
            if mark:
                source_id = _back(conn, table, mark["id"], ranges, merge_ids)
                if source_id is not None:
                    wanted.setdefault(table, {}).setdefault(source_id, []).append(run_id)
        del case_id
    hashes: dict[str, dict[int, str]] = {}
    for table in IMPORTED:
        if table not in ranges.spans:
            continue
        marks = wanted.get(table, {})
        keep = hashes.setdefault(table, {})
        column = capture_times.get(table)
        previous, best = GENESIS, None
        for source_id, case_id, row in _source_rows(conn, table, ranges, problems, label):
            rebuilt = _to_source(conn, table, row, ranges, merge_ids=merge_ids, hashes=hashes)
            if rebuilt is None:
                problems.append(f"{label}: {table} row id {case_id} names a row that is not "
                                "from this source (edited)")
                rebuilt = row
            rebuilt["id"], rebuilt["prev_hash"] = source_id, previous
            rebuilt.pop("row_hash", None)
            previous = row_hash(table, rebuilt)
            if source_id in marks or source_id in checkpoints.get(table, {}):
                keep[source_id] = previous
            if column is not None:
                when = moment(rebuilt.get(column))
                if when is not None and (best is None or when > best[0]):
                    best = (when, rebuilt[column])
                for run_id in marks.get(source_id, ()):
                    if best is not None:
                        found.latest[run_id] = best
            if table == "run_ends":
                head = run_end_head(json.loads(rebuilt["chain_heads"]), source_id, previous)
                found.run_heads[row["run_id"]] = head
                if recorded_run_heads.get(row["run_id"]) != head:
                    problems.append(
                        f"run_ends row id {case_id}: run {row['run_id']}, imported from "
                        f"{label}, rebuilds to head {head}, not the head its node recorded "
                        f"({recorded_run_heads.get(row['run_id'])}) (edited)")
        for source_id, expected in checkpoints.get(table, {}).items():
            for merge_id, row_hash_then in expected:
                if keep.get(source_id) != row_hash_then:
                    problems.append(
                        f"{label}: its {table} chain, rebuilt from the case DB, does not "
                        f"reach the head merges row id {merge_id} recorded (source row id "
                        f"{source_id}, case row id {_forward(conn, table, source_id, ranges)}"
                        "): a row imported from it, or where it went, was changed after the "
                        "merge")


def _forward(conn: sqlite3.Connection, table: str, source_id: int, ranges: Ranges) -> Any:
    if table != "capture_bodies":
        return ranges.to_case(table, source_id)
    return _body_case_id(conn, ranges.merge_ids, source_id)


def _back(conn: sqlite3.Connection, table: str, case_id: int, ranges: Ranges,
          merge_ids: list[int]) -> int | None:
    """The source id of case row ``case_id`` of ``table`` (of this source)."""
    if table != "capture_bodies":
        return ranges.to_source(table, case_id)
    marks = ", ".join("?" * len(merge_ids))
    row = conn.execute(f"SELECT source_id FROM merged_bodies WHERE merge_id IN ({marks}) "
                       "AND case_id = ?", [*merge_ids, case_id]).fetchone()
    return row[0] if row else None


def _case_rows_plain(conn: sqlite3.Connection, table: str,
                     ranges: Ranges) -> Iterator[tuple[int, int, str]]:
    for _first, case_first, count in ranges.spans.get(table, ()):
        yield from conn.execute(f"SELECT id, run_id, chain_heads FROM {table} "
                                "WHERE id BETWEEN ? AND ? ORDER BY id",
                                [case_first, case_first + count - 1])


def _source_rows(conn: sqlite3.Connection, table: str, ranges: Ranges, problems: list[str],
                 label: str) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """``(source id, case id, case row)`` of every row of ``table`` imported from the
    source, in the source's order (capture bodies without their bytes)."""
    columns = [name for name in schema.TABLES[table] if name != "body"]
    listed = ", ".join(f"t.{name}" for name in columns)
    for index, (first, case_first, count) in enumerate(ranges.spans[table]):
        if table == "capture_bodies":
            cursor = conn.execute(
                f"SELECT b.source_id, {listed} FROM merged_bodies b JOIN capture_bodies t "
                "ON t.id = b.case_id WHERE b.merge_id = ? ORDER BY b.source_id",
                [ranges.merge_ids[_merge_index(ranges, table, index)]])
        else:
            cursor = conn.execute(
                f"SELECT t.id - ? + ?, {listed} FROM {table} t WHERE t.id BETWEEN ? AND ? "
                "ORDER BY t.id", [case_first, first, case_first, case_first + count - 1])
        seen = 0
        while batch := cursor.fetchmany(BATCH):
            for values in batch:
                row = dict(zip(columns, values[1:], strict=True))
                if values[0] != first + seen:
                    problems.append(f"{label}: {table} source row id {first + seen} is missing "
                                    "from the case DB (deleted)")
                    seen = values[0] - first
                seen += 1
                yield values[0], row["id"], row
        if seen != count:
            problems.append(f"{label}: {count - seen} of its {table} rows from source row id "
                            f"{first} are missing from the case DB (deleted)")


def _merge_index(ranges: Ranges, table: str, index: int) -> int:
    """Which of the source's merges brought the ``index``-th span of ``table``."""
    return ranges.span_merges[table][index]


def _to_source(conn: sqlite3.Connection, table: str, row: dict[str, Any], ranges: Ranges, *,
               merge_ids: list[int], hashes: Mapping[str, Mapping[int, str]],
               ) -> dict[str, Any] | None:
    """The source's row as its node wrote it, from its case row (id and chain set later)."""
    out = dict(row)
    for column, target in FOREIGN.get(table, {}).items():
        value = out[column]
        if value is not None:
            out[column] = ranges.to_source(target, value)
            if out[column] is None:
                return None
    if table == "erasures" and out["table_name"] == "contacts":
        ids = [ranges.to_source("contacts", row_id) for first, last in json.loads(out["ids"])
               for row_id in range(first, last + 1)]
        if None in ids:
            return None
        from crawler.evidence.store import id_ranges

        out["ids"] = json.dumps(id_ranges(sorted(ids)))  # type: ignore[arg-type]
    if table == "run_ends":
        heads = {}
        for name, mark in json.loads(out["chain_heads"]).items():
            if not mark:
                heads[name] = mark
                continue
            source_id = _back(conn, name, mark["id"], ranges, merge_ids)
            heads[name] = {"id": source_id, "row_hash": hashes.get(name, {}).get(source_id)}
        out["chain_heads"] = json.dumps(heads, sort_keys=True)
    return out


def imported_run_heads(conn: sqlite3.Connection) -> dict[int, str]:
    """Each imported run (case id) and its head as its node recorded it."""
    heads: dict[int, str] = {}
    for merge in _merges(conn):
        try:
            heads.update({int(run): head for run, head in json.loads(merge["run_heads"]).items()})
        except (TypeError, ValueError, AttributeError):
            continue
    return heads
