"""The generic spider: crawls any site described by a site profile (see ``profile_format``).

Spider arguments: ``profile`` (a ``.toml`` path or the name of a shipped profile; default:
every shipped profile), ``keywords`` and ``max_pages``. A profile with a ``[listing_page]``
section has its listings' own pages read for enrichment::

    scrapy crawl profile -a profile=olx -a keywords=balpres
    scrapy crawl profile -a profile=./my-shop.toml
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from spiders.base import ResponseShapeError, SearchPage, SearchSpider
from spiders.profile_format import (
    Profile,
    load_profiles,
    parse_listing_page_body,
    parse_search_body,
)

if TYPE_CHECKING:
    from crawler.items import Listing, ListingPage


class ProfileKeyword(str):
    """A search keyword tagged with the name of the profile it is searched on.

    The base spider hands the keyword from page to page, so the next page of a search is
    asked of the same site.
    """

    __slots__ = ("profile",)
    profile: str

    def __new__(cls, keyword: str, profile: str) -> Self:
        tagged = super().__new__(cls, keyword)
        tagged.profile = profile
        return tagged

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # pickled with requests in a JOBDIR
        return ProfileKeyword, (str(self), self.profile)


class ProfileSpider(SearchSpider):
    # Each profile has its own page size: Profile.search.page_size.
    name = "profile"

    def __init__(self, profile: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.profiles: dict[str, Profile] = {p.name: p for p in load_profiles(profile)}
        # Read by Scrapy's OffsiteMiddleware when the spider opens.
        self.allowed_domains = sorted({domain for p in self.profiles.values()
                                       for domain in p.allowed_domains})

    async def start(self):
        for profile in self.profiles:
            for keyword in self.keywords:
                yield self.page_request(ProfileKeyword(keyword, profile), page=1)

    def search_request(self, keyword: ProfileKeyword, page: int) -> scrapy.Request:
        search = self.profiles[keyword.profile].search
        url, body = search.url_and_body(keyword, page)
        return scrapy.Request(url, method=search.method, body=body, headers=search.headers)

    def parse_page(self, response: Response, keyword: ProfileKeyword, page: int) -> SearchPage:
        profile = self.profiles[keyword.profile]
        if not isinstance(response, TextResponse):
            raise ResponseShapeError(f"{profile.name}: not a text response "
                                     f"({response.headers.get('Content-Type')!r})")
        return parse_search_body(profile, response.text, response.url, str(keyword), page)

    def listing_page_request(self, listing: Listing) -> scrapy.Request | None:
        """The listing's own page, when its profile has a ``[listing_page]`` and the page is
        on the profile's domains."""
        profile = self.profiles.get(listing.platform)
        if profile is None or profile.listing_page is None:
            return None
        host = urlsplit(listing.url).hostname or ""
        if not any(host == domain or host.endswith("." + domain)
                   for domain in profile.allowed_domains):
            return None
        return scrapy.Request(listing.url, headers={"Accept": "text/html,application/xhtml+xml"})

    def parse_listing_page(self, response: Response, listing: Listing) -> ListingPage:
        profile = self.profiles[listing.platform]
        if not isinstance(response, TextResponse):
            raise ResponseShapeError(f"{profile.name}: listing page is not a text response "
                                     f"({response.headers.get('Content-Type')!r})")
        return parse_listing_page_body(profile, response.text, listing.url, listing.listing_id)
