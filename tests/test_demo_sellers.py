"""``thriftwatch demo``'s sellers step: the summary line and the spiders that search again
(pure), then the whole demo against the replica's own truth: every planted network found
among the accounts the demo saw, no unrelated account merged, returning sellers found after
the replica's takedown."""

from __future__ import annotations

import re

import pytest

from crawler.commands.demo import PROFILE_SPIDER, return_spiders, sellers_line
from crawler.evidence.store import EvidenceStore
from crawler.sellers.networks import build_networks
from crawler.sellers.stored import read_networks
from tests.helpers import run_command

PHONE = "+6281234567890"


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
    result = run_command("thriftwatch", "demo", "--db", str(db))
    assert result.returncode == 0, result.stderr[-3000:]
    return db, result.stdout


@pytest.mark.crawl
@pytest.mark.browser
def test_the_demo_finds_the_planted_networks_and_the_returning_sellers(demo):
    from crawler.replica.networks import planted_networks, returning_accounts

    db, out = demo
    assert "takedown: the replica took down 4 accounts" in out
    store = EvidenceStore(db, check=True)
    try:
        seen = {f"{a['platform']}:{a['seller_id']}" for a in store.accounts()}
        networks = [n for n in read_networks(store) if len(n.accounts) > 1]
    finally:
        store.close()
    found = [set(n.keys) for n in networks]
    planted = [set(network) & seen for network in planted_networks()]
    # No unrelated account merged: every network found lies inside one planted network.
    for group in found:
        assert any(group <= network for network in planted), sorted(group)
    # Every planted network found: the accounts the demo saw of each are one network.
    for network in planted:
        if len(network) > 1:
            assert network in found, sorted(network)
    returned = {proof["returned"] for n in networks for proof in n.returning_evidence}
    assert returned == returning_accounts() & seen
    assert returned  # the second crawl saw the returning sellers
    line = re.search(r"sellers: (\d+) networks .* (\d+) returning sellers", out)
    assert line, out[-2000:]
    assert (int(line[1]), int(line[2])) == (len(found), len(returned))
