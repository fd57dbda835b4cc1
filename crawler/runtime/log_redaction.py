"""Keep credentials out of the crawl log.

Scrapy and its middlewares quote request URLs in log lines ("Crawled (200) <GET ...>",
"Retrying ...", a spider's fault report), and a site may want a token in the URL
(``?access_token=...``). :class:`RedactLogSecrets` blanks those values in every record the
crawl process logs, whoever logs it and whichever handler writes it.
"""

from __future__ import annotations

import logging
from typing import Any

from crawler.evidence.capture import redact_query_secrets


def install_log_redaction() -> None:
    """Make every log record of this process blank credential query values (once).

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
        redacted = redact_query_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
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
