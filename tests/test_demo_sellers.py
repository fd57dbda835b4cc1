"""``thriftwatch demo``'s sellers step: the summary line and the spiders that search again
(pure), then the whole demo against the replica's own truth: every planted network found
among the accounts the demo saw, no unrelated account merged, returning sellers found after
the replica's takedown."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from crawler.commands.demo import DEMO_ENRICH, PROFILE_SPIDER, return_spiders, sellers_line
from crawler.evidence.store import EvidenceStore
from crawler.sellers.networks import build_networks
from crawler.sellers.stored import read_networks
from pipelines.enrich import LEVEL_ORDER
from tests.helpers import run_command

PHONE = "+6281234567890"
EXPORT_FIELDS = {"platform", "listing_id", "url", "title", "description", "price_idr",
                 "seller_id", "seller_name", "location", "sold_count", "first_seen",
                 "last_seen", "flagged", "score", "level", "reasons", "capture_sha256"}


def test_each_platform_is_searched_again_by_its_spider_or_the_profile_spider():
    known = ["bukalapak", "lazada", PROFILE_SPIDER, "shopee", "tokopedia"]
    assert return_spiders(["shopee", "olx", "lazada", "shopee"], known) == [
        "lazada", PROFILE_SPIDER, "shopee"]
    assert return_spiders([], known) == []


def test_the_sellers_line_counts_networks_and_returning_accounts():
    accounts = [
        {"platform": "tokopedia", "seller_id": "old", "listings": 1, "flagged": 1,
         "first_seen": "2026-03-01T00:00:00.000Z", "status": "taken_down",
         "taken_down_at": "2026-03-02T00:00:00.000Z"},
        {"platform": "shopee", "seller_id": "new", "listings": 1, "flagged": 1,
         "first_seen": "2026-03-03T00:00:00.000Z"},
        {"platform": "lazada", "seller_id": "alone", "listings": 1, "flagged": 1,
         "first_seen": "2026-03-01T00:00:00.000Z"}]
    listings = [{"platform": a["platform"], "listing_id": a["seller_id"],
                 "seller_id": a["seller_id"]} for a in accounts]
    contacts = [{"platform": p, "listing_id": i, "field": "description", "kind": "phone",
                 "value": PHONE} for p, i in (("tokopedia", "old"), ("shopee", "new"))]
    networks = build_networks(accounts, listings, contacts)
    assert sellers_line(networks).startswith(
        "sellers: 1 networks of two or more accounts (2 accounts on 2 platforms), "
        "1 returning sellers")
    assert sellers_line([]).startswith("sellers: 0 networks")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo-sellers") / "demo.db"
    result = run_command("thriftwatch", "demo", "--db", str(db), timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "replica marketplace on http://127.0.0.1:" in result.stdout
    assert f"evidence DB: {db}" in result.stdout
    return db, result.stdout


@pytest.mark.crawl
@pytest.mark.browser
def test_the_demo_finds_the_planted_networks_and_the_returning_sellers(demo):
    from crawler.replica.networks import planted_networks, returning_accounts

    db, out = demo
    assert "takedown: the replica took down 4 accounts" in out
    store = EvidenceStore(db, check=True)
    try:
        # The accounts whose contacts the demo reads: seen with a listing whose verdict
        # reaches its enrichment floor (an account seen only below it is not linked: the
        # faster the crawl, the more such accounts Facebook's scrolled search brings).
        floor = DEMO_ENRICH["THRIFTWATCH_ENRICH_FLOOR"]
        levels = LEVEL_ORDER[LEVEL_ORDER.index(floor):]
        seen = {f"{platform}:{seller}" for platform, seller in store.conn.execute(
            "SELECT DISTINCT o.platform, o.seller_id FROM observations o "
            "JOIN flags f ON f.observation_id = o.id WHERE o.seller_id IS NOT NULL "
            f"AND f.level IN ({', '.join('?' * len(levels))})", levels)}
        networks = [n for n in read_networks(store) if len(n.accounts) > 1]
    finally:
        store.close()
    found = [set(n.keys) for n in networks]
    planted = [set(network) & seen for network in planted_networks()]
    # No unrelated account merged: every network found lies inside one planted network.
    for group in found:
        assert any(group <= network for network in planted), sorted(group)
    # Every planted network the demo saw two or more accounts of is found whole, and nothing
    # else: the enrich pipeline reads a page of every account before a second of any, and
    # DEMO_ENRICH's cap covers every account with a flagged listing (all 20 of the 21 planted
    # networks the demo saw, measured 2026-12-03). The 21st's Facebook account is in the
    # 25th-120th results of its terms, which Facebook's scrolled search brings alone but
    # not in the demo's busy process; a loaded machine's timeouts can hide another one.
    seen_planted = [network for network in planted if len(network) > 1]
    assert len(seen_planted) >= 18, len(seen_planted)
    missing = [sorted(network) for network in seen_planted if network not in found]
    assert not missing, missing
    assert {frozenset(group) for group in found} == {frozenset(n) for n in seen_planted}
    returned = {proof["returned"] for n in networks for proof in n.returning_evidence}
    assert returned == returning_accounts() & seen
    assert returned  # the second crawl saw the returning sellers
    line = re.search(r"sellers: (\d+) networks .* (\d+) returning sellers", out)
    assert line, out[-2000:]
    assert (int(line[1]), int(line[2])) == (len(found), len(returned))


@pytest.mark.crawl
@pytest.mark.browser
def test_demo_summary_names_pages_listings_and_levels(demo):
    _, out = demo
    tokopedia = next(line for line in out.splitlines() if line.startswith("tokopedia"))
    pages, listings = (int(x) for x in tokopedia.split()[1:3])
    assert pages > 5 * 16  # five search pages of each term, and listing pages
    assert listings > 1000
    assert "flagged" in out
    assert "finished" in tokopedia


@pytest.mark.crawl
@pytest.mark.browser
def test_export_jsonl_holds_flagged_and_unflagged_listings_with_reasons(demo):
    db, _ = demo
    result = run_command("thriftwatch", "export", "--db", str(db), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len({(r["platform"], r["listing_id"]) for r in records}) > 300
    assert EXPORT_FIELDS <= set(records[0])
    flagged = [r for r in records if r["flagged"]]
    assert flagged
    assert len(flagged) < len(records)
    assert all(r["reasons"] and 0 < r["score"] <= 1 for r in flagged)
    assert all(len(r["capture_sha256"]) == 64 for r in records)


@pytest.mark.crawl
@pytest.mark.browser
def test_export_csv_flagged_only_to_a_file(demo, tmp_path):
    db, _ = demo
    out = tmp_path / "flagged.csv"
    result = run_command("thriftwatch", "export", "--db", str(db), "--format", "csv",
                         "--flagged-only", "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8"))))
    assert rows
    assert all(r["flagged"] == "true" for r in rows)
    assert all(json.loads(r["reasons"]) for r in rows)
    assert f"{len(rows)} listings written" in result.stderr
