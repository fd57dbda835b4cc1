"""Replica mode: send every request to a local replica instead of the real host.

With ``THRIFTWATCH_REPLICA = "http://127.0.0.1:PORT"``, a request for
``https://HOST/PATH?QUERY`` is downloaded from ``http://127.0.0.1:PORT/HOST/PATH?QUERY``
with its method, headers and body unchanged. The response keeps the real URL, so
spiders, middlewares and the evidence store never see the replica address; the request's
``meta[Meta.REPLICA]`` records which replica served it. Rendered pages keep their real
URL in the browser too: every request the page makes is answered from the replica (see
:mod:`crawler.runtime.browser`), so this handler passes them on unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.utils.misc import build_from_crawler, load_object

from crawler.config import Config
from crawler.keys import Meta

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

def replica_url(url: str, replica: str) -> str:
    """Map a real URL onto the replica: ``https://h/p?q`` → ``REPLICA/h/p?q``."""
    parts = urlsplit(url)
    routed = f"{replica}/{parts.netloc}{parts.path or '/'}"
    return f"{routed}?{parts.query}" if parts.query else routed


class ReplicaDownloadHandler(BaseDownloadHandler):
    """Wraps the real download handler and, in replica mode, reroutes each download.

    The wrapped handler is ``THRIFTWATCH_HTTP_HANDLER``: Scrapy's HTTP/1.1 handler, or
    scrapy-playwright's for spiders that render pages.
    """

    lazy = False

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        config = Config.from_crawler(crawler)
        self.replica = config.replica
        self.inner = build_from_crawler(load_object(self.inner_handler_path(config)), crawler)

    @staticmethod
    def inner_handler_path(config: Config) -> str:
        return config.http_handler

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("playwright"):  # routed inside the browser
            response = await self.inner.download_request(request)
        elif self.replica is None:
            return await self.inner.download_request(request)
        else:
            routed = request.replace(url=replica_url(request.url, self.replica))
            response = (await self.inner.download_request(routed)).replace(url=request.url)
        if self.replica is not None:
            request.meta[Meta.REPLICA] = self.replica
        return response

    async def close(self) -> None:
        await self.inner.close()


class PlainReplicaDownloadHandler(ReplicaDownloadHandler):
    """The ``http://`` handler: replica mode without a browser (platforms render over https)."""

    @staticmethod
    def inner_handler_path(config: Config) -> str:
        return "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"
