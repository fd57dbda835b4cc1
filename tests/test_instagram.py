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


def test_every_imported_cookie_is_made_httponly_and_secure(tmp_path):
    """Instagram's csrftoken and ds_user_id are readable by scripts on the real site (and
    in a browser's export): in thriftwatch's browser no script may read any of them."""
    netscape = tmp_path / "cookies.txt"
    netscape.write_text("# Netscape HTTP Cookie File\n"
                        f".instagram.com\tTRUE\t/\tFALSE\t0\tcsrftoken\t{SECRET}\n")
    exported = tmp_path / "cookies.json"
    exported.write_text(json.dumps([
        {"domain": ".instagram.com", "name": "csrftoken", "value": SECRET, "path": "/",
         "secure": False, "httpOnly": False},
        {"domain": ".instagram.com", "name": "ds_user_id", "value": "4242424242"}]))
    for path in (netscape, exported):
        cookies = load_cookies(path)
        assert cookies
        assert all(c["httpOnly"] is True and c["secure"] is True for c in cookies)


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


def test_every_form_of_a_session_value_is_found_and_replaced():
    import pickle

    from crawler.runtime.browser import SessionSecrets

    secrets = SessionSecrets([{"name": "sessionid", "value": "4242424242%3AabcDEF123xyz%3A27"},
                              {"name": "ds_user_id", "value": "4242424242"},
                              {"name": "csrftoken", "value": 'a"b<c>d&e/f'},
                              {"name": "ig_nrcb", "value": "1"}])  # too short to be a secret
    page = (b'<p>4242424242%3AabcDEF123xyz%3A27 | 4242424242:abcDEF123xyz:27 | abcDEF123xyz</p>'
            b'<p title="a&quot;b&lt;c&gt;d&amp;e/f">a"b&lt;c&gt;d&amp;e/f</p>'
            b'<script>{"t": "a\\"b<c>d&e\\/f", "id": "4242424242"}</script>'
            b'<p>post 142424242421, 1 like</p>')
    scrubbed, found = secrets.scrub(page)
    assert found == {"sessionid", "ds_user_id", "csrftoken"}
    assert b"4242424242" not in scrubbed.replace(b"142424242421", b"")
    assert b"abcDEF123xyz" not in scrubbed
    assert b"post 142424242421, 1 like" in scrubbed  # a longer number is not the user id
    assert b"[redacted: session cookie ds_user_id]" in scrubbed  # its own name, not sessionid's
    assert secrets.hidden(b"<b>abcDEF</b>&#8203;123\nxyz") == {"sessionid"}
    assert secrets.shown('<p>x</p><script>var id = "abcDEF123xyz";</script>') == set()
    assert secrets.shown('<p data-x="abcDEF123xyz">x</p>') == {"sessionid"}
    assert "abcDEF" not in repr(secrets)
    with pytest.raises(TypeError, match="never written to disk"):
        pickle.dumps(secrets)


# -- a page that holds the session: planted hashtag pages, crawled with three cookies --------

SESSION = {"sessionid": "4242424242%3ASESSIONsecret9f3a%3A27",
           "csrftoken": "CSRFsecret77d2e1Xq", "ds_user_id": "4242424242"}
# What may never be stored: every value, and the parts of the session id a page may show.
NEVER_STORED = [*SESSION.values(), "4242424242:SESSIONsecret9f3a:27", "SESSIONsecret9f3a"]
LEAK_SCRIPT = ("<div id='leak' style='font-size:40px'></div><script>"
               "document.getElementById('leak').textContent = 'cookies: ' + document.cookie;"
               "</script>")
# What a page's server may echo of the session: Instagram keeps its CSRF token in the
# page's data; a page may also show a value (here, spelled out in pieces too).
PAGE_DATA = ('<script type="application/json" id="config">{"config": {"csrf_token": '
             f'"{SESSION["csrftoken"]}", "viewerId": "{SESSION["ds_user_id"]}"}}}}</script>')
