"""The evidence recorder: the evidence DB and the run of one crawl.

An extension, so that it exists before any other component (Scrapy builds extensions
first). The capture middleware hands it every response, the store pipeline every item, and
spiders report blocks and errors through the ``page_fault`` signal; run health reads the
run through it when it ends. Nothing else opens the DB during a crawl.

Enable with ``EXTENSIONS = {"crawler.runtime.recorder.EvidenceRecorder": 0}``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
from typing import TYPE_CHECKING, Any

from scrapy import signals

from crawler import __version__
from crawler.config import Config
from crawler.evidence.capture import (
    redact_query_secrets,
    redact_url_credentials,
    strip_query_secrets,
)
from crawler.evidence.store import WRITE_ERRORS, EvidenceStore
from crawler.evidence.timestamping import request_token
from crawler.frontier.keys import FrontierKeys
from crawler.keys import Meta, Stats, page_fault, run_ended, run_ending
from crawler.normalise import printable

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.evidence.capture import Capture

logger = logging.getLogger(__name__)

TSA_RETRIES = 20  # earlier runs whose missing time-stamp a run's end asks for again

class EvidenceRecorder:
    """Opens the run when the spider opens, writes what it is given, ends the run."""

    def __init__(self, crawler: Crawler, config: Config):
        self.crawler = crawler
        self.config = config
        self.store: EvidenceStore | None = None
        self.run_id: int | None = None
        self._pending: list[dict[str, Any]] = []
        self._pending_contacts: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        self.resumed = False  # the run is one a killed crawl left unfinished

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EvidenceRecorder:
        recorder = cls(crawler, Config.from_crawler(crawler))
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(recorder.page_fault, signal=page_fault)
        return recorder

    @property
    def recording(self) -> bool:
        return self.store is not None

    # -- the run ----------------------------------------------------------------------------

    def spider_opened(self, spider: Any) -> None:
        store = self.config.store
        self.store = EvidenceStore(store.db_path)
        self.run_id = self._resumable_run()
        if self.run_id is not None:
            self.resumed = True
            spider.logger.info("resuming thriftwatch run %s", self.run_id)
            return
        self.run_id = self.store.start_run(
            platform=spider.name,
            keywords=list(getattr(spider, "keywords", [])),
            tool_version=__version__,
            host=socket.gethostname(),
            operator=store.operator,
            replica=self.config.replica,
            settings_digest=settings_digest(self.crawler.settings.copy_to_dict()),
            # scrapyd passes its job id as the spider argument _job (SCRAPY_JOB before 1.5)
            scrapyd_job=getattr(spider, "_job", None) or os.environ.get("SCRAPY_JOB"),
        )
        frontier = self.config.frontier
        self.store.record_run_node(
            self.run_id, frontier.node, frontier.public_url,
            FrontierKeys(spider.name, frontier.run).prefix if frontier.enabled else None)
        spider.logger.info("thriftwatch run %s recording into %s", self.run_id, store.db_path)
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
        self.flush()
        self.crawler.signals.send_catch_log(run_ending, recorder=self, spider=spider,
                                            reason=reason)
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
        head = self.store.end_run(
            self.run_id,
            status="finished" if reason == "finished" else f"stopped: {reason}",
            stats=stats,
            lexicon_version=stats.get(Stats.LEXICON_VERSION),
        )
        self.crawler.stats.set_value(Stats.HEAD, head)
        spider.logger.info("thriftwatch run %s ended; the DB's head is now %s", self.run_id, head)
        if reason == "finished" and self._resume_file is not None:
            self._resume_file.unlink(missing_ok=True)
        self.anchor_heads()
        self.crawler.signals.send_catch_log(run_ended, recorder=self, spider=spider,
                                            reason=reason, head=head)
        self.store.close()
        self.store = None

    def anchor_heads(self) -> None:
        """Time-stamp this run's head, and those of earlier runs a TSA was down for, with
        the first RFC 3161 authority that answers. A TSA that is down costs a warning; the
        next run's end tries again."""
        store = self.config.store
        if not store.tsa_urls:
            return
        for run_id, head in self.store.runs_to_timestamp(limit=TSA_RETRIES):
            token, failures = request_token(head, store.tsa_urls, store.tsa_timeout)
            for failure in failures:
                logger.warning("RFC 3161 time-stamp of run %s: %s", run_id, failure)
            if token is None:
                self.crawler.stats.inc_value(Stats.UNANCHORED)
                logger.warning("run %s's head %s is not time-stamped: no TSA answered; the "
                               "next run's end will try again", run_id, head)
                return
            self.store.add_timestamp(run_id, head, token.tsa_url, token.response,
                                     token.gen_time)
            logger.info("run %s's head %s time-stamped by %s at %s", run_id, head,
                        token.tsa_url, token.gen_time)

    # -- what the other components hand over ------------------------------------------------

    def add_capture(self, capture: Capture, replica: str | None,
                    kind: str = "response") -> tuple[int, str]:
        """Store a fetch; the listings of earlier pages are written first."""
        self.flush()
        stored = self.store.add_capture(self.run_id, capture, replica, kind=kind)
        if kind in ("response", "rendered"):
            self.crawler.stats.inc_value(Stats.CAPTURES)
        return stored

    def add_observation(self, listing: dict[str, Any]) -> None:
        """Queue one sighting; it is written with the page's others (see :meth:`flush`)."""
        self._pending.append(listing)
        if len(self._pending) >= self.config.store.batch:
            self.flush()

    def add_recheck(self, recheck: dict[str, Any]) -> None:
        self.store.add_recheck(self.run_id, recheck)

    def flush(self) -> None:
        """Write the contacts, then the listings, waiting to be stored, each in one
        transaction.

        They wait at most until the next response arrives, the batch is full or the spider
        closes; a crawl killed before that loses them, and ``--resume`` redoes their pages.
        A listing that cannot be written is split off and recorded as a ``store_error``
        fault; the rest of the batch is stored.
        """
        if self.store is None:
            return
        if self._pending_contacts:
            self._flush_contacts()
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        stored, failed = self.store.add_observations_salvaging(self.run_id, pending)
        self.crawler.stats.inc_value(Stats.OBSERVATIONS, stored)
        for listing, why in failed:
            self.crawler.stats.inc_value(Stats.STORE_ERRORS)
            self._listing_fault(listing, "store_error", f"not stored: {why}")

    def add_listing_page(self, listing: dict[str, Any], page: dict[str, Any]) -> None:
        """Store a listing's page as parsed (``listing_pages``); a page that cannot be written
        is a ``store_error`` fault of its listing."""
        self._write(listing, "listing page", lambda: self.store.add_listing_page(
            self.run_id, page))

    def add_contacts(self, listing: dict[str, Any], contacts: list[dict[str, Any]]) -> None:
        """Queue the contacts read from one sighting of a listing (never logged: personal
        data); they are written with the sightings (see :meth:`flush`)."""
        if self.store is not None:
            self._pending_contacts.append((listing, contacts))

    def _flush_contacts(self) -> None:
        """Write the contacts waiting, in one transaction; if that fails, each listing's on
        its own: contacts that cannot be written are a ``store_error`` fault, without them."""
        pending, self._pending_contacts = self._pending_contacts, []
        try:
            self.store.add_contacts(self.run_id, [c for _, contacts in pending for c in contacts])
        except WRITE_ERRORS:
            for listing, contacts in pending:
                self._write(listing, "contacts",
                            lambda contacts=contacts: self.store.add_contacts(self.run_id,
                                                                              contacts))

    def add_image(self, listing: dict[str, Any], image: dict[str, Any]) -> bool:
        """Store an image of a listing, its bytes with the capture bodies; whether it was."""
        return self._write(listing, "image", lambda: self.store.add_image(self.run_id, image))

    def _write(self, listing: dict[str, Any], what: str, write: Any) -> bool:
        if self.store is None:
            return False
        try:
            write()
        except WRITE_ERRORS as error:
            self.crawler.stats.inc_value(Stats.STORE_ERRORS)
            self._listing_fault(listing, "store_error",
                                f"{what} not stored: {type(error).__name__}: {error}")
            return False
        return True

    def pages_read_in_run(self, platform: str) -> set[str]:
        """The listings of ``platform`` whose page this run stored already (a resumed run
        does not read them again)."""
        if self.store is None or not self.resumed:
            return set()
        return {row["listing_id"] for row in self.store.db.query(
            "SELECT listing_id FROM listing_pages WHERE run_id = ? AND platform = ?",
            [self.run_id, platform])}

    def url_fault(self, url: str, kind: str, detail: str,
                  capture_id: int | None = None) -> None:
        """Record a fault about a URL no request was made for (an image URL a seller gave
        that the fetch policy refuses)."""
        if self.store is not None:
            self._write_fault(url, kind, detail, capture_id)

    def add_refused_values(self, listing: dict[str, Any]) -> None:
        """Record each value normalisation set aside from ``listing`` as a fault: a value out
        of range (``field_out_of_range``, stored as NULL), and the text it repaired
        (``value_repaired``) or the title it found missing (``listing_incomplete``)."""
        for refused in listing.get("refused_values") or ():
            kind = refused.get("kind") or "field_out_of_range"
            if kind == "field_out_of_range":
                self.crawler.stats.inc_value(Stats.REFUSED_VALUES)
            else:
                self.crawler.stats.inc_value(Stats.faults(kind, self.crawler.spider.name))
            stored = refused.get("stored") or "stored as NULL"
            self._listing_fault(listing, kind, f"{refused.get('field')} = {refused.get('value')}:"
                                               f" {refused.get('why')}; {stored}")

    def listing_fault(self, listing: dict[str, Any], kind: str, detail: str) -> None:
        """Record a fault about one known listing that no request was made for (``recheck``
        refusing a stored URL)."""
        if self.store is not None:
            self._listing_fault(listing, kind, detail)

    def _listing_fault(self, listing: dict[str, Any], kind: str, detail: str) -> None:
        name = printable(f"{listing.get('platform')}/{listing.get('listing_id')}")
        detail = printable(detail)
        logger.warning("%s for listing %s: %s", kind, name, detail)
        self._write_fault(str(listing.get("url") or ""), kind, f"listing {name}: {detail}",
                          _whole_or_none(listing.get("capture_id")))

    def page_fault(self, response: Response | None, request: Request, kind: str,
                   detail: str) -> None:
        """Record a block or error with the capture of the page it happened on."""
        if self.store is None:
            return
        capture_id, _ = request.meta.get(Meta.CAPTURE, (None, None))
        self._write_fault(request.url, kind, detail, _whole_or_none(capture_id))

    def _write_fault(self, url: str, kind: str, detail: str, capture_id: int | None) -> None:
        """Store a fault, its text escaped (seller text may hold anything) and credentials
        blanked. This never raises: a fault that cannot be written is logged and counted
        (``Stats.FAULT_WRITE_ERRORS``, which fails the run's health), and the crawl goes on,
        so it cannot cost the next page its capture."""
        try:
            self.store.add_fault(self.run_id, url=_fault_url(url), kind=kind,
                                 detail=redact_query_secrets(printable(detail)),
                                 capture_id=capture_id)
        except Exception as error:  # noqa: BLE001 - see the docstring
            self.crawler.stats.inc_value(Stats.FAULT_WRITE_ERRORS)
            logger.error("a %s fault could not be written to the evidence DB (%s): %s",
                         kind, printable(f"{type(error).__name__}: {error}"[:300]),
                         printable(detail[:500]))


def _whole_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _fault_url(url: str) -> str:
    """A fault's URL as storable text with its credentials blanked, whatever it holds."""
    url = printable(url)
    try:
        return strip_query_secrets(url)
    except ValueError:  # not a URL urllib can split ("http://[..."): blank what it can
        return redact_query_secrets(url)


# Settings that hold credentials are left out of the digest's input, not just hidden.
_SECRET_SETTINGS = ("COOKIE", "PASSWORD", "TOKEN", "SECRET", "KEY")


def settings_digest(settings: dict[str, Any]) -> str:
    """SHA-256 over the crawl's settings, so two runs can be shown to have run alike (a URL's
    ``user:password@``, as in THRIFTWATCH_FRONTIER, is left out)."""
    public = {k: redact_url_credentials(v) if isinstance(v, str) else v
              for k, v in settings.items() if not any(s in k.upper() for s in _SECRET_SETTINGS)}
    return hashlib.sha256(json.dumps(public, sort_keys=True, default=repr).encode()).hexdigest()
