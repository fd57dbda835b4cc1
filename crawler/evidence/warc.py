"""Write the evidence store's captures as WARC 1.1 (ISO 28500) through warcio."""

from __future__ import annotations

import json
import socket
from http import HTTPStatus
from io import BytesIO
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import __version__

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crawler.evidence.store import EvidenceStore

# Bodies are stored decoded, so the encodings and lengths the server sent no longer apply.
_STALE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


def write_warc(store: EvidenceStore, out: BinaryIO, filename: str,
               capture_ids: Iterable[int] | None = None) -> int:
    """Write a warcinfo record, then every capture: HTTP fetches as request and response
    records, rendered pages and screenshots as resource records. Returns the records written.

    A DB that fails SQLite's integrity check or whose schema was changed is refused, and
    every body is hashed again as it is read (a mismatch is refused too): the records carry
    what the evidence holds, or nothing is written."""
    store.require_sound()
    writer = WARCWriter(out, gzip=True, warc_version="1.1")
    writer.write_record(writer.create_warcinfo_record(filename, {
        "software": f"thriftwatch/{__version__} (warcio)",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "hostname": socket.gethostname(),
        "description": "Captures of a thriftwatch evidence DB; X-Thriftwatch-* fields link "
                       "each record to its row.",
    }))
    count = 1
    wanted = None if capture_ids is None else set(capture_ids)
    for capture in store.db.query("SELECT * FROM captures ORDER BY id"):
        if wanted is not None and capture["id"] not in wanted:
            continue
        body = store.capture_body(capture["body_sha256"])
        extra = {"WARC-Date": capture["fetched_at"],
                 "X-Thriftwatch-Capture-Id": str(capture["id"]),
                 "X-Thriftwatch-Body-SHA256": capture["body_sha256"]}
        if capture["kind"] in ("response", "data"):
            request = _request_record(writer, store, capture, extra)
            response = writer.create_warc_record(
                capture["url"], "response", payload=BytesIO(body), length=len(body),
                warc_headers_dict=extra,
                http_headers=_http_headers(capture["status"], capture["response_headers"],
                                           len(body)))
            writer.write_request_response_pair(request, response)
            count += 2
        else:
            content_type = "image/png" if capture["kind"] == "screenshot" else "text/html"
            writer.write_record(writer.create_warc_record(
                capture["url"], "resource", payload=BytesIO(body), length=len(body),
                warc_content_type=content_type,
                warc_headers_dict={**extra, "X-Thriftwatch-Kind": capture["kind"]}))
            count += 1
    return count


def _request_record(writer: WARCWriter, store: EvidenceStore, capture: dict[str, Any],
                    extra: dict[str, str]):
    body = store.capture_body(capture["request_body_sha256"]) \
        if capture["request_body_sha256"] else b""
    parts = urlsplit(capture["url"])
    target = parts.path + (f"?{parts.query}" if parts.query else "") or "/"
    headers = [("Host", parts.netloc), *_header_list(capture["request_headers"])]
    if body:
        headers.append(("Content-Length", str(len(body))))
    return writer.create_warc_record(
        capture["url"], "request", payload=BytesIO(body), length=len(body),
        warc_headers_dict={"WARC-Date": extra["WARC-Date"]},
        http_headers=StatusAndHeaders(f"{capture['method']} {target} HTTP/1.1", headers,
                                      is_http_request=True))


def _http_headers(status: int, headers_json: str, length: int) -> StatusAndHeaders:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    headers = [*_header_list(headers_json), ("Content-Length", str(length))]
    return StatusAndHeaders(f"{status} {reason}", headers, protocol="HTTP/1.1")


def _header_list(headers_json: str) -> list[tuple[str, str]]:
    return [(name, value) for name, value in json.loads(headers_json or "{}").items()
            if name.lower() not in _STALE_HEADERS and name.lower() != "host"]
