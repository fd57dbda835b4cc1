"""The pipelines' plain access to an item's fields (crawler.items.item_fields/set_fields)
gives what ItemAdapter gives, and refuses what it refuses."""

import pytest
from itemadapter import ItemAdapter

from crawler.items import Listing, ListingPage, Recheck, item_fields, set_fields


def _listing() -> Listing:
    return Listing(platform="tokopedia", listing_id="1", url="https://www.tokopedia.com/s/p",
                   title="Balpres", keyword="balpres", image_urls=["https://img/1.jpg"],
                   page=ListingPage(platform="tokopedia", listing_id="1",
                                    url="https://www.tokopedia.com/s/p"))


def test_item_fields_are_what_itemadapter_gives_and_a_copy():
    for item in (_listing(), Recheck(platform="shopee", listing_id="2", url="u",
                                     status="live")):
        fields = item_fields(item)
        assert fields == dict(ItemAdapter(item))
        fields["listing_id"] = "changed"
        assert item.listing_id != "changed"
    assert item_fields({"platform": "x"}) == {"platform": "x"}  # another kind of item


def test_set_fields_sets_known_fields_and_refuses_others():
    item = _listing()
    set_fields(item, {"level": "strong", "score": 0.9})
    assert (item.level, item.score) == ("strong", 0.9)
    with pytest.raises(KeyError, match="no field not_a_field"):
        set_fields(item, {"level": "weak", "not_a_field": 1})
    assert item.level == "strong"  # nothing set when a name is refused
    assert not hasattr(item, "not_a_field")
