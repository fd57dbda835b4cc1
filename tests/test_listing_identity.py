"""A listing page cannot move its data onto another listing or its listing onto another
seller: a page naming another listing is not merged (a parse_error fault), and a page naming
another seller than the search card leaves the card's seller standing."""

from __future__ import annotations

import pytest

from crawler.items import Listing, ListingPage, merge_page
from spiders.base import ResponseShapeError, own_page


def card(**fields) -> Listing:
    seller = {"seller_id": "11", "seller_name": "Toko A",
              "seller_url": "https://www.tokopedia.com/a", **fields}
    return Listing(platform="tokopedia", listing_id="101", url="https://www.tokopedia.com/a/x",
                   title="Baju balpres", keyword="balpres", **seller)


def page(**fields) -> ListingPage:
    return ListingPage(platform="tokopedia", listing_id=fields.pop("listing_id", "101"),
                       url="https://www.tokopedia.com/a/x", **fields)


def test_a_page_of_another_listing_is_refused():
    with pytest.raises(ResponseShapeError, match="not merged"):
        own_page(page(listing_id="202"), card())
    assert own_page(page(listing_id=""), card()).listing_id == "101"  # no id read: the card's
    assert own_page(page(), card()).listing_id == "101"


def test_a_page_naming_another_seller_keeps_the_cards_seller():
    merged = merge_page(card(), page(seller_id="777000777", seller_name="Toko Korban",
                                     seller_url="https://www.tokopedia.com/korban",
                                     description="WA 0812 3456 7890"))
    assert (merged.seller_id, merged.seller_name, merged.seller_url) == (
        "11", "Toko A", "https://www.tokopedia.com/a")
    assert merged.description == "WA 0812 3456 7890"  # the rest of the page is read
    assert merged.refused_values[0]["field"] == "seller_id"


def test_a_page_naming_the_same_seller_or_none_may_complete_it():
    merged = merge_page(card(), page(seller_id="11", seller_name="Toko A Baru"))
    assert (merged.seller_id, merged.seller_name, merged.refused_values) == (
        "11", "Toko A Baru", [])
    unknown = merge_page(card(seller_id=None, seller_name=None),
                         page(seller_id="55", seller_name="Toko B"))
    assert (unknown.seller_id, unknown.seller_name) == ("55", "Toko B")
