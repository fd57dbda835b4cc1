"""The replica's listing detail endpoints and pages against its own seller world: each
platform's detail answer has the fields a real one has, a missing listing answers as the
platform does, the contacts an account is planned to show are really in what it serves (read
by the real extractor, crawler.sellers.contacts), and takedowns by account remove exactly
that account's listings, after which the returning sellers list.

Over loopback HTTP against the in-process replica (each request takes milliseconds); a test
that takes an account down starts its own replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from playwright.async_api import async_playwright
from scrapy import Request

from crawler.replica import (
    blibli,
    bukalapak,
    facebook,
    images,
    instagram,
    lazada,
    shopee,
    tiktokshop,
    tokopedia,
)
from crawler.replica.accounts import PLATFORMS, account_key, platform_seller_id, shop_url
from crawler.replica.catalogue import slugify
from crawler.replica.networks import decoy_accounts, seller_world
from crawler.replica.server import ReplicaServer
from crawler.runtime.browser import CONTEXT_KWARGS, launch_options, replica_router
from crawler.sellers.contacts import extract
from crawler.settings import THRIFTWATCH_CHROMIUM
from spiders.rendered import REPLICA_ONLY_RESOLVER

WORLD = seller_world()
ALL_OFFERS = (*WORLD.catalogue, *WORLD.extras)


@dataclass
class Answer:
    """What a listing's detail endpoint (or page) answered: status, raw bodies, the
    decoded JSON bodies, and every text a seller controls in it."""

    status: int  # 200 if every request answered 200, else the first other status
    statuses: list[int]
    bodies: list[str]
    data: list[Any]
    texts: list[str]


# -- fetching -------------------------------------------------------------------------


def fetch(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
          ) -> tuple[int, str]:
    request = urllib.request.Request(url, data=data, headers=headers or {},
                                     method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def bukalapak_token(base: str) -> str:
    _, body = fetch(f"{base}/accounts.bukalapak.com/auth_proxies/request_token", data=b"")
    return json.loads(body)["access_token"]


def listing_page_url(platform: str, offer) -> str:
    """The listing's own page, as the platform's search links it."""
    title = slugify(offer.title)
    return {
        "tokopedia": tokopedia.listing_url(offer),
        "shopee": f"https://shopee.co.id/product/{shopee.SHOP_ID_OFFSET + offer.seller_id}/"
                  f"{shopee.ITEM_ID_OFFSET + offer.offer_id}",
        "bukalapak": bukalapak.product(offer)["url"],
        "lazada": f"https://www.lazada.co.id/products/{title}-i"
                  f"{lazada.ITEM_ID_OFFSET + offer.offer_id}-s"
                  f"{2 * (lazada.ITEM_ID_OFFSET + offer.offer_id) + 1}.html",
        "blibli": f"https://www.blibli.com/p/{title}/ps--"
                  f"{blibli.product_sku(offer, ALL_OFFERS)}",
        "tiktokshop": f"https://shop-id.tokopedia.com/view/product/"
                      f"{tiktokshop.ID_BASE + offer.offer_id}",
        "facebook": f"https://www.facebook.com/marketplace/item/"
                    f"{facebook.LISTING_ID_BASE + offer.offer_id}/",
        "instagram": f"https://www.instagram.com/p/"
                     f"{instagram.shortcode(instagram.MEDIA_PK_BASE + offer.offer_id)}/",
        "olx": f"https://www.olx.co.id/item/{title}-iid-{offer.offer_id}",
    }[platform]


def on_replica(base: str, url: str) -> str:
    """``url`` as replica mode requests it."""
    parts = urllib.parse.urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{base}/{parts.netloc}{parts.path}{query}"


def detail_requests(base: str, platform: str, offer) -> list[tuple[str, bytes | None, dict]]:
    """The requests a detail fetch of ``offer`` on ``platform`` makes: the platform's detail
    endpoint(s), or its listing page where the page is the data."""
    if platform == "tokopedia":
        batch = [{"operationName": "PDPGetLayoutQuery", "variables": {
                      "shopDomain": offer.seller_slug,
                      "productKey": tokopedia.listing_url(offer).rsplit("/", 1)[1]}},
                 {"operationName": "PDPGetDataP2", "variables": {
                     "productID": str(tokopedia.ID_BASE + offer.offer_id)}}]
        return [(f"{base}/gql.tokopedia.com/graphql/PDPGetLayoutQuery",
                 json.dumps(batch).encode(), {"Content-Type": "application/json",
                                              "X-Tkpd-Akamai": "pdpGetLayout"})]
    if platform == "shopee":
        query = urllib.parse.urlencode({
            "item_id": shopee.ITEM_ID_OFFSET + offer.offer_id,
            "shop_id": shopee.SHOP_ID_OFFSET + offer.seller_id,
            "tz_offset_minutes": 420, "detail_level": 0})
        return [(f"{base}/shopee.co.id/api/v4/pdp/get_pc?{query}", None, {})]
    if platform == "bukalapak":
        auth = {"Authorization": f"Bearer {bukalapak_token(base)}"}
        product_id = bukalapak.product(offer)["id"]
        return [(f"{base}/api.bukalapak.com/products/{product_id}", None, auth)]
    if platform == "blibli":
        sku = blibli.product_sku(offer, ALL_OFFERS)
        root = f"{base}/www.blibli.com/backend/product-detail/products/ps--{sku}"
        return [(f"{root}/_summary", None, {}), (f"{root}/_description", None, {})]
    if platform == "facebook":
        form = urllib.parse.urlencode({
            "fb_api_req_friendly_name": facebook.ITEM_OPERATION,
            "variables": json.dumps({"targetId": str(facebook.LISTING_ID_BASE
                                                     + offer.offer_id)})}).encode()
        return [(on_replica(base, listing_page_url(platform, offer)), None, {}),
                (f"{base}/www.facebook.com/api/graphql/", form,
                 {"Content-Type": "application/x-www-form-urlencoded"})]
    if platform == "instagram":
        pk = instagram.MEDIA_PK_BASE + offer.offer_id
        username = urllib.parse.quote(offer.seller_slug[:30])
        return [(f"{base}/www.instagram.com/api/v1/media/{pk}/info/", None, {}),
                ((f"{base}/www.instagram.com/api/v1/users/web_profile_info/"
                 f"?username={username}"), None, {})]
    return [(on_replica(base, listing_page_url(platform, offer)), None, {})]


def detail(base: str, platform: str, offer) -> Answer:
    """Fetch ``offer``'s detail answer on ``platform`` from the replica at ``base``."""
    statuses, bodies, data, texts = [], [], [], []
    for url, body, headers in detail_requests(base, platform, offer):
        status, text = fetch(url, data=body, headers=headers)
        statuses.append(status)
        bodies.append(text)
        if text.lstrip().startswith(("{", "[")):
            decoded = json.loads(text)
            data.append(decoded)
            texts.extend(strings(decoded))
        else:
            page = _Page()
            page.feed(text)
            data.append(page.scripts)
            texts.extend(page.texts)
            for script in page.scripts:
                texts.extend(strings(script))
    worst = next((status for status in statuses if status != 200), 200)
    return Answer(worst, statuses, bodies, data, [plain(text) for text in texts])


