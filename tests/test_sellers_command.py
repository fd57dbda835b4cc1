"""``thriftwatch sellers`` and ``thriftwatch takedown`` on a real evidence DB written through
the store's API: the networks, their evidence back to the captures, a returning seller after
a recheck, formula-safe CSV, escaped terminal output, takedown requests recorded as evidence
that verifies, and an unsound DB refused."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from typing import TYPE_CHECKING

import pytest

from crawler.cli import main
from crawler.evidence.capture import Capture
from crawler.evidence.store import EvidenceStore
from crawler.evidence.verify import verify_db
from crawler.sellers.networks import network_id

if TYPE_CHECKING:
    from pathlib import Path

PHONE = "+6281234567890"
PHOTO = "c3d4e5f6a7b8c9d0"
NEAR_PHOTO = "c3d4e5f6a7b8c9d3"  # 2 bits away: the same photo re-encoded
STOCK = "0f0f0f0f0f0f0f0f"
HOSTILE_NAME = '=HYPERLINK("http://evil")\x1b[2K'
STRONG = [{"rule": "term:balpres", "matched": "balpres", "weight": 0.6}]


def capture(store, run, url, body):
    return store.add_capture(run, Capture(
        url=url, method="GET", status=200, request_headers={}, response_headers={},
        request_body=None, body=body, fetched_at="2026-03-01T00:00:00.000Z"), None)


def observe(store, run, platform, listing_id, seller_id, *, flagged=True, seller_name="Toko",
            url=None):
    capture_id, digest = capture(store, run, f"https://{platform}.example/search?{listing_id}",
                                 f"search page with {platform} {listing_id}".encode())
    store.add_observation(run, {
        "platform": platform, "listing_id": listing_id, "keyword": "balpres",
        "url": url or f"https://www.{platform}.com/{seller_id}/{listing_id}",
        "title": f"Balpres {listing_id}", "seller_id": seller_id, "seller_name": seller_name,
        "seller_url": f"https://www.{platform}.com/shop-of-{seller_id}",
        "capture_id": capture_id, "capture_sha256": digest,
        "level": "strong" if flagged else "none", "flagged": flagged,
        "score": 0.9 if flagged else 0.0, "reasons": STRONG if flagged else []})
    return digest


def contact(store, run, listing, found, digest):
    (platform, listing_id), (kind, value, raw) = listing, found
    store.add_contacts(run, [{"platform": platform, "listing_id": listing_id, "source": "page",
                              "field": "description", "kind": kind, "value": value, "raw": raw,
                              "capture_sha256": digest}])


def photo(store, run, platform, listing_id, phash):
    store.add_image(run, {"platform": platform, "listing_id": listing_id,
                          "url": f"https://img.{platform}.example/{listing_id}.jpg",
                          "body": f"jpeg of {platform} {listing_id} {phash}".encode(),
                          "phash": phash, "width": 640, "height": 480})


def pause():
    time.sleep(0.01)  # times are kept to the millisecond


def build_case(db: Path) -> dict[str, str]:
    """An operator with an old Tokopedia account (taken down at recheck), a new Shopee one
    (same number, written as a wa.me link) and a Lazada one (the same photo, re-encoded);
    decoys that share only a stock photo or only the old account's name."""
    store = EvidenceStore(db)
    digests = {}
    run = store.start_run(platform="tokopedia", keywords=["balpres"])
    digests["t1"] = observe(store, run, "tokopedia", "t1", "old")
    digests["t2"] = observe(store, run, "tokopedia", "t2", "old")
    observe(store, run, "tokopedia", "t3", "clean", flagged=False)
    contact(store, run, ("tokopedia", "t1"), ("phone", PHONE, "WA 0812-3456-7890"),
            digests["t1"])
    store.end_run(run, status="finished", stats={})
    pause()
    recheck = store.start_run(platform="recheck")
    for listing_id in ("t1", "t2"):
        store.add_recheck(recheck, {"platform": "tokopedia", "listing_id": listing_id,
                                    "url": f"https://www.tokopedia.com/old/{listing_id}",
                                    "status": "removed", "http_status": 404})
    store.end_run(recheck, status="finished", stats={})
    pause()
    run = store.start_run(platform="shopee", keywords=["balpres"])
    digests["s1"] = observe(store, run, "shopee", "s1", "new", seller_name=HOSTILE_NAME,
                            url="=1+1")
    contact(store, run, ("shopee", "s1"), ("whatsapp", PHONE, "wa.me/6281234567890"),
            digests["s1"])
    photo(store, run, "shopee", "s1", PHOTO)
    for n in range(7):  # seven unrelated sellers with the same stock photo
        observe(store, run, "shopee", f"stock{n}", f"stock{n}")
        photo(store, run, "shopee", f"stock{n}", STOCK)
    store.end_run(run, status="finished", stats={})
    run = store.start_run(platform="lazada", keywords=["balpres"])
    digests["l1"] = observe(store, run, "lazada", "l1", "third")
    photo(store, run, "lazada", "l1", NEAR_PHOTO)
    observe(store, run, "lazada", "l2", "namesake", seller_name="Toko")  # old's name only
    store.end_run(run, status="finished", stats={})
    store.close()
    return digests


