"""Enrichment in real crawls: Scrapy, the replica over loopback HTTP, SQLite.

One Tokopedia crawl with enrichment on, against a replica of its own in which one listing's
page was planted with hostile photo URLs (a local file, a loopback port, a foreign host):
listing pages, contacts and photos are stored as chained evidence that ``verify`` proves,
listings are flagged by what only their page says, and the hostile URLs are refused and
never fetched. A second crawl shows the per-run cap on listing pages.
"""

from __future__ import annotations

import json
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import load_lexicon
from crawler.replica.server import ReplicaServer
from crawler.runtime.replica_mode import replica_url
from spiders import tokopedia
from tests.helpers import Crawl, crawl_replica, open_db, run_command

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from crawler.items import Listing

pytestmark = pytest.mark.crawl

KEYWORDS = "keywords=monza,preloved korea"  # sellers who write their numbers
HOSTILE_URLS = ("file:///etc/hostname", "http://127.0.0.1:1/x",
                "https://photos.seller-own-site.example/a.jpg")


def post_json(url: str, payload: Any) -> Any:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def plant_hostile_photos(replica: ReplicaServer) -> Listing:
    """Make the first flagged Tokopedia result for "monza" show hostile photo URLs on its
    page (besides its own first photo); returns that card."""
    spider = tokopedia.TokopediaSpider()
    search = spider.search_request("monza", 1)
    cards = tokopedia.parse_search_body(post_json(replica_url(search.url, replica.url), json.loads(
        search.body)), "monza").listings
    lexicon = load_lexicon()
    card = next(c for c in cards if flag(vars(c), lexicon).flagged)
    pdp = spider.listing_page_request(card)
    answer = post_json(replica_url(pdp.url, replica.url), json.loads(pdp.body))
    media = next(c for c in answer[0]["data"]["pdpGetLayout"]["components"]
                 if c["name"] == "product_media")["data"][0]["media"]
    media[1:] = [{**media[0], "URLOriginal": url, "URLMaxRes": url} for url in HOSTILE_URLS]
    _, product_key = tokopedia.pdp_variables(card.url)
    replica.plant("gql.tokopedia.com", product_key, json.dumps(answer))
    return card


@pytest.fixture(scope="module")
def enriched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Crawl, Any]]:
    folder = tmp_path_factory.mktemp("enrich")
    db = folder / "evidence.db"
    with ReplicaServer() as replica:
        planted = plant_hostile_photos(replica)
        result = crawl_replica(replica, db, "tokopedia", "-a", KEYWORDS, "-a", "max_pages=1",
                               "-s", "THRIFTWATCH_ENRICH=True",
                               "-s", "THRIFTWATCH_PROGRESS_ENABLED=False")
    conn = open_db(db)
    yield Crawl(db, conn, result.stderr), planted
    conn.close()


def run_stats(conn) -> dict[str, Any]:
    return json.loads(conn.execute("SELECT stats FROM run_ends").fetchone()[0])


def test_listing_pages_are_stored_with_their_captures(enriched):
    crawl, _ = enriched
    conn = crawl.conn
    pages = conn.execute("SELECT * FROM listing_pages").fetchall()
    cards = conn.execute("SELECT COUNT(DISTINCT listing_id) FROM observations "
                         "WHERE keyword IS NOT NULL").fetchone()[0]
    assert 0 < len(pages) <= cards
    for page in pages:
        capture = conn.execute("SELECT * FROM captures WHERE id = ?",
                               [page["capture_id"]]).fetchone()
        assert capture["url"].endswith("/graphql/PDPGetLayoutQuery")
        assert capture["body_sha256"] == page["capture_sha256"]
        assert page["description"]
        assert page["seller_name"]
        assert page["seller_joined"]
        assert isinstance(page["seller_followers"], int)
        assert json.loads(page["image_urls"])


