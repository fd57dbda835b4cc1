"""The SQLite evidence store: runs, captures, listings, observations and flags."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlite_utils

from crawler.capture import Capture, compress, decompress, utc_now

SCHEMA_VERSION = 1

# The listing fields an observation keeps as seen; the export's record is built from them.
OBSERVED_FIELDS: dict[str, type] = {
    "url": str, "keyword": str, "title": str, "description": str, "price_idr": int,
    "price_text": str, "currency": str, "seller_id": str, "seller_name": str, "seller_url": str,
    "location": str, "sold_count": int, "sold_text": str, "rating": float, "category": str,
    "image_urls": str, "condition": str, "imported": int, "posted_at": str,
}


class StoreError(RuntimeError):
    """The evidence DB cannot be used as it is (e.g. written by a newer thriftwatch)."""


class EvidenceStore:
    """All reads and writes of one evidence DB. Plain Python; no Scrapy."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(self.path)
        self.db.execute("PRAGMA busy_timeout = 30000")
        self.db.enable_wal()
        self.db.execute("PRAGMA synchronous = NORMAL")
        self._migrate()

    def close(self) -> None:
        self.db.close()

    # -- schema -------------------------------------------------------------------------

    def _migrate(self) -> None:
        meta = self.db["meta"]
        if meta.exists():
            found = int(meta.get("schema_version")["value"])
            if found > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {found}; this thriftwatch knows up to "
                    f"{SCHEMA_VERSION}. Upgrade thriftwatch to read it."
                )
            return
        with self.db.conn:
            self._create_schema()
            meta.insert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")

    def _create_schema(self) -> None:
        db = self.db
        db["runs"].create(
            {"id": int, "platform": str, "keywords": str, "started_at": str, "ended_at": str,
             "tool_version": str, "host": str, "operator": str, "replica": str,
             "settings_digest": str, "lexicon_version": str, "scrapyd_job": str,
             "status": str, "stats": str},
            pk="id",
        )
        db["capture_bodies"].create(
            {"sha256": str, "size": int, "encoding": str, "body": bytes}, pk="sha256"
        )
        db["captures"].create(
            {"id": int, "run_id": int, "url": str, "method": str, "status": int,
             "request_headers": str, "response_headers": str, "request_body_sha256": str,
             "body_sha256": str, "fetched_at": str, "replica": str, "kind": str},
            pk="id", foreign_keys=[("run_id", "runs"), ("body_sha256", "capture_bodies")],
            defaults={"kind": "response"},
        )
        db["faults"].create(
            {"id": int, "run_id": int, "capture_id": int, "url": str, "kind": str,
             "detail": str, "at": str},
            pk="id", foreign_keys=[("run_id", "runs"), ("capture_id", "captures")],
        )
        db["listings"].create(
            {"platform": str, "listing_id": str, "url": str, "title": str, "price_idr": int,
             "seller_id": str, "seller_name": str, "location": str, "first_seen": str,
             "last_seen": str, "first_run_id": int, "last_run_id": int,
             "last_observation_id": int},
            pk=("platform", "listing_id"),
        )
        db["observations"].create(
            {"id": int, "run_id": int, "platform": str, "listing_id": str, "seen_at": str,
             **OBSERVED_FIELDS, "capture_id": int, "capture_sha256": str,
             "screenshot_sha256": str},
            pk="id", foreign_keys=[("run_id", "runs"), ("capture_id", "captures")],
        )
        db["flags"].create(
            {"observation_id": int, "flagged": int, "score": float, "level": str,
             "reasons": str, "lexicon_version": str},
            pk="observation_id", foreign_keys=[("observation_id", "observations")],
        )
        db["observations"].create_index(["platform", "listing_id"])
        db["observations"].create_index(["run_id"])
        db["captures"].create_index(["body_sha256"])
        db["flags"].create_index(["level"])
        db["listings"].enable_fts(["title"], create_triggers=True)

    # -- runs ---------------------------------------------------------------------------

    def start_run(self, **fields: Any) -> int:
        """Open a run; ``fields`` are columns of ``runs`` (lists and dicts become JSON)."""
        row = {k: _column_value(v) for k, v in fields.items()}
        row.update(started_at=utc_now(), status="running")
        with self.db.conn:
            return self.db["runs"].insert(row).last_pk

    def end_run(self, run_id: int, *, status: str, stats: Mapping[str, Any], **fields: Any) -> None:
        row = {k: _column_value(v) for k, v in fields.items()}
        row.update(ended_at=utc_now(), status=status,
                   stats=json.dumps(stats, default=str, sort_keys=True))
        with self.db.conn:
            self.db["runs"].update(run_id, row)

    # -- captures -----------------------------------------------------------------------

    def add_capture(self, run_id: int, capture: Capture, replica: str | None,
                    kind: str = "response") -> tuple[int, str]:
        """Store a fetch (or a screenshot); its body is stored once however often it is seen."""
        digest = capture.body_sha256
        with self.db.conn:
            self.db.execute(
                "INSERT OR IGNORE INTO capture_bodies (sha256, size, encoding, body) "
                "VALUES (?, ?, 'zlib', ?)",
                [digest, len(capture.body), compress(capture.body)],
            )
            capture_id = self.db["captures"].insert({
                "run_id": run_id, "url": capture.url, "method": capture.method,
                "status": capture.status,
                "request_headers": json.dumps(capture.request_headers, sort_keys=True),
                "response_headers": json.dumps(capture.response_headers, sort_keys=True),
                "request_body_sha256": capture.request_body_sha256,
                "body_sha256": digest, "fetched_at": capture.fetched_at, "replica": replica,
                "kind": kind,
            }).last_pk
        return capture_id, digest

    def add_fault(self, run_id: int, *, url: str, kind: str, detail: str,
                  capture_id: int | None = None) -> int:
        """Record what went wrong with a page: a block, a parse error, an HTTP or network error."""
        with self.db.conn:
            return self.db["faults"].insert({
                "run_id": run_id, "capture_id": capture_id, "url": url, "kind": kind,
                "detail": detail[:2000], "at": utc_now(),
            }).last_pk

    def capture_body(self, sha256: str) -> bytes:
        row = self.db["capture_bodies"].get(sha256)
        return decompress(row["body"])

    # -- listings -------------------------------------------------------------------------

    def add_observation(self, run_id: int, listing: Mapping[str, Any]) -> int:
        """Record one sighting of a listing, its verdict, and update the listing's current view."""
        seen_at = utc_now()
        observed = {name: _column_value(listing.get(name)) for name in OBSERVED_FIELDS}
        row = {"run_id": run_id, "platform": listing["platform"],
               "listing_id": listing["listing_id"], "seen_at": seen_at, **observed,
               "capture_id": listing.get("capture_id"),
               "capture_sha256": listing.get("capture_sha256"),
               "screenshot_sha256": listing.get("screenshot_sha256")}
        conn = self.db.conn
        with conn:
            observation_id = conn.execute(_INSERT_OBSERVATION, row).lastrowid
            if listing.get("level") is not None:
                conn.execute(_INSERT_FLAG, {
                    "observation_id": observation_id, "flagged": int(bool(listing["flagged"])),
                    "score": listing["score"], "level": listing["level"],
                    "reasons": json.dumps(listing.get("reasons") or [], ensure_ascii=False),
                    "lexicon_version": listing.get("lexicon_version"),
                })
            conn.execute(_UPSERT_LISTING, {**row, "observation_id": observation_id})
        return observation_id

    def export_records(self, *, flagged_only: bool = False) -> Iterator[dict[str, Any]]:
        """One record per listing: its latest observation, verdict and first/last sighting."""
        where = "WHERE f.flagged = 1" if flagged_only else ""
        sql = f"""
            SELECT o.*, l.first_seen, l.last_seen, f.flagged, f.score, f.level, f.reasons,
                   f.lexicon_version
            FROM listings l
            JOIN observations o ON o.id = l.last_observation_id
            LEFT JOIN flags f ON f.observation_id = o.id
            {where}
            ORDER BY l.platform, l.listing_id
        """
        for row in self.db.query(sql):
            yield _export_record(row)


