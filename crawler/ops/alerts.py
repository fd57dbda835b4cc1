"""Send a run-health alert: a JSON POST to a webhook and/or an email through SMTP.

A failed delivery is logged, never raised: an alert must not break the crawl it reports on.
Where alerts go is :class:`crawler.config.AlertConfig`; its SMTP password comes from the
environment (``THRIFTWATCH_SMTP_PASSWORD``), never from a setting.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.parse
import urllib.request
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from crawler.config import AlertConfig

logger = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds for one delivery


def send_alerts(config: AlertConfig, payload: Mapping[str, Any]) -> None:
    """Deliver ``payload`` (see :func:`crawler.ops.health.alert_payload`) everywhere configured."""
    if config.webhook:
        try:
            post_webhook(config.webhook, payload)
        except (OSError, ValueError) as error:  # ValueError: not an http(s) URL
            logger.error("alert webhook failed: %s", error)
    if config.smtp_host and config.email_to:
        try:
            send_email(config, subject(payload), body(payload))
        except (OSError, smtplib.SMTPException) as error:
            logger.error("alert email failed: %s", error)


def post_webhook(url: str, payload: Mapping[str, Any]) -> int:
    """POST ``payload`` as JSON; the receiver's HTTP status, or ``HTTPError`` (an OSError).

    A URL that is not ``http://`` or ``https://`` is a ``ValueError``."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"the alert webhook must be an http:// or https:// URL, not {url!r}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "thriftwatch-alerts"})
    with urllib.request.urlopen(  # noqa: S310 - scheme checked above
            request, timeout=TIMEOUT) as response:
        return response.status


def send_email(config: AlertConfig, subject_line: str, text: str) -> None:
    message = EmailMessage()
    message["Subject"] = subject_line
    message["From"] = config.email_from
    message["To"] = ", ".join(config.email_to)
    message.set_content(text)
    context = ssl.create_default_context()  # the server's certificate and name are checked
    connection = (smtplib.SMTP_SSL(config.smtp_host, config.smtp_port, timeout=TIMEOUT,
                                   context=context) if config.smtp_ssl
                  else smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=TIMEOUT))
    with connection as smtp:
        if config.smtp_starttls:
            smtp.starttls(context=context)
        if config.smtp_user:
            if not (config.smtp_ssl or config.smtp_starttls or config.smtp_allow_plain):
                raise smtplib.SMTPException("refusing to send the SMTP password over a "
                                            "connection that is not encrypted")
            smtp.login(config.smtp_user, config.smtp_password or "")
        smtp.send_message(message)


def subject(payload: Mapping[str, Any]) -> str:
    checks = ", ".join(f["check"] for f in payload["findings"])
    return (f"[thriftwatch] {payload['platform']} run {payload['run_id']}: "
            f"{payload['status']} ({checks})")


def body(payload: Mapping[str, Any]) -> str:
    lines = [f"thriftwatch run {payload['run_id']} of {payload['platform']}: {payload['status']}",
             f"evidence DB: {payload['db']}"]
    if payload.get("head"):
        lines.append(f"head {payload['head']} (keep this e-mail: verify --head checks it)")
    lines.append("")
    lines += [f"- {f['severity']} {f['check']}: {f['message']}" for f in payload["findings"]]
    return "\n".join(lines) + "\n"
