"""Seller networks read from an evidence DB: :func:`crawler.sellers.networks.build_networks`
fed from :class:`~crawler.evidence.store.EvidenceStore`'s readers (the ``accounts`` view,
listings, ``contacts`` and ``images``). What the ``sellers`` and ``takedown`` commands, the
report and run health share; the linking itself stays pure in ``networks``.

Contacts are personal data: nothing here logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.sellers.networks import (
    DEFAULT_IMAGE_DISTANCE,
    DEFAULT_IMAGE_MAX_ACCOUNTS,
    Network,
    account_key,
    build_networks,
)

if TYPE_CHECKING:
    from crawler.evidence.store import EvidenceStore


def listing_rows(store: EvidenceStore) -> list[dict[str, Any]]:
    """Every listing's current record (``export_records``) with ``observation_id``: the
    observation its current view comes from, which a takedown request cites."""
    observed = {(platform, listing_id): observation for platform, listing_id, observation in
                store.conn.execute(
                    "SELECT platform, listing_id, last_observation_id FROM listings")}
    return [{**record, "observation_id": observed.get((record["platform"],
                                                       record["listing_id"]))}
            for record in store.export_records()]


def read_networks(store: EvidenceStore, *, image_distance: int = DEFAULT_IMAGE_DISTANCE,
                  image_max_accounts: int = DEFAULT_IMAGE_MAX_ACCOUNTS,
                  listings: list[dict[str, Any]] | None = None) -> list[Network]:
    """Every account's network in the DB, largest first (see ``build_networks``); takedown
    status and time come from the ``accounts`` view."""
    return build_networks(store.accounts(),
                          listing_rows(store) if listings is None else listings,
                          store.contacts(), store.images(),
                          image_distance=image_distance, image_max_accounts=image_max_accounts)


def returned_since(networks: list[Network], platform: str, since: str) -> list[dict[str, Any]]:
    """Each proof of a return (``returning_evidence``) whose returned account is on
    ``platform`` and was first seen at or after ``since`` (an ISO UTC time): sellers who
    came back, found by the run that started then."""
    return [proof for network in networks for proof in network.returning_evidence
            if proof["returned"].startswith(f"{platform}:") and proof["first_seen"] >= since]


def any_taken_down(store: EvidenceStore) -> bool:
    """Has any account been taken down (so a return is possible at all)?"""
    return any(row.get("status") == "taken_down" for row in store.accounts())


def returned_in_run(store: EvidenceStore, run_id: int, *,
                    image_distance: int = DEFAULT_IMAGE_DISTANCE,
                    image_max_accounts: int = DEFAULT_IMAGE_MAX_ACCOUNTS) -> list[dict[str, Any]]:
    """Each proof of a return (``returning_evidence``) whose returned account was first seen
    in run ``run_id`` (one of its listings was seen in that run, and none before it
    started): what run health's ``returning_seller`` notice reports. Nothing is linked
    while no account has been taken down."""
    started = store.conn.execute("SELECT started_at FROM run_starts WHERE id = ?",
                                 [run_id]).fetchone()
    if started is None or not any_taken_down(store):
        return []
    seen = {account_key(platform, seller_id) for platform, seller_id in store.conn.execute(
        "SELECT DISTINCT platform, seller_id FROM observations WHERE run_id = ? "
        "AND seller_id IS NOT NULL", [run_id])}
    networks = read_networks(store, image_distance=image_distance,
                             image_max_accounts=image_max_accounts)
    return [proof for network in networks for proof in network.returning_evidence
            if proof["returned"] in seen and proof["first_seen"] >= started[0]]