SHOWN = (f"<p id='echo'>Masuk sebagai {SESSION['ds_user_id']} &middot; "
         f"token {SESSION['csrftoken']}</p>")
PIECES = f"<p>token <b>{SESSION['csrftoken'][:6]}</b>&#8203;{SESSION['csrftoken'][6:]}</p>"
PLANTED_TAGS = {"sesijsread": LEAK_SCRIPT, "sesidata": PAGE_DATA, "sesishown": SHOWN + PAGE_DATA,
                "sesipieces": PIECES}


def _session_cookies_file(folder):
    cookies = folder / "cookies.json"
    cookies.write_text(json.dumps([  # as a browser extension exports them
        {"name": "sessionid", "value": SESSION["sessionid"], "domain": ".instagram.com",
         "path": "/", "secure": True, "httpOnly": True},
        {"name": "csrftoken", "value": SESSION["csrftoken"], "domain": ".instagram.com",
         "path": "/", "secure": True, "httpOnly": False},
        {"name": "ds_user_id", "value": SESSION["ds_user_id"], "domain": ".instagram.com",
         "path": "/", "secure": True}]))
    return cookies


@pytest.fixture(scope="module")
def session_crawl(replica, tmp_path_factory):
    from crawler.replica.catalogue import build_catalogue
    from crawler.replica.instagram import SHELL
    from crawler.replica.instagram import web_info as replica_web_info
    from tests.helpers import Crawl, crawl_replica, open_db

    catalogue = build_catalogue()
    for tag, planted in PLANTED_TAGS.items():
        page = SHELL.format(tag=tag).replace("<script>", planted + "<script>", 1)
        replica.plant("www.instagram.com", f"/explore/tags/{tag}/", page,
                      content_type="text/html")
        data = replica_web_info(catalogue, "balpres", logged_in=True)
        data["data"]["name"] = tag
        if tag == "sesishown":  # the page's data fetch echoes the token too
            data["config"] = {"csrf_token": SESSION["csrftoken"]}
        replica.plant("www.instagram.com", f"tag_name={tag}", json.dumps(data))
    folder = tmp_path_factory.mktemp("instagram-session")
    db = folder / "evidence.db"
    result = crawl_replica(replica, db, "instagram", "-a", f"keywords={','.join(PLANTED_TAGS)}",
                           "-a", f"cookies={_session_cookies_file(folder)}",
                           "-s", "LOG_LEVEL=DEBUG")
    conn = open_db(db)
    yield Crawl(db, conn, result.stderr)
    conn.close()


def _page_url(tag):
    return f"https://www.instagram.com/explore/tags/{tag}/"


def _captures(conn, tag):
    rows = conn.execute("SELECT c.*, b.body FROM captures c JOIN capture_bodies b "
                        "ON b.sha256 = c.body_sha256 WHERE c.url LIKE ?", (f"%{tag}%",))
    return {row["kind"]: (row, zlib.decompress(row["body"])) for row in rows}


@pytest.mark.crawl
@pytest.mark.browser
def test_no_session_value_is_stored_exported_or_logged(session_crawl):
    conn, db, log = session_crawl.conn, session_crawl.db, session_crawl.log
    assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 4 * 33
    for table in [r["name"] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]:
        for row in conn.execute(f'SELECT * FROM "{table}"'):
            for cell in row:
                value = zlib.decompress(cell) if table == "capture_bodies" and isinstance(
                    cell, bytes) else cell
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                assert not [s for s in NEVER_STORED if s in text], (table, text[:300])
    assert not [s for s in NEVER_STORED if s in log]
    warc = db.parent / "case.warc.gz"
    exported = run_command("thriftwatch", "export", "--db", str(db), "--format", "warc",
                           "-o", str(warc))
    assert exported.returncode == 0, exported.stderr
    import gzip
    archive = gzip.decompress(warc.read_bytes()).decode("utf-8", "replace")
    assert not [s for s in NEVER_STORED if s in archive]


