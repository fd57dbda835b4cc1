"""Datasette metadata for an evidence DB: descriptions, facets and canned queries."""

from __future__ import annotations

from typing import Any

CANNED_QUERIES = {
    "flagged_by_platform_and_level": {
        "title": "Flagged listings by platform and level",
        "sql": """SELECT l.platform, f.level, COUNT(*) AS listings
                  FROM listings l JOIN flags f ON f.observation_id = l.last_observation_id
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
                  JOIN flags f ON f.observation_id = l.last_observation_id
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
                  FROM listings l LEFT JOIN flags f ON f.observation_id = l.last_observation_id
                  WHERE l.first_seen >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')
                  ORDER BY l.first_seen DESC""",
    },
}

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
}


def metadata(title: str) -> dict[str, Any]:
    return {
        "title": f"thriftwatch evidence: {title}",
        "description": "Read-only view of a thriftwatch evidence DB.",
        "databases": {"evidence": {"tables": TABLES, "queries": CANNED_QUERIES}},
    }
