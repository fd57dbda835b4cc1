"""The evidence DB's tables, views, indexes and append-only triggers, and the migrations that
bring a DB written by an earlier release up to this schema version.

Version 2 adds ``timestamps``: each run's head, anchored by an RFC 3161 time-stamp token.
The token proves itself (a TSA signed it), so the table is not chained, and writing it
after a run ends moves no head.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.evidence.custody import EVIDENCE_TABLES

if TYPE_CHECKING:
    import sqlite_utils

SCHEMA_VERSION = 2

CHAIN = {"prev_hash": str, "row_hash": str}

# The listing fields an observation keeps as seen; the export's record is built from them.
OBSERVED_FIELDS: dict[str, type] = {
    "url": str, "keyword": str, "title": str, "description": str, "price_idr": int,
    "price_text": str, "currency": str, "seller_id": str, "seller_name": str, "seller_url": str,
    "location": str, "sold_count": int, "sold_text": str, "rating": float, "category": str,
    "image_urls": str, "condition": str, "imported": int, "posted_at": str,
}

RUN_START_FIELDS: dict[str, type] = {
    "platform": str, "keywords": str, "started_at": str, "tool_version": str, "host": str,
    "operator": str, "replica": str, "settings_digest": str, "scrapyd_job": str,
}

TABLES: dict[str, dict[str, type]] = {
    "run_starts": {"id": int, **RUN_START_FIELDS, **CHAIN},
    "run_ends": {"id": int, "run_id": int, "ended_at": str, "status": str, "stats": str,
                 "lexicon_version": str, "chain_heads": str, **CHAIN},
    "capture_bodies": {"id": int, "sha256": str, "size": int, "encoding": str, "body": bytes,
                       **CHAIN},
    "captures": {"id": int, "run_id": int, "kind": str, "url": str, "method": str,
                 "status": int, "request_headers": str, "response_headers": str,
                 "request_body_sha256": str, "body_sha256": str, "fetched_at": str,
                 "replica": str, **CHAIN},
    "observations": {"id": int, "run_id": int, "platform": str, "listing_id": str,
                     "seen_at": str, **OBSERVED_FIELDS, "capture_id": int,
                     "capture_sha256": str, "screenshot_sha256": str, **CHAIN},
    "flags": {"id": int, "observation_id": int, "flagged": int, "score": float, "level": str,
              "reasons": str, "lexicon_version": str, **CHAIN},
    "faults": {"id": int, "run_id": int, "capture_id": int, "url": str, "kind": str,
               "detail": str, "at": str, **CHAIN},
    # A known listing revisited: is it still live, removed (taken down) or blocked from view?
    "rechecks": {"id": int, "run_id": int, "platform": str, "listing_id": str, "url": str,
                 "status": str, "http_status": int, "detail": str, "capture_id": int,
                 "checked_at": str, **CHAIN},
    # A finished run's health (crawler.ops.health): "ok", "warning" or "failing", and the findings.
    "run_health": {"id": int, "run_id": int, "platform": str, "status": str, "findings": str,
                   "checked_at": str, **CHAIN},
}

VIEWS = {
    # One row per run, as started and (once ended) as ended.
    "runs": """
        SELECT s.id, s.platform, s.keywords, s.started_at, e.ended_at, s.tool_version, s.host,
               s.operator, s.replica, s.settings_digest, s.scrapyd_job,
               COALESCE(e.status, 'running') AS status, e.stats, e.lexicon_version,
               e.chain_heads
        FROM run_starts s LEFT JOIN run_ends e ON e.run_id = s.id""",
    # Sellers as the listings show them, with how many of their listings are flagged.
    "sellers": """
        SELECT l.platform, l.seller_id, MAX(l.seller_name) AS seller_name,
               MAX(l.location) AS location, COUNT(*) AS listings,
               SUM(COALESCE(f.flagged, 0)) AS flagged_listings,
               MIN(l.first_seen) AS first_seen, MAX(l.last_seen) AS last_seen
        FROM listings l LEFT JOIN flags f ON f.observation_id = l.last_observation_id
        WHERE l.seller_id IS NOT NULL
        GROUP BY l.platform, l.seller_id""",
    # Listings the latest finished run of their platform did not find again.
    "listings_not_found_again": """
        SELECT l.platform, l.listing_id, l.title, l.url, l.last_seen, l.last_run_id,
               latest.id AS latest_run_id
        FROM listings l
        JOIN (SELECT platform, MAX(id) AS id FROM runs WHERE status = 'finished'
              GROUP BY platform) latest ON latest.platform = l.platform
        WHERE l.last_run_id < latest.id""",
}


# Keep the full-text index in step with listings, touching it only when the text changes
# (a re-sighting with the same title, the usual case, costs the index nothing).
FTS_TRIGGERS = (
    """CREATE TRIGGER listings_ai AFTER INSERT ON listings BEGIN
         INSERT INTO listings_fts (rowid, title, description)
         VALUES (new.rowid, new.title, new.description); END""",
    """CREATE TRIGGER listings_ad AFTER DELETE ON listings BEGIN
         INSERT INTO listings_fts (listings_fts, rowid, title, description)
         VALUES ('delete', old.rowid, old.title, old.description); END""",
    """CREATE TRIGGER listings_au AFTER UPDATE OF title, description ON listings
       WHEN old.title IS NOT new.title OR old.description IS NOT new.description BEGIN
         INSERT INTO listings_fts (listings_fts, rowid, title, description)
         VALUES ('delete', old.rowid, old.title, old.description);
         INSERT INTO listings_fts (rowid, title, description)
         VALUES (new.rowid, new.title, new.description); END""",
)


def create_timestamps(db: sqlite_utils.Database) -> None:
    """The RFC 3161 anchors of run heads (schema version 2), append-only."""
    db["timestamps"].create(
        {"id": int, "run_id": int, "head": str, "tsa_url": str, "token": bytes,
         "gen_time": str, "requested_at": str},
        pk="id", not_null={"run_id", "head", "token"})
    db["timestamps"].create_index(["run_id"], unique=True)
    _append_only(db, "timestamps")


# version -> what brings a DB of the version before up to it
MIGRATIONS = {2: create_timestamps}


def _append_only(db: sqlite_utils.Database, table: str) -> None:
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'evidence is append-only: {action} on {table}'); END"
        )


def create(db: sqlite_utils.Database) -> None:
    """Create every table, index, view and trigger of an empty evidence DB."""
    for name, columns in TABLES.items():
        db[name].create(columns, pk="id", not_null={"prev_hash", "row_hash"})
    db["capture_bodies"].create_index(["sha256"], unique=True)
    db["captures"].create_index(["body_sha256"])
    db["captures"].create_index(["run_id"])
    db["observations"].create_index(["platform", "listing_id"])
    db["observations"].create_index(["run_id", "platform", "listing_id", "keyword"],
                                    unique=True)
    db["flags"].create_index(["observation_id"], unique=True)
    db["flags"].create_index(["level"])
    db["run_ends"].create_index(["run_id"], unique=True)
    db["rechecks"].create_index(["platform", "listing_id"])
    db["run_health"].create_index(["run_id"])
    # The current view of each listing: derived from observations, so it may change.
    db["listings"].create(
        {"platform": str, "listing_id": str, "url": str, "title": str, "description": str,
         "price_idr": int, "seller_id": str, "seller_name": str, "location": str,
         "first_seen": str, "last_seen": str, "first_run_id": int, "last_run_id": int,
         "last_observation_id": int},
        pk=("platform", "listing_id"),
    )
    db["listings"].create_index(["seller_id"])
    # Sightings whose title or price differ from the listing's previous sighting; derived
    # from observations as they are written (see store._UPSERT_LISTING), so not evidence.
    db["listing_changes"].create(
        {"platform": str, "listing_id": str, "observation_id": int, "before_seen_at": str,
         "seen_at": str, "title_before": str, "title_after": str, "price_before": int,
         "price_after": int},
        pk="observation_id",
    )
    db["listing_changes"].create_index(["platform", "listing_id"])
    db["listing_changes"].create_index(["seen_at"])
    db["listings"].enable_fts(["title", "description"])
    for statement in FTS_TRIGGERS:
        db.execute(statement)
    for name, sql in VIEWS.items():
        db.create_view(name, sql)
    for table in EVIDENCE_TABLES:
        _append_only(db, table)
    create_timestamps(db)