def strings(value: Any) -> list[str]:
    """Every string in a decoded JSON value (JSON held in a string decoded too)."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    if isinstance(value, str):
        if value.startswith(("[{", '{"')):
            try:
                return strings(json.loads(value))
            except ValueError:
                pass
        return [value]
    return []


def plain(text: str) -> str:
    """Text without HTML tags (descriptions come as HTML on some platforms)."""
    if "<" not in text:
        return text
    page = _Page()
    page.feed(text)
    return "\n".join(page.texts)


class _Page(HTMLParser):
    """Text nodes of a page, and the JSON its scripts carry."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.scripts: list[Any] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if not self._in_script:
            if data.strip():
                self.texts.append(data)
            return
        start, end = data.find("{"), data.rfind("}")
        if start == -1 or data.lstrip().startswith(("function", "const", "(")):
            return
        with contextlib.suppress(ValueError):
            self.scripts.append(json.loads(data[start:end + 1]))


# -- the truth ------------------------------------------------------------------------


def found_contacts(answer: Answer) -> set[tuple[str, str]]:
    """Every contact in the answer's texts, a phone and a WhatsApp number as one kind."""
    found = set()
    for text in answer.texts:
        for contact in extract(text, "description"):
            kind = "phone" if contact.kind == "whatsapp" else contact.kind
            found.add((kind, contact.value))
    return found


