"""Facebook Marketplace: a city's search page, rendered in Chromium and scrolled for more.

The page draws its listings from its own GraphQL fetches (``POST /api/graphql/``, the
``CometMarketplaceSearchContent…Query`` operations, 24 listings each) and fetches the next
24 whenever it is scrolled to the bottom; there are no page URLs. So one rendering per
keyword is scrolled ``max_pages - 1`` times, and every GraphQL page it fetched is kept as
evidence and parsed. The full-page screenshot is taken after the last scroll, so it shows
every listing the crawl yields.

A listing's own page ``/marketplace/item/<id>/`` is rendered too: its script posts
``MarketplacePDPContainerQuery`` (variables ``{"targetId": "<id>"}``) to the same
``/api/graphql/`` and draws the photos and the seller from the answer,
``data.viewer.marketplace_product_details_page.target`` (a ``GroupCommerceProductItem``:
``marketplace_listing_title``, ``redacted_description.text``, ``listing_price.amount``,
``listing_photos[].image.uri``, ``attribute_data`` and ``marketplace_listing_seller``
with ``id``, ``name``, ``join_time``, ``location.text``, ``about`` and
``marketplace_ratings_stats_by_role.seller_stats``). That answer is kept as evidence and
read. A page Facebook rendered on its server carries the same answer in the page itself,
inside a ``<script type="application/json" data-sjs>`` element (``__bbox.result``, some
levels down a ``require`` list); that is read too. No capture of either is in
../shared/corpus: the names follow public scrapers of the item query and of item pages
(``data.viewer.marketplace_product_details_page.target``, ``listing_photos[].image.uri``,
``redacted_description.text``, ``listing_price.amount`` as a string, ``attribute_data``
entries such as ``{"attribute_name": "Condition", "value": "used_good"}``) and the replica
(crawler/replica/facebook.py), unverified against a live page. Facebook shows no
followers, sales, variants or stock for a Marketplace seller.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import scrapy
from parsel import Selector

from crawler.decoding import DecodeError, decode_json
from crawler.items import Listing, ListingPage
from spiders.base import (
    BlockedError,
    ListingGoneError,
    ResponseShapeError,
    SearchPage,
    identify,
    parse_each,
)
from spiders.listing_values import (
    MAX_DATA,
    MAX_IMAGES,
    as_list,
    as_object,
    page_day,
    page_id,
    page_name,
    page_rating,
    page_text,
    page_urls,
)
from spiders.rendered import RenderedSearchSpider

if TYPE_CHECKING:
    from scrapy.http import Response

SITE = "https://www.facebook.com"
PAGE_SIZE = 24  # listings per GraphQL page (the ``count`` variable the page sends)
GRAPHQL_URL = r"^https://www\.facebook\.com/api/graphql/"
FEED_ITEM = 'a[href^="/marketplace/item/"]'
LOGIN_FORM = "#login_form"  # Facebook's "Log in to continue" wall
# Only an answer of the search operations holds this field name; the page's other GraphQL
# answers (chat, notifications, …) never do.
SEARCH_FIELD = b"marketplace_search"
# Only the item query's answer holds this one.
ITEM_FIELD = "marketplace_product_details_page"
UNAVAILABLE = "[data-testid=marketplace_pdp_unavailable]"  # "tawaran telah dihapus"
ITEM_PATH = re.compile(r"^/marketplace/item/(\d{1,25})/?$")
# Drawn once the item query's answer is on the page, or on the not-found page or the wall.
ITEM_READY = f"[data-testid=seller-profile][data-state=loaded], {UNAVAILABLE}, {LOGIN_FORM}"
# The page's own data, server-rendered: JSON scripts whose ``__bbox.result`` objects hold
# GraphQL answers, walked at most this deep and this wide.
PAGE_DATA = 'script[type="application/json"][data-sjs]::text'
MAX_PAGE_SCRIPTS = 200
MAX_DEPTH = 40
MAX_NODES = 200_000
# Whole rupiah of ``listing_price.amount`` ("135000.00").
AMOUNT = re.compile(r"(\d{1,15})(?:\.\d{1,4})?")


def first_json_document(body: bytes) -> Any:
    """The first JSON document of a GraphQL response: streamed responses append more, one
    a line. Anything else, or a document nested deeper than any answer, is
    :class:`ResponseShapeError`."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        return decode_json(text)
    except DecodeError as error:
        first, _, more = text.partition("\n")
        if more:
            try:
                return decode_json(first)
            except DecodeError:
                pass
        raise ResponseShapeError(f"GraphQL body is not JSON ({error}): {body[:120]!r}") from error


