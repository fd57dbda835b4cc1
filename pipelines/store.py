"""Store pipeline: every response as a capture, every listing as an observation with its verdict."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals

from crawler import __version__
from crawler.config import Config
from crawler.evidence.capture import (
    REDACTED_BODY,
    Capture,
    redact_headers,
    redact_query_secrets,
    strip_query_secrets,
    utc_now,
)
from crawler.evidence.store import EvidenceStore
from crawler.items import Recheck
from crawler.keys import Meta, Stats, page_fault
from crawler.runtime.browser import DATA_METHOD, SCREENSHOT_METHOD, page_method_result

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


class StorePipeline:
    """Owns the evidence DB for one crawl: opens a run, records captures and observations."""

    def __init__(self, crawler: Crawler, config: Config):
        self.crawler = crawler
        self.config = config
        self.store: EvidenceStore | None = None
        self.run_id: int | None = None
        self._pending: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        pipeline = cls(crawler, Config.from_crawler(crawler))
        crawler.signals.connect(pipeline.response_received, signal=signals.response_received)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.page_fault, signal=page_fault)
        return pipeline

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.store = EvidenceStore(self.config.store.db_path)
        self.run_id = self._resumable_run()
        if self.run_id is not None:
            spider.logger.info("resuming thriftwatch run %s", self.run_id)
            return
        self.run_id = self.store.start_run(
            platform=spider.name,
            keywords=list(getattr(spider, "keywords", [])),
            tool_version=__version__,
            host=socket.gethostname(),
            operator=self.config.store.operator,
            replica=self.config.replica,
            settings_digest=settings_digest(self.crawler.settings.copy_to_dict()),
            # scrapyd passes its job id as the spider argument _job (SCRAPY_JOB before 1.5)
            scrapyd_job=getattr(spider, "_job", None) or os.environ.get("SCRAPY_JOB"),
        )
        spider.logger.info("thriftwatch run %s recording into %s", self.run_id,
                           self.config.store.db_path)
        if self._resume_file is not None:
            self._resume_file.parent.mkdir(parents=True, exist_ok=True)
            self._resume_file.write_text(json.dumps({"run_id": self.run_id}))

    @property
    def _resume_file(self) -> Path | None:
        """Where ``--resume DIR`` keeps this platform's unfinished run."""
        if self.config.store.resume_dir is None:
            return None
        return self.config.store.resume_dir / f"{self.crawler.spider.name}.run.json"

    def _resumable_run(self) -> int | None:
        """The run a killed crawl left unfinished in the resume directory, if any.

        A resumed run redoes its searches; the store skips listings it already saw.
        """
        path = self._resume_file
        if path is None or not path.exists():
            return None
        run_id = json.loads(path.read_text())["run_id"]
        return run_id if self.store.unfinished_run(run_id) else None

    def spider_closed(self, spider: Any, reason: str) -> None:
        """End the run once every item is written; the reason comes only with this signal."""
        if self.store is None:
            return
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
        self.store.end_run(
            self.run_id,
            status="finished" if reason == "finished" else f"stopped: {reason}",
            stats=stats,
            lexicon_version=stats.get(Stats.LEXICON_VERSION),
        )
        if reason == "finished" and self._resume_file is not None:
            self._resume_file.unlink(missing_ok=True)
        self.store.close()
        self.store = None

    def response_received(self, response: Response, request: Request, spider: Any) -> None:
        """Store the raw response before any callback parses it, and tell the callback where.

        For a rendered page that is the page's HTML as drawn, its full-page screenshot, and
        the data fetches its scripts made.
        """
        if self.store is None:
            return
        self.flush()  # the listings of earlier pages go before this page's capture
        replica = request.meta.get(Meta.REPLICA)
        rendered = "playwright" in response.flags
        secret = request.meta.get(Meta.CREDENTIALS)
        capture = Capture(
            url=strip_query_secrets(response.url),
            method=request.method,
            status=response.status,
            request_headers=redact_headers(request.headers),
            response_headers=redact_headers(response.headers),
            request_body=None if secret else request.body or None,
            body=REDACTED_BODY if secret else response.body,
            fetched_at=utc_now(),
        )
        request.meta[Meta.CAPTURE] = self.store.add_capture(
            self.run_id, capture, replica, kind="rendered" if rendered else "response"
        )
        self.crawler.stats.inc_value(Stats.CAPTURES)
        if not rendered:
            return
        screenshot = page_method_result(request.meta, SCREENSHOT_METHOD)
        if isinstance(screenshot, bytes):
            shot = replace(capture, method="SCREENSHOT", status=200, request_body=None,
                           response_headers={"content-type": "image/png"}, body=screenshot)
            request.meta[Meta.SCREENSHOT] = self.store.add_capture(
                self.run_id, shot, replica, kind="screenshot")
        for data in page_method_result(request.meta, DATA_METHOD) or ():
            fetched = Capture(url=strip_query_secrets(data.url), method=data.method,
                              status=data.status, request_headers={},
                              response_headers=redact_headers(data.headers),
                              request_body=None, body=data.body,
                              fetched_at=capture.fetched_at)
            self.store.add_capture(self.run_id, fetched, replica, kind="data")

    def page_fault(self, response: Response | None, request: Request, kind: str,
                   detail: str) -> None:
        """Record a block or error with the capture of the page it happened on."""
        if self.store is None:
            return
        capture_id, _ = request.meta.get(Meta.CAPTURE, (None, None))
        self.store.add_fault(self.run_id, url=strip_query_secrets(request.url), kind=kind,
                             detail=redact_query_secrets(detail), capture_id=capture_id)

    def process_item(self, item):
        if isinstance(item, Recheck):
            self.store.add_recheck(self.run_id, dict(ItemAdapter(item)))
            return item
        self._pending.append(dict(ItemAdapter(item)))
        if len(self._pending) >= self.config.store.batch:
            self.flush()
        return item

    def flush(self) -> None:
        """Write the listings waiting to be stored, in one transaction.

        They wait at most until the next response arrives, the batch is full or the spider
        closes; a crawl killed before that loses them, and ``--resume`` redoes their pages.
        """
        if self._pending and self.store is not None:
            self.store.add_observations(self.run_id, self._pending)
            self.crawler.stats.inc_value(Stats.OBSERVATIONS, len(self._pending))
            self._pending = []

    def close_spider(self) -> None:
        self.flush()


# Settings that hold credentials are left out of the digest's input, not just hidden.
_SECRET_SETTINGS = ("COOKIE", "PASSWORD", "TOKEN", "SECRET", "KEY")


def settings_digest(settings: dict[str, Any]) -> str:
    """SHA-256 over the crawl's settings, so two runs can be shown to have run alike."""
    public = {k: v for k, v in settings.items() if not any(s in k.upper() for s in _SECRET_SETTINGS)}
    return hashlib.sha256(json.dumps(public, sort_keys=True, default=repr).encode()).hexdigest()
