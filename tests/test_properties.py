"""Hostile input: every parser and normaliser takes whatever a platform (or a seller, or an
investigator's file) throws at it and either answers or refuses in the documented way.

Property-based (hypothesis): prices, sold counts, cities and any Unicode text for the
normalisers and the flagger; arbitrary JSON-like structures, real response bodies with
random parts replaced or dropped, and arbitrary HTML and bytes for each platform's pure
parser, which must return a :class:`SearchPage` (or listings) or raise
:class:`ResponseShapeError` / :class:`BlockedError`, never a bare ``KeyError``,
``TypeError``, ``AttributeError``, ``ValueError``...; malformed lexicon, profile and
config files refused with an error that names the file. Keywords full of quotes, SQL
and shell metacharacters go through a real crawl as plain keywords.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import sqlite3
import unicodedata
import zlib
from datetime import date
from typing import Any
from urllib.parse import parse_qs

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scrapy.settings import Settings

from crawler.config import Config, ConfigError, parse_replica
from crawler.flagging.flagger import Verdict, flag
from crawler.flagging.lexicon import LexiconError, load_lexicon
from crawler.flagging.textnorm import fold, tokens
from crawler.items import Listing
from crawler.normalise import (
    clean_text,
    normalise_city,
    normalise_listing,
    parse_price_idr,
    parse_sold_count,
)
from crawler.replica import blibli as blibli_replica
from crawler.replica import bukalapak as bukalapak_replica
from crawler.replica import facebook as facebook_replica
from crawler.replica import instagram as instagram_replica
from crawler.replica import lazada as lazada_replica
from crawler.replica import olx as olx_replica
from crawler.replica import shopee as shopee_replica
from crawler.replica import tiktokshop as tiktokshop_replica
from crawler.replica import tokopedia as tokopedia_replica
from crawler.replica.catalogue import build_catalogue, search
from crawler.replica.common import rupiah
from spiders import blibli, bukalapak, facebook, instagram, lazada, shopee, tiktokshop, tokopedia
from spiders.base import BlockedError, ResponseShapeError, SearchPage
from spiders.profile_format import ProfileError, load_profile, parse_profile
from spiders.profile_format import parse_search_body as parse_profile_body
from tests.helpers import run_command

FEW = settings(max_examples=200, deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SOME = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
REFUSALS = (ResponseShapeError, BlockedError)
LEVELS = ("strong", "medium", "weak", "none")
LEXICON = load_lexicon()

# -- strategies -----------------------------------------------------------------------------

# Any text, including surrogates' neighbours, control characters, RTL marks and emoji.
any_text = st.text(st.characters(codec="utf-8"), max_size=60)
# Words the parsers and the flagger react to, so random text often hits real code paths.
TRADE_WORDS = ["balpres", "b4lpres", "bal", "karungan", "bekas", "impor", "korea", "jaket",
               "baju", "Rp", "rb", "jt", "juta", "K", "terjual", "sold", "+", "-", ".", ",",
               "Kota", "Kab.", "#", "\u200b", "𝐛𝐚𝐥", "1.500.000", "1,5", "10", "0", "kg",
               "pcs"]
salted_text = st.lists(st.sampled_from(TRADE_WORDS) | any_text, max_size=8).map(" ".join)
hostile_text = any_text | salted_text

json_scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
                | st.floats(allow_nan=False) | st.floats() | hostile_text)


def json_like(keys: list[str] = ()) -> st.SearchStrategy[Any]:
    """Any JSON-ish value; dict keys are often ones a parser looks for."""
    key = st.sampled_from(list(keys)) | st.text(max_size=8) if keys else st.text(max_size=8)
    return st.recursive(
        json_scalars,
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(key, children, max_size=6),
        max_leaves=24,
    )


def keys_of(value: Any) -> list[str]:
    """Every dict key anywhere in ``value``."""
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in keys_of(v))]
    if isinstance(value, list):
        return [k for v in value for k in keys_of(v)]
    return []


def paths_of(value: Any, path: tuple = ()) -> list[tuple]:
    """The path (keys and indexes) of every node in ``value``, the root first."""
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        children = ()
    return [path, *(p for key, child in children for p in paths_of(child, (*path, key)))]


def _node(body: Any, path: tuple) -> Any:
    """The node at ``path`` in ``body``, or ``None`` once earlier changes removed it."""
    for step in path:
        try:
            body = body[step]
        except (KeyError, IndexError, TypeError):
            return None
    return body


@st.composite
def mutated(draw: st.DrawFn, template: Any, keys: list[str]) -> Any:
    """``template`` (a real body) with a few nodes replaced by any value, and a few dropped."""
    paths = paths_of(template)[1:]
    replaced = draw(st.lists(st.sampled_from(paths), max_size=4))
    dropped = draw(st.lists(st.sampled_from(paths), max_size=2))
    body = json.loads(json.dumps(template))
    for path in replaced + dropped:
        parent, last = _node(body, path[:-1]), path[-1]
        if not ((isinstance(parent, dict) and last in parent) or (
                isinstance(parent, list) and isinstance(last, int) and last < len(parent))):
            continue
        if path in dropped:
            del parent[last]
        else:
            parent[last] = draw(json_like(keys))
    return body


def hostile_bodies(template: Any) -> st.SearchStrategy[Any]:
    """A real body with parts broken, or any JSON-like value built from its keys."""
    keys = sorted(set(keys_of(template)))
    return mutated(template, keys) | json_like(keys)


def as_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def assert_page(result: Any) -> None:
    """A parser's answer: a SearchPage of Listings."""
    assert isinstance(result, SearchPage)
    assert isinstance(result.has_more, bool)
    assert all(isinstance(listing, Listing) for listing in result.listings)