@pytest.mark.crawl
@pytest.mark.browser
def test_a_script_of_the_page_reads_no_session_cookie(session_crawl):
    """Every imported cookie is HttpOnly in the browser: document.cookie is empty, so the
    page has nothing to show and its screenshot is kept."""
    captures = _captures(session_crawl.conn, "sesijsread")
    assert b'<div id="leak" style="font-size:40px">cookies: </div>' in captures["rendered"][1]
    assert "screenshot" in captures
    assert session_crawl.conn.execute("SELECT COUNT(*) FROM faults WHERE url = ?",
                                      (_page_url("sesijsread"),)).fetchone()[0] == 0


@pytest.mark.crawl
@pytest.mark.browser
def test_a_value_in_the_pages_own_data_is_replaced_and_the_screenshot_kept(session_crawl):
    conn = session_crawl.conn
    rendered = _captures(conn, "sesidata")["rendered"][1]
    assert b'"csrf_token": "[redacted: session cookie csrftoken]"' in rendered
    assert b'"viewerId": "[redacted: session cookie ds_user_id]"' in rendered
    assert "screenshot" in _captures(conn, "sesidata")
    [fault] = conn.execute("SELECT * FROM faults WHERE url = ?", (_page_url("sesidata"),))
    assert fault["kind"] == "session_redacted"
    assert fault["detail"] == ("session cookie value(s) of csrftoken, ds_user_id replaced in "
                               "the stored page")
    assert conn.execute("SELECT kind FROM captures WHERE id = ?",
                        (fault["capture_id"],)).fetchone()["kind"] == "rendered"


@pytest.mark.crawl
@pytest.mark.browser
def test_a_page_that_shows_a_session_value_keeps_no_screenshot(session_crawl):
    conn = session_crawl.conn
    captures = _captures(conn, "sesishown")
    assert "screenshot" not in captures
    assert b"Masuk sebagai [redacted: session cookie ds_user_id]" in captures["rendered"][1]
    assert b"[redacted: session cookie csrftoken]" in captures["data"][1]
    [fault] = conn.execute("SELECT * FROM faults WHERE url = ?", (_page_url("sesishown"),))
    assert fault["kind"] == "session_redacted"
    assert "replaced in the page's stored data" in fault["detail"]
    assert fault["detail"].endswith("the page showed session cookie value(s) of csrftoken, "
                                    "ds_user_id: its screenshot is not stored")
    shots = {r["screenshot_sha256"] for r in conn.execute(
        "SELECT screenshot_sha256 FROM observations WHERE keyword = 'sesishown'")}
    assert shots == {None}
    kept = {r["screenshot_sha256"] for r in conn.execute(
        "SELECT screenshot_sha256 FROM observations WHERE keyword = 'sesidata'")}
    assert None not in kept


@pytest.mark.crawl
@pytest.mark.browser
def test_a_page_that_spells_a_session_value_out_in_pieces_is_kept_as_a_notice(session_crawl):
    """A value split by markup and invisible characters cannot be replaced in place: the
    stored page is a notice saying so; its listings (read from the page's data) stay."""
    conn = session_crawl.conn
    captures = _captures(conn, "sesipieces")
    assert "screenshot" not in captures
    assert captures["rendered"][1] == (
        b"<html><body><p>thriftwatch: this rendered page is not kept: it spelled out session "
        b"cookie value(s) of csrftoken in pieces that cannot be redacted.</p></body></html>")
    [fault] = conn.execute("SELECT * FROM faults WHERE url = ?", (_page_url("sesipieces"),))
    assert fault["detail"].startswith("the page spelled out session cookie value(s) of "
                                      "csrftoken: only a notice is stored")
    assert conn.execute("SELECT COUNT(*) FROM observations WHERE keyword = 'sesipieces'"
                        ).fetchone()[0] == 33
