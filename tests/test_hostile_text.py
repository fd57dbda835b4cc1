"""Seller text that is hostile as text: lone UTF-16 surrogates, terminal escapes,
bidirectional overrides, titles that are not there, listings without a URL. No listing is
lost without a fault, no run crashes, nothing reaches the terminal raw, and what is stored
verifies. Seller data is planted in the replica in Tokopedia's real shape."""

from __future__ import annotations

import json
import logging
import re

import pytest
from scrapy.exceptions import DropItem

from crawler.evidence.verify import verify_db
from crawler.items import Listing
from crawler.keys import Stats
from crawler.normalise import normalise_listing, printable
from crawler.replica import tokopedia as replica_tokopedia
from crawler.replica.catalogue import build_catalogue, search
from crawler.runtime.log_redaction import install_log_redaction
from pipelines.normalise import NormalisePipeline
from tests.helpers import crawl_replica, open_db, run_command

HOST = "gql.tokopedia.com"
ERASE = "\r\x1b[2K\x1b[1A\x1b[2K"  # back to the line's start, erase it, go up, erase that too
# What may not be stored in a one-line value nor written to a terminal.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def tokopedia_answer(keyword: str, products: list[dict], total: int | None = None) -> str:
    r"""A SearchProductV5 answer in the real envelope, holding ``products`` as given; lone
    surrogates are written as JSON's ``\udfff`` escapes, as a platform would send them."""
    body = replica_tokopedia.search_response(keyword, (), total or len(products))
    body[0]["data"]["searchProductV5"]["data"]["products"] = products
    return json.dumps(body)


def real_products(keyword: str, count: int) -> list[dict]:
    offers = search(build_catalogue(), "balpres")[:count]
    return [replica_tokopedia.product(offer, keyword, "X") for offer in offers]


def faults(conn, kind: str) -> list:
    return conn.execute("SELECT * FROM faults WHERE kind = ? ORDER BY id", [kind]).fetchall()


def health(conn) -> dict[str, dict]:
    [row] = conn.execute("SELECT findings FROM run_health").fetchall()
    return {finding["check"]: finding for finding in json.loads(row[0])}


# -- normalisation ----------------------------------------------------------------------------

def test_lone_surrogates_are_repaired_in_every_text_field_and_each_repair_is_reported():
    listing = {
        "platform": "tokopedia", "listing_id": "12345\udfff", "keyword": "bal\udfffpres",
        "url": "https://www.tokopedia.com/toko/balpres-\ud800-1", "title": "BALPRES \ud800 korea",
        "description": "baris\udc00 satu\nbaris dua", "seller_id": "77\udfff",
        "seller_name": "Gudang\udfff", "seller_url": "https://www.tokopedia.com/g\udfff",
        "category": "Pakaian\udfff", "price_text": "Rp1.500.000\udfff", "sold_text": "10\udfff",
        "location": "Kota Medan\udfff", "condition": "Bekas\udfff", "posted_at": "2026\udfff",
        "image_urls": ["https://images.tokopedia.net/\udfff.jpg"],
    }
    out = normalise_listing(listing)
    json.dumps(out, ensure_ascii=False).encode("utf-8")  # UnicodeEncodeError with a surrogate
    assert out["listing_id"] == "12345\ufffd"
    assert out["title"] == "BALPRES \ufffd korea"
    assert out["description"] == "baris\ufffd satu\nbaris dua"
    assert out["image_urls"] == ["https://images.tokopedia.net/\ufffd.jpg"]
    repaired = [note for note in out["refused_values"] if note["kind"] == "value_repaired"]
    assert {note["field"] for note in repaired} == set(listing) - {"platform"}
    # The note quotes what the platform sent, escaped, and says what was stored.
    [title] = [note for note in repaired if note["field"] == "title"]
    assert title["value"] == "'BALPRES \\ud800 korea'"
    assert title["stored"] == "stored as 'BALPRES \ufffd korea'"


def test_terminal_and_bidi_controls_leave_ids_urls_and_titles_but_descriptions_keep_lines():
    out = normalise_listing({
        "platform": "tokopedia", "listing_id": f"1{ERASE}2", "keyword": "balpres",
        "url": f"https://www.tokopedia.com/\u202etoko{ERASE}/p",
        "title": "bal\x85pres\u2066 kor\x1bea\nisi 100",
        "description": "baris satu\x1b[8m\nbaris dua\u202e", "seller_name": "toko\x9b31m x",
        "seller_url": "https://www.tokopedia.com/toko\t", "image_urls": ["https://i/\x1b.jpg"],
    })
    assert out["listing_id"] == "1[2K[1A[2K2"
    assert out["url"] == "https://www.tokopedia.com/toko[2K[1A[2K/p"
    assert out["title"] == "bal pres kor ea isi 100"  # one line, as every platform shows it
    assert out["description"] == "baris satu [8m\nbaris dua"
    assert out["seller_name"] == "toko 31m x"
    assert out["image_urls"] == ["https://i/.jpg"]
    for name in ("listing_id", "url", "title", "description", "seller_name", "seller_url"):
        assert not UNSAFE.search(out[name].replace("\n", "")), name
    # Ids and URLs are what an investigator finds a listing again by: a change is reported.
    repaired = {note["field"]: note for note in out["refused_values"]}
    assert set(repaired) == {"listing_id", "url", "seller_url"}
    assert repaired["listing_id"]["value"] == "'1\\r\\x1b[2K\\x1b[1A\\x1b[2K2'"


