"""Seller networks from plain rows (crawler.sellers.networks): which accounts are one
operator, the evidence of each link, stable ids, and returning sellers."""

from __future__ import annotations

import hashlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.sellers import images
from crawler.sellers.networks import (
    EVIDENCE_PER_ACCOUNT,
    account_key,
    build_networks,
    common_hashes,
    near_pairs,
    network_id,
)

PHONE = "+6281234567890"
PHOTO = "c3d4e5f6a7b8c9d0"


def listing(platform, listing_id, seller_id, *, flagged=True, first_seen="2026-03-01T10:00:00.000Z",
            seller_name="Thrift Murah"):
    return {"platform": platform, "listing_id": listing_id, "seller_id": seller_id,
            "seller_name": seller_name, "seller_url": f"https://{platform}.example/{seller_id}",
            "flagged": flagged, "first_seen": first_seen, "last_seen": first_seen,
            "url": f"https://{platform}.example/{seller_id}/{listing_id}",
            "capture_sha256": sha(f"{platform}/{listing_id}")}


def contact(platform, listing_id, kind, value, raw, *, field="description",
            seen_at="2026-03-01T10:00:00.000Z"):
    return {"platform": platform, "listing_id": listing_id, "source": "page", "field": field,
            "kind": kind, "value": value, "raw": raw,
            "capture_sha256": sha(f"page {platform}/{listing_id}"), "seen_at": seen_at}


def image(platform, listing_id, phash, n=0):
    return {"platform": platform, "listing_id": listing_id,
            "url": f"https://img.{platform}.example/{listing_id}/{n}.jpg",
            "body_sha256": sha(f"image {platform}/{listing_id}/{n}"), "phash": phash,
            "width": 800, "height": 800, "fetched_at": "2026-03-01T10:05:00.000Z"}


def recheck(platform, listing_id, status, checked_at):
    return {"platform": platform, "listing_id": listing_id, "status": status,
            "checked_at": checked_at}


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def flip(phash, *bits):
    value = int(phash, 16)
    for bit in bits:
        value ^= 1 << bit
    return f"{value:016x}"


def grouping(networks):
    return sorted(sorted(n.keys) for n in networks)


def test_a_phone_written_differently_on_two_platforms_links_the_two_accounts():
    listings = [listing("tokopedia", "t1", "111"), listing("shopee", "s1", "222"),
                listing("lazada", "l1", "333")]
    contacts = [contact("tokopedia", "t1", "phone", PHONE, "WA: 0812 3456 7890"),
                contact("shopee", "s1", "whatsapp", PHONE, "wa.me/6281234567890"),
                contact("lazada", "l1", "phone", "+6285700001111", "0857-0000-1111")]
    networks = build_networks(listings=listings, contacts=contacts)
    assert grouping(networks) == [["lazada:333"], ["shopee:222", "tokopedia:111"]]
    pair = networks[0].as_dict()
    assert pair["platforms"] == ["shopee", "tokopedia"]
    assert pair["flagged_listings"] == 2
    assert pair["returning"] is False
    [link] = pair["links"]
    assert (link["kind"], link["value"], link["strength"]) == ("phone", PHONE, "strong")
    assert link["accounts"] == ["shopee:222", "tokopedia:111"]
    assert [(e["account"], e["listing_id"], e["field"], e["kind"], e["raw"], e["capture_sha256"])
            for e in link["evidence"]] == [
        ("shopee:222", "s1", "description", "whatsapp", "wa.me/6281234567890",
         sha("page shopee/s1")),
        ("tokopedia:111", "t1", "description", "phone", "WA: 0812 3456 7890",
         sha("page tokopedia/t1"))]


