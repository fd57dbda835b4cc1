"""The replica's photos: every image URL its platforms serve (search cards and detail
answers) is a real JPEG or PNG on that platform's CDN host; an operator's photo stays near
itself however each account's platform re-encodes and resizes it, different operators'
photos are far apart, every seller's own photos are far from every other seller's (none of
the thousands a platform serves near another but for the planted copies), and the stock
photo the decoys share is one picture that crawler.sellers.images.common_hashes sets aside.
"""

from __future__ import annotations

import html
import io
import json
import re
import urllib.parse
import urllib.request
from collections import defaultdict
from functools import cache
from itertools import combinations

import numpy as np
import pytest
from PIL import Image

from crawler.replica import photos
from crawler.replica.accounts import PLATFORMS, account_key
from crawler.replica.images import IMAGE_HOSTS
from crawler.replica.networks import decoy_accounts
from crawler.sellers.images import common_hashes, distance, fingerprint
from tests.test_replica_details import (
    ALL_OFFERS,
    WORLD,
    bukalapak_token,
    detail,
    fetch,
    first_offer,
    on_replica,
    planted_sample,
)

NEAR = 6  # THRIFTWATCH_IMAGE_DISTANCE's default
FAR = 12
# Independent photos' pHashes (32 bits set of 64) come within 10 bits about once in 25
# million pairs, so among the 18 million pairs of one platform's 6,000 photos a pair or two
# may: within 8 bits, about once in 800 million pairs.
APART = 8
CLOSE_PAIRS = 3  # at most this many pairs of different sellers' photos within 10 bits
_IMAGE_URL = re.compile(
    r"https://(?:{})/[^\s\"'<>\\]+".format("|".join(re.escape(host) for host in IMAGE_HOSTS)))


def fetch_bytes(url: str) -> tuple[int, str, bytes]:
    """Status, content type and body of an image request."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read()


def search_body(base: str, platform: str, keyword: str) -> str:
    """The raw answer of ``platform``'s search for ``keyword`` (its first page)."""
    query = urllib.parse.urlencode
    if platform == "tokopedia":
        batch = [{"operationName": "SearchProductV5Query",
                  "variables": {"params": query({"q": keyword, "rows": 20, "start": 0})}}]
        return fetch(f"{base}/gql.tokopedia.com/graphql/SearchProductV5Query",
                     data=json.dumps(batch).encode(),
                     headers={"Content-Type": "application/json"})[1]
    if platform == "shopee":
        body = fetch(f"{base}/shopee.co.id/api/v4/search/search_items?"
                     + query({"keyword": keyword, "limit": 20}))[1]
        # Shopee's answer names photos by hash; the web client puts them on its CDN.
        return " ".join(f"https://down-id.img.susercontent.com/file/{name}"
                        for item in json.loads(body)["items"]
                        for name in item["item_basic"]["images"])
    if platform == "bukalapak":
        return fetch(f"{base}/api.bukalapak.com/multistrategy-products?"
                     + query({"keywords": keyword, "limit": 20}),
                     headers={"Authorization": f"Bearer {bukalapak_token(base)}"})[1]
    if platform == "lazada":
        return fetch(f"{base}/www.lazada.co.id/catalog/?" + query({"ajax": "true",
                                                                    "q": keyword}))[1]
    if platform == "blibli":
        return fetch(f"{base}/www.blibli.com/backend/search/products?"
                     + query({"searchTerm": keyword}))[1]
    if platform == "tiktokshop":
        return fetch(f"{base}/shop-id.tokopedia.com/api/shop/search/product?"
                     + query({"keyword": keyword, "page": 1}))[1]
    if platform == "facebook":
        variables = {"count": 24, "cursor": None, "params": {"bqf": {"query": keyword}}}
        form = query({"fb_api_req_friendly_name": "CometMarketplaceSearchContentContainerQuery",
                      "variables": json.dumps(variables)}).encode()
        return fetch(f"{base}/www.facebook.com/api/graphql/", data=form,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})[1]
    if platform == "instagram":
        return fetch(f"{base}/www.instagram.com/api/v1/tags/web_info/?"
                     + query({"tag_name": keyword}))[1]
    return fetch(f"{base}/www.olx.co.id/items/q-{urllib.parse.quote(keyword)}")[1]


def image_urls(*bodies: str) -> list[str]:
    """Every image-CDN URL in ``bodies``, in order, each once."""
    found = [html.unescape(url) for body in bodies for url in _IMAGE_URL.findall(body)]
    return list(dict.fromkeys(found))