def _first_offers() -> dict[str, Any]:
    first: dict[str, Any] = {}
    for offer in ALL_OFFERS:
        for platform in PLATFORMS:
            first.setdefault(account_key(platform, offer), offer)
    return first


FIRST_OFFERS = _first_offers()


def first_offer(key: str):
    """The first offer account ``key`` lists (a planted or a catalogue account)."""
    return FIRST_OFFERS[key]


def planned_contacts(key: str) -> set[tuple[str, str]]:
    """What the plan of account ``key`` says it shows, as the extractor writes it."""
    expected = set()
    for kind, value in WORLD.plans[key].contacts:
        if kind == "shop":  # a link to another account's shop, as the seller pasted it
            other = shop_url(value.split(":")[0], first_offer(value)).removeprefix("https://")
            (contact,) = extract(other, "description")
            expected.add((contact.kind, contact.value))
        else:
            expected.add(("phone" if kind == "whatsapp" else kind, value))
    return expected


def network_contacts() -> dict[tuple[str, str], str]:
    """Every contact a planted operator shows, and whose it is."""
    return {contact: op.name for op in WORLD.operators for key in op.accounts
            for contact in planned_contacts(key)}


def planted_sample(platform: str, count: int = 3) -> list[str]:
    """Up to ``count`` planted accounts on ``platform`` that list from the start."""
    returning = set(WORLD.successor.values())
    keys = sorted(key for op in WORLD.operators for key in op.accounts
                  if key.startswith(f"{platform}:") and key not in returning)
    return keys[:count]


# -- contacts as served -----------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
def test_planted_contacts_are_in_what_each_platform_serves(replica, platform):
    """Every planted account on ``platform`` (but the returning ones, which list only after
    a takedown): what its plan says it shows is in its listings' detail answers, and no
    contact of another network is."""
    keys = planted_sample(platform, count=len(WORLD.plans))
    assert keys, f"no planted account on {platform}"
    owners = network_contacts()
    for key in keys:
        operator = WORLD.plans[key].operator
        for offer in WORLD.seller_offers(WORLD.plans[key].seller_id)[:2]:
            answer = detail(replica.url, platform, offer)
            assert answer.status == 200, (key, answer.bodies)
            found = found_contacts(answer)
            missing = planned_contacts(key) - found
            assert not missing, (key, missing, WORLD.plans[key])
            strangers = {c for c in found if owners.get(c, operator) != operator}
            assert not strangers, (key, strangers)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_decoys_show_no_contact_of_a_network(replica, platform):
    owners = network_contacts()
    decoys = sorted(key for key in decoy_accounts() if key.startswith(f"{platform}:"))
    assert decoys
    for key in decoys:
        found = found_contacts(detail(replica.url, platform, first_offer(key)))
        assert not {c for c in found if c in owners}, key


@pytest.mark.parametrize("platform", ["bukalapak", "instagram"])
def test_card_notes_are_on_the_search_cards(replica, platform):
    """Where a platform's search card shows text, an operator's card note is on it."""
    noted = [plan for plan in WORLD.plans.values()
             if plan.platform == platform and plan.card_note
             and plan.key not in WORLD.successor.values()]
    assert noted
    for plan in noted:
        offer = WORLD.seller_offers(plan.seller_id)[0]
        found = found_contacts(Answer(200, [200], [], [], [plain(card_text(
            replica.url, platform, offer))]))
        assert planned_contacts(plan.key) <= found, plan.key


def card_text(base: str, platform: str, offer) -> str:
    """The text ``offer``'s search card shows, searched for by its title."""
    if platform == "bukalapak":
        query = urllib.parse.urlencode({"keywords": offer.title, "limit": 50})
        _, text = fetch(f"{base}/api.bukalapak.com/multistrategy-products?{query}",
                        headers={"Authorization": f"Bearer {bukalapak_token(base)}"})
        product_id = bukalapak.product(offer)["id"]
        return next(p["description"] for p in json.loads(text)["data"]
                    if p["id"] == product_id)
    query = urllib.parse.urlencode({"tag_name": offer.title})
    _, text = fetch(f"{base}/www.instagram.com/api/v1/tags/web_info/?{query}")
    code = instagram.shortcode(instagram.MEDIA_PK_BASE + offer.offer_id)
    return next(section_media["media"]["caption"]["text"]
                for feed in ("top", "recent")
                for section in json.loads(text)["data"][feed]["sections"]
                for section_media in section["layout_content"]["medias"]
                if section_media["media"]["code"] == code)