def parses_or_refuses(parse, *args: Any) -> SearchPage | None:
    """Call a parser; a refusal is fine, any other exception fails the property."""
    try:
        result = parse(*args)
    except REFUSALS:
        return None
    assert_page(result)
    return result


# -- real bodies from the replica's own builders -------------------------------------------

CATALOGUE = build_catalogue(size=200)
OFFERS = search(CATALOGUE, "balpres")[:3]
TOKOPEDIA_BODY = tokopedia_replica.search_response("balpres", OFFERS, total=200)
SHOPEE_BODY = shopee_replica.search_response("balpres", OFFERS, newest=0, total=200)
LAZADA_BODY = lazada_replica.search_response("balpres", OFFERS, page=1, total=200)
BLIBLI_BODY = blibli_replica.search_response("balpres", CATALOGUE, OFFERS, page=1, total=200)
BUKALAPAK_BODY = {"data": [bukalapak_replica.product(offer) for offer in OFFERS],
                  "meta": {"http_status": 200, "limit": 50, "offset": 0, "page": 1,
                           "total": 200, "total_pages": 4}}
FACEBOOK_BODY = {"data": {"marketplace_search": {"feed_units": {
    "edges": [{"node": facebook_replica.feed_unit(offer), "cursor": None} for offer in OFFERS],
    "page_info": {"end_cursor": None, "has_next_page": True}}}}}
INSTAGRAM_BODY = instagram_replica.web_info(CATALOGUE[:12], "balpres", logged_in=False)
INSTAGRAM_DRAWN = '<article><a href="/p/x/"><img></a></article>'


def tiktok_card(product: dict[str, Any]) -> str:
    """A product card as the TikTok Shop page script draws it."""
    return (f'<div class="product-card" data-product-id="{product["product_id"]}">'
            f'<img src="{product["image"]["url_list"][0]}"><a class="title" '
            f'href="/view/product/{product["product_id"]}">{product["title"]}</a>'
            f'<span class="price">{product["product_price_info"]["sale_price_format"]}</span>'
            f'<span class="sold">{product["sold_info"]["sold_count_text"]}</span>'
            f'<a class="seller" href="/shop/{product["seller_info"]["seller_id"]}" '
            f'data-seller-id="{product["seller_info"]["seller_id"]}">'
            f'{product["seller_info"]["shop_name"]}</a></div>')


TIKTOK_HTML = ('<html><body><div id="results" data-state="loaded" data-has-more="true">'
               + "".join(tiktok_card(tiktokshop_replica.product(o)) for o in OFFERS)
               + "</div></body></html>")


