"""The Tokopedia parser over the real SearchProductV5 capture and over edge shapes."""

import json

import pytest

from spiders.base import ResponseShapeError
from spiders.tokopedia import canonical_url, listing_from_product, parse_search_body, search_params


def _envelope(products, total):
    return [{"data": {"searchProductV5": {"header": {"totalData": total},
                                          "data": {"products": products}}}}]


def test_parses_every_product_of_the_real_capture(corpus):
    products = json.loads((corpus / "tokopedia-searchv5-baju-2025/search_products_baju.json")
                          .read_text("utf-8"))
    listings = [listing_from_product(p, "baju") for p in products]
    assert len(listings) == 320
    assert [x.title for x in listings] == [p["name"] for p in products]
    assert [x.price_idr for x in listings] == [p["price"]["number"] for p in products]
    assert [x.location for x in listings] == [p["shop"]["city"] for p in products]
    first = listings[0]
    assert first.listing_id == "100204878560"
    assert first.price_idr == 23_999
    assert first.price_text == "Rp23.999"
    assert first.sold_text == "750+ terjual"
    assert first.seller_name == "Aurora Kami"
    assert first.location == "Tangerang"
    assert first.seller_url == "https://www.tokopedia.com/aurora-kami"
    assert first.rating == pytest.approx(3.9)
    assert first.category == "fashion-pria/atasan-pria/kaos-pria"
    assert "?" not in first.url
    assert first.url.startswith("https://www.tokopedia.com/aurora-kami/")
    assert all(listing.title and listing.url for listing in listings)
    assert sum(listing.sold_text is not None for listing in listings) > 250
    # One real page of 60 from that capture, wrapped in the response envelope, pages on.
    page = parse_search_body(_envelope(products[:60], total=4000), "baju", page=1)
    assert len(page.listings) == 60
    assert page.has_more


def test_last_page_stops_paging():
    product = {"id": "1", "name": "Kaos", "url": "https://www.tokopedia.com/a/b"}
    assert not parse_search_body(_envelope([product] * 60, total=120), "k", page=2).has_more
    assert not parse_search_body(_envelope([product] * 10, total=5000), "k", page=1).has_more
    assert not parse_search_body(_envelope([], total=0), "k", page=1).has_more


@pytest.mark.parametrize("body", [
    {"unexpected": True},
    [],
    [{"errors": [{"message": "rate limited"}], "data": None}],
    _envelope("not a list", 10),
    [{"data": {"searchProductV5": {"header": {}, "data": {"products": []}}}}],
    "<html>captcha</html>",
])
def test_other_shapes_are_refused_not_read_as_no_results(body):
    with pytest.raises(ResponseShapeError):
        parse_search_body(body, "balpres")


@pytest.mark.parametrize("product", [
    {"name": "no id"}, {"id": None, "name": "null id"}, {"id": "", "name": "empty id"},
    {"id": True, "name": "a flag, not an id"}, {"id": [1], "name": "a list"}, {"id": "1"},
])
def test_product_without_identity_is_refused(product):
    with pytest.raises(ResponseShapeError, match="without id or name"):
        listing_from_product(product, "k")


def test_search_params_page_by_offset_and_quote_keywords():
    params = search_params("baju 'bekas'; DROP TABLE", page=3)
    assert "rows=60" in params
    assert "start=120" in params
    assert "page=3" in params
    assert "q=baju+%27bekas%27%3B+DROP+TABLE" in params


def test_canonical_url_drops_tracking():
    assert canonical_url("https://www.tokopedia.com/s/p-1?extParam=x%3D1#frag") == \
        "https://www.tokopedia.com/s/p-1"
