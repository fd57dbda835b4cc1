"""The Tokopedia spider, run by Scrapy for real, through replica mode over loopback HTTP."""

import json
import zlib

from tests.helpers import crawled_db, run_command

crawled = crawled_db("tokopedia", "-a", "keywords=balpres,thrift", "-a", "max_pages=2")

def test_scrapy_list_shows_tokopedia():
    result = run_command("scrapy", "list")
    assert result.returncode == 0, result.stderr
    assert "tokopedia" in result.stdout.split()


def test_pages_every_keyword_to_max_pages(crawled):
    conn = crawled.conn
    rows = conn.execute("SELECT keyword, COUNT(*) n FROM observations GROUP BY keyword").fetchall()
    assert {r["keyword"]: r["n"] for r in rows} == {"balpres": 120, "thrift": 120}
    search_captures = conn.execute(
        "SELECT COUNT(*) FROM captures WHERE url LIKE '%SearchProductV5Query' AND status = 200"
    ).fetchone()[0]
    assert search_captures == 4


def test_evidence_records_real_urls_and_the_replica_that_served_them(crawled, replica):
    conn = crawled.conn
    run = conn.execute("SELECT * FROM runs").fetchone()
    assert run["replica"] == replica.url
    assert run["status"] == "finished"
    assert json.loads(run["keywords"]) == ["balpres", "thrift"]
    assert run["lexicon_version"]
    urls = {r["url"] for r in conn.execute("SELECT url FROM captures")}
    assert "https://gql.tokopedia.com/graphql/SearchProductV5Query" in urls
    assert not any("127.0.0.1" in url for url in urls)
    served = {r["replica"] for r in conn.execute("SELECT replica FROM captures")}
    assert served == {replica.url}
    listing_urls = [r["url"] for r in conn.execute("SELECT url FROM observations")]
    assert all(url.startswith("https://www.tokopedia.com/") for url in listing_urls)


def test_every_observation_points_at_the_raw_body_it_came_from(crawled):
    conn = crawled.conn
    rows = conn.execute("""
        SELECT o.listing_id, o.title, b.body FROM observations o
        JOIN captures c ON c.id = o.capture_id
        JOIN capture_bodies b ON b.sha256 = o.capture_sha256 AND b.sha256 = c.body_sha256
    """).fetchall()
    assert len(rows) == 240
    for row in rows[::37]:
        products = json.loads(zlib.decompress(row["body"]))[0]["data"]["searchProductV5"]["data"]
        assert row["listing_id"] in {p["id"] for p in products["products"]}


def test_listings_are_normalised_and_flagged_with_reasons(crawled):
    conn = crawled.conn
    rows = conn.execute("""
        SELECT o.*, f.flagged, f.level, f.reasons FROM observations o
        JOIN flags f ON f.observation_id = o.id
    """).fetchall()
    assert len(rows) == 240
    assert all(isinstance(r["price_idr"], int) and r["price_idr"] > 0 for r in rows)
    assert sum(r["sold_count"] is not None for r in rows) > 100
    assert all(r["location"] and not r["location"].isupper() for r in rows)
    flagged = [r for r in rows if r["flagged"]]
    assert 0 < len(flagged) < len(rows)
    assert all(json.loads(r["reasons"]) for r in flagged)
    assert {r["level"] for r in flagged} <= {"strong", "medium"}


def test_secrets_and_the_remote_control_server_stay_out(crawled):
    conn, log = crawled.conn, crawled.log
    assert "Enabled extensions" in log
    assert "RemoteControl" not in log
    assert "TelnetConsole" not in log
    headers = " ".join(r[0] + r[1] for r in conn.execute(
        "SELECT request_headers, response_headers FROM captures"))
    assert "cookie" not in headers.lower()