def test_the_real_bodies_parse():
    """The templates the properties break are themselves good answers."""
    pages = [
        tokopedia.parse_search_body(TOKOPEDIA_BODY, "balpres"),
        shopee.parse_search_response(as_bytes(SHOPEE_BODY), "balpres"),
        lazada.parse_search_response(as_bytes(LAZADA_BODY), "balpres"),
        blibli.parse_search_body(BLIBLI_BODY, "balpres"),
        bukalapak.parse_search_body(BUKALAPAK_BODY, "balpres"),
        facebook.parse_rendered_search("<html></html>", [as_bytes(FACEBOOK_BODY)], "balpres"),
        tiktokshop.parse_search_html(TIKTOK_HTML, "https://shop-id.tokopedia.com/search", "b"),
    ]
    assert all(len(page.listings) == 3 for page in pages)
    assert all(page.has_more for page in pages[1:])  # Tokopedia pages on only after a full page
    assert instagram.parse_tag_page(INSTAGRAM_DRAWN, [as_bytes(INSTAGRAM_BODY)], "balpres").listings
    assert len(parse_profile_body(OLX, OLX_HTML, "https://www.olx.co.id/items/q-balpres",
                                  "balpres").listings) == 3


# -- normalisers ----------------------------------------------------------------------------

@FEW
@given(hostile_text)
def test_price_parser_never_raises_and_gives_a_sane_amount(text):
    price = parse_price_idr(text)
    assert price is None or (isinstance(price, int) and 0 <= price < 10**13)


@FEW
@given(st.integers(0, 10**12))
def test_a_price_written_as_rupiah_reads_back(amount):
    assert parse_price_idr(rupiah(amount)) == amount
    assert parse_price_idr(f"IDR {amount:,}") == amount
    assert parse_price_idr(f"{rupiah(amount)} - {rupiah(amount + 1000)}") == amount


@FEW
@given(st.integers(1, 999), st.integers(0, 9), st.sampled_from(["jt", " jt", "juta", " juta"]))
def test_millions_in_words_read_back(whole, tenth, unit):
    assert parse_price_idr(f"Rp{whole},{tenth}{unit}") == whole * 1_000_000 + tenth * 100_000
    assert parse_price_idr(f"{whole}rb") == whole * 1_000


@FEW
@given(hostile_text | st.integers() | st.none() | st.booleans())
def test_sold_count_parser_never_raises(value):
    count = parse_sold_count(value)
    assert count is None or (isinstance(count, int) and count >= 0)


SOLD_LABELS = {  # each platform's sold label for a count, as the replica writes it
    "tokopedia": tokopedia_replica.sold_text,  # 17 terjual, 750+ terjual, 10rb+ terjual
    "lazada": lazada_replica.sold_text,  # 17 sold, 1.2K sold
    "blibli": lambda count: blibli_replica._sold_range(count)["id"],  # 117, 1,6 rb
    "tiktokshop": lambda count: f"{tiktokshop_replica._short(count)} terjual",  # 1,2rb terjual
}


@FEW
@given(st.sampled_from(sorted(SOLD_LABELS)), st.integers(1, 10**7))
def test_sold_labels_of_every_platform_round_trip(platform, count):
    """The count read from a label is the one the label shows: written again, it gives the
    same label; platforms that round down give a lower bound within half of the truth."""
    label = SOLD_LABELS[platform]
    shown = parse_sold_count(label(count))
    assert label(shown) == label(count)
    if platform == "tiktokshop":  # "8,4rb" is rounded to the hundred, "12rb" down
        assert count - 1000 < shown <= count + 50
    else:
        assert count / 2 <= shown <= count


def _clean_text_in_full(text: str) -> str | None:
    """clean_text's every step, with no shortcut for text already clean."""
    text = unicodedata.normalize("NFC", re.sub("[\ud800-\udfff]", "\ufffd", text))
    text = re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", " ", text)
    lines = (re.sub(r"[ \t\r\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+", " ", line).strip()
             for line in text.split("\n"))
    return "\n".join(line for line in lines if line) or None


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \n\t\r\x0b\x00\x7f\u00e9\u00a0")),
               max_size=12) | hostile_text)
@example("a  b")
@example(" a")
@example("a\n")
@example("a\n\nb")
@example("a \nb")
def test_clean_text_gives_what_every_step_gives(text):
    assert clean_text(text) == _clean_text_in_full(text)


@FEW
@given(hostile_text | st.none())
def test_clean_text_is_idempotent_and_clean(text):
    cleaned = clean_text(text)
    if cleaned is None:
        return
    assert cleaned
    assert clean_text(cleaned) == cleaned
    assert not any(ord(c) < 32 and c != "\n" for c in cleaned)
    assert cleaned == cleaned.strip()


@FEW
@given(hostile_text | st.none())
def test_city_names_normalise_once_and_for_all(text):
    city = normalise_city(text)
    assert city is None or (isinstance(city, str) and city)
    if city is not None:
        assert normalise_city(city) == city