def detail_photo_urls(base: str, platform: str, offer) -> list[str]:
    """The photos of ``offer``'s listing, from the field of its detail answer that lists
    them (Shopee's names them by hash, on its CDN)."""
    answer = detail(base, platform, offer)
    data = answer.data
    if platform == "tokopedia":
        components = data[0][0]["data"]["pdpGetLayout"]["components"]
        media = next(c for c in components if c["name"] == "product_media")["data"][0]
        return [m["URLOriginal"] for m in media["media"]]
    if platform == "shopee":
        return [f"https://down-id.img.susercontent.com/file/{name}"
                for name in data[0]["data"]["item"]["images"]]
    if platform == "bukalapak":
        return data[0]["data"]["images"]["large_urls"]
    if platform == "lazada":
        (module,) = [d for d in data[0] if "data" in d]
        return [g["src"] for g in module["data"]["root"]["fields"]["skuGalleries"]["0"]]
    if platform == "blibli":
        return [i["full"] for i in data[0]["data"]["images"]]
    if platform == "tiktokshop":
        (route,) = [d for d in data[0] if "loaderData" in d]
        info = route["loaderData"]["view/product/(product_id)/page"]["product_info"]
        return [i["url_list"][0] for i in info["product_base"]["images"]]
    if platform == "facebook":
        target = data[1]["data"]["viewer"]["marketplace_product_details_page"]["target"]
        return [p["image"]["uri"] for p in target["listing_photos"]]
    if platform == "instagram":
        return [m["image_versions2"]["candidates"][0]["url"]
                for m in data[0]["items"][0]["carousel_media"]]
    (app,) = [d for d in data[0] if "states" in d]
    return [i["url"] for i in app["states"]["items"]["elements"][str(offer.offer_id)]["images"]]


def served_hashes(base: str, key: str) -> list[str]:
    """The pHashes of the photos account ``key`` shows with its first listing."""
    hashes = []
    for url in detail_photo_urls(base, key.split(":", maxsplit=1)[0], first_offer(key)):
        _, _, body = fetch_bytes(on_replica(base, url))
        hashes.append(fingerprint(body).phash)
    return hashes


@cache
def original(photo_id: str) -> str:
    """The pHash of a photo as drawn, before any platform re-encodes it."""
    return fingerprint(photos.render(photo_id)).phash


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_image_a_platform_serves_is_a_real_photo(replica, platform):
    cards = image_urls(search_body(replica.url, platform, "bal"))
    offer = first_offer(planted_sample(platform, 1)[0])
    pages = image_urls(*detail(replica.url, platform, offer).bodies)
    pages += detail_photo_urls(replica.url, platform, offer)
    assert len(cards) >= 10, cards
    assert len(pages) >= 2, pages
    for url in [*cards[:6], *pages]:
        host = urllib.parse.urlsplit(url).hostname
        assert IMAGE_HOSTS[host] == platform, url
        status, kind, body = fetch_bytes(on_replica(replica.url, url))
        assert status == 200
        with Image.open(io.BytesIO(body)) as image:
            image.load()
            assert image.format in ("JPEG", "PNG"), url
            assert kind == f"image/{image.format.lower()}"
            assert 16 <= image.width <= photos.MAX_SIDE
            assert image.width == image.height
        assert fingerprint(body) is not None


def test_a_photo_is_the_same_bytes_every_time(replica):
    offer = first_offer(planted_sample("shopee", 1)[0])
    url = on_replica(replica.url, detail_photo_urls(replica.url, "shopee", offer)[1])
    assert fetch_bytes(url)[2] == fetch_bytes(url)[2]


@pytest.mark.parametrize("name", [op.name for op in WORLD.operators])
def test_an_operators_accounts_serve_its_photos_and_nobody_elses(replica, name):
    """Each account serves its copy (re-encoded, resized) of the operator's photos: within
    NEAR bits of the photo as drawn and of every other account's copy; and nothing within
    FAR bits of another operator's photos or of the stock photo (which some show too)."""
    operator = next(op for op in WORLD.operators if op.name == name)
    keys = [key for key in operator.accounts if key not in WORLD.successor.values()]
    served = {key: served_hashes(replica.url, key) for key in keys}
    for photo_id in operator.photos:
        showing = [key for key in keys if photo_id in WORLD.plans[key].shared_photos]
        copies = []
        for key in showing:
            near = [h for h in served[key] if distance(h, original(photo_id)) <= NEAR]
            assert near, (key, photo_id)
            copies.append(near[0])
        assert all(distance(a, b) <= NEAR for a, b in combinations(copies, 2)), copies
    stock = original(photos.STOCK_PHOTO)
    others = [original(p) for op in WORLD.operators if op.name != name for p in op.photos]
    for key, hashes in served.items():
        assert len(hashes) >= 2, key
        for phash in hashes:
            if distance(phash, stock) <= NEAR:
                assert photos.STOCK_PHOTO in WORLD.plans[key].shared_photos, key
                continue
            assert min(distance(phash, other) for other in others) > FAR, key
            assert distance(phash, stock) > FAR, key


