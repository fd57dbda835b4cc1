"""The evidence DB's tables, views, indexes and append-only triggers, and the migrations that
bring a DB written by an earlier release up to this schema version.

Version 2 adds ``timestamps``: each run's head, anchored by an RFC 3161 time-stamp token.
The token proves itself (a TSA signed it), so the table is not chained, and writing it
after a run ends moves no head.

Version 3 adds what leads from listings to the sellers behind them, as chained evidence:
``listing_pages`` (a listing's own page: description, seller profile, images, variants),
``contacts`` (phone numbers, handles, e-mails and shop links found in a listing, each with
the field and capture it came from), ``images`` (a listing's images: the bytes in
``capture_bodies`` like any body, and a perceptual hash) and ``takedown_requests`` (what was
asked of a platform, citing the evidence and the DB's head); and the ``accounts`` view.
Their chains start empty, so a DB migrated to version 3 keeps every head it had.

Version 4 lets personal data go when it is no longer needed (``thriftwatch retention``)
without breaking a chain: a contact's row hash covers the SHA-256 of its value and of its
raw text (``value_sha256``, ``raw_sha256``) instead of the text itself, so the text can be
erased while the chain, and the links between accounts that share the contact, still hold.
Each erasure is chained evidence too (``erasures``: which rows, when, why); ``contacts``
allows no update but that one. Contacts written before version 4 keep their hash over the
text, and so cannot be erased.

Version 5 spreads crawls over nodes and brings their DBs together: ``run_nodes`` (which
scrapyd node and shared Redis frontier a run used), ``merges`` (each import of a node DB
into a case DB, chained: see :mod:`crawler.evidence.merge`) and ``merged_bodies`` (where a
merged source's capture bodies went). Their chains start empty: no head moves.

:func:`soundness` says whether a DB's structure is what this code writes: SQLite's own
``PRAGMA integrity_check`` (every index holds exactly its table's rows: exports, reports,
bundles and Datasette read through indexes, which the hash chains do not cover), and every
table, index, view and trigger in ``sqlite_master`` against the schema of the DB's version.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from crawler.evidence.custody import EVIDENCE_TABLES

if TYPE_CHECKING:
    import sqlite_utils

SCHEMA_VERSION = 5

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

# The tables of schema version 1; later versions add ADDED_TABLES.
TABLES_V1: dict[str, dict[str, type]] = {
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

# What a contact may be (crawler.sellers.contacts finds them), and where it was found.
CONTACT_KINDS = ("phone", "whatsapp", "instagram", "tiktok", "telegram", "line", "email", "shop")
CONTACT_SOURCES = ("card", "page")

# Schema version 3: from listings to the sellers behind them (chained evidence).
TABLES_V3: dict[str, dict[str, type]] = {
    # A listing's own page, fetched once per run for a listing whose card was flagged (or
    # changed): what the search card lacks. image_urls: a JSON list; variants: JSON.
    "listing_pages": {"id": int, "run_id": int, "platform": str, "listing_id": str,
                      "url": str, "fetched_at": str, "capture_id": int, "capture_sha256": str,
                      "screenshot_sha256": str, "description": str, "seller_id": str,
                      "seller_name": str, "seller_url": str, "seller_joined": str,
                      "seller_location": str, "seller_followers": int, "seller_sales": int,
                      "seller_rating": float, "image_urls": str, "variants": str,
                      "stock": int, **CHAIN},
    # A contact found in a listing: kind (CONTACT_KINDS), value normalised (phones in E.164,
    # handles lower-case without '@', shops as 'platform:slug'), raw as written (at most
    # 200 characters), the field and the capture it came from. Personal data: never logged.
    "contacts": {"id": int, "run_id": int, "platform": str, "listing_id": str, "source": str,
                 "field": str, "kind": str, "value": str, "raw": str, "capture_sha256": str,
                 "seen_at": str, **CHAIN},
    # An image of a listing: its bytes are in capture_bodies (body_sha256); phash is its
    # perceptual hash (16 hex digits).
    "images": {"id": int, "run_id": int, "platform": str, "listing_id": str, "url": str,
               "body_sha256": str, "phash": str, "width": int, "height": int,
               "fetched_at": str, **CHAIN},
    # A takedown request as made: accounts, listing URLs and evidence are JSON; db_head is
    # the DB's head it cites.
    "takedown_requests": {"id": int, "created_at": str, "platform": str, "network_id": str,
                          "accounts": str, "listing_urls": str, "reason_id": str,
                          "reason_en": str, "legal_basis": str, "evidence": str,
                          "db_head": str, **CHAIN},
}

# Schema version 4: contacts hashed through the digests of their text (so the text can be
# erased), and the chained record of each erasure.
CONTACT_DIGESTS = {"value": "value_sha256", "raw": "raw_sha256"}
TABLES_V4: dict[str, dict[str, type]] = {
    # An erasure of personal data: which rows of which table lost which columns (``ids``: a
    # JSON list of [first, last] id ranges), when, and why (the rule and its cut-off).
    "erasures": {"id": int, "erased_at": str, "table_name": str, "columns": str, "ids": str,
                 "rows": int, "reason": str, "seen_before": str, **CHAIN},
}

# Schema version 5: crawls spread over nodes, and node DBs merged into one case DB.
TABLES_V5: dict[str, dict[str, type]] = {
    # Which node (scrapyd server or machine) ran a run, and the shared frontier it used
    # (``frontier``: the Redis URL without any password; ``frontier_key``: its keys' prefix).
    "run_nodes": {"id": int, "run_id": int, "node": str, "frontier": str, "frontier_key": str,
                  "recorded_at": str, **CHAIN},
    # One import of a node DB into this (case) DB (crawler.evidence.merge): the node, the
    # source's path, its origin (the hash of its first row: which DB it is), its schema
    # version, its chain heads and head at import, this DB's chain heads just before this
    # row (like run_ends.chain_heads), where the rows went (``ranges``: per table [first
    # source id, first case id, rows]), each imported run's head as the node recorded it
    # (``run_heads``: case run id -> head) and how many rows of each table came in.
    "merges": {"id": int, "merged_at": str, "node": str, "source_path": str,
               "source_origin": str, "source_version": int, "source_head": str,
               "source_heads": str, "chain_heads": str, "ranges": str, "run_heads": str,
               "rows": str, **CHAIN},
    # One ``thriftwatch reflag``: every stored listing (of ``platform``, last seen since
    # ``since``) judged again with a lexicon (its version and ``lexicon_sha256``, the SHA-256
    # of its files; ``lexicon_files``: their names and digests, JSON). Written when it
    # starts; each verdict that changed is a ``flags`` row naming it (``reflag_id``).
    "reflags": {"id": int, "started_at": str, "lexicon_version": str, "lexicon_sha256": str,
                "lexicon_files": str, "platform": str, "since": str, "tool_version": str,
                "host": str, **CHAIN},
    # A reflag's end: how many listings it judged and how many verdicts it stored
    # (``changed``), and what changed (``summary``, JSON: by level, top new reasons).
    "reflag_ends": {"id": int, "reflag_id": int, "ended_at": str, "listings": int,
                    "changed": int, "summary": str, **CHAIN},
}
# A column a later version added to an existing chained table: NULL in every row written
# before it (and in a crawl's verdicts), so a row hash leaves it out while it is NULL
# (custody.LATER_COLUMNS) and every earlier hash holds. A verdict a reflag stored names it.
FLAG_REFLAG = {"reflag_id": int}
# Where each capture body of a merged source went (bodies are stored once by SHA-256, so a
# source's bodies are not a range of case ids): plain, append-only; the merge's chained
# record covers the rest, and verify rebuilds each source's chain through this.
MERGED_BODIES: dict[str, type] = {"merge_id": int, "source_id": int, "case_id": int}

# Every table's columns and their kinds, whichever version added them.
TABLES: dict[str, dict[str, type]] = {
    **TABLES_V1, **TABLES_V3,
    "contacts": {**TABLES_V3["contacts"], **dict.fromkeys(CONTACT_DIGESTS.values(), str)},
    **TABLES_V4, **TABLES_V5, "flags": {**TABLES_V1["flags"], **FLAG_REFLAG}}

# Columns that must hold a value, besides every chain's prev_hash and row_hash: the writers
# refuse a row without them and verify calls a NULL there tampering. (As in every table,
# only the chain columns are NOT NULL in SQL.)
NOT_NULL: dict[str, frozenset[str]] = {
    "listing_pages": frozenset({"run_id", "platform", "listing_id", "fetched_at"}),
    # A contact's value may be NULL only once erased (verify checks that an erasure
    # covers it and that a value left matches its digest).
    "contacts": frozenset({"run_id", "platform", "listing_id", "source", "field", "kind",
                           "seen_at"}),
    "images": frozenset({"run_id", "platform", "listing_id", "body_sha256", "fetched_at"}),
    "takedown_requests": frozenset({"created_at", "platform", "accounts", "db_head"}),
    "run_nodes": frozenset({"run_id", "node", "recorded_at"}),
    "reflags": frozenset({"started_at", "lexicon_version", "lexicon_sha256"}),
    "reflag_ends": frozenset({"reflag_id", "ended_at", "listings", "changed", "summary"}),
    "merges": frozenset({"merged_at", "node", "source_path", "source_origin",
                         "source_version", "source_head", "source_heads", "chain_heads",
                         "ranges", "run_heads", "rows"}),
}

# The verdict of an observation that readers show: its latest (a reflag adds a later verdict
# to an observation; the earlier ones stay, as evidence). Schema version 5; every reader
# joins this, never ``flags`` itself.
LATEST_FLAGS = """
    SELECT f.* FROM flags f
    WHERE f.id = (SELECT MAX(g.id) FROM flags g WHERE g.observation_id = f.observation_id)"""

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

# One row per seller account as its listings show it. status comes from the latest recheck
# of each of its listings that said live or one of the statuses that count as down (any
# other answer says nothing): 'live' if any is live, 'taken_down' if every rechecked listing
# is down (taken_down_at: when the last of them was first found so), NULL if none was
# rechecked. Name and URL are those of its most recently seen listing that has them.
_ACCOUNTS_VIEW = """
    WITH rechecked AS (
        SELECT platform, listing_id, MAX(id) AS last_id,
               COALESCE(MAX(CASE WHEN status = 'live' THEN id END), 0) AS last_live
        FROM rechecks WHERE status IN ('live', {down_list})
        GROUP BY platform, listing_id),
    state AS (
        SELECT k.platform, k.listing_id, r.status,
               (SELECT MIN(d.checked_at) FROM rechecks d
                WHERE d.platform = k.platform AND d.listing_id = k.listing_id
                  AND d.status {down_test} AND d.id > k.last_live) AS down_since
        FROM rechecked k JOIN rechecks r ON r.id = k.last_id),
    listed AS (
        SELECT l.platform, l.seller_id, o.seller_name, o.seller_url, l.first_seen,
               l.last_seen, COALESCE(f.flagged, 0) AS flagged, s.status AS recheck,
               s.down_since,
               ROW_NUMBER() OVER (PARTITION BY l.platform, l.seller_id
                                  ORDER BY o.seller_name IS NULL, l.last_seen DESC,
                                           l.last_observation_id DESC) AS recency
        FROM listings l
        JOIN observations o ON o.id = l.last_observation_id
        LEFT JOIN flags f ON f.observation_id = l.last_observation_id
        LEFT JOIN state s ON s.platform = l.platform AND s.listing_id = l.listing_id
        WHERE l.seller_id IS NOT NULL AND l.seller_id != '')
    SELECT platform, seller_id,
           MAX(CASE WHEN recency = 1 THEN seller_name END) AS seller_name,
           COALESCE(MAX(CASE WHEN recency = 1 THEN seller_url END), MAX(seller_url))
               AS seller_url,
           COUNT(*) AS listings, SUM(flagged) AS flagged, MIN(first_seen) AS first_seen,
           MAX(last_seen) AS last_seen,
           CASE WHEN COUNT(recheck) = 0 THEN NULL
                WHEN SUM(recheck = 'live') > 0 THEN 'live'
                ELSE 'taken_down' END AS status,
           CASE WHEN COUNT(recheck) > 0 AND SUM(recheck = 'live') = 0
                THEN MAX(down_since) END AS taken_down_at
    FROM listed
    GROUP BY platform, seller_id"""


def accounts_view(down: tuple[str, ...], verdicts: str = "flags") -> str:
    """The ``accounts`` view's SQL, ``down`` being the recheck statuses that count as down
    and ``verdicts`` the table or view of verdicts it reads."""
    quoted = [f"'{status}'" for status in down]
    return _ACCOUNTS_VIEW.replace("LEFT JOIN flags f", f"LEFT JOIN {verdicts} f").format(
        down_list=", ".join(quoted),
        down_test=f"= {quoted[0]}" if len(quoted) == 1 else f"IN ({', '.join(quoted)})")


# Schema version 3: a listing removed or blocked counts as down.
ACCOUNTS_VIEW_V3 = accounts_view(("removed", "blocked"))
# Schema version 4: only a listing the platform removed counts towards a takedown. A recheck
# answered "blocked" (a captcha, a login wall, 403 or 429) says the crawler was walled,
# nothing about the account, so it counts like an error: not at all.
ACCOUNTS_VIEW_V4 = accounts_view(("removed",))
# Schema version 5: each listing's latest verdict (LATEST_FLAGS).
ACCOUNTS_VIEW = accounts_view(("removed",), "latest_flags")
SELLERS_VIEW = VIEWS["sellers"].replace("LEFT JOIN flags f", "LEFT JOIN latest_flags f")


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

# How a listing's current view is written from its sightings, by the store (each sighting,
# VALUES) and by a merge (the latest of many, SELECT): INSERT_LISTING, its rows, then
# ON_LISTING_CONFLICT, which moves a listing already there on and keeps its first sighting.
INSERT_LISTING = """INSERT INTO listings (
    platform, listing_id, url, title, description, price_idr, seller_id, seller_name, location,
    first_seen, last_seen, first_run_id, last_run_id, last_observation_id)"""
ON_LISTING_CONFLICT = """ON CONFLICT (platform, listing_id) DO UPDATE SET
    url = excluded.url, title = excluded.title, description = excluded.description,
    price_idr = excluded.price_idr, seller_id = excluded.seller_id,
    seller_name = excluded.seller_name, location = excluded.location,
    last_seen = excluded.last_seen, last_run_id = excluded.last_run_id,
    last_observation_id = excluded.last_observation_id"""


def create_timestamps(db: sqlite_utils.Database) -> None:
    """The RFC 3161 anchors of run heads (schema version 2), append-only."""
    db["timestamps"].create(
        {"id": int, "run_id": int, "head": str, "tsa_url": str, "token": bytes,
         "gen_time": str, "requested_at": str},
        pk="id", not_null={"run_id", "head", "token"})
    db["timestamps"].create_index(["run_id"], unique=True)
    _append_only(db, "timestamps")


def create_seller_evidence(db: sqlite_utils.Database) -> None:
    """Listing pages, contacts, images and takedown requests, chained and append-only, and
    the ``accounts`` view (schema version 3)."""
    for name, columns in TABLES_V3.items():
        db[name].create(columns, pk="id", not_null=set(CHAIN))
    db["listing_pages"].create_index(["platform", "listing_id"])
    db["listing_pages"].create_index(["platform", "seller_id"])
    db["listing_pages"].create_index(["run_id"])
    db["contacts"].create_index(["platform", "listing_id"])
    db["contacts"].create_index(["kind", "value"])
    # The same contact in the same field of the same listing in one run is one fact: a
    # resumed crawl, or a listing found under several keywords, does not repeat it.
    db["contacts"].create_index(["run_id", "platform", "listing_id", "source", "field",
                                 "kind", "value"], unique=True)
    db["images"].create_index(["platform", "listing_id"])
    db["images"].create_index(["phash"])
    db["images"].create_index(["body_sha256"])
    db["images"].create_index(["run_id", "platform", "listing_id", "url"], unique=True)
    db["takedown_requests"].create_index(["platform", "network_id"])
    db.create_view("accounts", ACCOUNTS_VIEW_V3)
    for name in TABLES_V3:
        _append_only(db, name)


def create_erasures(db: sqlite_utils.Database) -> None:
    """Contacts hashed through their digests, erasable, ``erasures``, and the ``accounts``
    view whose takedowns are removals only (version 4)."""
    for column in CONTACT_DIGESTS.values():
        db["contacts"].add_column(column, str)
    db["contacts"].create_index(["kind", "value_sha256"])
    db["contacts"].create_index(["run_id", "platform", "listing_id", "source", "field",
                                 "kind", "value_sha256"], unique=True)
    db.execute("DROP TRIGGER contacts_no_update")
    others = [name for name in TABLES["contacts"] if name not in CONTACT_DIGESTS]
    unchanged = " AND ".join(f"NEW.{name} IS OLD.{name}" for name in others)
    db.execute(
        "CREATE TRIGGER contacts_no_update BEFORE UPDATE ON contacts "
        f"WHEN NOT (OLD.value_sha256 IS NOT NULL AND NEW.value IS NULL AND NEW.raw IS NULL "
        f"AND {unchanged}) "
        "BEGIN SELECT RAISE(ABORT, 'evidence is append-only: UPDATE on contacts "
        "(only an erasure of a contact''s text is allowed)'); END")
    for name, columns in TABLES_V4.items():
        db[name].create(columns, pk="id", not_null=set(CHAIN))
        _append_only(db, name)
    db.execute("DROP VIEW accounts")
    db.create_view("accounts", ACCOUNTS_VIEW_V4)


def create_merges(db: sqlite_utils.Database) -> None:
    """``run_nodes``, ``merges``, ``reflags`` and ``reflag_ends`` (chained), ``merged_bodies``,
    verdicts that a reflag adds (``flags.reflag_id``, more than one verdict an observation)
    and the ``latest_flags`` view every reader of verdicts joins (version 5). The new chains
    start empty and the new column is NULL, so a DB migrated to version 5 keeps every head
    and row hash it had."""
    for name, columns in TABLES_V5.items():
        db[name].create(columns, pk="id", not_null=set(CHAIN))
        _append_only(db, name)
    db["reflag_ends"].create_index(["reflag_id"], unique=True)
    for column, kind in FLAG_REFLAG.items():
        db["flags"].add_column(column, kind)
    db.execute("DROP INDEX idx_flags_observation_id")
    db["flags"].create_index(["observation_id"])
    db["flags"].create_index(["reflag_id"])
    db.create_view("latest_flags", LATEST_FLAGS)
    for name, sql in (("sellers", SELLERS_VIEW), ("accounts", ACCOUNTS_VIEW)):
        db.execute(f"DROP VIEW {name}")
        db.create_view(name, sql)
    db["run_nodes"].create_index(["run_id"])
    db["merges"].create_index(["source_origin"])
    db["merged_bodies"].create(MERGED_BODIES, pk=("merge_id", "source_id"),
                               not_null=set(MERGED_BODIES))
    db["merged_bodies"].create_index(["case_id"])
    _append_only(db, "merged_bodies")


# version -> what brings a DB of the version before up to it
MIGRATIONS = {2: create_timestamps, 3: create_seller_evidence, 4: create_erasures,
              5: create_merges}


def _append_only(db: sqlite_utils.Database, table: str) -> None:
    for action in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'evidence is append-only: {action} on {table}'); END"
        )


def create(db: sqlite_utils.Database, version: int = SCHEMA_VERSION) -> None:
    """Create every table, index, view and trigger of an empty evidence DB (of ``version``:
    version 1's schema, then each migration up to it)."""
    for name, columns in TABLES_V1.items():
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
    # from observations as they are written (see store.UPSERT_LISTING), so not evidence.
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
    for table in TABLES_V1:
        _append_only(db, table)
    for later in range(2, version + 1):
        MIGRATIONS[later](db)


def create_meta(db: sqlite_utils.Database, version: int = SCHEMA_VERSION) -> None:
    """The ``meta`` table, holding the schema version."""
    db["meta"].insert({"key": "schema_version", "value": str(version)}, pk="key")


# -- is the DB's structure the one this code writes? ----------------------------------------

# Triggers that only guard against mistakes (the chains find any change to evidence, as
# verify shows); someone holding the file may have dropped them, which is worth a note.
GUARD_TRIGGER = re.compile(r"^[a-z_]+_no_(update|delete)$")
# Tables SQLite's ANALYZE writes: statistics for the query planner, which change no result.
PLANNER_TABLES = frozenset({"sqlite_stat1", "sqlite_stat4"})


@dataclass
class Soundness:
    """What :func:`soundness` found: problems (the DB cannot be trusted as read) and notes."""

    version: int | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def normalise_sql(sql: str | None) -> str | None:
    """``sql`` with layout and identifier quotes taken out (they vary between sqlite-utils
    releases and mean nothing); string literals, names and keywords are kept as they are."""
    if sql is None:
        return None
    text = re.sub(r"\s+", " ", sql.replace('"', "")).strip()
    return re.sub(r" ?([(),]) ?", r"\1", text)


@cache
def expected_objects(version: int) -> dict[tuple[str, str], tuple[str, str | None]]:
    """``(type, name) -> (table, normalised SQL)`` of every object a DB of ``version`` holds."""
    import sqlite_utils

    db = sqlite_utils.Database(memory=True)
    create(db, version)
    create_meta(db, version)
    return _objects(db.conn)


@cache
def evidence_tables(version: int) -> tuple[str, ...]:
    """The chained evidence tables a DB of schema ``version`` holds, in verify's order."""
    present = {name for kind, name in expected_objects(version) if kind == "table"}
    return tuple(table for table in EVIDENCE_TABLES if table in present)


def _objects(conn: sqlite3.Connection) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {(kind, name): (table, normalise_sql(sql)) for kind, name, table, sql in conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master")}


def soundness(conn: sqlite3.Connection) -> Soundness:
    """Check ``conn``'s DB: SQLite's integrity check, then its objects against the schema
    of the version it says it has. Reads only."""
    result = Soundness()
    try:
        checked = [row[0] for row in conn.execute("PRAGMA integrity_check(100)")]
    except sqlite3.DatabaseError as error:
        checked = [str(error)]
    if checked != ["ok"]:
        result.problems.append(
            f"SQLite's integrity check fails ({len(checked)} finding"
            f"{'s' if len(checked) > 1 else ''}): an index or page no longer matches its "
            "table, so what exports, reports, bundles and Datasette read through it is not "
            f"the evidence; first: {checked[0]}")
        result.problems.extend(f"SQLite integrity check: {line}" for line in checked[1:])
    found = _objects(conn)
    version = _version(conn) if ("table", "meta") in found else None
    if version is not None and version > SCHEMA_VERSION:
        result.problems.append(
            f"the DB has schema version {version}; this thriftwatch knows up to "
            f"{SCHEMA_VERSION}: upgrade thriftwatch to read it")
        return result
    if version is None or version < 1:
        result.problems.append(
            "the DB's schema version is missing or unknown "
            f"({version!r}; this thriftwatch writes 1 to {SCHEMA_VERSION})")
        return result
    result.version = version
    expected = expected_objects(version)
    unguarded = []
    for key in sorted(expected.keys() | found.keys()):
        kind, name = key
        if key not in found:
            if kind == "trigger" and GUARD_TRIGGER.match(name):
                unguarded.append(name)
            else:
                result.problems.append(f"{kind} {name} is missing from the schema")
        elif key not in expected:
            if kind == "table" and name in PLANNER_TABLES:
                continue
            result.problems.append(
                f"{kind} {name} is not part of a thriftwatch evidence DB (schema version "
                f"{version}): added by someone else; it can change what readers see")
        elif found[key] != expected[key]:
            result.problems.append(
                f"{kind} {name} is not defined as thriftwatch defines it (schema version "
                f"{version}): it can change what readers see; its SQL is now "
                f"{(found[key][1] or '')[:200]!r}")
    if unguarded:
        result.notes.append(
            f"{len(unguarded)} append-only trigger{'s are' if len(unguarded) > 1 else ' is'} "
            f"missing ({', '.join(unguarded)}): the file was changed outside thriftwatch; "
            "the chains show whether any evidence changed")
    return result


def _version(conn: sqlite3.Connection) -> int | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError:
        return None
    try:
        return int(row[0]) if row is not None else None
    except (TypeError, ValueError):
        return None


FTS_SHADOWS = ("listings_fts_data", "listings_fts_idx", "listings_fts_docsize",
               "listings_fts_config")
_FTS_CHECK = "INSERT INTO listings_fts (listings_fts, rank) VALUES ('integrity-check', 1)"


def fts_problems(conn: sqlite3.Connection, *, writable: bool = False) -> list[str]:
    """Does the full-text index of ``listings`` (Datasette's search) hold exactly the
    listings' titles and descriptions? FTS5's check writes, so on a DB opened read-only it
    runs on a scratch copy of ``listings`` and the index (a temporary file)."""
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if not {"listings", "listings_fts", *FTS_SHADOWS} <= names:
        return []
    target = conn
    if not writable:
        target = sqlite3.connect("")  # a private temporary DB, removed when closed
        _copy_fts(conn, target)
    try:
        target.execute(_FTS_CHECK)
    except sqlite3.DatabaseError as error:
        return [(f"the full-text index of listings does not match the listings ({error}): "
                 "a search (Datasette's) would find other listings than the DB holds")]
    finally:
        if target is not conn:
            target.close()
    return []


def _copy_fts(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    sql = dict(source.execute("SELECT name, sql FROM sqlite_master WHERE name IN "
                              "('listings', 'listings_fts')").fetchall())
    target.execute(sql["listings"])
    columns = [row[1] for row in source.execute("PRAGMA table_info(listings)")]
    marks = ", ".join("?" * (len(columns) + 1))
    target.executemany(f"INSERT INTO listings (rowid, {', '.join(columns)}) VALUES ({marks})",
                       source.execute(f"SELECT rowid, {', '.join(columns)} FROM listings"))
    target.execute(sql["listings_fts"])
    for shadow in FTS_SHADOWS:
        target.execute(f"DELETE FROM {shadow}")
        width = len(source.execute(f"SELECT * FROM {shadow} LIMIT 0").description)
        target.executemany(f"INSERT INTO {shadow} VALUES ({', '.join('?' * width)})",
                           source.execute(f"SELECT * FROM {shadow}"))
    target.commit()