LISTING_TEXT = ("title", "description", "seller_name", "category", "price_text", "sold_text")


@FEW
@given(st.dictionaries(st.sampled_from([*LISTING_TEXT, "location", "price_idr", "sold_count"]),
                       json_scalars | st.lists(json_scalars, max_size=2), max_size=9))
def test_normalise_listing_takes_any_field_values(fields):
    out = normalise_listing(fields)
    assert all(out[name] is None or isinstance(out[name], str)
               for name in LISTING_TEXT if fields.get(name) is not None)
    for derived in ("price_idr", "sold_count"):
        if fields.get(derived) is None:
            assert out[derived] is None or (isinstance(out[derived], int) and out[derived] >= 0)
    assert out["location"] is None or isinstance(out["location"], str)


# -- folding and the flagger ----------------------------------------------------------------

@FEW
@given(hostile_text)
@example("b  a  l  p  r  e  s")  # split letters with two spaces: one split word
@example("A0A0")  # leet made a letter by leet undone before it
def test_fold_is_idempotent(text):
    folded = fold(text)
    assert fold(folded) == folded
    assert tokens(text) == tokens(folded)


@FEW
@given(st.lists(st.sampled_from(["bks", "krng", "lr", "ngr", "sakeb", "karungbajubekas",
                                 "im-por", "b", "a", "l"]) | hostile_text, max_size=8)
       .map(" ".join))
@example("lr ngr b a l p r e s bks")
def test_reading_a_text_in_chunks_gives_its_short_forms_written_out(text):
    """The flagger reads a field a chunk at a time (``read``), as folding it whole and then
    writing out its short forms would."""
    abbreviations = LEXICON.abbreviations
    assert abbreviations.read(text) == abbreviations.expand(fold(text))


def test_split_letters_fold_whatever_the_spacing():
    assert fold("b  a  l  p  r  e  s") == fold("B\tA \u00a0L P  R E S") == "balpres"


record_values = json_scalars | st.lists(hostile_text, max_size=3) | st.dictionaries(
    st.text(max_size=4), hostile_text, max_size=2)
records = st.dictionaries(
    st.sampled_from(["title", "description", "category", "location", "condition",
                     "imported", "price_idr", "seller_name"]) | st.text(max_size=6),
    record_values, max_size=8)


@FEW
@given(records)
@example({"title": "balpres", "description": None, "condition": "Bekas", "imported": True})
@example({"title": float("nan"), "condition": ["bekas"], "imported": "true"})
def test_the_flagger_gives_a_valid_verdict_for_any_record(record):
    verdict = flag(record, LEXICON)
    assert isinstance(verdict, Verdict)
    assert 0.0 <= verdict.score <= 1.0
    assert not math.isnan(verdict.score)
    assert verdict.level in LEVELS
    assert verdict.flagged == (verdict.level in ("strong", "medium"))
    json.dumps(verdict.as_dict())


# -- platform parsers: arbitrary and broken bodies -----------------------------------------

@FEW
@given(hostile_bodies(TOKOPEDIA_BODY), st.integers(-3, 5))
def test_tokopedia_parser_answers_or_refuses(body, page):
    parses_or_refuses(tokopedia.parse_search_body, body, "balpres", page)


@FEW
@given(hostile_bodies(SHOPEE_BODY))
def test_shopee_parser_answers_or_refuses(body):
    parses_or_refuses(shopee.parse_search_body, body, "balpres")
    parses_or_refuses(shopee.parse_search_response, as_bytes(body), "balpres")


@FEW
@given(hostile_bodies(LAZADA_BODY))
def test_lazada_parser_answers_or_refuses(body):
    parses_or_refuses(lazada.parse_search_response, as_bytes(body), "balpres")
    if isinstance(body, dict):
        parses_or_refuses(lazada.parse_search_body, body, "balpres")


@FEW
@given(hostile_bodies(BLIBLI_BODY))
def test_blibli_parser_answers_or_refuses(body):
    parses_or_refuses(blibli.parse_search_body, body, "balpres")
    size = blibli.items_per_page(body)
    assert size is None or (isinstance(size, int) and size > 0)


@FEW
@given(hostile_bodies(BUKALAPAK_BODY))
def test_bukalapak_parser_answers_or_refuses(body):
    parses_or_refuses(bukalapak.parse_search_body, body, "balpres")
    assert isinstance(bukalapak.error_codes(as_bytes(body)), list)


