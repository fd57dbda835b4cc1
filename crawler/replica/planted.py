"""Planted answers: let a test play the seller (or the attacker) who controls a page.

``ReplicaServer.plant(host, match, body)`` (or ``POST /_replica/plant`` with JSON
``{"host", "match", "body", "status", "content_type"}``) makes the replica answer every
request to ``host`` whose path, query or body contains ``match`` with ``body`` verbatim,
instead of its catalogue: a Tokopedia search answer whose products carry a price of 10^20,
a listing page whose description fakes a takedown. The real shape is the test's to write.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

PLANTED_KEY = web.AppKey("planted", list)


@dataclass(frozen=True)
class Planted:
    host: str
    match: str
    body: str
    status: int = 200
    content_type: str = "application/json"


async def find(request: web.Request, host: str) -> Planted | None:
    """The answer planted for this request, if any (the latest planted wins)."""
    planted = [p for p in request.app[PLANTED_KEY] if p.host == host]
    if not planted:
        return None
    body = (await request.read()).decode("utf-8", "replace") if request.can_read_body else ""
    where = f"{request.path_qs}\n{body}"
    return next((p for p in reversed(planted) if p.match in where), None)


def answer(planted: Planted) -> web.Response:
    return web.Response(text=planted.body, status=planted.status,
                        content_type=planted.content_type, charset="utf-8")


async def plant(request: web.Request) -> web.Response:
    """``POST /_replica/plant``."""
    data = await request.json()
    request.app[PLANTED_KEY].append(Planted(
        host=str(data["host"]), match=str(data["match"]), body=str(data["body"]),
        status=int(data.get("status", 200)),
        content_type=str(data.get("content_type", "application/json"))))
    return web.json_response({"planted": len(request.app[PLANTED_KEY])})