def test_a_number_seen_only_as_whatsapp_is_a_whatsapp_link():
    listings = [listing("tokopedia", "t1", "1"), listing("blibli", "b1", "2")]
    contacts = [contact("tokopedia", "t1", "whatsapp", PHONE, "wa.me/6281234567890"),
                contact("blibli", "b1", "whatsapp", PHONE, "api.whatsapp.com/send?phone=62812..")]
    [network] = build_networks(listings=listings, contacts=contacts)
    assert [link.kind for link in network.links] == ["whatsapp"]


def test_a_shop_or_handle_named_both_ways_links_accounts_and_named_one_way_does_not():
    listings = [listing("instagram", "p1", "9001"), listing("shopee", "s1", "222"),
                listing("tokopedia", "t1", "111"), listing("bukalapak", "b1", "333")]
    contacts = [
        # Instagram account thrift.bdg and Shopee shop 222 name each other: one operator.
        contact("instagram", "p1", "instagram", "thrift.bdg", "instagram.com/thrift.bdg",
                field="seller_url"),
        contact("shopee", "s1", "instagram", "thrift.bdg", "IG @Thrift.Bdg"),
        contact("shopee", "s1", "shop", "shopee:222", "shopee.co.id/shop/222",
                field="seller_url"),
        contact("instagram", "p1", "shop", "shopee:222", "shopee.co.id/shop/222"),
        # Bukalapak 333 names Tokopedia gudangbal, which never names it back: a mention
        # (a competitor named, a shop warned against) is no link on its own.
        contact("tokopedia", "t1", "shop", "tokopedia:gudangbal", "tokopedia.com/gudangbal",
                field="seller_url"),
        contact("bukalapak", "b1", "shop", "tokopedia:gudangbal",
                "cek juga tokopedia.com/gudangbal"),
    ]
    networks = build_networks(listings=listings, contacts=contacts)
    assert grouping(networks) == [["bukalapak:333"], ["instagram:9001", "shopee:222"],
                                  ["tokopedia:111"]]
    kinds = {link.kind: link for n in networks for link in n.links}
    assert set(kinds) == {"instagram", "shop"}
    assert kinds["instagram"].value == "thrift.bdg"
    assert kinds["shop"].value == "shopee:222"
    assert {e["field"] for e in kinds["shop"].evidence} == {"seller_url", "description"}


def test_the_same_name_alone_never_links():
    listings = [listing(p, f"{p}-1", "7", seller_name="Thrift Murah Bandung")
                for p in ("tokopedia", "shopee", "lazada", "blibli")]
    networks = build_networks(listings=listings)
    assert [len(n.accounts) for n in networks] == [1, 1, 1, 1]
    assert all(not n.links for n in networks)


def test_near_identical_photos_link_with_medium_strength_and_far_ones_do_not():
    listings = [listing("tokopedia", "t1", "1"), listing("shopee", "s1", "2"),
                listing("lazada", "l1", "3")]
    resized = flip(PHOTO, 0, 9, 17, 40, 63, 22)  # 6 bits: the same photo re-encoded smaller
    other = flip(PHOTO, 1, 2, 3, 4, 5, 6, 7)  # 7 bits: another photo
    rows = [image("tokopedia", "t1", PHOTO), image("shopee", "s1", resized),
            image("lazada", "l1", other)]
    networks = build_networks(listings=listings, image_rows=rows)
    assert grouping(networks) == [["lazada:3"], ["shopee:2", "tokopedia:1"]]
    [link] = networks[0].links
    assert (link.kind, link.strength, link.distance) == ("image", "medium", 6)
    assert link.value == min(PHOTO, resized)
    assert [(e["account"], e["listing_id"], e["phash"], e["capture_sha256"])
            for e in link.evidence] == [
        ("shopee:2", "s1", resized, sha("image shopee/s1/0")),
        ("tokopedia:1", "t1", PHOTO, sha("image tokopedia/t1/0"))]
    # The threshold is a setting.
    assert len(build_networks(listings=listings, image_rows=rows, image_distance=5)) == 3
    assert len(build_networks(listings=listings, image_rows=rows, image_distance=7)) == 1