@FEW
@given(hostile_bodies(FACEBOOK_BODY), hostile_text)
def test_facebook_parser_answers_or_refuses(body, html):
    parses_or_refuses(facebook.parse_rendered_search, html, [as_bytes(body)], "balpres")


@FEW
@given(hostile_bodies(INSTAGRAM_BODY))
def test_instagram_parser_answers_or_refuses(body):
    parses_or_refuses(instagram.parse_tag_page, INSTAGRAM_DRAWN, [as_bytes(body)], "balpres")


@FEW
@given(st.binary(max_size=300) | json_like().map(as_bytes), st.integers(100, 599))
def test_raw_body_parsers_answer_or_refuse_any_bytes(body, status):
    """The parsers that take raw bytes: anything a server might send."""
    parses_or_refuses(shopee.parse_search_response, body, "balpres")
    parses_or_refuses(lazada.parse_search_response, body, "balpres")
    for check in (lambda: blibli.raise_if_blocked(body),
                  lambda: bukalapak.raise_if_blocked(status, body, ""),
                  lambda: bukalapak.access_token_from(body)):
        with contextlib.suppress(REFUSALS):
            check()
    parses_or_refuses(facebook.parse_rendered_search, "", [body], "balpres")
    parses_or_refuses(instagram.parse_tag_page, "", [body], "balpres")


OLX_HTML = olx_replica.search_page("balpres", OFFERS, more=True, total=200,
                                   today=date(2026, 1, 1))
# Attribute values and texts a broken or hostile page could hold.
hostile_values = st.one_of(
    st.sampled_from(["http://[::1", "//[", "https://[x]:99999", "http://a:port/"]),  # no host
    st.sampled_from(["javascript:alert(1)", "", "  ", "-iid-", "/item/x-iid-", "&#0;", "<", '"']),
    hostile_text)
_HOLES = re.compile(r'("[^"]*"|>[^<]*<)')


@st.composite
def mutated_html(draw: st.DrawFn, template: str) -> str:
    """A real page with a few attribute values or texts replaced, and a few pieces dropped."""
    parts = _HOLES.split(template)
    holes = [n for n, part in enumerate(parts) if part[:1] in ('"', ">")]
    for n in draw(st.lists(st.sampled_from(holes), max_size=8)):
        parts[n] = parts[n][0] + draw(hostile_values) + parts[n][-1]
    for n in draw(st.lists(st.sampled_from(range(len(parts))), max_size=2)):
        parts[n] = ""
    return "".join(parts)


html_fragments = st.sampled_from([
    '<div id="results" data-state="loaded" data-has-more="true">', "</div>",
    '<div class="product-card" data-product-id="1">', '<div class="product-card">',
    '<a class="title" href="/p/1">', '<a class="title" href="http://[::1">', '<a href="//[">',
    "</a>", '<span class="price">Rp1.000</span>', '<a class="seller" href="https://[x]:99999">',
    '<span class="sold">10rb terjual</span>', '<a class="seller" data-seller-id="9">',
    '<img src="https://x/y.jpg">', '<div id="captcha_container">', '<form id="login_form">',
    "<script>", "<!--", "]]>", "<", ">", "&amp;", "&#0;", "\x00", "\ud7ff",
])
hostile_html = st.lists(html_fragments | any_text, max_size=20).map("".join)


@FEW
@given(hostile_html | mutated_html(TIKTOK_HTML))
@example(TIKTOK_HTML.replace('href="/view/product/', 'href="http://[::1/', 1))
@example(TIKTOK_HTML.replace('href="/shop/', 'href=""\x08"', 1))  # an attribute lxml refuses
def test_tiktokshop_html_parser_answers_or_refuses(html):
    parses_or_refuses(tiktokshop.parse_search_html, html, "https://shop-id.tokopedia.com/search",
                      "balpres")


@FEW
@given(hostile_html)
def test_html_walls_are_read_from_any_html(html):
    parses_or_refuses(facebook.parse_rendered_search, html, [as_bytes(FACEBOOK_BODY)], "b")
    parses_or_refuses(instagram.parse_tag_page, html, [as_bytes(INSTAGRAM_BODY)], "b")
    assert bukalapak.description_text(html) is None or isinstance(
        bukalapak.description_text(html), str)