def test_each_page_is_a_sighting_flagged_again_and_the_listing_latest(enriched):
    conn = enriched[0].conn
    sightings = conn.execute(
        "SELECT o.*, f.flagged FROM observations o JOIN flags f ON f.observation_id = o.id "
        "WHERE o.keyword IS NULL").fetchall()
    pages = conn.execute("SELECT COUNT(*) FROM listing_pages").fetchone()[0]
    assert len(sightings) >= pages
    assert all(s["description"] for s in sightings)
    stale = conn.execute(
        "SELECT COUNT(*) FROM listings l JOIN observations o ON o.id = l.last_observation_id "
        "WHERE o.keyword IS NOT NULL AND l.listing_id IN (SELECT listing_id FROM listing_pages)"
    ).fetchone()[0]
    assert stale == 0  # a listing whose page was read is known by its page


def test_a_listing_is_flagged_by_what_only_its_page_says(enriched):
    conn = enriched[0].conn
    by_page = conn.execute("""
        SELECT card.listing_id FROM observations card
        JOIN flags cf ON cf.observation_id = card.id AND cf.flagged = 0
        JOIN observations page ON page.listing_id = card.listing_id AND page.keyword IS NULL
        JOIN flags pf ON pf.observation_id = page.id AND pf.flagged = 1
        WHERE card.keyword IS NOT NULL AND card.description IS NULL""").fetchall()
    assert by_page, "no listing flagged by its page alone"
    assert run_stats(conn)["thriftwatch/enrich/flagged_by_page"] >= len(
        {row["listing_id"] for row in by_page})


def test_contacts_are_stored_with_their_field_and_capture(enriched):
    conn = enriched[0].conn
    contacts = conn.execute("SELECT * FROM contacts").fetchall()
    assert {c["source"] for c in contacts} == {"card", "page"}
    phones = [c for c in contacts if c["kind"] in ("phone", "whatsapp")]
    assert phones, "no phone number read from any listing page"
    for contact in phones:
        assert contact["value"].startswith("+62")
        assert contact["value"][1:].isdigit()
    captures = {row[0] for row in conn.execute("SELECT body_sha256 FROM captures")}
    assert all(c["capture_sha256"] in captures for c in contacts)
    page_contacts = [c for c in contacts if c["source"] == "page"]
    page_captures = {row[0] for row in conn.execute("SELECT capture_sha256 FROM listing_pages")}
    assert all(c["capture_sha256"] in page_captures for c in page_contacts)


def test_flagged_listings_photos_are_stored_with_their_phash(enriched):
    conn = enriched[0].conn
    images = conn.execute("SELECT * FROM images").fetchall()
    assert images
    flagged = {row[0] for row in conn.execute(
        "SELECT o.listing_id FROM observations o JOIN flags f ON f.observation_id = o.id "
        "WHERE f.flagged = 1")}
    for image in images:
        assert image["listing_id"] in flagged
        assert image["url"].startswith("https://images.tokopedia.net/")
        assert len(image["phash"]) == 16
        assert image["width"] > 0
        assert image["height"] > 0
        assert conn.execute("SELECT 1 FROM capture_bodies WHERE sha256 = ?",
                            [image["body_sha256"]]).fetchone()
    per_listing = conn.execute("SELECT MAX(n) FROM (SELECT COUNT(*) n FROM images "
                               "GROUP BY listing_id)").fetchone()[0]
    assert per_listing <= 4


def test_hostile_photo_urls_are_refused_and_never_fetched(enriched):
    crawl, planted = enriched
    conn = crawl.conn
    faults = conn.execute("SELECT url, detail FROM faults WHERE kind = 'refused_url'").fetchall()
    refused = {row["url"] for row in faults}
    for url in HOSTILE_URLS:
        assert any(url in stored or stored in url for stored in refused), (url, refused)
        assert not conn.execute("SELECT 1 FROM captures WHERE url = ?", [url]).fetchone()
        assert not conn.execute("SELECT 1 FROM images WHERE url = ?", [url]).fetchone()
    assert conn.execute("SELECT COUNT(*) FROM images WHERE listing_id = ?",
                        [planted.listing_id]).fetchone()[0] == 1
    assert run_stats(conn)["thriftwatch/enrich/images_refused"] == len(HOSTILE_URLS)
    assert "etc/hostname" not in crawl.log or "refused_url" in crawl.log


