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
    crawl starts.
    """
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "redacts_secrets", False):
        return

    def redacting_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # a malformed call: the handler reports it
            return record
        cleaned = clean_log_message(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return record

    redacting_record.redacts_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting_record)


class RedactLogSecrets:
    """Extension: switches on :func:`install_log_redaction` before the crawl logs a request."""

    def __init__(self) -> None:
        install_log_redaction()

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedactLogSecrets:
        return cls()