def test_a_stock_photo_shared_by_many_unrelated_accounts_links_none_of_them():
    stock = "ffd8a0c3e1b2d4f6"
    listings = [listing("shopee", f"s{i}", str(i)) for i in range(7)]
    rows = [image("shopee", f"s{i}", flip(stock, i % 3) if i % 2 else stock) for i in range(7)]
    networks = build_networks(listings=listings, image_rows=rows)
    assert [len(n.accounts) for n in networks] == [1] * 7
    # Five accounts are not "many" (THRIFTWATCH_IMAGE_MAX_ACCOUNTS: more than 5).
    few = build_networks(listings=listings[:5], image_rows=rows[:5])
    assert grouping(few) == [[f"shopee:{i}" for i in range(5)]]


def test_one_operators_accounts_count_once_when_deciding_a_photo_is_common():
    # Seven accounts of one operator (one phone) and one more account with their photo.
    listings = [listing("shopee", f"s{i}", str(i)) for i in range(8)]
    contacts = [contact("shopee", f"s{i}", "phone", PHONE, "0812 3456 7890") for i in range(7)]
    rows = [image("shopee", f"s{i}", PHOTO) for i in range(8)]
    [network] = build_networks(listings=listings, contacts=contacts, image_rows=rows)
    assert len(network.accounts) == 8
    assert {link.kind for link in network.links} == {"phone", "image"}


def test_links_join_transitively():
    listings = [listing("tokopedia", "t1", "a"), listing("shopee", "s1", "b"),
                listing("shopee", "s2", "b"), listing("lazada", "l1", "c"),
                listing("facebook", "f1", "d"), listing("blibli", "x1", "e")]
    contacts = [contact("tokopedia", "t1", "phone", PHONE, "0812-3456-7890"),
                contact("shopee", "s1", "phone", PHONE, "+62 812 3456 7890"),
                contact("lazada", "l1", "email", "gudang@yahoo.co.id", "gudang[at]yahoo.co.id"),
                contact("facebook", "f1", "email", "gudang@yahoo.co.id", "gudang@yahoo.co.id")]
    rows = [image("shopee", "s2", PHOTO), image("lazada", "l1", flip(PHOTO, 3))]
    networks = build_networks(listings=listings, contacts=contacts, image_rows=rows)
    assert grouping(networks) == [["blibli:e"],
                                  ["facebook:d", "lazada:c", "shopee:b", "tokopedia:a"]]
    assert [link.kind for link in networks[0].links] == ["email", "phone", "image"]
    assert networks[0].platforms == ["facebook", "lazada", "shopee", "tokopedia"]


def test_network_ids_and_order_do_not_depend_on_the_order_of_the_rows():
    listings = [listing(p, f"{p}{i}", f"{p[0]}{i % 4}") for p in ("tokopedia", "shopee", "lazada")
                for i in range(12)]
    contacts = [contact(p, f"{p}{i}", "phone", f"+62812000{i % 5:05d}", "x")
                for p in ("tokopedia", "shopee") for i in range(0, 12, 3)]
    rows = [image("lazada", f"lazada{i}", flip(PHOTO, i % 2)) for i in range(0, 12, 5)]
    first = [n.as_dict() for n in build_networks(listings=listings, contacts=contacts,
                                                 image_rows=rows)]
    shuffler = random.Random(7)
    for _ in range(5):
        for rows_list in (listings, contacts, rows):
            shuffler.shuffle(rows_list)
        again = [n.as_dict() for n in build_networks(listings=listings, contacts=contacts,
                                                     image_rows=rows)]
        assert again == first
    for network in first:
        keys = [account_key(a["platform"], a["seller_id"]) for a in network["accounts"]]
        assert network["network_id"] == hashlib.sha256(
            "\n".join(sorted(keys)).encode()).hexdigest()[:12]
    assert network_id(["b:1", "a:2"]) == network_id(["a:2", "b:1"])


