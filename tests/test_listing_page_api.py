"""Listing-page parsers of the API platforms (Tokopedia, Shopee, Bukalapak, Blibli, Lazada),
on what the replica serves to the spiders' own requests, and on hostile answers.

Each spider builds its real request for a card its search parser read from the replica
(``listing_page_request``); the request goes to the replica over loopback HTTP, as replica
mode routes it, and the platform's pure parser reads the answer. Then every value of those
answers is replaced, one at a time, by something a platform or a seller could send instead
(``None``, a huge number, the wrong type, a lone surrogate): a parser either reads a page
or says the answer is not one (``ResponseShapeError``), never anything else, and the page
it reads can always be cleaned for the store.
"""

from __future__ import annotations

import html
import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from crawler.runtime.replica_mode import replica_url
from pipelines.images import image_refusal
from pipelines.normalise import normalise_page
from spiders import blibli, bukalapak, lazada, shopee, tokopedia
from spiders.base import BlockedError, ListingGoneError, ResponseShapeError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import scrapy

    from crawler.items import ListingPage

KEYWORD = "balpres"
HOSTILE_VALUES = (None, 10**30, -(10**30), -1, "", [], {}, True, 1.5e308, "x" * 5000,
                  "\x00\ud800\u202e", [None, 7, {"a": []}], {"0": {"1": None}})
MAX_PATHS = 400  # values of one answer replaced, each with every hostile value