@pytest.fixture
def case(tmp_path):
    db = tmp_path / "case.db"
    return db, build_case(db)


def sellers(capsys, db, *args):
    code = main(["sellers", "--db", str(db), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_sellers_finds_the_operators_accounts_with_their_evidence(case, capsys):
    db, digests = case
    code, out, _ = sellers(capsys, db, "--format", "jsonl")
    assert code == 0
    [line] = out.splitlines()
    network = json.loads(line)
    assert list(network) == ["network_id", "accounts", "links", "platforms", "flagged_listings",
                             "returning", "returning_evidence"]
    keys = ["lazada:third", "shopee:new", "tokopedia:old"]
    assert network["network_id"] == network_id(keys)
    assert [f"{a['platform']}:{a['seller_id']}" for a in network["accounts"]] == keys
    assert list(network["accounts"][0]) == ["platform", "seller_id", "seller_name", "url",
                                            "listings", "flagged", "first_seen", "last_seen",
                                            "status"]
    old = network["accounts"][2]
    assert (old["listings"], old["flagged"], old["status"]) == (2, 2, "taken_down")
    assert network["platforms"] == ["lazada", "shopee", "tokopedia"]
    assert network["flagged_listings"] == 4
    phone, image = network["links"]
    assert (phone["kind"], phone["value"], phone["accounts"]) == (
        "phone", PHONE, ["shopee:new", "tokopedia:old"])
    assert [(e["listing_id"], e["capture_sha256"]) for e in phone["evidence"]] == [
        ("s1", digests["s1"]), ("t1", digests["t1"])]
    assert (image["kind"], image["distance"], image["accounts"]) == (
        "image", 2, ["lazada:third", "shopee:new"])
    # Every capture a link cites is in the DB: link -> listing -> capture.
    conn = sqlite3.connect(db)
    for link in network["links"]:
        for side in link["evidence"]:
            assert conn.execute("SELECT 1 FROM capture_bodies WHERE sha256 = ?",
                                [side["capture_sha256"]]).fetchone()
    conn.close()
    assert network["returning"] is True
    # Both later accounts came after the takedown: the Shopee one through the number, the
    # Lazada one through the number and then the photo.
    assert [(p["taken_down"], p["returned"], [link["kind"] for link in p["links"]])
            for p in network["returning_evidence"]] == [
        ("tokopedia:old", "lazada:third", ["phone", "image"]),
        ("tokopedia:old", "shopee:new", ["phone"])]


def test_min_accounts_and_flagged_only(case, capsys):
    db, _ = case
    _, out, _ = sellers(capsys, db, "--format", "jsonl", "--min-accounts", "1")
    networks = [json.loads(line) for line in out.splitlines()]
    # Every account is somewhere; the stock photo and the name linked nobody.
    assert [len(n["accounts"]) for n in networks] == [3] + [1] * 9
    assert sum(n["returning"] for n in networks) == 1
    _, out, _ = sellers(capsys, db, "--format", "jsonl", "--min-accounts", "1",
                        "--flagged-only")
    assert len(out.splitlines()) == 9  # tokopedia:clean has no flagged listing


def test_the_table_escapes_seller_text(case, capsys):
    db, _ = case
    code, out, _ = sellers(capsys, db)
    assert code == 0
    assert "\x1b" not in out
    assert '"=HYPERLINK("http://evil")\\x1b[2K"' in out
    assert f"network {network_id(['lazada:third', 'shopee:new', 'tokopedia:old'])}" in out
    assert "RETURNING" in out
    assert f"strong phone {PHONE}" in out
    assert "returning: shopee:new first seen" in out


def test_csv_is_formula_safe_and_holds_the_json(case, capsys, tmp_path):
    db, _ = case
    out_file = tmp_path / "networks.csv"
    code, _, err = sellers(capsys, db, "--format", "csv", "-o", str(out_file))
    assert code == 0
    assert "1 networks written" in err
    text = out_file.read_text(encoding="utf-8")
    assert "\x1b" not in text
    [row] = list(csv.DictReader(io.StringIO(text)))
    accounts = json.loads(row["accounts"])
    assert HOSTILE_NAME in [a["seller_name"] for a in accounts]  # JSON's own \u001b escape
    assert row["returning"] == "true"
    assert json.loads(row["links"])[0]["value"] == PHONE


def test_an_unsound_db_is_refused(case, capsys):
    db, _ = case
    conn = sqlite3.connect(db)
    conn.execute("CREATE INDEX planted ON contacts (value)")
    conn.commit()
    conn.close()
    code, out, err = sellers(capsys, db)
    assert code == 2
    assert out == ""
    assert "refusing to read" in err
    assert main(["takedown", "--db", str(db), "--platform", "tokopedia"]) == 2


def test_takedown_writes_and_records_one_request_per_account(case, capsys, tmp_path):
    db, digests = case
    out_file = tmp_path / "tokopedia.csv"
    assert main(["takedown", "--db", str(db), "--platform", "tokopedia", "-o",
                 str(out_file)]) == 0
    err = capsys.readouterr().err
    assert "1 takedown requests for tokopedia recorded" in err
    [row] = list(csv.DictReader(io.StringIO(out_file.read_text(encoding="utf-8"))))
    assert row["account_url"] == "https://www.tokopedia.com/shop-of-old"
    assert row["listing_urls"].splitlines() == ["https://www.tokopedia.com/old/t1",
                                                "https://www.tokopedia.com/old/t2"]
    assert row["evidence"].splitlines()[0].split()[:2] == ["t1", digests["t1"]]
    assert "pakaian bekas impor" in row["reason_id"]
    assert "imported used clothing" in row["reason_en"]
    assert "HS 6309.00.00" in row["legal_basis"]
    store = EvidenceStore(db)
    [recorded] = list(store.takedown_requests())
    head = store.latest_run_head()[1]
    store.close()
    assert row["db_head"] == recorded["db_head"] == head
    assert recorded["accounts"] == [{"platform": "tokopedia", "seller_id": "old",
                                     "url": "https://www.tokopedia.com/shop-of-old"}]
    assert recorded["evidence"][0]["capture_sha256"] == digests["t1"]
    assert row["request_id"] == str(recorded["id"])
    report = verify_db(db, heads=[head])
    assert report.ok, report.problems


def test_takedown_csv_defuses_seller_text_and_jsonl_is_exact(case, capsys):
    db, _ = case
    assert main(["takedown", "--db", str(db), "--platform", "shopee", "--network",
                 network_id(["lazada:third", "shopee:new", "tokopedia:old"])]) == 0
    text = capsys.readouterr().out
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["seller_name"].startswith("'=HYPERLINK")
    assert row["seller_name"].endswith("\\x1b[2K")
    assert row["listing_urls"] == "'=1+1"
    assert "came back under a new account" in row["reason_en"]
    assert main(["takedown", "--db", str(db), "--platform", "shopee", "--format", "jsonl"]) == 0
    requests = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["seller_id"] for r in requests) == ["new"] + [f"stock{n}" for n in range(7)]
    assert next(r for r in requests if r["seller_id"] == "new")["seller_name"] == HOSTILE_NAME


def test_takedown_refuses_an_unknown_platform_or_network(case, capsys):
    db, _ = case
    assert main(["takedown", "--db", str(db), "--platform", "tokopdia"]) == 2
    assert "holds lazada, shopee, tokopedia" in capsys.readouterr().err
    assert main(["takedown", "--db", str(db), "--platform", "tokopedia", "--network",
                 "000000000000"]) == 2
    store = EvidenceStore(db)
    assert list(store.takedown_requests()) == []
    store.close()


def test_takedown_cites_only_evidence_under_the_head_it_cites(case, capsys):
    """A run killed before its end saw t1 again and a new listing t9: the request cites t1
    as the last ended run saw it, leaves t9 out, and says so."""
    db, digests = case
    store = EvidenceStore(db)
    killed = store.start_run(platform="tokopedia", keywords=["balpres"])  # never ends
    observe(store, killed, "tokopedia", "t1", "old")
    observe(store, killed, "tokopedia", "t9", "old")
    (covered,) = store.conn.execute(
        "SELECT json_extract(chain_heads, '$.observations.id') FROM run_ends "
        "ORDER BY id DESC LIMIT 1").fetchone()
    store.close()
    assert main(["takedown", "--db", str(db), "--platform", "tokopedia", "--format",
                 "jsonl"]) == 0
    out, err = capsys.readouterr()
    [request] = [json.loads(line) for line in out.splitlines()]
    assert [item["listing_id"] for item in request["evidence"]] == ["t1", "t2"]
    assert all(item["observation_id"] <= covered for item in request["evidence"])
    assert request["evidence"][0]["capture_sha256"] == digests["t1"]
    assert "2 listings were last seen by a run that has not ended" in err