def search_feed(document: Any) -> dict[str, Any] | None:
    """``data.marketplace_search.feed_units`` of a GraphQL response, or ``None`` for the
    page's other GraphQL operations (notifications, chat, …)."""
    data = document.get("data") if isinstance(document, dict) else None
    search = data.get("marketplace_search") if isinstance(data, dict) else None
    return search.get("feed_units") if isinstance(search, dict) else None


def parse_feed_units(feed_units: dict[str, Any], keyword: str) -> SearchPage:
    """One GraphQL page of the search feed: its listings and ``page_info.has_next_page``."""
    try:
        edges = feed_units["edges"]
        has_next = bool(feed_units["page_info"]["has_next_page"])
        nodes = [edge["node"] for edge in edges]
    except (KeyError, TypeError) as error:
        raise ResponseShapeError(f"not a Marketplace search feed: {error!r}") from error
    # Ads and "more in your area" separators are feed units without a listing.
    listings, problems = parse_each(
        (node["listing"] for node in nodes if isinstance(node, dict) and node.get("listing")),
        lambda listing: listing_from_node(listing, keyword))
    return SearchPage(listings, has_more=has_next, problems=problems)


def listing_from_node(listing: dict[str, Any], keyword: str) -> Listing:
    """One ``GroupCommerceProductItem`` of the feed as a :class:`Listing`."""
    listing_id, title = identify(listing, "id", "marketplace_listing_title", "listing")
    try:
        seller = listing.get("marketplace_listing_seller") or {}
        geocode = (listing.get("location") or {}).get("reverse_geocode") or {}
        photo = ((listing.get("primary_listing_photo") or {}).get("image") or {}).get("uri")
        seller_id = str(seller["id"]) if seller.get("id") else None
        return Listing(
            platform="facebook",
            listing_id=listing_id,
            url=f"{SITE}/marketplace/item/{listing_id}/",
            title=title,
            keyword=keyword,
            price_text=(listing.get("listing_price") or {}).get("formatted_amount"),
            seller_id=seller_id,
            seller_name=seller.get("name"),
            seller_url=f"{SITE}/marketplace/profile/{seller_id}/" if seller_id else None,
            location=(geocode.get("city_page") or {}).get("display_name"),
            image_urls=[photo] if photo else [],
        )
    except (TypeError, AttributeError, ValueError, OverflowError) as error:  # a field changed shape
        raise ResponseShapeError(f"listing {listing_id} has a field the parser cannot read: "
                                 f"{error!r}") from error


def parse_rendered_search(html: str, graphql_bodies: list[bytes], keyword: str) -> SearchPage:
    """A rendered search: the page as drawn and the bodies of its GraphQL fetches, in order.

    Listings of every feed page, each once; ``has_more`` tells whether the last page
    fetched said another would follow. The page's other GraphQL answers (chat,
    notifications, …, JSON or not) are passed over. A search answer that cannot be read
    costs itself alone: it is one of the ``problems``, and the other pages are kept; with
    no readable search page at all, the rendering is :class:`ResponseShapeError`.
    """
    if Selector(text=html).css(LOGIN_FORM):
        raise BlockedError("Facebook showed its login wall instead of Marketplace results")
    problems: list[str] = []
    pages: list[SearchPage] = []
    for number, body in enumerate(graphql_bodies, 1):
        where = f"GraphQL response {number} of {len(graphql_bodies)}"
        try:
            feed = search_feed(first_json_document(body))
        except ResponseShapeError as error:
            if SEARCH_FIELD in body:  # a search answer, unreadable; others are not ours
                problems.append(f"{where}: {error}")
            continue
        if feed is None:
            continue
        try:
            pages.append(parse_feed_units(feed, keyword))
        except ResponseShapeError as error:
            problems.append(f"{where}: {error}")
    if not pages:
        why = f": {problems[0]}" if problems else ""
        raise ResponseShapeError(
            f"no Marketplace search data among {len(graphql_bodies)} GraphQL responses{why}")
    unique: dict[str, Listing] = {}
    for page in pages:
        for listing in page.listings:
            unique.setdefault(listing.listing_id, listing)
    return SearchPage(list(unique.values()), has_more=pages[-1].has_more,
                      problems=(*problems, *(problem for page in pages
                                             for problem in page.problems)))