def test_each_link_keeps_the_first_few_sightings_per_account():
    listings = [listing("tokopedia", f"t{i}", "1") for i in range(10)] + [
        listing("shopee", "s1", "2")]
    contacts = [contact("tokopedia", f"t{i}", "phone", PHONE, "0812...",
                        seen_at=f"2026-03-{i + 1:02d}T00:00:00.000Z") for i in range(10)]
    contacts.append(contact("shopee", "s1", "phone", PHONE, "0812..."))
    [network] = build_networks(listings=listings, contacts=contacts)
    [link] = network.links
    assert [e["listing_id"] for e in link.evidence if e["account"] == "tokopedia:1"] == [
        "t0", "t1", "t2"][:EVIDENCE_PER_ACCOUNT]


def test_contacts_and_photos_of_listings_without_a_seller_link_nobody():
    listings = [listing("tokopedia", "t1", "1"), {**listing("shopee", "s1", None)},
                listing("lazada", "l1", "")]
    contacts = [contact(p, i, "phone", PHONE, "0812") for p, i in
                (("tokopedia", "t1"), ("shopee", "s1"), ("lazada", "l1"), ("blibli", "x"))]
    networks = build_networks(listings=listings, contacts=contacts)
    assert grouping(networks) == [["tokopedia:1"]]


def test_accounts_come_from_the_accounts_view_with_their_counts():
    accounts = [{"platform": "tokopedia", "seller_id": "1", "seller_name": "Gudang Bal",
                 "seller_url": "https://www.tokopedia.com/gudangbal", "listings": 12,
                 "flagged": 9, "first_seen": "2026-01-01T00:00:00.000Z",
                 "last_seen": "2026-03-01T00:00:00.000Z", "status": None}]
    [network] = build_networks(accounts, [listing("tokopedia", "t1", "1")])
    assert network.accounts == [{
        "platform": "tokopedia", "seller_id": "1", "seller_name": "Gudang Bal",
        "url": "https://www.tokopedia.com/gudangbal", "listings": 12, "flagged": 9,
        "first_seen": "2026-01-01T00:00:00.000Z", "last_seen": "2026-03-01T00:00:00.000Z",
        "status": None}]


# -- returning sellers -------------------------------------------------------------------------

def returning_case(new_first_seen, statuses=("removed", "removed")):
    listings = [listing("tokopedia", "t1", "old", first_seen="2026-01-05T00:00:00.000Z"),
                listing("tokopedia", "t2", "old", first_seen="2026-01-06T00:00:00.000Z"),
                listing("shopee", "s1", "new", first_seen=new_first_seen),
                listing("lazada", "l1", "bystander", first_seen="2026-01-01T00:00:00.000Z")]
    contacts = [contact("tokopedia", "t2", "phone", PHONE, "0812 3456 7890"),
                contact("lazada", "l1", "phone", PHONE, "0812 3456 7890"),
                contact("lazada", "l1", "instagram", "gudang.bal", "@gudang.bal"),
                contact("shopee", "s1", "instagram", "gudang.bal", "ig: gudang.bal")]
    rechecks = [recheck("tokopedia", "t1", "live", "2026-02-01T00:00:00.000Z"),
                recheck("tokopedia", "t1", statuses[0], "2026-02-10T00:00:00.000Z"),
                recheck("tokopedia", "t2", "error", "2026-02-12T00:00:00.000Z"),
                recheck("tokopedia", "t2", statuses[1], "2026-02-11T00:00:00.000Z"),
                recheck("tokopedia", "t2", "removed", "2026-02-20T00:00:00.000Z")]
    return build_networks(listings=listings, contacts=contacts, rechecks=rechecks)


