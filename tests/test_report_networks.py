"""The report's seller networks and takedown compliance, on a real evidence DB written through
the store's API: the network drawn (accounts coloured by platform, links labelled by kind),
its accounts and links with their captures, the returning seller with the link that proves
it, hostile seller text escaped in HTML and SVG, and compliance counted from the rechecks
made after each request."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from crawler.cli import main
from crawler.evidence.store import EvidenceStore
from crawler.ops.report import PLATFORM_COLOURS, gather, render, takedown_compliance
from crawler.sellers.networks import network_id
from tests.test_sellers_command import PHONE, build_case, capture

SCRIPT_NAME = '<script>alert(1)</script><svg onload="x()">'
SERVE = "http://127.0.0.1:8001"
KEYS = ["lazada:third", "lazada:hostile", "shopee:new", "tokopedia:old"]


def add_hostile_account(db) -> str:
    """A fourth account of the operator (the same number) whose name is markup and whose
    shop URL is a javascript: URL."""
    store = EvidenceStore(db)
    run = store.start_run(platform="lazada", keywords=["balpres"])
    capture_id, digest = capture(store, run, "https://lazada.example/search?h1", b"page h1")
    store.add_observation(run, {
        "platform": "lazada", "listing_id": "h1", "keyword": "balpres",
        "url": "javascript:alert(2)", "title": "Balpres h1", "seller_id": "hostile",
        "seller_name": SCRIPT_NAME, "seller_url": "javascript:alert(3)",
        "capture_id": capture_id, "capture_sha256": digest, "level": "strong",
        "flagged": True, "score": 0.9,
        "reasons": [{"rule": "term:balpres", "matched": "balpres", "weight": 0.6}]})
    store.add_contacts(run, [{"platform": "lazada", "listing_id": "h1", "source": "page",
                              "field": "description", "kind": "phone", "value": PHONE,
                              "raw": "<b>0812 3456 7890</b>", "capture_sha256": digest}])
    store.end_run(run, status="finished", stats={})
    store.close()
    return digest


@pytest.fixture
def case(tmp_path):
    db = tmp_path / "case.db"
    digests = build_case(db)
    digests["h1"] = add_hostile_account(db)
    return db, digests


def report_of(db):
    store = EvidenceStore(db, check=True)
    try:
        data = gather(store, None)
    finally:
        store.close()
    return data, render(data, db.name, SERVE)


class Elements(HTMLParser):
    """Every start tag and its attributes, as a browser's parser would see them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_the_network_is_drawn_and_tabled_with_its_evidence(case):
    db, digests = case
    data, page = report_of(db)
    assert (data.network_count, data.networked_accounts) == (1, 4)
    [network] = data.networks
    assert network["network_id"] == network_id(KEYS)
    section = page[page.index("<h2>Seller networks</h2>"):page.index("<h2>Takedown compliance")]
    assert "1 networks of two or more accounts (4 accounts)" in section
    [svg] = re.findall(r"<svg .*?</svg>", section, re.DOTALL)
    circles = re.findall(r'<circle [^>]*fill="([^"]+)"', svg)
    assert sorted(circles) == sorted(PLATFORM_COLOURS[key.split(":")[0]] for key in KEYS)
    labels = re.findall(r'<text [^>]*class="small">([^<]*)</text>', svg)
    assert "phone" in labels  # the number links old, new and hostile
    assert "image" in labels  # the re-encoded photo links new and third
    assert 'stroke-dasharray="5 4"' in svg  # a photo is a medium link
    # Evidence: each side's capture, linked into thriftwatch serve.
    for listing in ("t1", "s1", "h1"):
        assert f'href="{SERVE}/-/capture/{digests[listing]}"' in section
    assert f"<code>{PHONE}</code>" in section


def test_returning_sellers_are_named_with_the_proving_link(case):
    db, digests = case
    data, page = report_of(db)
    returned = sorted(proof["returned"] for proof in data.returning)
    assert returned == ["lazada:hostile", "lazada:third", "shopee:new"]
    items = re.findall(r"<li>(.*?)</li>", page, re.DOTALL)
    [new] = [item for item in items if item.startswith("<b>shopee:new</b>")]
    assert "after <b>tokopedia:old</b> was taken down" in new
    assert f"phone <code>{PHONE}</code>" in new
    assert digests["t1"] in new
    assert digests["s1"] in new
    [third] = [item for item in items if item.startswith("<b>lazada:third</b>")]
    assert third.index("phone") < third.index("image")  # the chain: number, then photo


