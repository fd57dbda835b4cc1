"""Enrichment's pure parts: which listings are enriched, the contacts read from a card or a
page (with the capture each came from), a page merged over its card, a page read in parts,
a page cleaned for the store, which photo URLs may be fetched at all, and which listing
pages are read first when the cap cannot cover them all."""

from __future__ import annotations

import math

import pytest
import scrapy
from scrapy.exceptions import DontCloseSpider

from crawler.config import EnrichConfig
from crawler.items import Listing, ListingPage, merge_page, merge_parts
from crawler.keys import Stats
from crawler.replica.images import IMAGE_HOSTS
from pipelines.enrich import (
    EnrichPipeline,
    account_of,
    card_state,
    contacts_in,
    page_order,
    reaches_floor,
)
from pipelines.images import image_refusal
from pipelines.normalise import PAGE_MAX_IMAGES, PAGE_MAX_VARIANTS, normalise_page

CARD_SHA = "a" * 64
PAGE_SHA = "b" * 64
SUMMARY_SHA = "c" * 64


def card(**fields) -> Listing:
    base = {"platform": "tokopedia", "listing_id": "100200000042",
            "url": "https://www.tokopedia.com/toko-baju/kaos-bekas-1730000000000000042",
            "title": "Kaos bekas", "keyword": "kaos", "seller_id": "77",
            "seller_name": "Toko Baju", "seller_url": "https://www.tokopedia.com/toko-baju",
            "capture_sha256": CARD_SHA, "level": "weak", "flagged": False,
            "reasons": [{"term": "bekas"}], "image_urls": ["https://images.tokopedia.net/a.jpg"]}
    return Listing(**{**base, **fields})


def page(**fields) -> ListingPage:
    base = {"platform": "tokopedia", "listing_id": "100200000042",
            "url": "https://www.tokopedia.com/toko-baju/kaos-bekas-1730000000000000042",
            "description": "Hasil sortir bal Korea. Info WA 0812-3456-7890",
            "seller_name": "Toko Baju", "seller_about": "ig: @toko.baju.bal",
            "image_urls": ["https://images.tokopedia.net/img/cache/700/p1.jpg"],
            "capture_sha256": PAGE_SHA}
    return ListingPage(**{**base, **fields})


@pytest.mark.parametrize(("level", "reasons", "floor", "expected"), [
    ("none", [], "all", True), ("none", [], "reason", False),
    ("none", [{"term": "kaos"}], "reason", True), ("weak", [{"t": 1}], "medium", False),
    ("medium", [{"t": 1}], "medium", True), ("strong", [{"t": 1}], "medium", True),
    ("strong", [{"t": 1}], "strong", True), (None, None, "weak", False),
])
def test_the_floor_decides_which_listings_are_enriched(level, reasons, floor, expected):
    assert reaches_floor(level, reasons, floor) is expected


def test_contacts_on_a_card_come_with_the_card_capture():
    found = contacts_in(card(description="Minat? WA: 0812 3456 7890 ya kak"))
    phones = [c for c in found if c["kind"] in ("phone", "whatsapp")]
    assert phones
    assert {c["value"] for c in phones} == {"+6281234567890"}
    assert all(c["source"] == "card" and c["field"] == "description"
               and c["capture_sha256"] == CARD_SHA for c in phones)
    assert all(c["platform"] == "tokopedia" and c["listing_id"] == "100200000042" for c in found)


def test_contacts_on_a_page_come_from_its_fields_and_the_capture_of_their_part():
    merged = merge_page(card(), page(part_captures={"seller_about": SUMMARY_SHA}))
    found = contacts_in(merged)
    by_field = {(c["field"], c["kind"]): c for c in found}
    assert by_field["description", "whatsapp"]["value"] == "+6281234567890"
    assert by_field["description", "whatsapp"]["capture_sha256"] == PAGE_SHA
    assert by_field["seller_about", "instagram"]["value"] == "toko.baju.bal"
    assert by_field["seller_about", "instagram"]["capture_sha256"] == SUMMARY_SHA
    assert all(c["source"] == "page" for c in found)


def test_a_card_changes_state_when_what_it_shows_changes():
    assert card_state(card()) == card_state(card(keyword="other", capture_sha256="d" * 64))
    assert card_state(card()) != card_state(card(price_idr=150_000))
    assert card_state(card()) != card_state(card(title="Kaos bekas impor"))