def test_copies_differ_in_bytes_but_not_in_hash():
    photo_id = WORLD.operators[0].photos[0]
    bodies = {photos.render(photo_id, copy) for copy in photos.COPIES}
    assert len(bodies) == len(photos.COPIES)  # every copy is other bytes
    hashes = [fingerprint(body).phash for body in bodies]
    assert max(distance(a, b) for a, b in combinations(hashes, 2)) <= NEAR
    sizes = {Image.open(io.BytesIO(body)).size for body in bodies}
    assert len(sizes) >= 4  # resized, not only re-encoded


def test_different_operators_photos_are_far_apart():
    owner = {photo_id: op.name for op in WORLD.operators for photo_id in op.photos}
    for a, b in combinations(sorted(owner), 2):
        if owner[a] != owner[b]:
            assert distance(original(a), original(b)) > FAR, (a, b)
    stock = original(photos.STOCK_PHOTO)
    assert min(distance(stock, original(p)) for p in owner) > FAR


def test_only_the_stock_photo_is_on_more_than_five_accounts():
    accounts_of = defaultdict(set)
    for plan in WORLD.plans.values():
        for photo_id in plan.shared_photos:
            accounts_of[photo_id].add(plan.key)
    assert len(accounts_of[photos.STOCK_PHOTO]) > 5
    assert all(len(keys) <= 5 for photo_id, keys in accounts_of.items()
               if photo_id != photos.STOCK_PHOTO)


def test_the_stock_photo_is_one_picture_and_common(replica):
    decoys = sorted(key for key, why in decoy_accounts().items() if why == "stock photo")
    stock = original(photos.STOCK_PHOTO)
    hashes_by_account = {}
    for key in decoys[:6]:
        served = served_hashes(replica.url, key)
        assert any(distance(h, stock) <= NEAR for h in served), key
        hashes_by_account[key] = served
    # More than five unrelated accounts: common, so it links nobody; their own photos are not.
    common = common_hashes(hashes_by_account, max_accounts=5)
    assert {h for hashes in hashes_by_account.values() for h in hashes
            if distance(h, stock) <= NEAR} <= common
    assert common
    assert all(distance(h, stock) <= NEAR for h in common)
    # On five accounts or fewer it is just a photo.
    assert not common_hashes(dict(list(hashes_by_account.items())[:5]), max_accounts=5)


def test_unrelated_sellers_photos_are_far_apart():
    """Every photo of every listing Shopee serves (each account's copy, drawn in process),
    where two unrelated sellers' own photos were once 6 bits apart and linked: a photo
    shown by more than one account is planted (the stock photo, an operator's photo, or a
    network's listing on its own accounts), and no two photos of different accounts are
    within APART bits (at most CLOSE_PAIRS within 10), the planted copies aside."""
    shown_by: dict[str, set[str]] = defaultdict(set)
    copy_of: dict[str, photos.Copy] = {}
    for offer in ALL_OFFERS:
        key = account_key("shopee", offer)
        for photo_id, copy in WORLD.listing_photos("shopee", offer):
            shown_by[photo_id].add(key)
            copy_of.setdefault(photo_id, copy)
    planted = {photos.STOCK_PHOTO, *(p for op in WORLD.operators for p in op.photos)}
    for photo_id, keys in shown_by.items():
        if len(keys) > 1:
            assert photo_id in planted or any(keys <= net for net in WORLD.networks()), photo_id
    ids = sorted(shown_by)
    assert len(ids) > 5000
    hashes = np.array([int(fingerprint(photos.render(p, copy_of[p])).phash, 16) for p in ids],
                      dtype=np.uint64)
    close = []
    for start in range(0, len(ids), 512):  # 512 rows of distances at a time: a few MB
        apart = np.bitwise_count(hashes[start:start + 512, None] ^ hashes[None, :])
        for row, column in zip(*np.nonzero(apart <= 10), strict=True):
            a, b = ids[start + row], ids[column]
            if a < b and not shown_by[a] & shown_by[b]:
                close.append((int(apart[row, column]), a, b))
    assert all(bits > APART for bits, _, _ in close), sorted(close)
    assert len(close) <= CLOSE_PAIRS, sorted(close)
