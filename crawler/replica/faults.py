"""Fault injection for the replica: make one platform host misbehave the way real sites do.

Switch a fault on per host with ``thriftwatch replica --fault HOST=KIND[:COUNT]``,
``POST /_replica/fault`` (JSON ``{"host", "kind", "count"}``) or
``ReplicaServer.set_fault(host, kind, count)``. The next COUNT requests to HOST (default 1;
-1 = every request) get the fault; then the host answers normally again.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

FAULT_KINDS = {
    "429": "429 Too Many Requests with Retry-After: 1",
    "5xx": "503 Service Unavailable",
    "timeout": "no answer for 30 s",
    "slow": "the real body, dribbled out over about 3 s",
    "truncated": "the real body cut short: the connection closes mid-body",
    "malformed": "200 with the real JSON cut short (unparseable)",
    "captcha": "200 with a captcha page instead of results",
    "drift": "the real JSON with its item fields renamed (a platform changed its shape)",
    "huge": "a 40 MB response",
    "offsite": "a redirect to another site",
}
FAULTS_KEY = web.AppKey("faults", dict)  # app[FAULTS_KEY]: host → FaultPlan
CAPTCHA_PAGE = ("<!DOCTYPE html><html><head><title>Security check</title></head><body>"
                "<div id='captcha'>Please complete the captcha to continue.</div></body></html>")
# Renamed by "drift": the fields every parser needs to identify a listing.
DRIFTED_KEYS = {"name": "productName", "title": "headline", "id": "uid", "itemid": "item_uid",
                "itemId": "item_uid", "marketplace_listing_title": "listing_headline"}


@dataclass
class FaultPlan:
    kind: str
    remaining: int  # requests still to fault; -1 = all


def parse_fault(spec: str) -> tuple[str, FaultPlan]:
    """``"shopee.co.id=429:3"`` → ("shopee.co.id", FaultPlan("429", 3))."""
    host, sep, rest = spec.partition("=")
    kind, _, count = rest.partition(":")
    if not sep or not host or kind not in FAULT_KINDS:
        raise ValueError(f"--fault takes HOST=KIND[:COUNT] with KIND one of "
                         f"{', '.join(FAULT_KINDS)}; not {spec!r}")
    try:
        return host, FaultPlan(kind, int(count) if count else 1)
    except ValueError:
        raise ValueError(f"--fault COUNT must be a whole number: {spec!r}") from None


def take(app: web.Application, host: str, path: str) -> str | None:
    """The fault the next request to ``host`` gets, if any (and count it down).

    robots.txt is answered normally, so a fault hits the requests a crawl is about.
    """
    plan = app[FAULTS_KEY].get(host)
    if path.endswith("/robots.txt"):
        return None
    if plan is None or plan.remaining == 0:
        return None
    if plan.remaining > 0:
        plan.remaining -= 1
    return plan.kind


async def inject(kind: str, request: web.Request, real: Any) -> web.StreamResponse:
    """Answer ``request`` with fault ``kind``; ``real()`` gives the normal response."""
    if kind == "429":
        return web.Response(status=429, headers={"Retry-After": "1"}, text="Too Many Requests")
    if kind == "5xx":
        return web.Response(status=503, text="Service Unavailable")
    if kind == "timeout":
        await asyncio.sleep(30)
        return await real()
    if kind == "captcha":
        return web.Response(text=CAPTCHA_PAGE, content_type="text/html")
    if kind == "huge":
        return web.Response(body=b'{"padding": "' + b"x" * 40_000_000 + b'"}',
                            content_type="application/json")
    if kind == "offsite":
        raise web.HTTPFound("https://offsite.example.com/landing")
    response = await real()
    body = response.body if isinstance(response.body, bytes) else b""
    if kind == "malformed":
        return web.Response(body=body[: len(body) * 3 // 5], content_type=response.content_type)
    if kind == "drift":
        drifted = _rename_keys(json.loads(body)) if body[:1] in (b"{", b"[") else body
        return web.json_response(drifted, status=response.status)
    stream = web.StreamResponse(status=response.status, headers={
        "Content-Type": response.headers.get("Content-Type", "application/octet-stream"),
        "Content-Length": str(len(body))})
    await stream.prepare(request)
    if kind == "truncated":
        await stream.write(body[: len(body) // 2])
        request.transport.close()
        return stream
    for start in range(0, len(body), max(1, len(body) // 10)):  # slow
        await stream.write(body[start:start + max(1, len(body) // 10)])
        await asyncio.sleep(0.3)
    await stream.write_eof()
    return stream


def _rename_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {DRIFTED_KEYS.get(k, k): _rename_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename_keys(v) for v in value]
    return value


async def set_fault(request: web.Request) -> web.Response:
    body = await request.json()
    try:
        host, plan = parse_fault(f"{body.get('host')}={body.get('kind')}:{body.get('count', 1)}")
    except ValueError as error:
        return web.json_response({"message": str(error)}, status=400)
    request.app[FAULTS_KEY][host] = plan
    return web.json_response({"host": host, "kind": plan.kind, "count": plan.remaining})