def listing_page_from_graphql(html: str, graphql_bodies: list[bytes], url: str) -> ListingPage:
    """A rendered listing page: the page as drawn and the bodies of its GraphQL fetches.

    The item query's answer decides: a target is the listing's page, and an answer whose
    ``marketplace_product_details_page`` is null with an error is a listing that is gone
    (:class:`ListingGoneError`). Without an answer, Facebook's login form is
    :class:`BlockedError` and its "unavailable" element :class:`ListingGoneError`
    (elements Facebook draws: a description is text, never an element). Anything else, or
    another listing than ``url`` names, is :class:`ResponseShapeError`.
    """
    match = ITEM_PATH.match(urlsplit(url).path)
    if match is None:
        raise ResponseShapeError(f"not a Marketplace listing URL: {url[:120]!r}")
    page = Selector(text=html)
    answer = item_answer(graphql_bodies) or embedded_answer(page)
    if answer is None:
        if page.css(LOGIN_FORM):
            raise BlockedError("Facebook showed its login wall instead of the listing")
        if page.css(UNAVAILABLE):
            raise ListingGoneError("Facebook says the listing is unavailable")
        raise ResponseShapeError(f"no {ITEM_FIELD} answer in the page or among "
                                 f"{len(graphql_bodies)} GraphQL responses")
    details = answer["data"]["viewer"][ITEM_FIELD]
    if details is None:
        if answer.get("errors"):
            raise ListingGoneError(f"the item query answered no listing: "
                                   f"{answer['errors']!r:.200}")
        raise ResponseShapeError(f"{ITEM_FIELD} is null without an error")
    target = details.get("target") if isinstance(details, dict) else None
    if not isinstance(target, dict):
        raise ResponseShapeError(f"{ITEM_FIELD} has no target object")
    shown = page_id(target.get("id"))
    if shown and shown != match[1]:
        raise ResponseShapeError(f"the item query answered listing {shown[:40]}, not {match[1]}")
    return item_page(target, match[1], url)


def item_answer(graphql_bodies: list[bytes]) -> dict[str, Any] | None:
    """The first GraphQL document answering the item query (``data.viewer`` holding
    ``marketplace_product_details_page``), or None. Other operations' answers, and bodies
    that are not JSON or larger than any answer, are passed over."""
    for body in graphql_bodies:
        if len(body) > MAX_DATA:
            continue
        try:
            document = first_json_document(body)
        except ValueError:  # ResponseShapeError, or a number of more than 4300 digits
            continue
        data = document.get("data") if isinstance(document, dict) else None
        viewer = data.get("viewer") if isinstance(data, dict) else None
        if isinstance(viewer, dict) and ITEM_FIELD in viewer:
            return document
    return None


def embedded_answer(page: Selector) -> dict[str, Any] | None:
    """The item query's answer as a server-rendered page carries it: the first
    ``__bbox.result`` with ``data.viewer.marketplace_product_details_page`` in the page's
    ``data-sjs`` JSON scripts (walked breadth-first, bounded in depth and size)."""
    for text in page.css(PAGE_DATA).getall()[:MAX_PAGE_SCRIPTS]:
        if ITEM_FIELD not in text or len(text) > MAX_DATA:
            continue
        try:
            document = decode_json(text)
        except ValueError:  # DecodeError, or a number of more than 4300 digits
            continue
        found = _find_answer(document)
        if found is not None:
            return found
    return None