def fetch(request: scrapy.Request, replica) -> tuple[int, bytes]:
    """Send a spider's request to the replica as replica mode would."""
    sent = urllib.request.Request(
        replica_url(request.url, replica.url), data=request.body or None,
        method=request.method,
        headers={k.decode(): v[0].decode() for k, v in request.headers.items()})
    try:
        with urllib.request.urlopen(sent, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def first_card(spider: Any, replica) -> Any:
    """The first listing the spider's search parser reads from the replica."""
    request = spider.search_request(KEYWORD, 1)
    status, body = fetch(request, replica)
    assert status == 200, body[:200]
    return spider_search(spider, body)[0]


def spider_search(spider: Any, body: bytes) -> list[Any]:
    module = {"tokopedia": tokopedia, "shopee": shopee, "bukalapak": bukalapak,
              "blibli": blibli, "lazada": lazada}[spider.name]
    if spider.name in ("shopee", "lazada"):
        return module.parse_search_response(body, KEYWORD).listings
    return module.parse_search_body(json.loads(body), KEYWORD).listings


def bukalapak_spider(replica) -> bukalapak.BukalapakSpider:
    spider = bukalapak.BukalapakSpider()
    status, body = fetch(spider.token_request([]), replica)
    assert status == 200
    spider.access_token, spider.token_expires_at = bukalapak.access_token_from(body)
    return spider


def page_answers(spider: Any, replica) -> tuple[Any, list[tuple[int, bytes]]]:
    """A card and the answers to its listing page's request(s), in order."""
    card = first_card(spider, replica)
    request = spider.listing_page_request(card)
    assert request is not None, f"{spider.name} asks for no listing page of {card.url}"
    answers = [fetch(request, replica)]
    if spider.name == "blibli":
        answers.append(fetch(spider._detail_request(card, "_description"), replica))
    return card, answers


def parse(platform: str, status: int, body: bytes, url: str) -> ListingPage:
    """The platform's pure parser on one raw answer."""
    if platform == "lazada":
        return lazada.listing_page_from_html(status, body, url)
    decoded = json.loads(body)
    return {"tokopedia": tokopedia.listing_page_from_pdp, "shopee": shopee.listing_page_from_pc,
            "bukalapak": bukalapak.listing_page_from_product,
            "blibli": blibli.listing_page_from_detail}[platform](decoded, url)


SPIDERS: dict[str, Callable[[Any], Any]] = {
    "tokopedia": lambda replica: tokopedia.TokopediaSpider(),
    "shopee": lambda replica: shopee.ShopeeSpider(),
    "bukalapak": bukalapak_spider,
    "blibli": lambda replica: blibli.BlibliSpider(),
    "lazada": lambda replica: lazada.LazadaSpider(),
}


@pytest.fixture(scope="module", params=sorted(SPIDERS))
def served(request, replica) -> tuple[str, Any, list[tuple[int, bytes]]]:
    platform = request.param
    card, answers = page_answers(SPIDERS[platform](replica), replica)
    return platform, card, answers


def test_each_platform_reads_its_listing_page_from_the_replica(served):
    platform, card, answers = served
    pages = [parse(platform, status, body, card.url) for status, body in answers]
    page = pages[-1]
    if platform == "blibli":  # the summary, then the description
        assert pages[0].seller_name
        assert pages[0].image_urls
        assert not pages[0].description
        page = pages[1]
        assert not page.seller_name
        page.seller_name = pages[0].seller_name
        page.image_urls = pages[0].image_urls
    else:
        assert page.seller_name
        assert isinstance(page.seller_followers, int)
        assert page.seller_joined
        assert page.seller_location
        assert isinstance(page.stock, int)
        assert page.stock >= 0
    assert page.description
    assert len(page.description) > 20
    assert page.image_urls
    assert all(image_refusal(platform, url) is None for url in page.image_urls), page.image_urls
    assert normalise_page(page) == []


def test_listing_pages_carry_the_cues_tokopedia_cards_lack(replica):
    spider = tokopedia.TokopediaSpider()
    card, [(_status, body)] = page_answers(spider, replica)
    assert card.description is None  # Tokopedia's search cards have none
    page = tokopedia.listing_page_from_pdp(json.loads(body), card.url)
    assert page.description
    assert page.condition
    assert page.seller_about is not None
    assert page.seller_rating is not None


def test_a_listing_gone_is_told_from_a_page_that_is_not_one(replica):
    """The replica answers a listing it does not list as the platform answers one that is
    gone; an answer of another shape is not a listing page at all."""
    gone = {
        "tokopedia": [{"errors": [{"message": "Produk tidak ditemukan"}],
                       "data": {"pdpGetLayout": None}}],
        "shopee": {"error": shopee.GONE_ERROR, "error_msg": None, "data": None},
        "bukalapak": {"errors": [{"code": 10003, "message": "Barang tidak ditemukan"}]},
        "blibli": {"code": 404, "status": "NOT_FOUND", "data": None},
    }
    for platform, body in gone.items():
        with pytest.raises(ListingGoneError):
            parse(platform, 200, json.dumps(body).encode(), "https://example.invalid/x")
    url = "https://www.lazada.co.id/products/taken-down-i1-s1.html"
    replica.set_listing_state(url, "removed")
    status, body = fetch(_get(url), replica)
    with pytest.raises(ListingGoneError):
        lazada.listing_page_from_html(status, body, url)
    for platform in gone:
        with pytest.raises(ResponseShapeError):
            parse(platform, 200, b'{"data": {"unexpected": 1}}', "https://example.invalid/x")


def _get(url: str) -> scrapy.Request:
    import scrapy

    return scrapy.Request(url)


def test_shopee_anti_bot_answer_is_a_block():
    with pytest.raises(BlockedError):
        shopee.listing_page_from_pc({"error": shopee.ANTI_BOT_ERROR, "action_type": 2},
                                    "https://shopee.co.id/product/1/2")


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path into a JSON value (containers and leaves), breadth by order."""
    yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaves(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:3]):
            yield from leaves(inner, (*path, index))


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


def lazada_data(body: bytes) -> tuple[bytes, Any, bytes]:
    start = body.index(lazada._MODULE_DATA) + len(lazada._MODULE_DATA)
    end = body.index(lazada._MODULE_END, start)
    return body[:start], json.loads(body[start:end]), body[end:]


def test_every_value_replaced_by_a_hostile_one_is_read_or_refused_never_a_crash(served):
    platform, card, answers = served
    for status, body in answers:
        if platform == "lazada":
            head, data, tail = lazada_data(body)
        else:
            data = json.loads(body)
        paths = list(leaves(data))[:MAX_PATHS]
        for path in paths:
            for hostile in HOSTILE_VALUES:
                mutated = replaced(data, path, hostile)
                text = json.dumps(mutated, ensure_ascii=False).replace("<", "\\u003c")
                raw = (head + text.encode("utf-8", "surrogatepass") + tail
                       if platform == "lazada" else text.encode("utf-8", "surrogatepass"))
                try:
                    page = parse(platform, status, raw, card.url) if platform == "lazada" \
                        else _parse_decoded(platform, mutated, card.url)
                except (ResponseShapeError, ListingGoneError, BlockedError):
                    continue
                normalise_page(page)
                assert isinstance(page.image_urls, list)
                assert all(isinstance(url, str) for url in page.image_urls)


def _parse_decoded(platform: str, body: Any, url: str) -> ListingPage:
    return {"tokopedia": tokopedia.listing_page_from_pdp, "shopee": shopee.listing_page_from_pc,
            "bukalapak": bukalapak.listing_page_from_product,
            "blibli": blibli.listing_page_from_detail}[platform](body, url)


@pytest.mark.parametrize("body", [None, [], {}, "x", 7, [None], [{"data": []}],
                                  {"data": None}, {"data": {"item": []}},
                                  {"data": {"pdpGetLayout": "x"}}])
def test_answers_of_no_known_shape_are_refused(body):
    for platform in ("tokopedia", "shopee", "bukalapak", "blibli"):
        with pytest.raises((ResponseShapeError, ListingGoneError)):
            _parse_decoded(platform, body, "https://example.invalid/x")
    with pytest.raises(ResponseShapeError):
        lazada.listing_page_from_html(200, json.dumps(body).encode(), "https://www.lazada.co.id/")


def test_the_bukalapak_corpus_product_reads_as_a_listing_page(corpus):
    """The real capture ../shared/corpus/bukalapak-products-2020 (a search answer): its
    products have the fields the product API gives, so each reads as a listing page."""
    found = sorted((corpus / "bukalapak-products-2020").glob("*.json"))
    if not found:
        pytest.skip("no JSON in the Bukalapak corpus capture")
    products = json.loads(found[0].read_text("utf-8")).get("data") or []
    assert products
    for product in products[:10]:
        page = bukalapak.listing_page_from_product({"data": product}, product.get("url", ""))
        assert page.title
        assert page.seller_name
        normalise_page(page)


def test_lazada_seller_text_never_blocks_or_misleads_the_page(replica):
    """A description naming Lazada's anti-bot markers reads as a description, not a wall; a
    title holding the data script's opening words (shown HTML-escaped, as Lazada shows every
    title) does not move where the page's data is read from."""
    card, [(status, body)] = page_answers(lazada.LazadaSpider(), replica)
    head, data, tail = lazada_data(body)
    product = data["data"]["root"]["fields"]["product"]
    product["desc"] = "Bal Korea x5secdata _____tmd_____/punish FAIL_SYS_USER_VALIDATE"
    title = html.escape("Promo var __moduleData__ = {} <script>var __moduleData__ = {};</script>")
    head = head.replace(b"<title>", b"<title>" + title.encode(), 1)
    page = lazada.listing_page_from_html(status, head + json.dumps(data).encode() + tail,
                                         card.url)
    assert "x5secdata" in page.description
    assert page.seller_name


