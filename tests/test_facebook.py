"""Facebook Marketplace: the GraphQL feed parser, and a real scrolled crawl in Chromium."""

import json
import zlib

import pytest

from crawler.replica.server import ReplicaServer
from spiders.base import BlockedError, ResponseShapeError
from spiders.facebook import parse_feed_units, parse_rendered_search
from tests.helpers import crawl_replica, crawled_db, open_db

DRAWN = '<div role="main"><a href="/marketplace/item/24000000000000001/?ref=search">x</a></div>'
LOGIN_WALL = '<h2>Log in to continue</h2><form id="login_form" method="post"></form>'


def graphql_page(*listings: dict, has_next: bool = True, end: int = 24) -> bytes:
    edges = [{"node": {"__typename": "MarketplaceFeedListingStoryObject", "listing": listing},
              "cursor": None} for listing in listings]
    return json.dumps({"data": {"marketplace_search": {"feed_units": {
        "edges": edges,
        "page_info": {"end_cursor": json.dumps({"pg": 1, "c2c": {"it": end}}),
                      "has_next_page": has_next}}}},
        "extensions": {"is_final": True}}).encode()


def product_item(listing_id: str, title: str = "Balpres Jaket Korea isi 100 pcs") -> dict:
    return {
        "__typename": "GroupCommerceProductItem", "id": listing_id,
        "marketplace_listing_title": title,
        "listing_price": {"formatted_amount": "Rp1.500.000", "amount": "1500000.00"},
        "location": {"reverse_geocode": {"city": "Medan",
                                         "city_page": {"display_name": "Medan"}}},
        "primary_listing_photo": {"image": {"uri": "https://scontent.xx.fbcdn.net/v/a_n.jpg"}},
        "marketplace_listing_seller": {"__typename": "User", "id": "100000000012345",
                                       "name": "Gudang Bal Medan"},
    }


def test_a_feed_listing_becomes_a_listing():
    page = parse_feed_units(json.loads(graphql_page(product_item("2401")))["data"]
                            ["marketplace_search"]["feed_units"], "balpres")
    [listing] = page.listings
    assert page.has_more
    assert listing.listing_id == "2401"
    assert listing.url == "https://www.facebook.com/marketplace/item/2401/"
    assert listing.title == "Balpres Jaket Korea isi 100 pcs"
    assert listing.keyword == "balpres"
    assert listing.price_text == "Rp1.500.000"
    assert listing.location == "Medan"
    assert listing.seller_id == "100000000012345"
    assert listing.seller_name == "Gudang Bal Medan"
    assert listing.seller_url == "https://www.facebook.com/marketplace/profile/100000000012345/"
    assert listing.image_urls == ["https://scontent.xx.fbcdn.net/v/a_n.jpg"]


def test_every_scrolled_page_counts_once_and_other_graphql_operations_are_ignored():
    first = graphql_page(product_item("1"), product_item("2"))
    unrelated = b'{"data":{"viewer":{"notifications_unseen_count":0}}}'
    second = graphql_page(product_item("2"), product_item("3"), has_next=False, end=48)
    page = parse_rendered_search(DRAWN, [first, unrelated, second], "balpres")
    assert [listing.listing_id for listing in page.listings] == ["1", "2", "3"]
    assert not page.has_more  # the last page fetched said so


def test_login_wall_is_a_block_and_a_page_without_feed_data_is_refused():
    with pytest.raises(BlockedError):
        parse_rendered_search(LOGIN_WALL, [], "balpres")
    with pytest.raises(ResponseShapeError):
        parse_rendered_search(DRAWN, [b'{"data":{"viewer":{}}}'], "balpres")
    with pytest.raises(ResponseShapeError):
        parse_rendered_search(DRAWN, [b"<html>error</html>"], "balpres")
    broken = b'{"data":{"marketplace_search":{"feed_units":{"edges":[{"node":{"listing":{}}}]}}}}'
    with pytest.raises(ResponseShapeError):
        parse_rendered_search(DRAWN, [broken], "balpres")


# A search answer nested deeper than the interpreter follows (json raises RecursionError).
DEEP_SEARCH = b'{"data":{"marketplace_search":{"feed_units":' + b"[" * 100_000 + b"]" * 100_000 \
    + b"}}}"


def test_graphql_answers_of_other_operations_are_passed_over_json_or_not():
    """Chat, notifications, a prefix against JSON hijacking, a deeply nested answer of some
    other operation: none is search data, and none costs the search."""
    bodies = [graphql_page(product_item("1"), has_next=False),
              b"<html>chat is reconnecting</html>", b'for (;;);{"t":"heartbeat"}', b"",
              b'{"data":{"viewer":{"notifications_unseen_count":3}}}',
              b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}"]
    page = parse_rendered_search(DRAWN, bodies, "balpres")
    assert [listing.listing_id for listing in page.listings] == ["1"]
    assert page.problems == ()


