"""Datasette metadata for an evidence DB: descriptions, facets and canned queries.

The seller queries read the schema-3 tables (``accounts``, ``contacts``, ``images``,
``takedown_requests``): each contact and photo belongs to the account of its listing's
current seller. They show what two or more accounts share *exactly*; near-identical photos,
stock photos and whole networks are ``thriftwatch sellers``' work. Contacts are personal
data: ``thriftwatch serve`` listens on loopback only, for the investigator.
"""

from __future__ import annotations

from typing import Any

CANNED_QUERIES = {
    "flagged_by_platform_and_level": {
        "title": "Flagged listings by platform and level",
        "sql": """SELECT l.platform, f.level, COUNT(*) AS listings
                  FROM listings l JOIN latest_flags f ON f.observation_id = l.last_observation_id
                  WHERE f.flagged = 1 GROUP BY l.platform, f.level
                  ORDER BY l.platform, f.level""",
    },
    "sellers_with_most_flagged_listings": {
        "title": "Sellers with the most flagged listings",
        "sql": """SELECT platform, seller_id, seller_name, location, flagged_listings, listings,
                         first_seen, last_seen
                  FROM sellers WHERE flagged_listings > 0
                  ORDER BY flagged_listings DESC, listings DESC LIMIT 200""",
    },
    "flagged_and_still_live": {
        "title": "Flagged listings still live at their last recheck",
        "sql": """SELECT l.platform, l.listing_id, l.title, l.url, r.checked_at, r.status,
                         f.level, f.score
                  FROM listings l
                  JOIN latest_flags f ON f.observation_id = l.last_observation_id
                  JOIN rechecks r ON r.id = (SELECT MAX(id) FROM rechecks
                                             WHERE platform = l.platform
                                               AND listing_id = l.listing_id)
                  WHERE f.flagged = 1 AND r.status = 'live'
                  ORDER BY f.score DESC""",
    },
    "price_and_title_changes": {
        "title": "Listings whose title or price changed between sightings",
        "sql": "SELECT * FROM listing_changes ORDER BY seen_at DESC LIMIT 1000",
    },
    "not_found_again": {
        "title": "Listings the latest run of their platform did not find again",
        "sql": "SELECT * FROM listings_not_found_again ORDER BY last_seen DESC",
    },
    "new_this_week": {
        "title": "Listings first seen in the last 7 days",
        "sql": """SELECT l.platform, l.listing_id, l.title, l.price_idr, l.seller_name,
                         l.location, l.first_seen, f.level
                  FROM listings l
                  LEFT JOIN latest_flags f ON f.observation_id = l.last_observation_id
                  WHERE l.first_seen >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')
                  ORDER BY l.first_seen DESC""",
    },
}

# The account of a contact or photo row ``r``: its listing's current seller, as
# ``platform:seller_id``.
_ACCOUNT = "r.platform || ':' || l.seller_id"
_LISTING_OF = ("JOIN listings l ON l.platform = r.platform AND l.listing_id = r.listing_id "
               "AND l.seller_id IS NOT NULL")