def test_a_lazada_seller_planting_the_data_script_in_the_description_is_not_read(replica):
    """Lazada lets sellers write HTML in a description (see test_page_status): a seller who
    writes the opening of the page's data script there, with a harmless product and the
    listing's own id, is ahead of the platform's script in the page. The platform's data,
    which ends the page, is read: the listing keeps its title, description and seller."""
    card, [(status, body)] = page_answers(lazada.LazadaSpider(), replica)
    fake = {"data": {"root": {"fields": {
        "primaryKey": {"itemId": card.listing_id},
        "product": {"title": "Kaos polos baru", "desc": "<p>Kaos polos, baru, segel</p>"},
        "seller": {"sellerId": card.seller_id, "name": "Toko Baru"}}}}}
    planted = (b'<div class="html-content pdp-product-desc">\n<p>'
               + lazada._MODULE_DATA + json.dumps(fake).encode() + lazada._MODULE_END)
    assert body.count(b'<div class="html-content pdp-product-desc">\n<p>') == 1
    spoiled = body.replace(b'<div class="html-content pdp-product-desc">\n<p>', planted)
    page = lazada.listing_page_from_html(status, spoiled, card.url)
    honest = lazada.listing_page_from_html(status, body, card.url)
    assert page.title == honest.title != "Kaos polos baru"
    assert page.seller_name == honest.seller_name != "Toko Baru"
    assert "segel" not in (page.description or "")
