"""Facebook Marketplace: a city's search page, rendered in Chromium and scrolled for more.

The page draws its listings from its own GraphQL fetches (``POST /api/graphql/``, the
``CometMarketplaceSearchContent…Query`` operations, 24 listings each) and fetches the next
24 whenever it is scrolled to the bottom; there are no page URLs. So one rendering per
keyword is scrolled ``max_pages - 1`` times, and every GraphQL page it fetched is kept as
evidence and parsed. The full-page screenshot is taken after the last scroll, so it shows
every listing the crawl yields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import scrapy
from parsel import Selector

from crawler.decoding import DecodeError, decode_json
from crawler.items import Listing
from spiders.base import BlockedError, ResponseShapeError, SearchPage, identify, parse_each
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
