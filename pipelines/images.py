"""Images pipeline: the photos of flagged listings, fetched, fingerprinted and stored.

Last in the pipeline chain, for each flagged listing once a run (with ``THRIFTWATCH_ENRICH``):
the photos of its listing page when one was asked for (a card whose page is coming waits
for it), else its card's; a card whose page waits for the searches to end (see
``pipelines.enrich``) has its card's photos fetched, and its page, if read, adds those of
its photos not fetched yet. At most ``THRIFTWATCH_IMAGE_CAP`` photos of a card or page and
``THRIFTWATCH_IMAGE_BYTES`` bytes a run. Each download may take only what the budget has left
that no download in flight holds (near the end of the budget a photo waits for those in
flight, so that it may take all that is left); the first photo that does not fit spends the
budget: no photo is fetched after it, and one ``image_budget_spent`` fault says so.

A photo is fetched only from its platform's image CDN hosts (``crawler/data/image_hosts.toml``)
over http(s): a seller's URL pointing at a file, an internal or non-public address or
any other host is a ``refused_url`` fault, never fetched (``Stats.IMAGES_REFUSED``). The
fetch goes through Scrapy's engine as Scrapy's own media pipelines do
(``engine.download_async``): the downloader's per-host slots and AutoThrottle, retries,
the fetch guard (confined to that one host, redirects too) and the capture middleware,
which stores the bytes with the capture bodies. Each photo is fingerprinted
(:func:`crawler.sellers.images.fingerprint`, pHash) and stored (``images``); one that is
no readable image is an ``image_unreadable`` fault, one that fails to download or answers
other than 200 an ``image_error`` fault.
"""

from __future__ import annotations

import asyncio
import tomllib
from fnmatch import fnmatchcase
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import DownloadCancelledError, NotConfigured
from twisted.internet.defer import CancelledError

from crawler.config import Config, EnrichConfig
from crawler.items import Listing, item_fields
from crawler.keys import Meta, Stats
from crawler.runtime.recorder import EvidenceRecorder
from crawler.runtime.url_policy import RefusedURL, refusal
from crawler.sellers.images import MAX_BYTES, fingerprint

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

REFUSED_FAULT = "refused_url"


@lru_cache(maxsize=1)
def image_hosts() -> dict[str, tuple[str, ...]]:
    """Each platform's image CDN host patterns."""
    text = files("crawler.data").joinpath("image_hosts.toml").read_text("utf-8")
    hosts = tomllib.loads(text)["hosts"]
    return {platform: tuple(patterns) for platform, patterns in hosts.items()}


def image_refusal(platform: str, url: str) -> str | None:
    """Why a photo URL of a ``platform`` listing may not be fetched, or None if it may."""
    why = refusal(url)
    if why is not None:
        return why
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if not any(fnmatchcase(host, pattern) for pattern in image_hosts().get(platform, ())):
        return f"host {host} is not one of {platform}'s image hosts"
    return None


