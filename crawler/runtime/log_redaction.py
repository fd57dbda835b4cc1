r"""Keep credentials, and what a seller typed, from doing harm in the crawl log.

Scrapy and its middlewares quote request URLs in log lines ("Crawled (200) <GET ...>",
"Retrying ...", a spider's fault report), and a site may want a token in the URL
(``?access_token=...``). Log lines also quote what sellers wrote (a listing id in a fault
report), and a seller can write terminal escapes: ``ESC[1A ESC[2K`` erases the line above
on an operator's terminal, a carriage return writes over the line, a bidirectional
override reorders it. :class:`RedactLogSecrets` blanks credential values and writes every
control character but tab and line feed, every bidirectional control and every lone
surrogate as its escape (``\x1b``, ``\u202e``) in every record the crawl process logs,
whoever logs it and whichever handler writes it. (Seller text that thriftwatch logs itself
has its line breaks escaped too, before it is logged: see ``crawler.normalise.printable``.)
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from crawler.evidence.capture import redact_query_secrets
from crawler.normalise import printable


def clean_log_message(message: str) -> str:
    """``message`` with credentials blanked and control characters escaped; tab and line
    feed stay, for Scrapy's own multi-line reports."""
    return printable(redact_query_secrets(message), keep="\t\n")


def install_log_redaction() -> None:
    """Make every log record of this process blank credential query values and escape
    control characters (once).

    A record factory, not a handler filter: Scrapy replaces its root handler when a
    crawl starts. The record is cleaned when a handler formats it (its ``getMessage``), so
    a record no handler writes (Scrapy's DEBUG line of every item, under ``--log-level
    WARNING``) costs no formatting.
    """
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacts_secrets", False):
        return

    def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.__class__ = _redacting(type(record))
        return record

    redacting_record.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_record)


@functools.cache
def _redacting(record_class: type[logging.LogRecord]) -> type[logging.LogRecord]:
    """``record_class`` whose message is cleaned (:func:`clean_log_message`) when read."""
    if getattr(record_class, "redacts_secrets", False):
        return record_class

    class RedactingRecord(record_class):  # type: ignore[misc, valid-type]
        redacts_secrets = True

        def getMessage(self) -> str:
            return clean_log_message(super().getMessage())

    return RedactingRecord


class RedactLogSecrets:
    """Extension: switches on :func:`install_log_redaction` before the crawl logs a request."""

    def __init__(self) -> None:
        install_log_redaction()

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedactLogSecrets:
        return cls()
