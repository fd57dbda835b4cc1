"""Instagram: the web_info parser, session cookies, and a real crawl in Chromium that uses
a planted session cookie and must leave it nowhere."""

import json
import urllib.request
import zlib

import pytest

from spiders.base import BlockedError, ResponseShapeError
from spiders.instagram import (
    InstagramSpider,
    caption_price,
    listing_from_media,
    load_cookies,
    parse_tag_page,
)
from tests.helpers import crawled_db, run_command

SECRET = "PLANTED-SECRET-123"
DRAWN = '<article><a href="/p/C3L9IRYaN4o/"><img></a></article>'
LOGIN_PAGE = '<form id="loginForm"><input name="username"></form>'


def post(code: str, caption: str | None = "Balpres Jaket Korea\nisi 100 pcs\nHarga Rp8.500.000"):
    return {"pk": "3300000001", "code": code, "taken_at": 1704369186,
            "caption": {"text": caption} if caption is not None else None,
            "user": {"pk": "40009254204", "username": "gudangbalmedan",
                     "full_name": "Gudang Bal Medan"},
            "image_versions2": {"candidates": [{"url": "https://scontent.cdninstagram.com/a_n.jpg"}]},
            "like_count": 12}


def web_info(top: list, recent: list) -> bytes:
    def feed(medias):
        return {"sections": [{"layout_type": "media_grid",
                              "layout_content": {"medias": [{"media": m} for m in medias]}}],
                "more_available": False}
    return json.dumps({"data": {"name": "balpres", "top": feed(top), "recent": feed(recent)},
                       "status": "ok"}).encode()


def test_a_post_becomes_a_listing():
    listing = listing_from_media(post("C3L9IRYaN4o"), "balpres")
    assert listing.listing_id == "C3L9IRYaN4o"
    assert listing.url == "https://www.instagram.com/p/C3L9IRYaN4o/"
    assert listing.title == "Balpres Jaket Korea"
    assert listing.description == "Balpres Jaket Korea\nisi 100 pcs\nHarga Rp8.500.000"
    assert listing.price_text == "Rp8.500.000"
    assert listing.seller_id == "40009254204"
    assert listing.seller_name == "gudangbalmedan"
    assert listing.seller_url == "https://www.instagram.com/gudangbalmedan/"
    assert listing.posted_at == "2024-01-04T11:53:06Z"
    assert listing.image_urls == ["https://scontent.cdninstagram.com/a_n.jpg"]
    long = listing_from_media(post("X", "\n  " + "a" * 300 + "\nmore"), "balpres")
    assert long.title == "a" * 200
    bare = listing_from_media(post("Y", None), "balpres")
    assert bare.title == ""
    assert bare.description is None
    assert bare.price_text is None


@pytest.mark.parametrize(("caption", "price"), [
    ("Bal jepang isi 100, harga Rp 1,5 jt nego", "Rp 1,5 jt"),
    ("ready 150rb/kg", "150rb"),
    ("murah 85k aja", "85k"),
    ("per bal 3,5jt", "3,5jt"),
    ("Rp.250.000 free ongkir", "Rp.250.000"),
    ("isi 100 pcs, berat 100kg, DM for price", None),
])
def test_the_caption_price_is_found_as_written(caption, price):
    assert caption_price(caption) == price


def test_top_and_recent_posts_count_once():
    body = web_info([post("A"), post("B")], [post("B"), post("C")])
    page = parse_tag_page(DRAWN, [body], "balpres")
    assert [listing.listing_id for listing in page.listings] == ["A", "B", "C"]
    assert not page.has_more


def test_login_is_a_block_and_a_page_without_web_info_is_refused():
    with pytest.raises(BlockedError):
        parse_tag_page(LOGIN_PAGE, [], "balpres")
    with pytest.raises(BlockedError):
        parse_tag_page(DRAWN, [(b'{"message":"Please wait a few minutes before you try again.",'
                                b'"require_login":true,"status":"fail"}')], "balpres")
    with pytest.raises(ResponseShapeError):
        parse_tag_page(DRAWN, [], "balpres")
    with pytest.raises(ResponseShapeError):
        parse_tag_page(DRAWN, [b'{"data":{"name":"balpres"},"status":"ok"}'], "balpres")


def test_default_keywords_are_the_shipped_hashtags_and_keywords_become_tag_names():
    assert InstagramSpider().keywords == ["balpres", "thriftimport", "baljepang",
                                          "ballpresskorea", "thriftshopindonesia"]
    assert InstagramSpider(keywords="#BalPres, bal jepang").keywords == ["balpres", "baljepang"]


