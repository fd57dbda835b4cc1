"""Pure helpers that turn a fetched response into a capture record for the evidence store."""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Headers that carry credentials or session state: never stored, logged or exported.
SECRET_HEADERS = frozenset(
    {"cookie", "set-cookie", "authorization", "proxy-authorization", "x-auth-token",
     "x-csrf-token", "x-api-key", "x-access-token"}
)

# Query parameters that carry credentials, such as Bukalapak's ``access_token``.
SECRET_QUERY_PARAMS = frozenset({"access_token", "token"})
# The user-information part of a URL ("https://desk:s3cret@scrapyd.internal:6800/").
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@]+@")
_SECRET_QUERY_VALUE = re.compile(
    rf"(?i)([?&;](?:{'|'.join(sorted(SECRET_QUERY_PARAMS))})=)[^&#\s<>'\"]+")

# What a capture keeps instead of a body that carries credentials (an access-token exchange).
REDACTED_BODY = b"[body withheld: the response carries credentials]"


@dataclass(frozen=True)
class Capture:
    """One fetch: where, how, what came back, and when (UTC)."""

    url: str
    method: str
    status: int
    request_headers: dict[str, str]
    response_headers: dict[str, str]
    request_body: bytes | None
    body: bytes
    fetched_at: str

    @property
    def body_sha256(self) -> str:
        return sha256_hex(self.body)

    @property
    def request_body_sha256(self) -> str | None:
        return sha256_hex(self.request_body) if self.request_body else None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compress(body: bytes) -> bytes:
    return zlib.compress(body, 6)


def decompress(blob: bytes) -> bytes:
    return zlib.decompress(blob)


def utc_now() -> str:
    """Current UTC time as ISO 8601 with milliseconds and a ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def redact_headers(headers: dict[str, list[str]] | dict[str, str]) -> dict[str, str]:
    """Lower-case header names, join repeated values, and drop every credential header."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        key = _text(name).lower()
        if key in SECRET_HEADERS:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        out[key] = ", ".join(_text(v) for v in values)
    return out


def strip_query_secrets(url: str, names: frozenset[str] = SECRET_QUERY_PARAMS) -> str:
    """Blank the values of credential query parameters such as Bukalapak's ``access_token``,
    and a ``user:password@`` in the URL."""
    url = redact_url_credentials(url)
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, "REDACTED" if k.lower() in names else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def redact_query_secrets(text: str) -> str:
    """Blank credentials in free text, such as a log line quoting a URL: credential query
    values and the ``user:password@`` of URLs."""
    return _SECRET_QUERY_VALUE.sub(r"\1REDACTED", redact_url_credentials(text))


def redact_url_credentials(text: str) -> str:
    """``scheme://user:password@host`` → ``scheme://REDACTED@host``, wherever in ``text``."""
    return _URL_USERINFO.sub(r"\1REDACTED@", text)


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)