def test_an_account_first_seen_after_a_linked_account_was_taken_down_is_returning():
    [network] = returning_case("2026-03-01T00:00:00.000Z")
    shown = network.as_dict()
    assert shown["returning"] is True
    status = {a["seller_id"]: a["status"] for a in shown["accounts"]}
    assert status == {"old": "taken_down", "new": None, "bystander": None}
    [proof] = shown["returning_evidence"]
    assert proof["taken_down"] == "tokopedia:old"
    assert proof["taken_down_at"] == "2026-02-11T00:00:00.000Z"  # when its last listing went
    assert proof["returned"] == "shopee:new"
    assert proof["first_seen"] == "2026-03-01T00:00:00.000Z"
    # The chain: the old account's phone, then the bystander's Instagram handle.
    assert [(link["kind"], link["value"]) for link in proof["links"]] == [
        ("phone", PHONE), ("instagram", "gudang.bal")]
    assert proof["links"][0]["evidence"][1]["capture_sha256"] == sha("page tokopedia/t2")


def test_no_return_before_the_takedown_or_while_a_listing_is_live():
    [before] = returning_case("2026-02-05T00:00:00.000Z")
    assert before.returning is False
    [still_live] = returning_case("2026-03-01T00:00:00.000Z", statuses=("live", "removed"))
    assert still_live.returning is False
    assert {a["seller_id"]: a["status"] for a in still_live.accounts}["old"] == "live"
    # A captcha or login wall at recheck says nothing: t1's last word is still "live".
    [blocked] = returning_case("2026-03-01T00:00:00.000Z", statuses=("blocked", "removed"))
    assert blocked.returning is False
    assert {a["seller_id"]: a["status"] for a in blocked.accounts}["old"] == "live"


# -- properties --------------------------------------------------------------------------------

PLATFORMS = ("tokopedia", "shopee", "lazada")


@st.composite
def seller_data(draw):
    sellers = draw(st.lists(st.tuples(st.sampled_from(PLATFORMS), st.integers(0, 9)),
                            min_size=1, max_size=25, unique=True))
    listings, contacts, rows = [], [], []
    for n, (platform, seller) in enumerate(sellers):
        for i in range(draw(st.integers(1, 3))):
            listing_id = f"{n}-{i}"
            listings.append(listing(platform, listing_id, str(seller)))
            for kind, value in draw(st.lists(st.tuples(
                    st.sampled_from(("phone", "whatsapp", "instagram", "email")),
                    st.sampled_from(("a", "b", "c", "d", "e", "f"))), max_size=2)):
                contacts.append(contact(platform, listing_id, kind, value, value))
            for bits in draw(st.lists(st.lists(st.integers(0, 63), max_size=9), max_size=2)):
                rows.append(image(platform, listing_id, flip(PHOTO, *bits), len(rows)))
    return listings, contacts, rows


@settings(max_examples=150, deadline=None)
@given(seller_data())
def test_networks_partition_the_accounts_and_hold_their_links(data):
    listings, contacts, rows = data
    networks = build_networks(listings=listings, contacts=contacts, image_rows=rows)
    everyone = {account_key(r["platform"], r["seller_id"]) for r in listings}
    seen = [key for network in networks for key in network.keys]
    assert sorted(seen) == sorted(everyone)  # each account in exactly one network
    assert len({n.network_id for n in networks}) == len(networks)
    for network in networks:
        members = set(network.keys)
        assert network.network_id == network_id(members)
        for link in network.links:
            assert len(set(link.accounts)) == len(link.accounts) >= 2
            assert set(link.accounts) <= members
            assert {side["account"] for side in link.evidence} == set(link.accounts)
            if link.kind == "image":
                phashes = [side["phash"] for side in link.evidence]
                assert images.distance(*phashes) == link.distance <= 6
        if len(members) > 1:  # a network is connected by its own links
            reached, frontier = set(), [network.keys[0]]
            while frontier:
                here = frontier.pop()
                reached.add(here)
                frontier += [a for link in network.links if here in link.accounts
                             for a in link.accounts if a not in reached]
            assert reached == members


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=40), st.data(), st.integers(0, 12))
def test_near_pairs_finds_every_close_pair(values, data, distance):
    hashes = [f"{v:016x}" for v in values]
    # Near copies, so that close pairs occur.
    for value in values[:10]:
        bits = data.draw(st.lists(st.integers(0, 63), max_size=distance + 1))
        hashes.append(flip(f"{value:016x}", *bits))
    brute = sorted({(min(a, b), max(a, b), images.distance(a, b))
                    for a in set(hashes) for b in set(hashes)
                    if a != b and images.distance(a, b) <= distance})
    assert near_pairs(hashes, distance) == brute


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefgh"),
                       st.lists(st.lists(st.integers(0, 63), max_size=5), max_size=4),
                       min_size=1),
       st.integers(1, 4), st.integers(0, 8))