# -- detail shapes --------------------------------------------------------------------


def catalogue_offer(platform: str):
    """A catalogue offer of an unplanted seller (the catalogue's own truth)."""
    return next(o for o in WORLD.catalogue
                if account_key(platform, o) not in WORLD.plans and o.kind == "plain")


def test_tokopedia_detail(replica, monkeypatch):
    offer = catalogue_offer("tokopedia")
    monkeypatch.setenv("TZ", "Asia/Jakarta")  # the answer must not follow the machine's zone
    time.tzset()
    try:
        answer = detail(replica.url, "tokopedia", offer)
    finally:
        monkeypatch.undo()
        time.tzset()
    layout, p2 = answer.data[0]
    page = layout["data"]["pdpGetLayout"]
    assert page["basicInfo"]["shopID"] == str(offer.seller_id)
    assert page["basicInfo"]["shopName"] == offer.seller_name
    components = {c["name"]: c["data"][0] for c in page["components"]}
    rows = {row["title"]: row["subtitle"] for row in components["product_detail"]["content"]}
    assert rows["Deskripsi"] == offer.description
    media = components["product_media"]["media"]
    assert len(media) >= 2
    assert all(m["URLOriginal"].startswith("https://images.tokopedia.net/")
                                   for m in media)
    shop = p2["data"]["pdpGetData"]["shopInfo"]
    assert shop["shopCore"]["shopID"] == str(offer.seller_id)
    profile = WORLD.profile("tokopedia", offer)
    assert shop["shopCore"]["description"] == profile.about
    joined = datetime.fromisoformat(profile.joined).replace(tzinfo=UTC)
    assert shop["createInfo"]["epochShopCreated"] == str(int(joined.timestamp()))
    assert shop["createInfo"]["shopCreated"] == profile.joined


def test_shopee_detail(replica):
    offer = catalogue_offer("shopee")
    (body,) = detail(replica.url, "shopee", offer).data
    item, shop = body["data"]["item"], body["data"]["shop_detailed_info"]
    assert body["error"] is None
    assert item["item_id"] == shopee.ITEM_ID_OFFSET + offer.offer_id
    assert item["shop_id"] == shop["shopid"] == int(platform_seller_id("shopee", offer))
    assert item["description"] == offer.description
    assert item["title"] == offer.title
    assert len(item["images"]) >= 2
    assert item["images"][0] == offer.image_key
    assert body["data"]["product_images"]["images"] == item["images"]
    assert shop["name"] == offer.seller_name
    assert shop["description"]
    # The older item/get answers the same item with its flat names.
    query = f"itemid={item['item_id']}&shopid={item['shop_id']}"
    status, text = fetch(f"{replica.url}/shopee.co.id/api/v4/item/get?{query}")
    legacy = json.loads(text)["data"]
    assert status == 200
    assert legacy["itemid"] == item["item_id"]
    assert legacy["name"] == offer.title
    assert legacy["description"] == item["description"]


def test_bukalapak_detail(replica):
    offer = catalogue_offer("bukalapak")
    (body,) = detail(replica.url, "bukalapak", offer).data
    product = body["data"]
    assert body["meta"]["http_status"] == 200
    assert product["id"] == bukalapak.product(offer)["id"]
    assert product["name"] == offer.title
    assert plain(product["description"]) == offer.description
    assert str(product["store"]["id"]) == platform_seller_id("bukalapak", offer)
    assert product["store"]["name"] == offer.seller_name
    assert product["store"]["description"]
    assert product["store"]["joined_at"]
    assert len(product["images"]["large_urls"]) >= 2


def test_lazada_detail(replica):
    offer = catalogue_offer("lazada")
    answer = detail(replica.url, "lazada", offer)
    (module,) = [d for d in answer.data[0] if "data" in d]
    fields = module["data"]["root"]["fields"]
    assert fields["primaryKey"]["itemId"] == str(lazada.ITEM_ID_OFFSET + offer.offer_id)
    assert fields["seller"]["sellerId"] == platform_seller_id("lazada", offer)
    assert fields["seller"]["name"] == offer.seller_name
    assert plain(fields["product"]["desc"]) == offer.description
    assert len(fields["skuGalleries"]["0"]) >= 2


