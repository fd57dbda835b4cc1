"""Replica mode: send every request to a local replica instead of the real host.

With ``THRIFTWATCH_REPLICA = "http://127.0.0.1:PORT"``, a request for
``https://HOST/PATH?QUERY`` is downloaded from ``http://127.0.0.1:PORT/HOST/PATH?QUERY``
with its method, headers and body unchanged. The response keeps the real URL, so
spiders, middlewares and the evidence store never see the replica address; the request's
``meta["thriftwatch_replica"]`` records which replica served it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.utils.misc import build_from_crawler, load_object

from crawler.config import Config

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

REPLICA_META_KEY = "thriftwatch_replica"


def replica_url(url: str, replica: str) -> str:
    """Map a real URL onto the replica: ``https://h/p?q`` → ``REPLICA/h/p?q``."""
    parts = urlsplit(url)
    routed = f"{replica}/{parts.netloc}{parts.path or '/'}"
    return f"{routed}?{parts.query}" if parts.query else routed


class ReplicaDownloadHandler(BaseDownloadHandler):
    """Wraps the real HTTP handler and, in replica mode, reroutes each download."""

    lazy = False

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        config = Config.from_settings(crawler.settings)
        self.replica = config.replica
        self.inner = build_from_crawler(load_object(config.http_handler), crawler)

    async def download_request(self, request: Request) -> Response:
        if self.replica is None:
            return await self.inner.download_request(request)
        routed = request.replace(url=replica_url(request.url, self.replica))
        response = await self.inner.download_request(routed)
        request.meta[REPLICA_META_KEY] = self.replica
        return response.replace(url=request.url)

    async def close(self) -> None:
        await self.inner.close()