# -- site profiles --------------------------------------------------------------------------

OLX = load_profile("olx")
JSON_PROFILE = parse_profile("""
[site]
name = "jsonsite"
allowed_domains = ["example.co.id"]
[search]
url = "https://api.example.co.id/search?q={keyword}&offset={offset}"
page_size = 2
format = "json"
[listing]
items = "jmespath:data.ads"
page_marker = "jmespath:data"
[fields]
listing_id = "jmespath:id"
url = "jmespath:url"
title = { select = "jmespath:title", re = '(\\w.*)' }
price_text = "jmespath:price.display"
image_urls = "jmespath:images[*].url"
[paging]
has_more = "jmespath:meta.next"
""", "test-json-profile")
JSON_PROFILE_BODY = {"data": {"ads": [
    {"id": 1, "url": "/item/1", "title": "Balpres korea", "price": {"display": "Rp1.500.000"},
     "images": [{"url": "https://img/1.jpg"}, {"url": "/2.jpg"}]},
    {"id": "2", "url": "https://www.example.co.id/item/2", "title": "  bal  ", "price": None}]},
    "meta": {"next": True}}


@FEW
@given(hostile_bodies(JSON_PROFILE_BODY) | json_like())
def test_a_json_profile_answers_or_refuses_any_body(body):
    text = json.dumps(body, ensure_ascii=False)
    parses_or_refuses(parse_profile_body, JSON_PROFILE, text,
                      "https://www.example.co.id/search", "balpres")


@SOME
@given(hostile_html | mutated_html(OLX_HTML))
@example(re.sub(r'<img src="[^"]*"', '<img src="//["', OLX_HTML, count=1))
def test_an_html_profile_answers_or_refuses_any_page(html):
    parses_or_refuses(parse_profile_body, OLX, html, "https://www.olx.co.id/items/q-b", "b")


# -- malformed files ------------------------------------------------------------------------

toml_lines = st.sampled_from([
    "[site]", "[search]", "[listing]", "[fields]", "[paging]", "[block]", "[meta]",
    "[scoring]", "[fuzzy]", "[record]", "[[term]]", "[[signal]]", "[[negative]]",
    "[[context]]", "[[combination]]", 'name = "olx"', "name = 3", 'allowed_domains = ["olx.co.id"]',
    "allowed_domains = []", 'url = "https://www.olx.co.id/q-{keyword}?page={page}"',
    'url = "https://evil.example/{keyword}{page}"', 'url = "{nope}"', "page_size = 20",
    "page_size = -1", 'format = "json"', 'format = "html"', 'items = "css:li"',
    'items = "jmespath:data[0"', 'items = "json:data"', 'items = "xpath:///"',
    'listing_id = "css:a::attr(href)"',
    'url = "css:a"', 'title = { select = "css:span", re = "(" }', 'title = "css:["',
    'has_more = "css:button"', 'patterns = ["(?i)captcha", "["]', 'version = "x.1"',
    "strong = 0.8", "medium = 2", "weak = -1", 'term = "balpres"', 'strength = "strong"',
    "weight = 0.9", 'weight = "heavy"', 'words = ["baju"]', 'group = "clothing"',
    'patterns = ["a(?i)b"]', 'kind = "origin"', "x = [1, 2", "= 1", '"unterminated',
    "a.b.c = 1", "site = 1", "[site.inner]", "'''", "\x00", "\ud800",
])
toml_ish = st.lists(toml_lines | any_text, max_size=25).map("\n".join)


@FEW
@given(toml_ish)
def test_any_profile_text_loads_or_is_refused_naming_the_file(text):
    try:
        parse_profile(text, "fuzzed-profile.toml")
    except ProfileError as error:
        assert str(error).startswith("fuzzed-profile.toml: ")