SELLER_QUERIES = {
    "accounts": {
        "title": "Seller accounts, most flagged listings first, with takedown status",
        "description": "status: taken_down when every rechecked listing of the account was "
                       "removed or blocked at its latest recheck, live when one is live, "
                       "empty when none was rechecked.",
        "sql": """SELECT platform, seller_id, seller_name, seller_url, listings, flagged,
                         first_seen, last_seen, status, taken_down_at
                  FROM accounts ORDER BY flagged DESC, listings DESC, platform, seller_id
                  LIMIT 1000""",
    },
    "contacts_shared_by_accounts": {
        "title": "Contacts held by two or more accounts (phone and WhatsApp numbers together)",
        "description": "Contacts whose text was erased (thriftwatch retention) are left out; "
                       "thriftwatch sellers still links accounts by their digests.",
        "sql": f"""SELECT CASE WHEN r.kind IN ('phone', 'whatsapp') THEN 'phone'
                               ELSE r.kind END AS kind,
                          r.value, COUNT(DISTINCT {_ACCOUNT}) AS accounts,
                          group_concat(DISTINCT {_ACCOUNT}) AS account_keys,
                          COUNT(DISTINCT r.platform || '/' || r.listing_id) AS listings
                   FROM contacts r {_LISTING_OF}
                   WHERE r.value IS NOT NULL
                   GROUP BY 1, 2 HAVING COUNT(DISTINCT {_ACCOUNT}) > 1
                   ORDER BY accounts DESC, listings DESC, kind, r.value LIMIT 1000""",
    },
    "accounts_with_contact": {
        "title": "Accounts whose listings hold a contact (e.g. +6281234567890, a handle, "
                 "shopee:shop)",
        "sql": f"""SELECT {_ACCOUNT} AS account, l.seller_name, r.kind, r.value, r.raw,
                          r.field, r.listing_id, l.url, r.capture_sha256, r.seen_at
                   FROM contacts r {_LISTING_OF}
                   WHERE r.value = :value ORDER BY r.seen_at, account, r.listing_id""",
    },
    "images_shared_by_accounts": {
        "title": "Photos (the same perceptual hash) on two or more accounts",
        "description": "Exact pHash matches only; a photo on many unrelated accounts is a "
                       "stock photo (thriftwatch sellers ignores it; so should you).",
        "sql": f"""SELECT r.phash, COUNT(DISTINCT {_ACCOUNT}) AS accounts,
                          group_concat(DISTINCT {_ACCOUNT}) AS account_keys,
                          COUNT(*) AS images, MIN(r.body_sha256) AS body_sha256
                   FROM images r {_LISTING_OF}
                   GROUP BY r.phash HAVING COUNT(DISTINCT {_ACCOUNT}) > 1
                   ORDER BY accounts DESC, images DESC, r.phash LIMIT 1000""",
    },
    "takedown_requests": {
        "title": "Takedown requests sent, newest first",
        "sql": """SELECT id, created_at, platform, network_id, accounts, listing_urls,
                         reason_en, legal_basis, evidence, db_head
                  FROM takedown_requests ORDER BY id DESC""",
    },
}
CANNED_QUERIES.update(SELLER_QUERIES)

TABLES: dict[str, dict[str, Any]] = {
    "listings": {
        "description": "One row per platform listing: its latest view and first/last sighting. "
                       "Full-text search covers titles and descriptions.",
        "facets": ["platform", "location"],
        "columns": {"last_observation_id": "the observation this view comes from"},
    },
    "observations": {
        "description": "Each sighting of a listing in a run, with the fields as seen and the "
                       "capture (raw response) it was read from. Append-only, hash-chained.",
        "facets": ["platform", "keyword"],
        "columns": {"capture_sha256": "SHA-256 of the raw response body (click to open)",
                    "screenshot_sha256": "SHA-256 of the rendered page's screenshot",
                    "row_hash": "SHA-256 over this row and prev_hash: the chain of custody"},
    },
    "flags": {
        "description": "The verdict on each observation: flagged, score, level, reasons "
                       "(rule, matched text, weight), lexicon version.",
        "facets": ["level", "flagged", "lexicon_version"],
    },
    "captures": {
        "description": "Every fetch: URL, method, status, headers (credentials removed), UTC "
                       "time, body SHA-256; rendered pages, screenshots and page data too.",
        "facets": ["kind", "status", "method"],
    },
    "capture_bodies": {
        "description": "Each distinct body once, zlib-compressed, keyed by SHA-256."},
    "faults": {"description": "Blocks, parse errors, HTTP and network errors, with the page's "
                              "capture.", "facets": ["kind"]},
    "run_starts": {"description": "How each run started: tool version, host, operator, "
                                  "keywords, settings digest, replica, scrapyd job."},
    "run_ends": {"description": "How each run ended, with its stats and every chain's head."},
    "accounts": {
        "description": "One row per seller account (platform and seller id): listings, "
                       "flagged listings, first and last seen, takedown status from rechecks.",
        "facets": ["platform", "status"],
    },
    "listing_pages": {
        "description": "Each listing's own page as fetched (enrichment): description, seller "
                       "profile, image URLs, with its capture. Append-only, hash-chained.",
        "facets": ["platform"],
    },
    "contacts": {
        "description": "Contacts read from listings (personal data): kind, normalised value "
                       "(phones in E.164), text as written, field and capture. Append-only, "
                       "hash-chained.",
        "facets": ["kind", "platform", "source"],
    },
    "images": {
        "description": "Listing photos: URL, SHA-256 of the bytes (click to open), perceptual "
                       "hash. Append-only, hash-chained.",
        "facets": ["platform"],
    },
    "takedown_requests": {
        "description": "Takedown requests recorded by thriftwatch takedown: accounts, listing "
                       "URLs, reasons, legal basis, evidence hashes and the DB head cited.",
        "facets": ["platform"],
    },
}


def metadata(title: str) -> dict[str, Any]:
    return {
        "title": f"thriftwatch evidence: {title}",
        "description": "Read-only view of a thriftwatch evidence DB.",
        "databases": {"evidence": {"tables": TABLES, "queries": CANNED_QUERIES}},
    }