def test_blibli_detail(replica):
    offer = catalogue_offer("blibli")
    summary, description = detail(replica.url, "blibli", offer).data
    product = summary["data"]
    assert summary["code"] == 200
    assert product["name"] == offer.title
    assert product["merchant"]["code"] == platform_seller_id("blibli", offer)
    assert product["merchant"]["name"] == offer.seller_name
    assert len(product["images"]) >= 2
    assert plain(description["data"]["value"]) == offer.description


def test_tiktokshop_detail(replica):
    offer = catalogue_offer("tiktokshop")
    answer = detail(replica.url, "tiktokshop", offer)
    (route,) = [d for d in answer.data[0] if "loaderData" in d]
    info = route["loaderData"][tiktokshop.ROUTE]["product_info"]
    assert info["product_id"] == str(tiktokshop.ID_BASE + offer.offer_id)
    assert info["seller"]["seller_id"] == platform_seller_id("tiktokshop", offer)
    assert info["seller"]["shop_name"] == offer.seller_name
    paragraphs = [part["text"] for part in json.loads(info["product_base"]["desc_detail"])]
    assert "\n\n".join(paragraphs) == offer.description
    assert len(info["product_base"]["images"]) >= 2
    assert offer.title in answer.texts


def test_facebook_detail(replica):
    offer = catalogue_offer("facebook")
    answer = detail(replica.url, "facebook", offer)
    target = answer.data[1]["data"]["viewer"]["marketplace_product_details_page"]["target"]
    assert target["id"] == str(facebook.LISTING_ID_BASE + offer.offer_id)
    assert target["redacted_description"]["text"] == offer.description
    seller = target["marketplace_listing_seller"]
    assert seller["id"] == platform_seller_id("facebook", offer)
    assert seller["name"] == offer.seller_name
    assert len(target["listing_photos"]) >= 2
    assert offer.title in answer.texts  # the page itself has the listing too


def test_instagram_detail(replica):
    offer = catalogue_offer("instagram")
    post_answer, profile_answer = detail(replica.url, "instagram", offer).data
    (post,) = post_answer["items"]
    assert post["user"]["pk"] == platform_seller_id("instagram", offer)
    assert offer.description in post["caption"]["text"]
    assert len(post["carousel_media"]) >= 2
    user = profile_answer["data"]["user"]
    assert user["id"] == platform_seller_id("instagram", offer)
    assert user["full_name"] == offer.seller_name
    assert user["biography"]


def test_olx_detail(replica):
    offer = catalogue_offer("olx")
    answer = detail(replica.url, "olx", offer)
    (app,) = [d for d in answer.data[0] if "states" in d]
    ad = app["states"]["items"]["elements"][str(offer.offer_id)]
    assert ad["description"] == offer.description
    assert ad["title"] == offer.title
    assert ad["user_id"] == platform_seller_id("olx", offer)
    user = app["states"]["users"]["elements"][ad["user_id"]]
    assert user["name"] == offer.seller_name
    assert len(ad["images"]) >= 2


def _unknown(offer):
    """An offer no platform lists: its id is past every known one."""
    from dataclasses import replace

    return replace(offer, offer_id=ALL_OFFERS[-1].offer_id + 9_999_999)


# How each platform answers for a listing that does not exist: (status, what it holds).
MISSING = {
    "tokopedia": (200, '"pdpGetLayout": null'),
    "shopee": (200, '"error": 4'),
    "bukalapak": (404, '"code": 10003'),
    "lazada": (404, "<html"),
    "blibli": (404, '"NOT_FOUND"'),
    "tiktokshop": (404, "<html"),
    "facebook": (200, '"marketplace_product_details_page": null'),
    "instagram": (400, '"status": "fail"'),
    "olx": (404, "<html"),
}


def is_missing(platform: str, answer: Answer) -> bool:
    """Whether ``answer`` is ``platform``'s answer for a listing it does not have (and no
    request of it met a server error)."""
    status, marker = MISSING[platform]
    return all(code < 500 for code in answer.statuses) and any(
        code == status and marker in body
        for code, body in zip(answer.statuses, answer.bodies, strict=True))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_an_unknown_listing_answers_as_missing(replica, platform):
    answer = detail(replica.url, platform, _unknown(catalogue_offer(platform)))
    assert is_missing(platform, answer), answer.bodies


