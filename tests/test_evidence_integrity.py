"""Evidence that one hostile value cannot lose or falsely accuse: out-of-range values are set
aside as faults, a row that cannot be written is split off, and a DB written from any
platform data verifies. Seller data is planted in the replica in Tokopedia's real shape."""

from __future__ import annotations

import copy
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.utils.test import get_crawler

from crawler.config import Config
from crawler.evidence.store import EvidenceStore
from crawler.evidence.verify import verify_db
from crawler.keys import Stats
from crawler.normalise import parse_price_idr
from crawler.ops.health import RunRecord, check_run
from crawler.replica import tokopedia as replica_tokopedia
from crawler.replica.catalogue import build_catalogue, search
from crawler.runtime.recorder import EvidenceRecorder
from spiders.tokopedia import TokopediaSpider
from tests.helpers import crawl_replica, open_db, run_command

HOST = "gql.tokopedia.com"


def tokopedia_answer(keyword: str, products: list[dict]) -> str:
    """A SearchProductV5 answer in the real envelope, holding ``products`` as given."""
    body = replica_tokopedia.search_response(keyword, (), len(products))
    body[0]["data"]["searchProductV5"]["data"]["products"] = products
    return json.dumps(body, allow_nan=True)


def real_products(keyword: str, count: int) -> list[dict]:
    offers = search(build_catalogue(), "balpres")[:count]
    return [replica_tokopedia.product(offer, keyword, "X") for offer in offers]


# -- one bad value loses nothing ------------------------------------------------------------

@pytest.mark.crawl
def test_a_price_of_ten_to_the_twenty_loses_no_listing_and_no_later_page(replica, tmp_path):
    products = real_products("hargagila", 12)
    products[3]["price"]["number"] = 10**20  # Tokopedia's price.number is unbounded
    replica.plant(HOST, "hargagila", tokopedia_answer("hargagila", products))
    db = tmp_path / "evidence.db"
    result = crawl_replica(replica, db, "tokopedia", "-a", "keywords=hargagila,balpres",
                           "-a", "max_pages=1")
    conn = open_db(db)
    counts = dict(conn.execute("SELECT keyword, COUNT(*) FROM observations GROUP BY keyword"))
    assert counts == {"hargagila": 12, "balpres": 60}  # the bad one too, and the next page
    bad = conn.execute("SELECT * FROM observations WHERE listing_id = ?",
                       [products[3]["id"]]).fetchone()
    # The number is set aside; the price the page shows as text is read instead.
    assert bad["price_text"] == products[3]["price"]["text"]
    assert bad["price_idr"] == parse_price_idr(bad["price_text"]) < 10**13
    [fault] = conn.execute("SELECT * FROM faults WHERE kind = 'field_out_of_range'").fetchall()
    assert f"tokopedia/{products[3]['id']}" in fault["detail"]
    assert "price_idr" in fault["detail"]
    assert fault["capture_id"] == bad["capture_id"]
    stats = json.loads(conn.execute("SELECT stats FROM runs").fetchone()[0])
    assert stats[Stats.OBSERVATIONS] == 72
    assert "warning refused_values" in result.stderr
    assert verify_db(db).ok


@pytest.mark.crawl
def test_values_sqlite_would_convert_still_verify(replica, tmp_path):
    """A shop URL that is a number, a NaN rating, a float sold count: a clean DB verifies."""
    products = real_products("anehsaja", 6)
    products[0]["shop"]["url"] = 12345
    products[1]["rating"] = "NaN"
    products[2]["rating"] = "Infinity"
    products[3]["shop"]["id"] = 4.0
    products[4]["shop"]["city"] = 3.5
    products[5]["name"] = 10**30
    replica.plant(HOST, "anehsaja", tokopedia_answer("anehsaja", products))
    db = tmp_path / "evidence.db"
    crawl_replica(replica, db, "tokopedia", "-a", "keywords=anehsaja", "-a", "max_pages=1")
    conn = open_db(db)
    assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 6
    rows = {r["listing_id"]: r for r in conn.execute("SELECT * FROM observations")}
    assert rows[products[0]["id"]]["seller_url"] == "12345"
    assert rows[products[1]["id"]]["rating"] is None
    assert rows[products[5]["id"]]["title"] == str(10**30)
    verified = run_command("thriftwatch", "verify", "--db", str(db))
    assert verified.returncode == 0, verified.stdout + verified.stderr


# -- a row that cannot be written is split off, and the run fails its health check -----------