def test_verify_proves_the_enriched_db_and_run_health_counts_listing_pages(enriched):
    crawl, _ = enriched
    result = run_command("thriftwatch", "verify", "--db", str(crawl.db))
    assert result.returncode == 0, result.stdout + result.stderr
    stats = run_stats(crawl.conn)
    pages = crawl.conn.execute("SELECT COUNT(*) FROM listing_pages").fetchone()[0]
    assert stats["thriftwatch/listing_pages/tokopedia"] == pages
    assert stats["thriftwatch/pages/tokopedia"] == pages + 2  # two search pages
    assert stats["thriftwatch/health"] == "ok"


def test_the_detail_cap_bounds_listing_pages_per_run(tmp_path: Path):
    db = tmp_path / "capped.db"
    with ReplicaServer() as replica:
        crawl_replica(replica, db, "tokopedia", "-a", KEYWORDS, "-a", "max_pages=1",
                      "-s", "THRIFTWATCH_ENRICH=True", "-s", "THRIFTWATCH_DETAIL_CAP=3",
                      "-s", "THRIFTWATCH_IMAGE_CAP=0")
    conn = open_db(db)
    assert conn.execute("SELECT COUNT(*) FROM listing_pages").fetchone()[0] == 3
    assert conn.execute("SELECT COUNT(*) FROM images").fetchone()[0] == 0
    stats = run_stats(conn)
    assert stats["thriftwatch/enrich/capped"] > 0
    assert conn.execute("SELECT COUNT(*) FROM contacts WHERE source = 'card'").fetchone()[0] > 0
    conn.close()


@pytest.mark.crawl
def test_a_photo_cdn_redirecting_elsewhere_is_refused_without_failing_the_run(tmp_path: Path):
    """Every photo answer redirects off the CDN host: no redirect is followed, the refusals
    are counted as refused photos, and the run's health stays ok (a seller's or CDN's
    redirect must not fail a run)."""
    db = tmp_path / "redirected.db"
    with ReplicaServer() as replica:
        replica.set_fault("images.tokopedia.net", "offsite", 100_000)
        crawl_replica(replica, db, "tokopedia", "-a", "keywords=balpres", "-a", "max_pages=1",
                      "-s", "THRIFTWATCH_ENRICH=True", "-s", "THRIFTWATCH_DETAIL_CAP=5")
    conn = open_db(db)
    stats = run_stats(conn)
    assert stats["thriftwatch/health"] == "ok"
    assert stats.get("thriftwatch/enrich/images_refused", 0) > 0
    assert not any(key.startswith("thriftwatch/faults/refused_url") for key in stats)
    assert conn.execute("SELECT COUNT(*) FROM images").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM faults WHERE kind = 'refused_url'").fetchone()[0]


def test_the_image_byte_budget_holds_across_concurrent_downloads(tmp_path: Path):
    """With a budget smaller than the run's photos, the photos stored never add up to more
    than it, though several download at once; the first photo that does not fit spends it
    (one ``image_budget_spent`` fault), and no photo is reported as a failed download."""
    db = tmp_path / "budget.db"
    budget = 60_000
    with ReplicaServer() as replica:
        crawl_replica(replica, db, "tokopedia", "-a", KEYWORDS, "-a", "max_pages=1",
                      "-s", "THRIFTWATCH_ENRICH=True", "-s", "THRIFTWATCH_DETAIL_CAP=20",
                      "-s", f"THRIFTWATCH_IMAGE_BYTES={budget}")
    conn = open_db(db)
    stats = run_stats(conn)
    stored = conn.execute("SELECT COUNT(*), SUM(b.size) FROM images i JOIN capture_bodies b "
                          "ON b.sha256 = i.body_sha256").fetchone()
    assert stored[0] >= 1
    assert stored[1] <= stats["thriftwatch/enrich/image_bytes"] <= budget
    assert stats["thriftwatch/enrich/images_over_budget"] > 0
    faults = dict(conn.execute("SELECT kind, COUNT(*) FROM faults GROUP BY kind").fetchall())
    assert faults.get("image_budget_spent") == 1
    assert "image_error" not in faults
    assert stats["thriftwatch/health"] == "ok"
    conn.close()