@pytest.mark.parametrize("title", [None, "", "   ", "\x01\x02", "\u202e", False])
def test_a_listing_without_a_title_keeps_an_empty_one_and_says_so(title):
    out = normalise_listing({"platform": "tokopedia", "listing_id": "1",
                             "url": "https://www.tokopedia.com/t/1", "title": title})
    assert out["title"] == ""
    [note] = out["refused_values"]
    assert (note["field"], note["kind"]) == ("title", "listing_incomplete")
    assert note["value"] == repr(title)
    assert note["stored"] == "stored with an empty title"


def test_a_title_that_is_a_number_is_its_text():
    out = normalise_listing({"platform": "tokopedia", "listing_id": "1", "url": "https://x/1",
                             "title": 0})
    assert (out["title"], out["refused_values"]) == ("0", [])


def test_a_post_without_a_caption_passes_the_pipeline_and_one_without_a_url_does_not():
    """An Instagram post without a caption has no title; it used to be dropped unseen."""
    pipeline = NormalisePipeline()
    post = Listing(platform="instagram", listing_id="C0de1", title="", keyword="balpres",
                   url="https://www.instagram.com/p/C0de1/", description=None)
    assert pipeline.process_item(post) is post
    assert post.title == ""
    assert [note["kind"] for note in post.refused_values] == ["listing_incomplete"]
    product = Listing(platform="blibli", listing_id="PS-1", url="", title="Balpres",
                      keyword="balpres")
    with pytest.raises(DropItem, match="not stored: no url"):
        pipeline.process_item(product)


# -- the log ----------------------------------------------------------------------------------

def test_printable_escapes_what_drives_a_terminal_and_keeps_every_letter():
    assert printable(f"a{ERASE}b\n\u202e\udfff\tc") == (
        "a\\r\\x1b[2K\\x1b[1A\\x1b[2Kb\\n\\u202e\\udfff\\tc")
    assert printable("a\nb\tc\x07\u2028", keep="\n\t") == "a\nb\tc\\x07\\u2028"
    letters = "𝐛𝐚𝐥𝐩𝐫𝐞𝐬 ☃ بال ba\u200blpres é"
    assert printable(letters) == letters


def test_no_log_line_carries_a_terminal_escape(caplog):
    install_log_redaction()
    with caplog.at_level(logging.INFO):
        logging.getLogger("thriftwatch.test").warning(
            "store_error for listing %s: %s", f"tokopedia/1{ERASE}", "bal\udfffpres \u202ex")
        logging.getLogger("thriftwatch.test").info("run 1 health: warning%s",
                                                   "\n  warning refused_values: 1")
    assert not UNSAFE.search(caplog.text.replace("\n", ""))
    assert "tokopedia/1\\r\\x1b[2K\\x1b[1A\\x1b[2K: bal\\udfffpres \\u202ex" in caplog.text
    assert "health: warning\n  warning refused_values: 1" in caplog.text  # our own lines stay


# -- through a real crawl ----------------------------------------------------------------------

@pytest.mark.crawl
def test_lone_surrogates_lose_no_listing_and_no_later_page(replica, tmp_path):
    """A lone surrogate in a title, an id and a URL: every listing of both pages is stored,
    repaired, with a value_repaired fault each; the next page's capture is not lost."""
    products = real_products("pecahan", 120)
    first, second = products[:60], products[60:]
    first[0]["name"] = "BALPRES KOREA ISI 100 PCS \ud800 pakaian bekas impor"
    first[5]["id"] = "12345\udfff"
    first[7]["url"] = "https://www.tokopedia.com/toko/balpres-\udfff-7"
    # The session's replica serves every test: each answer matches this keyword's page only.
    replica.plant(HOST, "page=1&q=pecahan", tokopedia_answer("pecahan", first, 120))
    replica.plant(HOST, "page=2&q=pecahan", tokopedia_answer("pecahan", second, 120))
    db = tmp_path / "evidence.db"
    result = crawl_replica(replica, db, "tokopedia", "-a", "keywords=pecahan",
                           "-a", "max_pages=2", "-s", "THRIFTWATCH_STORE_BATCH=1000")
    assert "Traceback" not in result.stderr
    conn = open_db(db)
    assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 120
    rows = {r["listing_id"]: r for r in conn.execute("SELECT * FROM observations")}
    assert rows[first[0]["id"]]["title"] == "BALPRES KOREA ISI 100 PCS \ufffd pakaian bekas impor"
    assert "12345\ufffd" in rows
    assert rows[first[7]["id"]]["url"] == "https://www.tokopedia.com/toko/balpres-\ufffd-7"
    repaired = faults(conn, "value_repaired")
    assert len(repaired) == 3
    page_one = rows[first[0]["id"]]["capture_id"]
    assert {f["capture_id"] for f in repaired} == {page_one}
    assert any("\\udfff" in f["detail"] and "listing_id" in f["detail"] for f in repaired)
    assert not conn.execute("SELECT * FROM faults WHERE kind != 'value_repaired'").fetchall()
    searches = conn.execute("SELECT COUNT(*) FROM captures WHERE url LIKE "
                            "'%SearchProductV5Query'").fetchone()[0]
    assert searches == 2
    assert health(conn)["repaired_values"]["value"] == 3
    assert conn.execute("SELECT status FROM runs").fetchone()[0] == "finished"
    assert verify_db(db).ok


