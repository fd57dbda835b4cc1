"""The replica's seller world (crawler.replica.networks): the planted networks, takedowns,
returning sellers and decoys are what the team contract says, and consistent with each other.

Pure: no server. What the platforms serve is checked in test_replica_details.py and
test_replica_images.py.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from crawler.replica.accounts import PLATFORMS, account_key, shop_url
from crawler.replica.catalogue import seller_phone
from crawler.replica.networks import (
    PHONE_STYLES,
    TAKEDOWN_PLATFORMS,
    decoy_accounts,
    e164,
    planted_networks,
    returning_accounts,
    seller_world,
    taken_down_accounts,
    write_phone,
)
from crawler.replica.photos import STOCK_PHOTO
from crawler.sellers.contacts import extract

SEEDS = (2026, 1, 7, 42)
NUMBER = "+6281200001234"


def linking_values(world, key: str) -> set[str]:
    """What account ``key`` shows that can link it to another: its contacts as thriftwatch
    normalises them (a phone and a WhatsApp number are one value), its own shop (which
    other accounts may link to), and the photos it shares (not the stock photo)."""
    plan = world.plans.get(key)
    shown = {f"own-shop:{key}"}
    if plan is None:
        return shown
    for kind, value in plan.contacts:
        if kind == "shop":
            shown.add(f"own-shop:{value}")
        else:
            shown.add(f"{'phone' if kind == 'whatsapp' else kind}:{value}")
    shown |= {f"photo:{photo}" for photo in plan.shared_photos if photo != STOCK_PHOTO}
    return shown


def connected(world, network: frozenset[str]) -> bool:
    """Whether every account of ``network`` is linked to the others, directly or not."""
    owners: dict[str, set[str]] = defaultdict(set)
    for key in network:
        for value in linking_values(world, key):
            owners[value].add(key)
    start = min(network)
    reached, frontier = {start}, [start]
    while frontier:
        key = frontier.pop()
        for value in linking_values(world, key):
            for other in owners[value] - reached:
                reached.add(other)
                frontier.append(other)
    return reached == network


@pytest.mark.parametrize("seed", SEEDS)
def test_networks_are_disjoint_and_of_two_to_five_accounts(seed):
    world = seller_world(seed)
    networks = planted_networks(seed)
    keys = [key for network in networks for key in network]
    assert len(keys) == len(set(keys)), "an account is in two networks"
    assert len(world.operators) >= 10
    for operator in world.operators:
        assert 2 <= len(operator.accounts) <= 5, operator
        assert len(set(operator.accounts)) == len(operator.accounts)
    spanning = [op for op in world.operators
                if len({key.split(":")[0] for key in op.accounts}) >= 2]
    assert len(spanning) >= 0.8 * len(world.operators)
    # The cross-listers: one catalogue seller's account on every platform.
    for network in world.cross_listers:
        assert sorted(key.split(":")[0] for key in network) == sorted(PLATFORMS)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_planted_account_is_linked_to_the_rest_of_its_network(seed):
    world = seller_world(seed)
    for operator in world.operators:
        network = frozenset(operator.accounts)
        assert connected(world, network), operator.name
        for key in network:
            plan = world.plans[key]
            assert plan.operator == operator.name
            assert plan.key == key
            assert key.startswith(plan.platform + ":")
            # What it shows is written somewhere a crawl reads.
            assert plan.contacts or plan.shared_photos, key
            if plan.contacts:
                assert plan.description_note or plan.profile_note, key
            for kind, value in plan.contacts:
                if kind in ("phone", "whatsapp"):
                    assert value in operator.phones, key
                    assert value.startswith("+628"), key
                elif kind == "instagram":
                    assert value == operator.instagram
                elif kind == "telegram":
                    assert value == operator.telegram
                else:
                    assert kind == "shop"
                    assert value in network
                    assert value != key


@pytest.mark.parametrize("seed", SEEDS)
def test_networks_share_nothing_with_each_other(seed):
    world = seller_world(seed)
    owner: dict[str, str] = {}
    for operator in world.operators:
        for key in operator.accounts:
            for value in linking_values(world, key):
                assert owner.setdefault(value, operator.name) == operator.name, (value, key)
    # Nor do the operators use a number any catalogue seller writes.
    catalogue_phones = {e164(seller_phone(offer.seller_id)) for offer in world.catalogue}
    assert not catalogue_phones & {phone for op in world.operators for phone in op.phones}


@pytest.mark.parametrize("seed", SEEDS)
def test_decoys_share_only_a_stock_photo_or_a_name(seed):
    world = seller_world(seed)
    decoys = decoy_accounts(seed)
    in_networks = {key for network in planted_networks(seed) for key in network}
    assert set(decoys.values()) == {"stock photo", "name"}
    stock = [key for key, why in decoys.items() if why == "stock photo"]
    assert len(stock) > 5  # more than THRIFTWATCH_IMAGE_MAX_ACCOUNTS' default
    assert not set(decoys) & in_networks
    linking = {value for op in world.operators for key in op.accounts
               for value in linking_values(world, key)}
    accounts = {account_key(platform, offer): offer
                for platform in PLATFORMS for offer in (*world.catalogue, *world.extras)}
    network_names = {accounts[key].seller_name for op in world.operators
                     for key in op.accounts}
    for key, why in decoys.items():
        plan = world.plans.get(key)
        if why == "stock photo":
            assert plan is not None
            assert plan.operator is None
            assert plan.contacts == ()
            assert plan.shared_photos == (STOCK_PHOTO,)
            assert plan.description_note == plan.profile_note == plan.card_note == ""
        else:
            assert plan is None, key  # shows nothing beyond the catalogue's offers
            assert accounts[key].seller_name in network_names, key
        assert linking_values(world, key) & linking == set(), key
    # The stock photo is on some network accounts too: it must link nobody.
    assert any(STOCK_PHOTO in world.plans[key].shared_photos
               for op in world.operators for key in op.accounts)


@pytest.mark.parametrize("seed", SEEDS)
def test_returning_accounts_come_back_after_their_operators_takedown(seed):
    world = seller_world(seed)
    returning, taken = returning_accounts(seed), taken_down_accounts(seed)
    assert len(returning) >= 3
    assert len(returning) == len(taken)
    networks = planted_networks(seed)
    for old, new in world.successor.items():
        network = next(n for n in networks if new in n)
        assert old in network
        assert old != new
        platform = old.split(":")[0]
        assert new.split(":")[0] == platform
        assert platform in TAKEDOWN_PLATFORMS
        operator = world.operator_of(new)
        assert operator.taken_down == old
        assert operator.returning == new
        # A new shop, listing only after the takedown, showing the operator's number.
        offers = world.seller_offers(world.plans[new].seller_id)
        assert offers
        assert all(o.offer_id in world.extra_platform for o in offers)
        assert {world.extra_platform[o.offer_id] for o in offers} == {platform}
        first_seen = min(o.posted_at for o in offers)
        assert first_seen > max(o.posted_at for o in world.catalogue)
        assert any(v in operator.phones for _, v in world.plans[new].contacts)
        assert world.profile(platform, offers[0]).joined < first_seen[:10]
        # Its shop is not the taken-down one.
        old_offer = world.seller_offers(world.plans[old].seller_id)[0]
        assert shop_url(platform, offers[0]) != shop_url(platform, old_offer)


def test_the_world_is_the_same_for_a_seed_and_different_for_another():
    again = seller_world.__wrapped__(2026, 3000)
    world = seller_world(2026)
    assert again.networks() == world.networks()
    assert again.plans == world.plans
    assert again.successor == world.successor
    assert again.extras == world.extras
    other = seller_world(7)
    assert set(other.networks()) != set(world.networks())
    assert other.plans != world.plans


@pytest.mark.parametrize("style", sorted(PHONE_STYLES))
def test_every_way_a_seller_writes_its_number_reads_back(style):
    written = write_phone(NUMBER, style)
    found = {(c.kind, c.value) for c in extract(f"Info & order WA {written}", "description")}
    assert {value for _, value in found} == {NUMBER}, written


def test_cross_listers_write_their_number_in_every_title():
    world = seller_world(2026)
    assert world.cross_listers
    for network in world.cross_listers:
        seller = {key.split(":")[1] for key in network if key.startswith("tokopedia:")}
        offers = world.seller_offers(int(seller.pop()))
        for offer in offers:
            values = {c.value for c in extract(offer.title, "title")}
            assert e164(seller_phone(offer.seller_id)) in values, offer.title


def test_some_name_decoys_are_unrelated_shops_of_the_same_name():
    """Besides the same shop on a platform where it is not in the network, an unrelated
    shop that happens to bear a network shop's name is a decoy too."""
    world = seller_world(2026)
    network_sellers = {world.plans[key].seller_id for op in world.operators
                       for key in op.accounts}
    sellers = {account_key(platform, offer): offer.seller_id
               for platform in PLATFORMS for offer in world.catalogue}
    unrelated = [key for key, why in decoy_accounts().items()
                 if why == "name" and sellers[key] not in network_sellers]
    assert len(unrelated) >= 9  # one shop on every platform at least
