"""A Scrapy job directory's queue of pending requests, in JSON (``SCHEDULER_DISK_QUEUE``).

With ``JOBDIR`` set (``-s JOBDIR=DIR``), Scrapy keeps the requests it has not fetched yet
on disk so that a stopped crawl can go on, and pickles them by default; a queue file read
back is input from outside the process, which unpickling would run as code. These queues
write each request as the shared frontier writes its entries, in JSON, and read one back
only as a request thriftwatch's spiders make (:mod:`crawler.frontier.requests`: an http(s)
URL, a callback of the spider's own code, known meta keys), raising
:class:`~crawler.frontier.serializer.EntryDecodeError` for anything else and evaluating
nothing. A request the frontier would not share stays in memory, as Scrapy keeps one that
pickle cannot hold.

``thriftwatch crawl --resume DIR`` needs no job directory: a resumed run redoes its searches
and the evidence store skips the listings it already holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from queuelib import queue

from crawler.frontier.requests import NotShareable, from_entry, to_entry

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class _JsonRequestQueue:
    """Requests in a queuelib disk queue at ``key``, each as one JSON entry."""

    disk_queue: ClassVar[type[queue.FifoDiskQueue | queue.LifoDiskQueue]]

    def __init__(self, crawler: Crawler, key: str) -> None:
        self.spider = crawler.spider
        Path(key).parent.mkdir(parents=True, exist_ok=True)
        self.queue = self.disk_queue(key)

    @classmethod
    def from_crawler(cls, crawler: Crawler, key: str, *args: Any, **kwargs: Any,
                     ) -> _JsonRequestQueue:
        return cls(crawler, key)

    def push(self, request: Request) -> None:
        try:
            entry = to_entry(request, self.spider)
        except NotShareable as error:  # Scrapy keeps the request in memory instead
            raise ValueError(str(error)) from error
        self.queue.push(entry)

    def pop(self) -> Request | None:
        entry = self.queue.pop()
        return from_entry(entry, self.spider) if entry else None

    def peek(self) -> Request | None:
        entry = self.queue.peek()
        return from_entry(entry, self.spider) if entry else None

    def close(self) -> None:
        self.queue.close()

    def __len__(self) -> int:
        return len(self.queue)


class JsonLifoDiskQueue(_JsonRequestQueue):
    """Last in, first out: Scrapy's default order (depth first)."""

    disk_queue = queue.LifoDiskQueue


class JsonFifoDiskQueue(_JsonRequestQueue):
    """First in, first out (breadth first; Scrapy's order for start requests)."""

    disk_queue = queue.FifoDiskQueue