class ImagesPipeline:
    """Fetches, fingerprints and stores flagged listings' photos (see the module)."""

    def __init__(self, crawler: Crawler, config: EnrichConfig, recorder: EvidenceRecorder):
        self.crawler = crawler
        self.config = config
        self.recorder = recorder
        # Listings whose photos this run fetched, and the URLs fetched of each.
        self.done: dict[tuple[str, str], set[str]] = {}
        self.bytes_fetched = 0
        self.reserved = 0  # bytes the downloads in flight may still take
        self.released = asyncio.Condition()  # notified when a download ends
        self.budget_spent = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImagesPipeline:
        config = Config.from_crawler(crawler).enrich
        recorder = crawler.get_extension(EvidenceRecorder)
        if recorder is None:
            raise NotConfigured("the images pipeline needs the EvidenceRecorder extension")
        return cls(crawler, config, recorder)

    async def process_item(self, item: Any) -> Any:
        if not (isinstance(item, Listing) and item.flagged and self.config.enabled):
            return item
        if item.page_requested:  # its page is coming: its photos are that page's
            return item
        key = (item.platform, item.listing_id)
        if not self.config.image_cap or (key in self.done and item.source != "listing_page"):
            return item
        fetched = self.done.setdefault(key, set())
        wanted = [url for url in list(dict.fromkeys(item.image_urls))[:self.config.image_cap]
                  if url not in fetched]
        fetched.update(wanted)
        record = item_fields(item)
        for url in wanted:
            await self.fetch(record, url)
        return item

    async def fetch(self, listing: dict[str, Any], url: str) -> None:
        """Fetch, fingerprint and store one photo of ``listing``, or record why not."""
        platform = listing["platform"]
        why = image_refusal(platform, url)
        if why is not None:
            # Counted apart from the run's faults: a seller's URL must not fail a run's health.
            self.crawler.stats.inc_value(Stats.IMAGES_REFUSED)
            self.recorder.url_fault(url, REFUSED_FAULT,
                                    f"image of listing {listing['listing_id']}: {why}",
                                    listing.get("capture_id"))
            return
        allowance = 0 if self.budget_spent else await self.allowance()
        if self.budget_spent or allowance <= 0:  # spent, perhaps while this photo waited
            self.over_budget(listing, url)
            return
        host = urlsplit(url).hostname or ""
        request = scrapy.Request(url, headers={"Referer": listing["url"]}, meta={
            Meta.FETCH_HOSTS: (host,), "allow_offsite": True, "dont_obey_robotstxt": True,
            "download_maxsize": allowance})
        response = await self.download(listing, request, allowance)
        if response is None:
            return
        if response.status != 200:
            self.fault(listing, request, response, "image_error", f"HTTP {response.status}")
            return
        self.crawler.stats.inc_value(Stats.IMAGE_BYTES, len(response.body))
        found = fingerprint(response.body)
        if found is None:
            self.fault(listing, request, response, "image_unreadable",
                       f"{len(response.body)} bytes that are no image Pillow reads safely")
            return
        stored = self.recorder.add_image(listing, {
            "platform": platform, "listing_id": listing["listing_id"], "url": url,
            "body": response.body, "phash": found.phash, "width": found.width,
            "height": found.height})
        if stored:
            self.crawler.stats.inc_value(Stats.IMAGES)

    async def allowance(self) -> int:
        """The bytes the next photo may take: what the run's budget has left that no
        download in flight holds. Once that is less than a photo may ever be, it waits
        until nothing is in flight, so that it may take all that is left."""
        async with self.released:
            await self.released.wait_for(
                lambda: self.reserved == 0 or self.unreserved() >= MAX_BYTES)
        return min(self.unreserved(), MAX_BYTES)

    def unreserved(self) -> int:
        return self.config.image_bytes - self.bytes_fetched - self.reserved

    async def download(self, listing: dict[str, Any], request: scrapy.Request,
                       allowance: int) -> Response | None:
        """``request``'s response, holding ``allowance`` bytes of the budget while it is in
        flight; None if it failed (recorded) or did not fit in the budget."""
        self.reserved += allowance
        response = None
        try:
            response = await self.crawler.engine.download_async(request)
        except RefusedURL:  # recorded by the fetch guard
            self.crawler.stats.inc_value(Stats.IMAGES_REFUSED)
        except Exception as error:  # noqa: BLE001 - a failed download costs this photo alone
            if isinstance(error, DownloadCancelledError | CancelledError) \
                    and allowance < MAX_BYTES:  # cut off at what the budget had left
                self.over_budget(listing, request.url)
            else:
                self.fault(listing, request, None, "image_error", f"not fetched: {error!r:.300}")
        finally:
            self.reserved -= allowance
            if response is not None:
                self.bytes_fetched += len(response.body)
            async with self.released:
                self.released.notify_all()
        return response

    def over_budget(self, listing: dict[str, Any], url: str) -> None:
        self.crawler.stats.inc_value(Stats.IMAGES_OVER_BUDGET)
        if not self.budget_spent:
            self.budget_spent = True
            self.crawler.stats.inc_value(Stats.faults("image_budget_spent", listing["platform"]))
            self.recorder.url_fault(url, "image_budget_spent",
                                    f"{self.bytes_fetched} image bytes fetched this run and "
                                    f"this photo does not fit in the "
                                    f"THRIFTWATCH_IMAGE_BYTES={self.config.image_bytes} "
                                    f"budget: no more images fetched")

    def fault(self, listing: dict[str, Any], request: scrapy.Request,
              response: Response | None, kind: str, detail: str) -> None:
        self.crawler.stats.inc_value(Stats.faults(kind, listing["platform"]))
        self.recorder.page_fault(response, request, kind,
                                 f"image of listing {listing['listing_id']}: {detail}")
