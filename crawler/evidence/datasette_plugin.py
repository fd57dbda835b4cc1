"""Datasette plugin for ``thriftwatch serve``: links evidence hashes to the evidence itself.

A cell holding a capture or screenshot SHA-256 becomes a link to ``/-/capture/SHA256``,
which serves the stored body decompressed (PNG screenshots as images, pages as text), after
hashing it again: a body that is not the one its SHA-256 names (a forged row an index was
pointed at) is refused, never served as that capture.
"""

from __future__ import annotations

import hashlib
import re
import zlib

from datasette import Response, hookimpl
from markupsafe import Markup

HASH_COLUMNS = {"capture_sha256", "screenshot_sha256", "body_sha256", "sha256",
                "request_body_sha256"}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@hookimpl
def render_cell(value, column, table, database, datasette):
    if column in HASH_COLUMNS and isinstance(value, str) and _SHA256.match(value):
        # Markup.format escapes its arguments.
        return Markup('<a href="/-/capture/{}" title="open the stored evidence">{}…</a>').format(
            value, value[:16])
    return None


async def capture(datasette, request):
    digest = request.url_vars["sha256"]
    db = datasette.get_database()
    rows = await db.execute(
        "SELECT b.body, c.kind, c.response_headers FROM capture_bodies b "
        "LEFT JOIN captures c ON c.body_sha256 = b.sha256 WHERE b.sha256 = ? LIMIT 1", [digest])
    row = rows.first()
    if row is None:
        return Response.text(f"no capture with SHA-256 {digest}", status=404)
    try:
        body = zlib.decompress(row["body"])
    except (zlib.error, TypeError):
        body = None
    if body is None or hashlib.sha256(body).hexdigest() != digest:
        return Response.text(f"the body stored under SHA-256 {digest} is not the one that "
                             "SHA-256 names: refusing to serve it (run thriftwatch verify)",
                             status=500)
    # Anything but a screenshot is shown as text, never rendered: a stored page must not run
    # its scripts here.
    content_type = "image/png" if row["kind"] == "screenshot" else "text/plain; charset=utf-8"
    return Response(body, content_type=content_type,
                    headers={"X-Content-SHA256": digest,
                             "Content-Security-Policy": "default-src 'none'; img-src 'self'"})


@hookimpl
def register_routes():
    return [(r"^/-/capture/(?P<sha256>[0-9a-f]{64})$", capture)]