def test_a_page_is_merged_over_its_card_as_a_sighting_of_the_page():
    merged = merge_page(card(level="medium", flagged=True), page(title="Kaos bekas impor",
                                                                 seller_location="Bandung"))
    assert merged.source == "listing_page"
    assert merged.keyword is None
    assert merged.title == "Kaos bekas impor"
    assert merged.description.startswith("Hasil sortir")
    assert merged.seller_name == "Toko Baju"
    assert merged.location == "Bandung"
    assert merged.image_urls == ["https://images.tokopedia.net/img/cache/700/p1.jpg"]
    assert merged.capture_sha256 == PAGE_SHA
    assert (merged.card_level, merged.card_flagged) == ("medium", True)
    assert merged.level is None
    assert merged.reasons == []
    assert merged.contacts == []
    kept = merge_page(card(), page(image_urls=[], description=None))
    assert kept.image_urls == card().image_urls
    assert kept.description is None


def test_a_page_read_in_parts_keeps_where_each_field_came_from():
    summary = ListingPage(platform="blibli", listing_id="ABC-1-2", url="u", seller_name="S",
                          seller_about="about", image_urls=["x"], capture_sha256=SUMMARY_SHA)
    description = ListingPage(platform="blibli", listing_id="", url="u", description="d",
                              capture_sha256=PAGE_SHA)
    whole = merge_parts(summary, description)
    assert (whole.seller_name, whole.description, whole.image_urls) == ("S", "d", ["x"])
    assert whole.capture_sha256 == PAGE_SHA
    assert whole.part_captures == {"seller_name": SUMMARY_SHA, "seller_about": SUMMARY_SHA,
                                   "image_urls": SUMMARY_SHA}


def test_a_page_is_cleaned_for_the_store_and_its_wild_values_set_aside():
    wild = page(seller_followers=10**30, seller_sales=-5, stock=True, seller_rating=math.nan,
                price_idr="12", description="a\x00b\u202e\ud800 c",
                seller_name="Toko\nBaju", seller_url="https://x\x1b/shop",
                image_urls=["https://images.tokopedia.net/\x00a.jpg", 7, None,
                            *[f"https://images.tokopedia.net/{n}.jpg" for n in range(80)]],
                variants=[{"name": "Ukuran" * 100, "options": ["S", 5, "M\n"]}, "x",
                          *[{"name": str(n), "options": []} for n in range(40)]])
    refused = normalise_page(wild)
    assert {r["field"] for r in refused} == {"page.seller_followers", "page.seller_sales",
                                             "page.stock", "page.seller_rating",
                                             "page.price_idr"}
    assert wild.seller_followers is wild.seller_sales is wild.stock is None
    assert wild.seller_rating is None
    assert wild.price_idr is None
    assert "\x00" not in wild.description
    assert "\ud800" not in wild.description
    assert wild.seller_name == "Toko Baju"
    assert wild.seller_url == "https://x/shop"
    assert len(wild.image_urls) <= PAGE_MAX_IMAGES
    assert wild.image_urls[0] == "https://images.tokopedia.net/a.jpg"
    assert len(wild.variants) == PAGE_MAX_VARIANTS
    assert wild.variants[0]["options"] == ["S", "", "M"]
    assert len(wild.variants[0]["name"]) == 200


@pytest.mark.parametrize("url", [
    "file:///etc/hostname", "http://127.0.0.1:1/x", "http://[::1]/a.jpg",
    "http://2130706433/a.jpg", "http://localhost/a.jpg", "https://evil.example.com/a.jpg",
    "https://images.tokopedia.net.evil.com/a.jpg", "https://evil.com#@images.tokopedia.net/a",
    "javascript:alert(1)", "data:image/png;base64,AAAA", "ftp://images.tokopedia.net/a.jpg",
    "https://down-id.img.susercontent.com/file/abc",  # Shopee's CDN, not Tokopedia's
    "//images.tokopedia.net/a.jpg", "https://images.tokopedia.net:99999/a.jpg",
])
def test_photo_urls_off_the_platforms_image_hosts_are_refused(url):
    assert image_refusal("tokopedia", url) is not None


def test_every_replica_and_real_image_host_is_allowed_for_its_platform_alone():
    real = {"tokopedia": "images.tokopedia.net", "shopee": "down-id.img.susercontent.com",
            "bukalapak": "s3.bukalapak.com", "lazada": "img.lazcdn.com",
            "blibli": "www.static-src.com", "tiktokshop": "p16-oec-va.ibyteimg.com",
            "facebook": "scontent-sin6-2.xx.fbcdn.net",
            "instagram": "scontent-cgk1-1.cdninstagram.com",
            "olx": "apollo-singapore.akamaized.net"}
    for host, platform in [*IMAGE_HOSTS.items(), *((h, p) for p, h in real.items())]:
        assert image_refusal(platform, f"https://{host}/img/a.jpg") is None, host
        others = [p for p in real if p != platform and {p, platform} != {"facebook", "instagram"}]
        assert all(image_refusal(other, f"https://{host}/img/a.jpg") for other in others), host
    assert image_refusal("nowhere", "https://images.tokopedia.net/a.jpg") is not None