def test_a_listing_page_of_an_unknown_id_is_not_another_listing(replica):
    """A listing page whose id the platform never listed is its not-found page."""
    offer = _unknown(catalogue_offer("tokopedia"))
    status, text = fetch(on_replica(replica.url, listing_page_url("tokopedia", offer)))
    assert (status, "pdpNotFound" in text) == (404, True)


# -- takedowns ------------------------------------------------------------------------


def takedown(base: str, body: dict) -> dict:
    status, text = fetch(f"{base}/_replica/takedown", data=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json"})
    assert status == 200, text
    return json.loads(text)


def search_ids(base: str, platform: str, keyword: str) -> set[int]:
    """The offer ids of the first page of ``platform``'s search for ``keyword``."""
    if platform == "shopee":
        query = urllib.parse.urlencode({"keyword": keyword, "limit": 100})
        _, text = fetch(f"{base}/shopee.co.id/api/v4/search/search_items?{query}")
        return {item["itemid"] - shopee.ITEM_ID_OFFSET for item in json.loads(text)["items"]}
    if platform == "lazada":
        query = urllib.parse.urlencode({"ajax": "true", "q": keyword})
        _, text = fetch(f"{base}/www.lazada.co.id/catalog/?{query}")
        return {int(item["itemId"]) - lazada.ITEM_ID_OFFSET
                for item in json.loads(text)["mods"]["listItems"]}
    if platform == "olx":
        _, text = fetch(f"{base}/www.olx.co.id/items/q-{urllib.parse.quote(keyword)}")
        return {int(found) for found in re.findall(r"-iid-(\d+)\"", text)}
    if platform == "tokopedia":
        batch = [{"operationName": "SearchProductV5Query", "variables": {
            "params": urllib.parse.urlencode({"q": keyword, "rows": 200, "start": 0})}}]
        _, text = fetch(f"{base}/gql.tokopedia.com/graphql/SearchProductV5Query",
                        data=json.dumps(batch).encode(),
                        headers={"Content-Type": "application/json"})
        products = json.loads(text)[0]["data"]["searchProductV5"]["data"]["products"]
        return {int(p["id"]) - tokopedia.ID_BASE for p in products}
    if platform == "bukalapak":
        query = urllib.parse.urlencode({"keywords": keyword, "limit": 50})
        _, text = fetch(f"{base}/api.bukalapak.com/multistrategy-products?{query}",
                        headers={"Authorization": f"Bearer {bukalapak_token(base)}"})
        return {bukalapak.decode_id(p["id"]) for p in json.loads(text)["data"]}
    if platform == "blibli":
        query = urllib.parse.urlencode({"searchTerm": keyword, "page": 1})
        _, text = fetch(f"{base}/www.blibli.com/backend/search/products?{query}")
        skus = {p["sku"] for p in json.loads(text)["data"]["products"]}
        return {o.offer_id for o in ALL_OFFERS if blibli.product_sku(o, ALL_OFFERS) in skus}
    raise ValueError(platform)


def test_a_takedown_removes_one_account_on_one_platform():
    key = planted_sample("shopee", 1)[0]
    offer = WORLD.seller_offers(WORLD.plans[key].seller_id)[0]
    keyword = offer.title.split()[0]
    twin = account_key("tokopedia", offer)  # the same shop on another platform
    with ReplicaServer() as replica:
        before = search_ids(replica.url, "shopee", offer.title)
        assert offer.offer_id in before
        answer = takedown(replica.url, {"account": key})
        assert answer["taken_down"] == [key]
        assert offer.offer_id not in search_ids(replica.url, "shopee", offer.title)
        assert offer.offer_id not in search_ids(replica.url, "shopee", keyword)
        gone = detail(replica.url, "shopee", offer)
        assert gone.data == [shopee.GONE]
        status, page = fetch(on_replica(replica.url, listing_page_url("shopee", offer)))
        assert status == 404
        assert "<html" in page.lower()
        # Unaffected: the same shop on Tokopedia, and other shops on Shopee.
        assert twin != key
        assert offer.offer_id in search_ids(replica.url, "tokopedia", offer.title)
        assert detail(replica.url, "tokopedia", offer).status == 200
        other = catalogue_offer("shopee")
        assert detail(replica.url, "shopee", other).status == 200
        assert json.loads(detail(replica.url, "shopee", other).bodies[0])["error"] is None


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_taken_down_account_answers_removed_on_every_platform(platform):
    offer = catalogue_offer(platform)
    key = account_key(platform, offer)
    with ReplicaServer() as replica:
        assert detail(replica.url, platform, offer).status == 200
        if platform in SELLER_PAGES:
            url, headers, gone = SELLER_PAGES[platform](replica.url, offer)
            status, text = fetch(url, headers=headers)
            assert status == 200, text
            assert gone not in text
        takedown(replica.url, {"account": key})
        answer = detail(replica.url, platform, offer)
        assert is_missing(platform, answer), answer.bodies
        page_status, _ = fetch(on_replica(replica.url, listing_page_url(platform, offer)))
        assert page_status == 404
        if platform in SELLER_PAGES:  # the seller's own page or profile is gone too
            url, headers, gone = SELLER_PAGES[platform](replica.url, offer)
            status, text = fetch(url, headers=headers)
            assert (status, gone in text) == (404 if platform != "shopee" else 200, True), text


# The seller endpoints a platform has: (URL, headers, what its answer for a seller that is
# gone holds).
SELLER_PAGES = {
    "shopee": lambda base, offer: (
        (f"{base}/shopee.co.id/api/v4/shop/get_shop_detail?shopid="
        f"{platform_seller_id('shopee', offer)}"), {}, '"error": 4'),
    "bukalapak": lambda base, offer: (
        f"{base}/api.bukalapak.com/stores/{offer.seller_id}",
        {"Authorization": f"Bearer {bukalapak_token(base)}"}, '"code": 10003'),
    "blibli": lambda base, offer: (
        (f"{base}/www.blibli.com/backend/search/merchant/{platform_seller_id('blibli', offer)}"
        "?excludeProductList=true"), {}, '"NOT_FOUND"'),
    "instagram": lambda base, offer: (
        (f"{base}/www.instagram.com/api/v1/users/web_profile_info/?username="
        f"{offer.seller_slug[:30]}"), {}, '"user": null'),
    "olx": lambda base, offer: (
        f"{base}/www.olx.co.id/profile/{offer.seller_id}", {}, "Profil ini tidak tersedia"),
}


def test_planted_takedowns_let_the_returning_sellers_list():
    returning = sorted(WORLD.successor.values())
    with ReplicaServer() as replica:
        for new in returning:  # not listed before their operator's account goes down
            offer = WORLD.seller_offers(WORLD.plans[new].seller_id)[0]
            platform = new.split(":")[0]
            assert is_missing(platform, detail(replica.url, platform, offer)), new
        answer = takedown(replica.url, {"planted": True})
        assert sorted(answer["taken_down"]) == sorted(WORLD.successor)
        for old, new in sorted(WORLD.successor.items()):
            platform = new.split(":")[0]
            old_offer = WORLD.seller_offers(WORLD.plans[old].seller_id)[0]
            assert is_missing(platform, detail(replica.url, platform, old_offer)), old
            for offer in WORLD.seller_offers(WORLD.plans[new].seller_id):
                assert account_key(platform, offer) == new
                # In search for words its offer holds, on its platform only.
                keyword = " ".join(offer.title.split()[:2])
                assert offer.offer_id in search_ids(replica.url, platform, keyword)
                answer = detail(replica.url, platform, offer)
                assert answer.status == 200, (new, answer.bodies)
                assert planned_contacts(new) <= found_contacts(answer), new
                other = "tokopedia" if platform != "tokopedia" else "shopee"
                assert is_missing(other, detail(replica.url, other, offer)), new



def search_links(base: str, platform: str, keyword: str) -> list[str]:
    """The listing URLs of the first page of ``platform``'s search, as its answer links them."""
    if platform == "tokopedia":
        batch = [{"operationName": "SearchProductV5Query", "variables": {
            "params": urllib.parse.urlencode({"q": keyword, "rows": 20, "start": 0})}}]
        _, text = fetch(f"{base}/gql.tokopedia.com/graphql/SearchProductV5Query",
                        data=json.dumps(batch).encode(),
                        headers={"Content-Type": "application/json"})
        products = json.loads(text)[0]["data"]["searchProductV5"]["data"]["products"]
        return [p["url"] for p in products]
    if platform == "lazada":
        _, text = fetch(f"{base}/www.lazada.co.id/catalog/?"
                        + urllib.parse.urlencode({"ajax": "true", "q": keyword}))
        return ["https:" + item["itemUrl"] for item in json.loads(text)["mods"]["listItems"]]
    if platform == "bukalapak":
        _, text = fetch(f"{base}/api.bukalapak.com/multistrategy-products?"
                        + urllib.parse.urlencode({"keywords": keyword, "limit": 20}),
                        headers={"Authorization": f"Bearer {bukalapak_token(base)}"})
        return [p["url"] for p in json.loads(text)["data"]]
    if platform == "blibli":
        _, text = fetch(f"{base}/www.blibli.com/backend/search/products?"
                        + urllib.parse.urlencode({"searchTerm": keyword}))
        return ["https://www.blibli.com" + p["url"]
                for p in json.loads(text)["data"]["products"]]
    _, text = fetch(f"{base}/www.olx.co.id/items/q-{urllib.parse.quote(keyword)}")
    return ["https://www.olx.co.id" + path for path in re.findall(r'href="(/item/[^"]+)"', text)]


@pytest.mark.parametrize("platform", ["tokopedia", "lazada", "bukalapak", "blibli", "olx"])
def test_every_listing_a_search_links_has_its_live_page(platform):
    with ReplicaServer() as replica:  # its own: other tests plant pages on the shared one
        links = search_links(replica.url, platform, "bal")
        assert len(links) >= 10
        for link in links:
            status, page = fetch(on_replica(replica.url, link))
            assert status == 200, link
            assert "<h1" in page, link


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"account": 5}', b'{"planted": "yes"}'])
def test_a_takedown_the_replica_cannot_read_is_refused(replica, body):
    status, text = fetch(f"{replica.url}/_replica/takedown", data=body,
                         headers={"Content-Type": "application/json"})
    assert status == 400, text
    assert json.loads(fetch(f"{replica.url}/")[1])["taken_down"] == []