def test_a_batch_with_an_unwritable_row_stores_the_others_and_records_a_fault(tmp_path):
    crawler = get_crawler(TokopediaSpider, {"THRIFTWATCH_DB": str(tmp_path / "e.db"),
                                            "THRIFTWATCH_STORE_BATCH": 10})
    crawler.spider = crawler._create_spider(keywords="balpres")
    recorder = EvidenceRecorder(crawler, Config.from_crawler(crawler))
    recorder.spider_opened(crawler.spider)
    listings = [{"platform": "tokopedia", "listing_id": str(n), "url": f"https://x/{n}",
                 "title": "bal", "keyword": "balpres", "capture_id": n} for n in range(9)]
    listings[4]["capture_id"] = "not a capture"  # a value no INTEGER column holds as it is
    for listing in listings:
        recorder.add_observation(listing)
    recorder.flush()
    conn = recorder.store.conn
    stored = [row[0] for row in conn.execute("SELECT listing_id FROM observations ORDER BY id")]
    assert stored == ["0", "1", "2", "3", "5", "6", "7", "8"]
    [fault] = conn.execute("SELECT kind, detail FROM faults").fetchall()
    assert fault[0] == "store_error"
    assert "tokopedia/4" in fault[1]
    assert "capture_id" in fault[1]
    stats = crawler.stats.get_stats()
    assert stats[Stats.STORE_ERRORS] == 1
    assert stats[Stats.OBSERVATIONS] == 8
    report = check_run(RunRecord("tokopedia", 1, {**stats, "finish_reason": "finished",
                                                  Stats.ITEMS: 9, Stats.pages("tokopedia"): 1}),
                       [])
    assert report.status == "failing"
    assert "store_errors" in {finding.check for finding in report.findings}
    recorder.store.close()
    assert verify_db(tmp_path / "e.db").ok


# -- whatever the values, what is stored verifies ---------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**25), 10**25)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=3),
    max_leaves=6)
STORED_FIELDS = ("url", "title", "description", "price_idr", "price_text", "seller_id",
                 "seller_name", "seller_url", "location", "sold_count", "sold_text", "rating",
                 "category", "image_urls", "condition", "imported", "posted_at", "keyword",
                 "capture_id", "capture_sha256", "level", "score", "flagged", "reasons")


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.dictionaries(st.sampled_from(STORED_FIELDS), json_values, max_size=8),
                min_size=1, max_size=6))
def test_any_listing_values_are_stored_as_refused_or_verifiable(tmp_path_factory, listings):
    db = tmp_path_factory.mktemp("any") / "e.db"
    store = EvidenceStore(db)
    run = store.start_run(platform="tokopedia", keywords=["k"])
    batch = [{**values, "platform": "tokopedia", "listing_id": str(n), "keyword": "k"}
             for n, values in enumerate(listings)]
    stored, failed = store.add_observations_salvaging(run, batch)
    assert stored + len(failed) == len(batch)
    store.close()
    result = verify_db(db)
    assert result.ok, result.problems


@pytest.mark.crawl
@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.dictionaries(
    st.sampled_from(["name", "url", "price", "shop", "rating", "labelGroups", "category",
                     "mediaURL", "id"]), json_values, min_size=1, max_size=4),
    min_size=8, max_size=8))
def test_a_crawl_of_any_platform_json_verifies(replica, tmp_path_factory, mutations):
    """Real products with fields replaced by arbitrary JSON, eight pages in one crawl."""
    keywords = [f"acak{n}x{id(mutations) % 10_000}" for n in range(len(mutations))]
    base = real_products("x", 4)
    for keyword, mutation in zip(keywords, mutations, strict=True):
        products = copy.deepcopy(base)
        for product in products:
            product.update(mutation)
        replica.plant(HOST, keyword, tokopedia_answer(keyword, products))
    db = tmp_path_factory.mktemp("anyjson") / "e.db"
    crawl_replica(replica, db, "tokopedia", "-a", f"keywords={','.join(keywords)}",
                  "-a", "max_pages=1")
    result = verify_db(db)
    assert result.ok, result.problems
    conn = open_db(db)
    assert conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'finished'").fetchone()[0] == 1
    floats = [row[0] for row in conn.execute("SELECT rating FROM observations")]
    assert all(value is None or math.isfinite(value) for value in floats)


@pytest.mark.crawl
def test_one_unreadable_result_costs_itself_alone(replica, tmp_path):
    """A result whose field has a shape the parser cannot read does not lose its page."""
    products = real_products("satujelek", 12)
    products[5]["rating"] = "lima bintang"  # no number
    products[7]["id"] = None  # no id
    replica.plant(HOST, "satujelek", tokopedia_answer("satujelek", products))
    db = tmp_path / "evidence.db"
    result = crawl_replica(replica, db, "tokopedia", "-a", "keywords=satujelek",
                           "-a", "max_pages=1")
    conn = open_db(db)
    stored = {row[0] for row in conn.execute("SELECT listing_id FROM observations")}
    assert stored == {p["id"] for p in products} - {products[5]["id"], None}
    faults = conn.execute("SELECT kind, detail, capture_id FROM faults").fetchall()
    assert [f["kind"] for f in faults] == ["item_parse_error", "item_parse_error"]
    assert all(f["capture_id"] for f in faults)
    assert products[5]["id"] in faults[0]["detail"] or products[5]["id"] in faults[1]["detail"]
    assert "warning item_parse_errors" in result.stderr