@SOME
@given(toml_ish)
def test_any_lexicon_file_loads_or_is_refused_naming_the_file(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("lexicon") / "fuzzed.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for kwargs in ({"path": path}, {"extra": path}):
        try:
            load_lexicon(**kwargs)
        except LexiconError as error:
            assert str(path) in str(error)


cookie_domains = st.sampled_from([".instagram.com", "www.instagram.com", "example.com"])
cookie_entries = st.fixed_dictionaries(
    {"name": json_scalars, "value": json_scalars, "domain": cookie_domains | json_scalars},
    optional={"path": json_scalars, "secure": json_scalars, "httpOnly": json_scalars,
              "expires": json_scalars, "expirationDate": json_scalars, "sameSite": json_scalars})
cookie_files = st.one_of(
    st.lists(cookie_entries, max_size=3).map(json.dumps),
    st.fixed_dictionaries({"cookies": st.lists(cookie_entries, max_size=3)}).map(json.dumps),
    json_like(["cookies", "name", "value", "domain"]).map(json.dumps),
    st.lists(st.lists(st.sampled_from([".instagram.com", "TRUE", "/", "FALSE", "0", "-1",
                                       "1893456000", "sessionid", "#HttpOnly_.instagram.com"])
                      | any_text, max_size=8).map("\t".join), max_size=4).map("\n".join),
)


@FEW
@given(cookie_files)
def test_any_cookie_file_loads_or_is_refused_naming_it_and_quoting_nothing(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cookies") / "cookies.txt"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        cookies = instagram.load_cookies(path)
    except ValueError as error:
        message = str(error)
        assert message.startswith(str(path))
        assert error.__cause__ is None
        assert message.count(str(path)) == 1
        assert len(message) < len(str(path)) + 60
    else:
        assert cookies
        assert all(isinstance(c["name"], str) and isinstance(c["value"], str)
                               and c["domain"].lstrip(".").endswith("instagram.com")
                               for c in cookies)


@FEW
@given(st.dictionaries(st.sampled_from(["THRIFTWATCH_MAX_PAGES", "THRIFTWATCH_REPLICA",
                                        "THRIFTWATCH_DB", "THRIFTWATCH_LEXICON"]),
                       hostile_text, max_size=4),
       st.none() | st.integers(-5, 5))
def test_any_thriftwatch_setting_is_taken_or_refused_by_name(values, max_pages):
    """Settings as ``-s``, the environment or scrapyd give them (text); numbers from a file."""
    if max_pages is not None:
        values["THRIFTWATCH_MAX_PAGES"] = max_pages
    try:
        Config.from_settings(Settings(values))
    except ConfigError as error:
        assert any(name in str(error) for name in values)


@FEW
@given(hostile_text)
def test_any_replica_address_is_taken_or_refused(value):
    try:
        replica = parse_replica(value)
    except ConfigError as error:
        assert "THRIFTWATCH_REPLICA" in str(error)
    else:
        assert replica is None or replica.startswith(("http://", "https://"))


# -- hostile keywords through a real crawl ------------------------------------------------

HOSTILE_KEYWORDS = [
    "'; DROP TABLE listings; --",
    'balpres" OR "1"="1',
    "$(touch {canary})",
    "`touch {canary}`",
    "bal; touch {canary} && echo",
    "baris satu\nbaris dua",  # a newline inside a keyword
    "𝐛𝐚𝐥𝐩𝐫𝐞𝐬 ☃ بال \u200b",
    "%s %n {{}} \\x00",
]


@pytest.mark.crawl
def test_hostile_keywords_are_plain_keywords_in_a_real_crawl(replica, tmp_path):
    """Quotes, SQL and shell metacharacters are searched for and stored verbatim; nothing
    is executed, no table dropped."""
    canary = tmp_path / "pwned"
    keywords = [k.format(canary=canary) for k in HOSTILE_KEYWORDS]
    db = tmp_path / "evidence.db"
    result = run_command("thriftwatch", "crawl", "tokopedia", "--keywords", ",".join(keywords),
                         "--max-pages", "1", "--db", str(db), "--replica", replica.url,
                         "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
                         "--log-level", "WARNING", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert not canary.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["evidence.db"]
    conn = sqlite3.connect(db)
    try:
        stored = {k for (k,) in conn.execute("SELECT DISTINCT keyword FROM observations")}
        [run_keywords] = conn.execute("SELECT keywords FROM runs").fetchone()
        assert stored == set(keywords)
        assert json.loads(run_keywords) == keywords
        assert conn.execute("SELECT COUNT(*) FROM listings").fetchone()[0] > 0
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        requests = [json.loads(zlib.decompress(body)) for (body,) in conn.execute(
            "SELECT b.body FROM captures c JOIN capture_bodies b "
            "ON b.sha256 = c.request_body_sha256 WHERE c.url LIKE '%SearchProductV5Query'")]
    finally:
        conn.close()
    searched = {parse_qs(r[0]["variables"]["params"])["q"][0] for r in requests}
    assert searched == set(keywords)  # each sent to the platform as it was given