# -- pages drawn in a browser ---------------------------------------------------------

# What each drawn page's seller profile shows (the platform shows nothing else of the seller).
DRAWN_FIELDS = {"tiktokshop": ["joined", "location", "followers", "sales", "rating"],
                "facebook": ["joined", "location", "rating"],
                "instagram": ["location", "followers"]}


async def _drawn(base: str, url: str) -> dict[str, Any]:
    """Open ``url`` in Chromium through replica mode and read what its script drew."""
    options = launch_options(THRIFTWATCH_CHROMIUM)
    options["args"].append(REPLICA_ONLY_RESOLVER)
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**options)
        page = await (await browser.new_context(**CONTEXT_KWARGS)).new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        await replica_router(base)(page, Request(url))
        await page.goto(url)
        await page.wait_for_selector("[data-testid=seller-profile][data-state=loaded]",
                                     timeout=10_000)
        drawn = await page.evaluate("""() => ({
            photos: [...document.querySelectorAll("[data-testid=pdp-gallery] img")]
                .map(img => img.getAttribute("src")),
            fields: [...document.querySelectorAll("[data-testid=seller-profile] [data-field]")]
                .map(node => node.dataset.field),
            about: document.querySelector("[data-field=about]").textContent})""")
        await browser.close()
    return {**drawn, "errors": errors}


@pytest.mark.browser
@pytest.mark.parametrize("platform", sorted(DRAWN_FIELDS))
def test_a_drawn_listing_page_draws_its_photos_and_seller(replica, platform):
    if shutil.which(THRIFTWATCH_CHROMIUM) is None:
        pytest.skip(f"Chromium is not installed ({THRIFTWATCH_CHROMIUM})")
    key = planted_sample(platform, 1)[0]
    offer = first_offer(key)
    _, raw = fetch(on_replica(replica.url, listing_page_url(platform, offer)))
    assert "<img" not in raw  # only a browser sees the photos
    drawn = asyncio.run(_drawn(replica.url, listing_page_url(platform, offer)))
    assert drawn["errors"] == []
    count = min(len(WORLD.listing_photos(platform, offer)), images.MAX_PHOTOS)
    assert drawn["photos"] == [images.photo_url(platform, offer, n) for n in range(count)]
    assert drawn["fields"] == [*DRAWN_FIELDS[platform], "about"]
    assert drawn["about"] == WORLD.profile(platform, offer).about
