"""RFC 3161 time-stamps of run heads: proof, signed by a time-stamp authority (TSA) the
investigator chooses, that the DB's history up to a run's end existed at that time.

What a TSA signs is the SHA-256 of the head's 64 hex digits (ASCII). A sceptic can check a
token without thriftwatch::

    printf %s HEAD > head.txt
    openssl ts -verify -data head.txt -in run.tsr -CAfile tsa-ca.pem

Requests go over HTTP(S) (``application/timestamp-query``), tried in the order given; a TSA
that does not answer is skipped. Built on rfc3161-client and cryptography.
"""

from __future__ import annotations

import hashlib
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)
from rfc3161_client.tsp import PKIStatus

from crawler.evidence.capture import redact_url_credentials

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

MAX_RESPONSE = 1024 * 1024  # no time-stamp response is this large


class TokenProblem(Exception):
    """A time-stamp token that does not prove what it should; the message says why."""


@dataclass(frozen=True)
class Token:
    tsa_url: str
    response: bytes  # the whole TimeStampResp, DER
    gen_time: str  # when the TSA says it signed, ISO 8601 UTC

    def lag_after(self, ended_at: str | None) -> float | None:
        """Seconds from ``ended_at`` (ISO UTC) to this token's time."""
        if not ended_at:
            return None
        ended = datetime.fromisoformat(ended_at.replace("Z", "+00:00"))  # noqa: FURB162
        return (datetime.fromisoformat(self.gen_time) - ended).total_seconds()


def message(head: str) -> bytes:
    """The bytes a TSA is asked to sign for ``head``."""
    return head.encode("ascii")


def request_token(head: str, urls: Sequence[str], timeout: float) -> tuple[Token | None,
                                                                         list[str]]:
    """Ask each TSA in turn for a token on ``head``; the first good one, and what failed."""
    query = TimestampRequestBuilder().data(message(head)).hash_algorithm(
        HashAlgorithm.SHA256).nonce(nonce=True).cert_request(cert_request=True).build()
    failures = []
    for url in urls:
        shown = redact_url_credentials(url)
        try:
            answer = _post(url, query.as_bytes(), timeout)
            response = decode_timestamp_response(answer)
            if PKIStatus(response.status) not in (PKIStatus.GRANTED,
                                                 PKIStatus.GRANTED_WITH_MODS):
                raise TokenProblem(f"status {response.status} {response.status_string}")
            if response.tst_info.message_imprint.message != _digest(head):
                raise TokenProblem("the token covers another message")
            if response.tst_info.nonce != query.nonce:
                raise TokenProblem("the token answers another request (nonce)")
        except (OSError, ValueError, TokenProblem) as error:
            failures.append(f"{shown}: {error}")
            continue
        return Token(shown, answer, _utc(response.tst_info.gen_time)), failures
    return None, failures


def check_token(response_der: bytes, head: str,
                roots: Sequence[x509.Certificate] = ()) -> Token:
    """A stored token, checked against ``head``: it must cover it, and chain to one of
    ``roots`` when they are given. Raises :class:`TokenProblem`."""
    try:
        response = decode_timestamp_response(bytes(response_der))
    except ValueError as error:
        raise TokenProblem(f"not an RFC 3161 response ({error})") from None
    if response.tst_info.message_imprint.message != _digest(head):
        raise TokenProblem(f"the token does not cover head {head}")
    if roots:
        builder = VerifierBuilder()
        for root in roots:
            builder = builder.add_root_certificate(root)
        try:
            builder.build().verify_message(response, message(head))
        except VerificationError as error:
            reason = str(error).split(":")[0]
            raise TokenProblem("the token's signature does not check out against the given "
                               f"CA ({reason})") from None
    return Token("", bytes(response_der), _utc(response.tst_info.gen_time))


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate of a PEM file (a TSA's CA, say)."""
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a PEM certificate file ({error})") from None


def _post(url: str, body: bytes, timeout: float) -> bytes:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("a TSA URL must be http:// or https://")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method="POST",
        headers={"Content-Type": "application/timestamp-query", "User-Agent": "thriftwatch"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
        data = answer.read(MAX_RESPONSE + 1)
    if len(data) > MAX_RESPONSE:
        raise ValueError("the answer is too large for a time-stamp response")
    return data


def _digest(head: str) -> bytes:
    return hashlib.sha256(message(head)).digest()


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()