def test_cookie_files_keep_only_instagram_cookies(tmp_path):
    netscape = tmp_path / "cookies.txt"
    netscape.write_text("# Netscape HTTP Cookie File\n"
                        f"#HttpOnly_.instagram.com\tTRUE\t/\tTRUE\t1893456000\tsessionid\t{SECRET}\n"
                        ".example.com\tTRUE\t/\tFALSE\t0\tother\tx\n")
    [cookie] = load_cookies(netscape)
    assert cookie == {"name": "sessionid", "value": SECRET, "domain": ".instagram.com",
                      "path": "/", "secure": True, "httpOnly": True, "expires": 1893456000}
    exported = tmp_path / "cookies.json"
    exported.write_text(json.dumps([
        {"domain": ".instagram.com", "name": "sessionid", "value": SECRET, "path": "/",
         "secure": True, "httpOnly": True, "sameSite": "no_restriction", "session": True},
        {"domain": "www.facebook.com", "name": "c_user", "value": "1", "path": "/"}]))
    [cookie] = load_cookies(exported)
    assert cookie["value"] == SECRET
    assert cookie["sameSite"] == "None"
    assert "expires" not in cookie
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"cookies": [{"name": "sessionid", "value": SECRET,
                                              "domain": "www.instagram.com", "path": "/",
                                              "expires": -1}], "origins": []}))
    assert load_cookies(state)[0]["domain"] == "www.instagram.com"


def test_an_unusable_cookie_file_is_refused_without_quoting_it(tmp_path):
    broken = tmp_path / "cookies.txt"
    broken.write_text(f"# Netscape HTTP Cookie File\n.instagram.com\tsessionid\t{SECRET}\n")
    with pytest.raises(
        ValueError, match="is not a readable JSON or Netscape cookies file"
    ) as error:
        load_cookies(broken)
    assert SECRET not in str(error.value)
    assert error.value.__cause__ is None
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"domain": ".example.com", "name": "a", "value": SECRET}]))
    with pytest.raises(ValueError, match=r"no instagram\.com cookies"):
        load_cookies(other)


def test_the_replica_tells_whether_a_session_cookie_came(replica):
    url = f"{replica.url}/www.instagram.com/api/v1/tags/web_info/?tag_name=balpres"

    def logged_in(headers):
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as answer:
            return json.load(answer)["data"]["viewer_is_logged_in"]

    assert logged_in({}) is False
    assert logged_in({"Cookie": f"csrftoken=a; sessionid={SECRET}"}) is True


def _cookies_file(folder):
    cookies = folder / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n"
                       f".instagram.com\tTRUE\t/\tTRUE\t1893456000\tsessionid\t{SECRET}\n")
    return ["-a", f"cookies={cookies}"]


crawled = crawled_db("instagram", "-a", "keywords=balpres,__block__balpres",
                     "-s", "LOG_LEVEL=DEBUG", browser=True, before=_cookies_file)


def _body(conn, sha256):
    row = conn.execute("SELECT body FROM capture_bodies WHERE sha256 = ?", (sha256,)).fetchone()
    return zlib.decompress(row["body"])


def test_hashtag_posts_are_listings_with_their_data_and_screenshot(crawled):
    conn = crawled.conn
    rows = conn.execute("SELECT * FROM observations").fetchall()
    assert len(rows) == 33
    assert {r["keyword"] for r in rows} == {"balpres"}
    assert all(r["url"] == f"https://www.instagram.com/p/{r['listing_id']}/" and r["price_idr"]
               and r["posted_at"] and r["seller_url"] for r in rows)
    [data] = conn.execute("SELECT * FROM captures WHERE kind = 'data'").fetchall()
    assert data["url"] == "https://www.instagram.com/api/v1/tags/web_info/?tag_name=balpres"
    body = json.loads(_body(conn, data["body_sha256"]))
    assert body["data"]["viewer_is_logged_in"] is True  # the planted session cookie was sent
    [shot] = conn.execute("SELECT * FROM captures WHERE kind = 'screenshot' AND url = "
                          "'https://www.instagram.com/explore/tags/balpres/'").fetchall()
    assert {r["screenshot_sha256"] for r in rows} == {shot["body_sha256"]}


def test_login_page_is_recorded_as_a_block_with_its_capture(crawled):
    conn, log = crawled.conn, crawled.log
    [fault] = conn.execute("SELECT * FROM faults").fetchall()
    assert fault["kind"] == "blocked"
    assert "__block__" in fault["url"]
    capture = conn.execute("SELECT kind FROM captures WHERE id = ?", (fault["capture_id"],))
    assert capture.fetchone()["kind"] == "rendered"
    assert "'playwright/page_count/closed': 2" in log


def test_the_session_cookie_is_found_nowhere(crawled):
    conn, db, log = crawled.conn, crawled.db, crawled.log
    secret = SECRET.encode()
    tables = [r["name"] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    searched = 0
    for table in tables:
        for row in conn.execute(f'SELECT * FROM "{table}"'):
            for value in row:
                if isinstance(value, bytes):
                    searched += 1
                    assert secret not in value
                    if table == "capture_bodies":
                        assert secret not in zlib.decompress(value)
                else:
                    assert SECRET not in str(value)
    assert searched >= 5  # the capture bodies were really looked into
    assert SECRET not in log
    assert "Using 1 instagram.com session cookies" in log
    exported = run_command("thriftwatch", "export", "--db", str(db), "--format", "jsonl")
    assert exported.returncode == 0
    assert exported.stdout.count("\n") == 33
    assert SECRET not in exported.stdout + exported.stderr
