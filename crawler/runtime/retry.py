"""Retries that back off: exponential delays, and the server's own Retry-After when it sends one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware

from crawler.config import BackoffConfig, Config
from crawler.keys import Stats

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings


def backoff_delay(attempt: int, retry_after: str | None, base: float, cap: float) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    ``Retry-After`` (seconds, or an HTTP date) wins when present; otherwise
    ``base * 2 ** (attempt - 1)``. Never more than ``cap`` and never negative.
    """
    delay = base * 2 ** max(attempt - 1, 0)
    if retry_after:
        value = retry_after.strip()
        if value.isascii() and value.isdigit():  # not "²", a digit to isdigit()
            delay = float(value)
        else:
            try:
                moment = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                pass
            else:
                if moment.tzinfo is None:  # "-0000": UTC with no zone said (RFC 5322)
                    moment = moment.replace(tzinfo=UTC)
                delay = (moment - datetime.now(UTC)).total_seconds()
    return min(max(delay, 0.0), cap)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry middleware, waiting before each retry instead of retrying at once.

    Its waits are :class:`crawler.config.BackoffConfig`.
    """

    def __init__(self, settings: BaseSettings, backoff: BackoffConfig):
        super().__init__(settings)
        self.base, self.cap = backoff.base, backoff.cap

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        middleware = cls(crawler.settings, Config.from_crawler(crawler).backoff)
        middleware.crawler = crawler
        return middleware

    async def process_response(self, request: Request, response: Response, spider=None):
        result = super().process_response(request, response)
        if isinstance(result, Request):
            await self._wait(result, response.headers.get("Retry-After"))
        return result

    async def process_exception(self, request: Request, exception: Exception, spider=None):
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            await self._wait(result, None)
        return result

    async def _wait(self, retry: Request, retry_after: bytes | None) -> None:
        header = retry_after.decode("latin-1") if retry_after else None
        delay = backoff_delay(retry.meta.get("retry_times", 1), header, self.base, self.cap)
        self.crawler.stats.inc_value(Stats.BACKOFF_SECONDS, delay)
        await asyncio.sleep(delay)