def test_an_unreadable_search_answer_costs_itself_alone():
    bodies = [graphql_page(product_item("1")), DEEP_SEARCH,
              b'{"data":{"marketplace_search":{"feed_units":{"edges":7}}}}',
              graphql_page(product_item("2"), has_next=False)]
    page = parse_rendered_search(DRAWN, bodies, "balpres")
    assert [listing.listing_id for listing in page.listings] == ["1", "2"]
    assert not page.has_more
    [deep, shapeless] = page.problems
    assert deep.startswith("GraphQL response 2 of 4: GraphQL body is not JSON (nested deeper")
    assert shapeless.startswith("GraphQL response 3 of 4: not a Marketplace search feed")
    with pytest.raises(ResponseShapeError, match=r"GraphQL response 1 of 1: .*nested deeper"):
        parse_rendered_search(DRAWN, [DEEP_SEARCH], "balpres")


def test_a_streamed_answer_is_read_up_to_its_first_document():
    streamed = graphql_page(product_item("5")) + b'\r\n{"label":"deferred","data":{}}\r\n'
    page = parse_rendered_search(DRAWN, [streamed], "balpres")
    assert [listing.listing_id for listing in page.listings] == ["5"]


@pytest.mark.crawl
@pytest.mark.browser
def test_a_scrolled_page_of_nested_graphql_costs_itself_alone(tmp_path):
    """The page's second GraphQL answer (the first scroll) is nested 100,000 deep: the first
    page's listings are stored and the bad answer is an item_parse_error fault with the
    rendering's capture, where the whole search used to be lost to a RecursionError."""
    with ReplicaServer() as replica:  # its own: the planted answer is for every keyword
        replica.plant("www.facebook.com", "CometMarketplaceSearchContentPaginationQuery",
                      DEEP_SEARCH.decode())
        db = tmp_path / "evidence.db"
        result = crawl_replica(replica, db, "facebook", "-a", "keywords=balpres",
                               "-a", "city=medan", "-a", "max_pages=2")
    assert "RecursionError" not in result.stderr
    conn = open_db(db)
    assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 24
    [fault] = conn.execute("SELECT * FROM faults").fetchall()
    assert fault["kind"] == "item_parse_error"
    assert "GraphQL response 2 of 2" in fault["detail"]
    assert "nested deeper" in fault["detail"]
    capture = conn.execute("SELECT kind FROM captures WHERE id = ?", [fault["capture_id"]])
    assert capture.fetchone()["kind"] == "rendered"
    data = conn.execute("SELECT COUNT(*) FROM captures WHERE kind = 'data'").fetchone()[0]
    assert data == 2  # the bad answer is kept as evidence too
    assert "warning item_parse_errors" in result.stderr


crawled = crawled_db("facebook", "-a", "keywords=balpres,__block__balpres",
                     "-a", "city=medan", "-a", "max_pages=3", browser=True)

def _body(conn, sha256):
    row = conn.execute("SELECT body FROM capture_bodies WHERE sha256 = ?", (sha256,)).fetchone()
    return zlib.decompress(row["body"])


def test_scrolling_brings_every_graphql_page_and_each_is_stored(crawled):
    conn = crawled.conn
    data = conn.execute("SELECT * FROM captures WHERE kind = 'data' ORDER BY id").fetchall()
    assert len(data) == 3  # the first page, then one per scroll (max_pages=3)
    assert all(d["method"] == "POST" and d["url"] == "https://www.facebook.com/api/graphql/"
               for d in data)
    ids_per_page = [[edge["node"]["listing"]["id"] for edge in
                     json.loads(_body(conn, d["body_sha256"]))["data"]["marketplace_search"]
                     ["feed_units"]["edges"]] for d in data]
    assert [len(ids) for ids in ids_per_page] == [24, 24, 24]
    assert len({i for ids in ids_per_page for i in ids}) == 72  # three different pages
    observed = {r["listing_id"] for r in conn.execute("SELECT listing_id FROM observations")}
    assert observed == {i for ids in ids_per_page for i in ids}


def test_listings_link_the_screenshot_taken_after_the_last_scroll(crawled):
    conn = crawled.conn
    rows = conn.execute("SELECT * FROM observations").fetchall()
    assert len(rows) == 72
    assert {r["keyword"] for r in rows} == {"balpres"}
    assert all(r["url"].startswith("https://www.facebook.com/marketplace/item/") and r["price_idr"]
               and r["location"] and r["seller_url"] for r in rows)
    [page] = conn.execute("SELECT * FROM captures WHERE kind = 'rendered' AND url LIKE "
                          "'%query=balpres'").fetchall()
    assert page["url"] == "https://www.facebook.com/marketplace/medan/search?query=balpres"
    assert _body(conn, page["body_sha256"]).count(b'href="/marketplace/item/') == 72
    [shot] = conn.execute("SELECT * FROM captures WHERE kind = 'screenshot' AND url = ?",
                          (page["url"],)).fetchall()
    assert {r["screenshot_sha256"] for r in rows} == {shot["body_sha256"]}
    assert _body(conn, shot["body_sha256"]).startswith(b"\x89PNG\r\n\x1a\n")


def test_login_wall_is_recorded_as_a_block_with_its_capture(crawled):
    conn, log = crawled.conn, crawled.log
    [fault] = conn.execute("SELECT * FROM faults").fetchall()
    assert fault["kind"] == "blocked"
    assert "__block__" in fault["url"]
    capture = conn.execute("SELECT kind FROM captures WHERE id = ?", (fault["capture_id"],))
    assert capture.fetchone()["kind"] == "rendered"
    assert "'playwright/page_count/closed': 2" in log  # every page closed, none leaked