@pytest.mark.crawl
def test_a_listing_without_a_title_is_kept_and_one_without_an_id_or_url_is_a_fault(replica,
                                                                                   tmp_path):
    """Titles "", 0, false, null and blank are stored (empty, or "0"); a product without a
    URL or whose id is only control characters cannot be found again, so it is not stored,
    but its fault names it and links its page's capture. Run health says so."""
    products = real_products("tanpajudul", 8)
    for product, title in zip(products, ["", 0, False, None, "   ", "\x01\x02"], strict=False):
        product["name"] = title
    products[6]["name"], products[6]["url"] = "Balpres tanpa alamat", ""
    products[7]["id"] = "\x1b\x1b"
    replica.plant(HOST, "tanpajudul", tokopedia_answer("tanpajudul", products))
    db = tmp_path / "evidence.db"
    result = crawl_replica(replica, db, "tokopedia", "-a", "keywords=tanpajudul",
                           "-a", "max_pages=1")
    conn = open_db(db)
    titles = dict(conn.execute("SELECT listing_id, title FROM observations"))
    assert titles == {products[0]["id"]: "", products[1]["id"]: "0", products[2]["id"]: "",
                      products[3]["id"]: "", products[4]["id"]: "", products[5]["id"]: ""}
    incomplete = faults(conn, "listing_incomplete")
    assert len(incomplete) == 7  # five without a title, two not stored
    capture = conn.execute("SELECT capture_id FROM observations").fetchone()[0]
    assert {f["capture_id"] for f in incomplete} == {capture}
    no_url = [f for f in incomplete if products[6]["id"] in f["detail"]]
    assert len(no_url) == 1
    assert "not stored: no url" in no_url[0]["detail"]
    assert products[6]["name"] in no_url[0]["detail"]  # the title, to find it in the capture
    assert any("not stored: no listing_id" in f["detail"] for f in incomplete)
    stats = json.loads(conn.execute("SELECT stats FROM runs").fetchone()[0])
    assert stats[Stats.faults("listing_incomplete", "tokopedia")] == 7
    finding = health(conn)["incomplete_listings"]
    assert (finding["severity"], finding["value"]) == ("warning", 7)
    assert "warning incomplete_listings" in result.stderr
    assert verify_db(db).ok


@pytest.mark.crawl
def test_terminal_escapes_in_seller_text_reach_neither_the_log_nor_the_evidence(replica,
                                                                               tmp_path):
    products = real_products("lolos", 3)
    forged = f"1{ERASE}2026-12-02 00:00:00 [tokopedia] INFO: all listings stored OK\x1b[8m"
    products[0]["id"] = forged
    products[0]["price"]["number"] = 10**20  # a refused value: the listing's id is logged
    products[1]["name"] = f"Balpres\u202e serplab {ERASE}"
    products[2]["shop"]["name"] = "Toko\x1b]0;pwned\x07 Baju"
    replica.plant(HOST, "lolos", tokopedia_answer("lolos", products))
    db = tmp_path / "evidence.db"
    result = crawl_replica(replica, db, "tokopedia", "-a", "keywords=lolos", "-a", "max_pages=1")
    assert not UNSAFE.search(result.stderr.replace("\n", "").replace("\t", ""))
    assert "\\r\\x1b[2K\\x1b[1A" in result.stderr  # the id is there, escaped
    conn = open_db(db)
    for row in conn.execute("SELECT listing_id, url, title, seller_name FROM observations"):
        assert not any(UNSAFE.search(value) for value in row), tuple(row)
    [repaired] = faults(conn, "value_repaired")
    assert "\\x1b[1A" in repaired["detail"]  # what the platform sent, escaped
    for fault in conn.execute("SELECT url, detail FROM faults"):
        assert not any(UNSAFE.search(value) for value in fault)
    exported = run_command("thriftwatch", "export", "--db", str(db), "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    assert not UNSAFE.search(exported.stdout.replace("\r\n", "").replace("\n", ""))
