"""Bounded parsing: JSON nested deeper than any platform answer, and HTML nested deeper than
any page, become a bad line or a parse fault; the next line or page goes on."""

from __future__ import annotations

import io
import json

import pytest
from scrapy.http import Request, TextResponse

from crawler.commands.flag import flag_stream
from crawler.flagging.lexicon import load_lexicon
from spiders import tiktokshop
from spiders.base import ResponseShapeError, json_body
from spiders.facebook import parse_rendered_search
from spiders.profile_format import load_profile, parse_search_body

DEEP_JSON = '{"title": ' + "[" * 200_000 + "]" * 200_000 + "}"
DEEP_HTML = "<div>" * 100_000 + "balpres" + "</div>" * 100_000


def test_flag_skips_a_deeply_nested_line_and_flags_the_rest():
    lines = [json.dumps({"title": "balpres karungan korea", "description": "bal 100 kg"}),
             DEEP_JSON,
             json.dumps({"title": "kaos polos baru"})]
    data = io.BytesIO("\n".join(lines).encode())
    out, errors = io.StringIO(), io.StringIO()
    code = flag_stream(data, out, errors, "jsonl", load_lexicon(), source="mixed.jsonl")
    flagged = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1  # some lines were skipped
    assert [record["title"] for record in flagged] == ["balpres karungan korea",
                                                       "kaos polos baru"]
    assert "mixed.jsonl, line 2: not valid JSON (nested deeper" in errors.getvalue()


def test_a_deeply_nested_platform_answer_is_a_parse_error_not_a_crash():
    response = TextResponse("https://gql.tokopedia.com/graphql/SearchProductV5Query",
                            body=DEEP_JSON.encode(), request=Request("https://x"))
    with pytest.raises(ResponseShapeError, match="nested deeper"):
        json_body(response)


def test_deeply_nested_html_is_read_without_error():
    page = f"<html><body><div id='results' data-state='loaded'>{DEEP_HTML}</div></body></html>"
    assert tiktokshop.parse_search_html(page, "https://shop-id.tokopedia.com/search",
                                        "b").listings == []
    olx = load_profile("olx")
    body = f"<html><body><ul data-aut-id='itemsList'>{DEEP_HTML}</ul></body></html>"
    assert parse_search_body(olx, body, "https://www.olx.co.id/items/q-b", "b").listings == []


def test_a_deeply_nested_graphql_answer_is_passed_over_not_a_crash():
    """Facebook's parser read every GraphQL answer the page fetched with its own decoder,
    and a deep one raised RecursionError past every handler: the whole search was lost."""
    good = json.dumps({"data": {"marketplace_search": {"feed_units": {
        "edges": [{"node": {"listing": {"id": "7", "marketplace_listing_title": "Balpres"}}}],
        "page_info": {"has_next_page": False}}}}}).encode()
    page = parse_rendered_search("<html></html>", [good, DEEP_JSON.encode()], "balpres")
    assert [listing.listing_id for listing in page.listings] == ["7"]
    with pytest.raises(ResponseShapeError, match="no Marketplace search data"):
        parse_rendered_search("<html></html>", [DEEP_JSON.encode()], "balpres")