def test_pages_are_read_one_per_account_first_then_the_stronger_verdict_then_the_first_seen():
    waiting = [("a-weak", ("shopee", "A"), 1), ("a-strong", ("shopee", "A"), 3),
               ("b-medium", ("shopee", "B"), 2), ("c-strong", ("shopee", "C"), 3),
               ("a-strong-2", ("shopee", "A"), 3), ("c-weak", ("shopee", "C"), 1)]
    # C's second page comes before A's third.
    assert list(page_order(waiting)) == ["a-strong", "c-strong", "b-medium", "a-strong-2",
                                         "c-weak", "a-weak"]
    # An account whose page was already asked for waits behind every account without one.
    assert list(page_order(waiting, {("shopee", "A"): 1}))[:3] == [
        "c-strong", "b-medium", "a-strong"]
    assert list(page_order([])) == []


def test_a_card_naming_no_seller_is_an_account_of_its_own():
    assert account_of(card()) == ("tokopedia", "seller:77")
    assert account_of(card(seller_id=None)) == ("tokopedia", "listing:100200000042")
    assert account_of(card(seller_id=None)) != account_of(card(seller_id=None, listing_id="9"))


class _Stats:
    def __init__(self):
        self.values = {}

    def inc_value(self, key, count=1):
        self.values[key] = self.values.get(key, 0) + count


class _Spider:
    def follow_listing_page(self, listing):
        return scrapy.Request(f"https://www.tokopedia.com/p/{listing.listing_id}")


class _Engine:
    def __init__(self):
        self.asked = []

    def crawl(self, request):
        self.asked.append(request.url.rsplit("/", 1)[1])


class _Crawler:
    def __init__(self):
        self.stats, self.engine, self.spider = _Stats(), _Engine(), _Spider()

    def get_extension(self, cls):
        return None


def enrich_pipeline(cap: int) -> tuple[EnrichPipeline, _Crawler]:
    crawler = _Crawler()
    return EnrichPipeline(crawler, EnrichConfig(floor="weak", detail_cap=cap)), crawler


def seen(pipeline: EnrichPipeline, listing_id: str, seller: str, level: str) -> Listing:
    return pipeline.process_item(card(listing_id=listing_id, seller_id=seller, level=level,
                                      flagged=level != "weak"))


def test_an_accounts_first_strong_listing_is_read_at_once_and_the_rest_when_searches_end():
    pipeline, crawler = enrich_pipeline(cap=4)
    assert seen(pipeline, "a1", "A", "strong").page_requested
    assert not seen(pipeline, "a2", "A", "strong").page_requested  # A has its page
    assert not seen(pipeline, "b1", "B", "weak").page_requested  # not strong: waits
    assert not seen(pipeline, "a3", "A", "medium").page_requested
    assert not seen(pipeline, "c1", "C", "medium").page_requested
    assert not seen(pipeline, "b1", "B", "weak").page_requested  # seen again as it waits
    assert crawler.engine.asked == ["a1"]
    with pytest.raises(DontCloseSpider):
        pipeline.spider_idle()
    # One page of each account first (the stronger verdict first), then A's strongest again.
    assert crawler.engine.asked == ["a1", "c1", "b1", "a2"]
    assert crawler.stats.values[Stats.DETAIL_CAPPED] == 1  # a3
    pipeline.spider_idle()  # nothing waits: the spider may close
    assert seen(pipeline, "d1", "D", "strong").page_requested is False  # the cap is spent
    assert crawler.stats.values[Stats.DETAIL_CAPPED] == 2


def test_with_a_cap_above_every_listing_each_page_is_read_once():
    pipeline, crawler = enrich_pipeline(cap=100)
    for listing_id, seller, level in [("a1", "A", "medium"), ("a2", "A", "strong"),
                                      ("b1", "B", "strong"), ("a1", "A", "medium")]:
        seen(pipeline, listing_id, seller, level)
    with pytest.raises(DontCloseSpider):
        pipeline.spider_idle()
    assert crawler.engine.asked == ["a2", "b1", "a1"]
    assert Stats.DETAIL_CAPPED not in crawler.stats.values
    restated = seen(pipeline, "a1", "A", "medium")  # its page was asked for as it is
    assert restated.page_requested


def test_an_account_the_db_holds_a_page_of_waits_behind_new_accounts():
    pipeline, crawler = enrich_pipeline(cap=2)
    pipeline.read_before_resume = set()  # the run is open: nothing read before a resume
    pipeline.covered_before = {("tokopedia", "seller:OLD")}
    assert not seen(pipeline, "o1", "OLD", "strong").page_requested  # read by an earlier run
    assert not seen(pipeline, "n1", "NEW", "medium").page_requested
    assert seen(pipeline, "r1", "BACK", "strong").page_requested  # new and strong: at once
    with pytest.raises(DontCloseSpider):
        pipeline.spider_idle()
    assert crawler.engine.asked == ["r1", "n1"]  # the new account before the known one
