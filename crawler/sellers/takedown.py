"""What to send a platform to take accounts down: one request per account, with what a
platform's report form asks for. Pure: networks and listings in, request rows out.

A request names the account (its URL), the account's flagged listings (their URLs), the
reason in plain Indonesian and English, the legal basis, the evidence (each listing's
capture SHA-256 and the observation it was read in) and the evidence DB's head, so that
whoever receives it can ask for the captures and check them against the DB.

Only accounts with at least one flagged listing on the platform are asked for: an account
that is linked to an operator but shows nothing unlawful itself is named in its linked
accounts' reasons, not taken down on that ground alone. Seller names are not quoted in a
reason (the seller wrote them); the account is named by its URL and id.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from crawler.sellers.networks import account_key

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from crawler.sellers.networks import Network

LEGAL_BASIS = (
    "HS 6309.00.00 (pakaian bekas dan barang bekas lainnya / worn clothing and other worn "
    "articles) termasuk barang yang dilarang impor / is banned from import: Permendag "
    "18/2021 Pasal 2 ayat (3) jo. Permendag 40/2022 (Lampiran bagian IV), kini / now "
    "Permendag 47/2025. UU 7/2014 tentang Perdagangan / on Trade (diubah / as amended by "
    "UU 6/2023) Pasal / Art. 47 ayat (1): importir wajib mengimpor barang dalam keadaan baru "
    "/ importers must import new goods; Pasal / Art. 111: pidana bagi yang mengimpor barang "
    "dalam keadaan tidak baru / penalty for importing goods that are not new."
)

# How a link's kind is said in a reason: (Indonesian, English).
LINK_WORDS = {
    "phone": ("nomor telepon/WhatsApp yang sama", "the same phone/WhatsApp number"),
    "whatsapp": ("nomor WhatsApp yang sama", "the same WhatsApp number"),
    "email": ("alamat e-mail yang sama", "the same e-mail address"),
    "instagram": ("akun Instagram yang sama", "the same Instagram account"),
    "tiktok": ("akun TikTok yang sama", "the same TikTok account"),
    "telegram": ("akun Telegram yang sama", "the same Telegram account"),
    "line": ("ID LINE yang sama", "the same LINE ID"),
    "shop": ("tautan ke toko yang sama", "links to the same shop"),
    "image": ("foto produk yang hampir identik", "near-identical product photos"),
}
TOP_TERMS = 5
# The columns of the evidence DB's takedown_requests table (besides id and the chain).
RECORD_FIELDS = ("created_at", "platform", "network_id", "accounts", "listing_urls",
                 "reason_id", "reason_en", "legal_basis", "evidence", "db_head")


def takedown_requests(platform: str, networks: Sequence[Network],
                      listings: Iterable[Mapping[str, Any]], *, db_head: str,
                      created_at: str, network: str | None = None) -> list[dict[str, Any]]:
    """One request per account on ``platform`` with flagged listings (only the accounts of
    network ``network``, when given), in the networks' order (largest first).

    ``listings``: the DB's listings as ``export_records`` gives them, each with the id of the
    observation its current view comes from (``observation_id``). Each request holds the
    columns of ``takedown_requests`` (:data:`RECORD_FIELDS`) and, to show, the account's
    ``account_url``, ``seller_id``, ``seller_name`` and ``linked_accounts``."""
    flagged: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in listings:
        if row.get("platform") == platform and row.get("flagged") and row.get("seller_id"):
            flagged[account_key(platform, row["seller_id"])].append(row)
    requests = []
    for group in networks:
        if network is not None and group.network_id != network:
            continue
        for account in group.accounts:
            key = account_key(account["platform"], account["seller_id"])
            if account["platform"] != platform or not flagged.get(key):
                continue
            shown = sorted(flagged[key], key=lambda row: str(row["listing_id"]))
            reason_id, reason_en = reasons(key, group, shown)
            requests.append({
                "created_at": created_at, "platform": platform,
                "network_id": group.network_id,
                "accounts": [{"platform": platform, "seller_id": account["seller_id"],
                              "url": account["url"]}],
                "listing_urls": [row.get("url") for row in shown],
                "reason_id": reason_id, "reason_en": reason_en, "legal_basis": LEGAL_BASIS,
                "evidence": [{"listing_id": str(row["listing_id"]),
                              "capture_sha256": row.get("capture_sha256"),
                              "observation_id": row.get("observation_id")} for row in shown],
                "db_head": db_head, "account_url": account["url"],
                "seller_id": account["seller_id"], "seller_name": account["seller_name"],
                "linked_accounts": [k for k in group.keys if k != key],
            })
    return requests


def reasons(key: str, group: Network, flagged: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """The reason for taking account ``key`` down, in Indonesian and in English."""
    count = len(flagged)
    terms = Counter(reason["rule"].removeprefix("term:") for row in flagged
                    for reason in row.get("reasons") or ()
                    if isinstance(reason, dict) and str(reason.get("rule", "")).startswith("term:")
                    and (reason.get("weight") or 0) > 0)
    named = ", ".join(term for term, _ in terms.most_common(TOP_TERMS))
    said_id = f" (istilah: {named})" if named else ""
    said_en = f" (terms: {named})" if named else ""
    indonesian = [(f"Akun ini menawarkan pakaian bekas impor: {count} listing ditandai"
                   f"{said_id}. Pakaian bekas (HS 6309.00.00) dilarang diimpor ke Indonesia.")]
    english = [(f"This account offers imported used clothing: {count} listings flagged"
                f"{said_en}. Used clothing (HS 6309.00.00) is banned from import into "
                "Indonesia.")]
    others = [k for k in group.keys if k != key]
    if others:
        kinds = sorted({link.kind for link in group.links}, key=list(LINK_WORDS).index)
        platforms = ", ".join(group.platforms)
        indonesian.append(
            f"Akun ini terhubung dengan {len(others)} akun lain ({platforms}) melalui "
            f"{_joined([LINK_WORDS[k][0] for k in kinds], 'dan')}: satu penjual di balik "
            "beberapa akun.")
        english.append(
            f"It is linked to {len(others)} other accounts ({platforms}) through "
            f"{_joined([LINK_WORDS[k][1] for k in kinds], 'and')}: one seller behind several "
            "accounts.")
    for proof in group.returning_evidence:
        if proof["returned"] == key:
            day = str(proof["taken_down_at"])[:10]
            indonesian.append(
                f"Akun ini muncul setelah akun {proof['taken_down']} diturunkan ({day}) dan "
                "terhubung dengannya: penjual yang kembali dengan akun baru.")
            english.append(
                f"It appeared after the linked account {proof['taken_down']} was taken down "
                f"({day}): a seller who came back under a new account.")
            break
    indonesian.append("Mohon tutup akun ini dan turunkan listing-listing berikut.")
    english.append("Please close the account and take down the listings below.")
    return " ".join(indonesian), " ".join(english)


def _joined(words: Sequence[str], conjunction: str) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def as_record(request: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of ``takedown_requests`` from one request (for ``add_takedown_request``)."""
    return {name: request[name] for name in RECORD_FIELDS}
