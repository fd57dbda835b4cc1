"""Which personal data an evidence DB no longer needs: contacts past their retention time.

Contacts (phone numbers, handles, e-mails) are personal data under UU 27/2022 (PDP). The
evidence DB keeps them for law enforcement; a contact read from an account that never had a
flagged listing is not evidence of anything, so it is kept only for a retention time.
:func:`expired_contacts` names the contacts whose text may go; ``EvidenceStore.erase_contacts``
erases it and records the erasure. A contact's row hash covers the digests of its text, so
the chains, and the links between accounts sharing a contact, still hold afterwards.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

# A contact's account is every seller its listing was ever seen under. The contact is
# kept while any sighting, ever, of that listing or of any listing of those sellers on its
# platform was flagged: a seller who cleans a title later does not clean the record.
_EXPIRED = """
WITH flagged AS (
    SELECT o.platform, o.listing_id, o.seller_id
    FROM observations o JOIN flags f ON f.observation_id = o.id WHERE f.flagged = 1),
flagged_sellers AS (
    SELECT DISTINCT platform, seller_id FROM flagged
    WHERE seller_id IS NOT NULL AND seller_id != '')
SELECT c.id FROM contacts c
WHERE c.seen_at < :before AND c.value_sha256 IS NOT NULL
  AND (c.value IS NOT NULL OR c.raw IS NOT NULL)
  AND (:flagged_too OR (
      NOT EXISTS (SELECT 1 FROM flagged x
                  WHERE x.platform = c.platform AND x.listing_id = c.listing_id)
      AND NOT EXISTS (SELECT 1 FROM observations o
                      JOIN flagged_sellers s ON s.platform = o.platform
                                            AND s.seller_id = o.seller_id
                      WHERE o.platform = c.platform AND o.listing_id = c.listing_id)))
ORDER BY c.id"""


def cutoff(days: int, now: datetime | None = None) -> str:
    """The ``seen_at`` before which a contact is past ``days`` of retention (ISO UTC, as the
    store writes times)."""
    if days < 0:
        raise ValueError(f"a retention time is a number of days ≥ 0, not {days}")
    moment = (now or datetime.now(UTC)) - timedelta(days=days)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def expired_contacts(conn: sqlite3.Connection, before: str, *, flagged_too: bool = False,
                     ) -> list[int]:
    """Ids of the contacts seen before ``before`` whose text is still there and may go: those
    of accounts that never had a flagged listing, in any sighting (with ``flagged_too``:
    every one, as when a case is closed). Contacts written before schema version 4 cannot
    be erased and are left out."""
    return [row[0] for row in conn.execute(_EXPIRED, {"before": before,
                                                      "flagged_too": int(flagged_too)})]