def test_seller_text_stays_text_in_html_and_svg(case):
    db, _ = case
    _, page = report_of(db)
    parser = Elements()
    parser.feed(page)
    tags = [tag for tag, _ in parser.tags]
    assert "script" not in tags
    assert tags.count("svg") == page.count("<svg ")  # no <svg> smuggled in by a name
    for tag, attrs in parser.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        href = attrs.get("href") or ""
        assert href.startswith(("http://", "https://")) or not href, href
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "javascript:alert(3)</code>" in page  # shown as text, never a link


def test_compliance_counts_accounts_by_the_rechecks_after_each_request(case):
    db, digests = case
    _, page = report_of(db)
    assert "no takedown requests yet" in page
    assert main(["takedown", "--db", str(db), "--platform", "tokopedia",
                 "-o", str(db.with_suffix(".csv"))]) == 0
    data, _ = report_of(db)
    # The rechecks in the case came before the request: they say nothing about it.
    assert data.compliance["tokopedia"]["requested"] == 1
    assert data.compliance["tokopedia"]["not_rechecked"] == 1
    store = EvidenceStore(db)
    long_ago = (datetime.now(UTC) - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    store.add_takedown_request({
        "platform": "shopee", "created_at": long_ago,
        "accounts": [{"platform": "shopee", "seller_id": "new", "url": "https://x"}],
        "listing_urls": ["https://www.shopee.com/new/s1"],
        "evidence": [{"listing_id": "s1", "capture_sha256": digests["s1"],
                      "observation_id": 1}]})
    recheck = store.start_run(platform="recheck")
    for platform, listing_id, status in (("tokopedia", "t1", "removed"),
                                         ("tokopedia", "t2", "blocked"),
                                         ("shopee", "s1", "live")):
        store.add_recheck(recheck, {"platform": platform, "listing_id": listing_id,
                                    "url": f"https://www.{platform}.com/{listing_id}",
                                    "status": status, "http_status": 200})
    store.end_run(recheck, status="finished", stats={})
    store.close()
    data, page = report_of(db)
    assert data.compliance["tokopedia"] == {
        "requested": 1, "removed": 1, "live_after_1d": 0, "live_after_7d": 0,
        "live_after_30d": 0, "not_rechecked": 0}
    assert data.compliance["shopee"] == {
        "requested": 1, "removed": 0, "live_after_1d": 1, "live_after_7d": 1,
        "live_after_30d": 1, "not_rechecked": 0}
    assert "<th>still live after 30 days</th>" in page


def test_compliance_by_days_from_plain_rows():
    start = datetime(2026, 3, 1, tzinfo=UTC)

    def at(days: float) -> str:
        return (start + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    requests = [
        {"platform": "shopee", "created_at": at(0),
         "accounts": [{"platform": "shopee", "seller_id": "a"}],
         "evidence": [{"listing_id": "1"}, {"listing_id": "2"}]},
        {"platform": "shopee", "created_at": at(0),
         "accounts": [{"platform": "shopee", "seller_id": "b"}],
         "evidence": [{"listing_id": "3"}]},
        {"platform": "olx", "created_at": at(0), "accounts": [{"seller_id": "c"}],
         "evidence": [{"listing_id": "9"}]},
    ]
    rechecks = [("shopee", "1", "live", at(-1)),  # before the request: not counted
                ("shopee", "1", "live", at(2)),  # still up after a day
                ("shopee", "2", "removed", at(2)),
                ("shopee", "1", "removed", at(8)),  # gone within 8 days
                ("shopee", "3", "live", at(31)),
                ("shopee", "3", "error", at(40))]  # an error says nothing
    assert takedown_compliance(requests, rechecks) == {
        "olx": {"requested": 1, "removed": 0, "live_after_1d": 0, "live_after_7d": 0,
                "live_after_30d": 0, "not_rechecked": 1},
        "shopee": {"requested": 2, "removed": 1, "live_after_1d": 2, "live_after_7d": 1,
                   "live_after_30d": 1, "not_rechecked": 0}}


def test_a_db_without_networks_says_so(tmp_path):
    store = EvidenceStore(tmp_path / "empty.db")
    run = store.start_run(platform="shopee", keywords=["balpres"])
    store.end_run(run, status="finished", stats={})
    store.close()
    data, page = report_of(tmp_path / "empty.db")
    assert data.networks == []
    assert data.compliance == {}
    assert "no seller networks" in page
    assert "no takedown requests yet" in page