def _find_answer(document: Any) -> dict[str, Any] | None:
    level, seen = [document], 0
    for _ in range(MAX_DEPTH):
        below: list[Any] = []
        for node in level:
            seen += 1
            if seen > MAX_NODES:
                return None
            if isinstance(node, dict):
                result = as_object(node.get("__bbox")).get("result")
                viewer = as_object(as_object(as_object(result).get("data")).get("viewer"))
                if ITEM_FIELD in viewer:
                    return result
                below.extend(node.values())
            elif isinstance(node, list):
                below.extend(node)
        if not below:
            return None
        level = below
    return None


def item_page(target: dict[str, Any], listing_id: str, url: str) -> ListingPage:
    """The :class:`ListingPage` of one ``GroupCommerceProductItem`` target; fields of the
    wrong type are left out."""
    seller = as_object(target.get("marketplace_listing_seller"))
    seller_id = page_id(seller.get("id"))
    roles = as_object(seller.get("marketplace_ratings_stats_by_role"))
    stats = as_object(roles.get("seller_stats"))
    attributes = {(page_name(as_object(a).get("attribute_name")) or "").lower():
                  as_object(a).get("value")
                  for a in as_list(target.get("attribute_data"))[:MAX_IMAGES]}
    return ListingPage(
        platform="facebook",
        listing_id=listing_id,
        url=url,
        title=page_name(target.get("marketplace_listing_title")),
        description=page_text(as_object(target.get("redacted_description")).get("text")),
        price_idr=listing_amount(as_object(target.get("listing_price"))),
        condition=page_name(attributes.get("condition")),
        image_urls=page_urls((as_object(as_object(photo).get("image")).get("uri")
                              for photo in as_list(target.get("listing_photos"))[:MAX_IMAGES]),
                             url),
        seller_id=seller_id,
        seller_name=page_name(seller.get("name")),
        seller_url=f"{SITE}/marketplace/profile/{seller_id}/" if seller_id else None,
        seller_joined=page_day(seller.get("join_time")),
        seller_location=page_name(as_object(seller.get("location")).get("text")),
        seller_rating=page_rating(stats.get("five_star_ratings_average")),
        seller_about=page_text(seller.get("about")),
    )


def listing_amount(price: dict[str, Any]) -> int | None:
    """Whole rupiah of ``listing_price`` (``{"amount": "135000.00", "currency": "IDR"}``);
    None for another currency or an amount that is not a plain decimal."""
    amount = price.get("amount")
    if price.get("currency", "IDR") != "IDR" or not isinstance(amount, str):
        return None
    match = AMOUNT.fullmatch(amount.strip())
    return int(match[1]) if match else None


class FacebookSpider(RenderedSearchSpider):
    """Spider argument ``city``: the Marketplace city slug searched (default ``jakarta``)."""

    name = "facebook"
    allowed_domains = ["www.facebook.com"]
    page_size = PAGE_SIZE
    ready_selector = f"{FEED_ITEM}, {LOGIN_FORM}"
    data_url = GRAPHQL_URL
    scroll_feed = FEED_ITEM

    def __init__(self, *args: Any, city: str = "jakarta", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.city = city.strip().lower()

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        """The search page; ``page`` plays no part, as scrolling brings the later pages."""
        query = urlencode({"query": keyword})
        return scrapy.Request(f"{SITE}/marketplace/{quote(self.city, safe='')}/search?{query}")

    def parse_page(self, response: Response, keyword: str, page: int) -> SearchPage:
        bodies = [data.body for data in self.data_responses(response) if data.status == 200]
        result = parse_rendered_search(response.text, bodies, keyword)
        # This one rendering already scrolled through every page the crawl may take.
        return SearchPage(result.listings, has_more=False, problems=result.problems)

    def listing_page_request(self, listing: Listing) -> scrapy.Request | None:
        """The listing's page, rendered in Chromium with a full-page screenshot; its item
        query's answer is kept."""
        if urlsplit(listing.url).hostname not in self.allowed_domains:
            return None
        return self.render_listing_page(listing.url, ITEM_READY, data_url=GRAPHQL_URL)

    def parse_listing_page(self, response: Response, listing: Listing) -> ListingPage:
        bodies = [data.body for data in self.data_responses(response) if data.status == 200]
        return listing_page_from_graphql(response.text, bodies, listing.url)