# The hot path writes with plain prepared statements; sqlite-utils' insert() introspects
# the table on every call, which costs more than the write itself.
_OBSERVATION_COLUMNS = ("run_id", "platform", "listing_id", "seen_at", *OBSERVED_FIELDS,
                        "capture_id", "capture_sha256", "screenshot_sha256")
_INSERT_OBSERVATION = (
    f"INSERT INTO observations ({', '.join(_OBSERVATION_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _OBSERVATION_COLUMNS)})"
)
_INSERT_FLAG = (
    "INSERT INTO flags (observation_id, flagged, score, level, reasons, lexicon_version) "
    "VALUES (:observation_id, :flagged, :score, :level, :reasons, :lexicon_version)"
)
_UPSERT_LISTING = """
INSERT INTO listings (platform, listing_id, url, title, price_idr, seller_id, seller_name,
                      location, first_seen, last_seen, first_run_id, last_run_id,
                      last_observation_id)
VALUES (:platform, :listing_id, :url, :title, :price_idr, :seller_id, :seller_name,
        :location, :seen_at, :seen_at, :run_id, :run_id, :observation_id)
ON CONFLICT (platform, listing_id) DO UPDATE SET
    url = excluded.url, title = excluded.title, price_idr = excluded.price_idr,
    seller_id = excluded.seller_id, seller_name = excluded.seller_name,
    location = excluded.location, last_seen = excluded.last_seen,
    last_run_id = excluded.last_run_id, last_observation_id = excluded.last_observation_id
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


def _column_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value