def test_common_photos_follow_the_images_modules_rule(flips_by_group, max_accounts, distance):
    hashes_by_group = {group: {flip(PHOTO, *bits) for bits in flips}
                       for group, flips in flips_by_group.items()}
    groups_of: dict[str, set[str]] = {}
    for group, hashes in hashes_by_group.items():
        for phash in hashes:
            groups_of.setdefault(phash, set()).add(group)
    assert common_hashes(groups_of, near_pairs(groups_of, distance), max_accounts) == \
        images.common_hashes(hashes_by_group, max_accounts, distance)


def test_an_accounts_own_shop_or_handle_from_its_seller_url_links_it_only_when_named_back():
    listings = [{**listing("tokopedia", "t1", "111"),
                 "seller_url": "https://www.tokopedia.com/gudangbal"},
                {**listing("instagram", "p1", "9001"),
                 "seller_url": "https://www.instagram.com/thrift.bdg/"},
                {**listing("shopee", "s1", "222"), "seller_url": "https://shopee.co.id/shop/222"},
                listing("lazada", "l1", "333")]
    # Shopee 222 and Tokopedia gudangbal name each other's shop; Lazada 333 mentions the
    # Instagram account (without claiming it), which never names it back.
    contacts = [contact("shopee", "s1", "shop", "tokopedia:gudangbal", "tokopedia.com/gudangbal"),
                contact("tokopedia", "t1", "shop", "shopee:222", "shopee.co.id/shop/222"),
                contact("lazada", "l1", "instagram", "thrift.bdg", "mampir @thrift.bdg")]
    networks = build_networks(listings=listings, contacts=contacts)
    assert grouping(networks) == [["instagram:9001"], ["lazada:333"],
                                  ["shopee:222", "tokopedia:111"]]
    sides = {(e["account"], e["field"], e["capture_sha256"]) for n in networks
             for link in n.links for e in link.evidence}
    assert ("tokopedia:111", "seller_url", sha("tokopedia/t1")) in sides
    assert ("shopee:222", "seller_url", sha("shopee/s1")) in sides


def test_without_rechecks_the_accounts_views_status_and_takedown_time_are_used():
    accounts = [
        {"platform": "tokopedia", "seller_id": "old", "status": "taken_down",
         "taken_down_at": "2026-02-01T00:00:00.000Z", "first_seen": "2026-01-01T00:00:00.000Z"},
        {"platform": "shopee", "seller_id": "new", "status": None, "taken_down_at": None,
         "first_seen": "2026-02-02T00:00:00.000Z"}]
    listings = [listing("tokopedia", "t1", "old"), listing("shopee", "s1", "new")]
    contacts = [contact("tokopedia", "t1", "phone", PHONE, "0812"),
                contact("shopee", "s1", "phone", PHONE, "0812")]
    [network] = build_networks(accounts, listings, contacts)
    assert [p["returned"] for p in network.returning_evidence] == ["shopee:new"]
    assert {a["seller_id"]: a["status"] for a in network.accounts} == {
        "old": "taken_down", "new": None}
