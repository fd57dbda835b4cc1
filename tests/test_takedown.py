"""Takedown requests by account (crawler.sellers.takedown): what a platform's report form
needs, per account, from plain rows."""

from __future__ import annotations

from crawler.sellers.networks import build_networks
from crawler.sellers.takedown import LEGAL_BASIS, RECORD_FIELDS, as_record, takedown_requests
from tests.test_networks import PHONE, contact, listing, recheck, sha

HEAD = "ab" * 32
NOW = "2026-04-01T00:00:00.000Z"


def flagged_rows(rows, terms=("balpres",)):
    return [{**row, "observation_id": n + 1, "level": "strong" if row["flagged"] else "none",
             "reasons": [{"rule": f"term:{t}", "matched": t, "weight": 0.6} for t in terms]
             + [{"rule": "negative:new", "matched": "baru", "weight": -0.2}]}
            for n, row in enumerate(rows)]


def case():
    listings = flagged_rows([
        listing("tokopedia", "t2", "old", first_seen="2026-01-05T00:00:00.000Z"),
        listing("tokopedia", "t1", "old", first_seen="2026-01-05T00:00:00.000Z"),
        listing("tokopedia", "t3", "new", first_seen="2026-03-01T00:00:00.000Z"),
        listing("shopee", "s1", "sh", first_seen="2026-01-01T00:00:00.000Z"),
        listing("tokopedia", "t9", "clean", flagged=False),
    ])
    contacts = [contact("tokopedia", "t1", "phone", PHONE, "0812 3456 7890"),
                contact("tokopedia", "t3", "whatsapp", PHONE, "wa.me/6281234567890"),
                contact("shopee", "s1", "instagram", "gudang.bal", "@gudang.bal"),
                contact("tokopedia", "t3", "instagram", "gudang.bal", "IG gudang.bal")]
    rechecks = [recheck("tokopedia", t, "removed", "2026-02-01T00:00:00.000Z")
                for t in ("t1", "t2")]
    networks = build_networks(listings=listings, contacts=contacts, rechecks=rechecks)
    return networks, listings


def test_one_request_per_flagged_account_on_the_platform():
    networks, listings = case()
    requests = takedown_requests("tokopedia", networks, listings, db_head=HEAD, created_at=NOW)
    assert [r["seller_id"] for r in requests] == ["new", "old"]
    old = requests[1]
    assert old["account_url"] == "https://tokopedia.example/old"
    assert old["listing_urls"] == ["https://tokopedia.example/old/t1",
                                   "https://tokopedia.example/old/t2"]
    assert old["evidence"] == [
        {"listing_id": "t1", "capture_sha256": sha("tokopedia/t1"), "observation_id": 2},
        {"listing_id": "t2", "capture_sha256": sha("tokopedia/t2"), "observation_id": 1}]
    assert old["db_head"] == HEAD
    assert old["legal_basis"] == LEGAL_BASIS
    for text in ("HS 6309.00.00", "18/2021", "40/2022", "47/2025", "UU 7/2014", "47", "111"):
        assert text in LEGAL_BASIS
    assert old["network_id"] == networks[0].network_id
    assert sorted(old["linked_accounts"]) == ["shopee:sh", "tokopedia:new"]
    assert set(as_record(old)) == set(RECORD_FIELDS)
    assert as_record(old)["accounts"] == [{"platform": "tokopedia", "seller_id": "old",
                                           "url": "https://tokopedia.example/old"}]


def test_the_reason_says_what_was_found_in_indonesian_and_english():
    networks, listings = case()
    new, old = takedown_requests("tokopedia", networks, listings, db_head=HEAD, created_at=NOW)
    assert old["reason_id"].startswith(
        "Akun ini menawarkan pakaian bekas impor: 2 listing ditandai (istilah: balpres).")
    assert ("terhubung dengan 2 akun lain (shopee, tokopedia) melalui nomor telepon/WhatsApp "
            "yang sama dan akun Instagram yang sama") in old["reason_id"]
    assert ("linked to 2 other accounts (shopee, tokopedia) through the same phone/WhatsApp "
            "number and the same Instagram account") in old["reason_en"]
    assert "kembali" not in old["reason_id"]
    # The account that came back after the takedown is called so.
    assert "muncul setelah akun tokopedia:old diturunkan (2026-02-01)" in new["reason_id"]
    assert "came back under a new account" in new["reason_en"]
    assert "negative" not in new["reason_en"]  # only reasons that count for the verdict
    for request in (new, old):
        assert request["reason_en"].endswith("take down the listings below.")
        assert "Thrift Murah" not in request["reason_id"] + request["reason_en"]


def test_one_network_or_another_platform():
    networks, listings = case()
    assert [r["seller_id"] for r in takedown_requests(
        "shopee", networks, listings, db_head=HEAD, created_at=NOW)] == ["sh"]
    assert takedown_requests("tokopedia", networks, listings, db_head=HEAD, created_at=NOW,
                             network="000000000000") == []
    only = takedown_requests("tokopedia", networks, listings, db_head=HEAD, created_at=NOW,
                             network=networks[0].network_id)
    assert len(only) == 2
    assert takedown_requests("lazada", networks, listings, db_head=HEAD, created_at=NOW) == []


def test_an_account_alone_gets_a_request_without_network_words():
    listings = flagged_rows([listing("lazada", "l1", "solo")], terms=())
    networks = build_networks(listings=listings)
    [request] = takedown_requests("lazada", networks, listings, db_head=HEAD, created_at=NOW)
    assert request["reason_id"] == (
        "Akun ini menawarkan pakaian bekas impor: 1 listing ditandai. Pakaian bekas "
        "(HS 6309.00.00) dilarang diimpor ke Indonesia. Mohon tutup akun ini dan turunkan "
        "listing-listing berikut.")
    assert request["linked_accounts"] == []
