"""The replica marketplace: a local aiohttp server that answers in each platform's real shape.

Replica mode maps ``https://HOST/PATH?QUERY`` to ``http://127.0.0.1:PORT/HOST/PATH?QUERY``;
this server routes on HOST to the module that imitates that platform, and answers the
platforms' image CDNs with real photos (``crawler.replica.images``).

Besides the platforms, it answers (all on 127.0.0.1, for tests and the demo):
``POST /_replica/listing-state`` (a listing page's state, ``listing_pages``),
``POST /_replica/fault`` (``faults``), ``POST /_replica/plant`` (``planted``) and
``POST /_replica/takedown`` (JSON ``{"account": "platform:seller_id"}``, or
``{"planted": true}`` for every account the catalogue plans to be taken down; see
``market``).
"""

from __future__ import annotations

import asyncio
import pkgutil
import re
import threading
from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import TYPE_CHECKING, Self

from aiohttp import web

import crawler.replica
from crawler.replica import faults, images, listing_pages, planted
from crawler.replica.common import CATALOGUE, MARKET
from crawler.replica.market import Market
from crawler.replica.networks import seller_world

if TYPE_CHECKING:
    from types import TracebackType

Handler = Callable[[web.Request, str], Awaitable[web.Response]]


def platform_hosts() -> dict[str, Handler]:
    """Every host the replica serves, mapped to the handler of the module imitating it.

    A platform module is any module of ``crawler.replica`` with ``HOSTS`` (the real host
    names) and ``async def handle(request, path) -> web.Response``.
    """
    hosts: dict[str, Handler] = {}
    for info in pkgutil.iter_modules(crawler.replica.__path__):
        module = import_module(f"crawler.replica.{info.name}")
        if hasattr(module, "HOSTS") and hasattr(module, "handle"):
            hosts.update(dict.fromkeys(module.HOSTS, module.handle))
    return hosts


PLATFORM_HOSTS = platform_hosts()


_IMAGE = re.compile(r"\.(?:jpe?g|png|webp|gif)$|~tplv-", re.IGNORECASE)


async def _route(request: web.Request) -> web.StreamResponse:
    host = request.match_info["host"]
    if request.app[LATENCY]:
        await asyncio.sleep(request.app[LATENCY])
    fault = faults.take(request.app, host, request.path)
    if fault is not None:
        return await faults.inject(fault, request, lambda: _answer(request, host))
    if (seeded := await planted.find(request, host)) is not None:
        return planted.answer(seeded)
    return await _answer(request, host)


async def _answer(request: web.Request, host: str) -> web.Response:
    path = "/" + request.match_info["path"]
    if request.method == "GET" and listing_pages.is_listing_page(host, path):
        return listing_pages.listing_page(request, f"https://{host}{path}")
    handler = PLATFORM_HOSTS.get(host)
    if handler is None and (images.serves(host) or _IMAGE.search(request.path)):
        # Product photos: the platform's CDN, or any other host's image path (a photo
        # named by its path), as real JPEG or PNG bytes.
        return await images.handle(request, request.app[MARKET])
    if handler is None:
        return web.json_response({"message": f"the replica does not serve {host}"}, status=404)
    return await handler(request, path)


async def _index(request: web.Request) -> web.Response:
    market = request.app[MARKET]
    return web.json_response({
        "replica": "thriftwatch",
        "hosts": sorted(PLATFORM_HOSTS),
        "image_hosts": sorted(images.IMAGE_HOSTS),
        "offers": len(request.app[CATALOGUE]),
        "taken_down": sorted(market.taken_down),
        "usage": "request http://THIS/HOST/PATH?QUERY for https://HOST/PATH?QUERY",
    })


async def _take_down(request: web.Request) -> web.Response:
    """``POST /_replica/takedown``: take an account down (see ``crawler.replica.market``)."""
    market = request.app[MARKET]
    try:
        body = await request.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("planted") is True:
        return web.json_response({"taken_down": market.take_down_planted()})
    account = body.get("account") if isinstance(body, dict) else None
    if not isinstance(account, str) or ":" not in account:
        return web.json_response({"message": 'need {"account": "platform:seller_id"} or '
                                             '{"planted": true}'}, status=400)
    return web.json_response({"taken_down": [account], "returning": market.take_down(account)})


# Seconds every answer waits, to imitate a real site's response time in benchmarks.
LATENCY = web.AppKey("latency", float)


def build_app(seed: int = 2026, size: int = 3000, latency: float = 0.0) -> web.Application:
    app = web.Application(client_max_size=1024**2)
    app[LATENCY] = latency
    world = seller_world(seed=seed, size=size)
    app[CATALOGUE] = world.catalogue
    app[MARKET] = Market(world)
    app[listing_pages.STATE_KEY] = {}
    app[faults.FAULTS_KEY] = {}
    app[planted.PLANTED_KEY] = []
    app.router.add_get("/", _index)
    app.router.add_post("/_replica/listing-state", listing_pages.set_state)
    app.router.add_post("/_replica/fault", faults.set_fault)
    app.router.add_post("/_replica/plant", planted.plant)
    app.router.add_post("/_replica/takedown", _take_down)
    app.router.add_route("*", "/{host}/{path:.*}", _route)
    return app


def serve_forever(  # noqa: PLR0917 - crawler/commands/replica.py passes them all positionally
    port: int, host: str = "127.0.0.1", seed: int = 2026, size: int = 3000,
    fault_specs: tuple[str, ...] = (), latency: float = 0.0,
) -> None:
    """Run the replica in the foreground (``thriftwatch replica``) until interrupted."""
    app = build_app(seed, size, latency)
    app[faults.FAULTS_KEY].update(faults.parse_fault(spec) for spec in fault_specs)
    web.run_app(app, host=host, port=port, print=None)


class ReplicaServer:
    """The replica on a background thread, for the demo, tests and benchmarks.

    ``with ReplicaServer() as replica: ... replica.url`` — port 0 picks a free port.
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", seed: int = 2026,
                 size: int = 3000, latency: float = 0.0):
        self.host, self.port, self.seed, self.size = host, port, seed, size
        self.latency = latency
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name="thriftwatch-replica")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(build_app(self.seed, self.size, self.latency),
                                     access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def set_listing_state(self, url: str, state: str) -> None:
        """Mark a listing page "removed" (taken down), "blocked" or "live" again."""
        if state not in listing_pages.STATES:
            raise ValueError(f"state must be one of {listing_pages.STATES}, not {state!r}")
        self._runner.app[listing_pages.STATE_KEY][listing_pages.listing_key(url)] = state

    def take_down(self, account: str) -> list[str]:
        """Take account ``"platform:seller_id"`` down: its listings answer as removed and
        leave search; returns the planted returning accounts that now list."""
        return self._runner.app[MARKET].take_down(account)

    def take_down_planted(self) -> list[str]:
        """Take down every account the catalogue plans to be taken down
        (``networks.taken_down_accounts``), so their returning accounts list."""
        return self._runner.app[MARKET].take_down_planted()

    def set_fault(self, host: str, kind: str, count: int = 1) -> None:
        """Make the next ``count`` requests to ``host`` fail as ``kind`` (see replica.faults)."""
        name, plan = faults.parse_fault(f"{host}={kind}:{count}")
        self._runner.app[faults.FAULTS_KEY][name] = plan

    def plant(self, host: str, match: str, body: str, status: int = 200,
              content_type: str = "application/json") -> None:
        """Answer requests to ``host`` holding ``match`` with ``body`` (see replica.planted)."""
        self._runner.app[planted.PLANTED_KEY].append(
            planted.Planted(host, match, body, status, content_type))

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
