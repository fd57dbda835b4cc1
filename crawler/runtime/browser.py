"""Rendered pages: what a page does in Chromium, replica routing inside the browser, and
collecting a page's data fetches.

All of it works through scrapy-playwright hooks, so the spiders stay declarative:
``playwright_page_init_callback`` (run once the page exists, before navigation) and
``PageMethod`` callables (run after navigation, before the page's HTML is taken).
:class:`RenderMiddleware` turns a spider's ``meta[Meta.RENDER]`` into those hooks.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from scrapy import Request
from scrapy_playwright.page import PageMethod

from crawler.config import Config
from crawler.keys import Meta
from crawler.runtime.replica_mode import replica_url
from crawler.runtime.url_policy import address_refusal, ip_literal, refusal

if TYPE_CHECKING:
    from playwright.async_api import Page, Route, WebSocketRoute
    from playwright.async_api import Request as BrowserRequest
    from playwright.async_api import Response as BrowserResponse
    from scrapy.crawler import Crawler

PageInit = Callable[["Page", Request], Awaitable[Any]]
INIT_CALLBACK_META_KEY = "playwright_page_init_callback"  # scrapy-playwright's own key
# Names of the page methods whose results the capture middleware stores.
DATA_METHOD = "thriftwatch_data"
SCREENSHOT_METHOD = "screenshot"

# Chromium flags for running headless as root with no traffic of its own (no updates,
# sync, metrics or safe-browsing look-ups: only the pages we ask for). WebRTC may not send
# UDP of its own (page routing cannot see it, so it could reach any address).
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--disable-domain-reliability", "--metrics-recording-only",
    "--safebrowsing-disable-auto-update", "--mute-audio", "--hide-scrollbars",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
)
# What a rendered page may load besides http(s): inline data only.
PAGE_SCHEMES = frozenset({"http", "https", "data"})
# Browser context options: no service workers (their fetches bypass page routing).
CONTEXT_KWARGS = {"service_workers": "block"}


def launch_options(executable_path: str) -> dict[str, Any]:
    """``PLAYWRIGHT_LAUNCH_OPTIONS`` for Debian's Chromium."""
    return {"executable_path": executable_path, "headless": True, "args": list(CHROMIUM_ARGS)}


def prepare_rendered_request(request: Request, replica: str | None,
                             cookies: list[dict[str, Any]] | None = None,
                             timeout_ms: float = 30_000) -> None:
    """Turn ``meta[Meta.RENDER]`` into scrapy-playwright meta on ``request``.

    The page waits for the spider's selector, is scrolled for more results if the spider
    asks (``"scroll": {"times", "feed"}``), hands over the data fetches it watched, and is
    screenshotted in full; scrapy-playwright closes it after (no leaked pages). Session
    ``cookies`` go into the browser context only: never into meta, logs or evidence.
    """
    render = request.meta[Meta.RENDER]
    request.meta["playwright"] = True
    request.meta["playwright_context_kwargs"] = {
        **(request.meta.get("playwright_context_kwargs") or {}), **CONTEXT_KWARGS}
    request.meta.pop(INIT_CALLBACK_META_KEY, None)
    if cookies:
        async def add_cookies(page: Page, _: Request) -> None:
            await page.context.add_cookies(cookies)

        chain_page_init(request, add_cookies)
    methods = [PageMethod("wait_for_selector", render["wait_for"], state="attached",
                          timeout=timeout_ms)]
    scroll = render.get("scroll")
    if scroll and scroll["times"] > 0:
        methods.append(PageMethod(scroll_for_more, scroll["times"], scroll["feed"],
                                  render["data_url"]))
    if render.get("data_url"):
        collector = DataCollector(re.compile(render["data_url"]))
        chain_page_init(request, collector.watch)
        methods.append(PageMethod(collector.thriftwatch_data))
    methods.append(PageMethod(SCREENSHOT_METHOD, full_page=True, type="png"))
    request.meta["playwright_page_methods"] = methods
    chain_page_init(request, replica_router(replica) if replica is not None else public_router())


SCROLL_WAIT_MS = 10_000  # how long one scroll may take to bring its data page and draw it


async def scroll_for_more(page: Page, times: int, feed: str, data_url: str) -> int:
    """Scroll to the bottom up to ``times`` times while ``feed`` is on the page, each time
    waiting for the page to fetch its next data page and draw it (the page grows).

    Stops early when a scroll brings no fetch: the end of the results. Returns the number
    of data pages the scrolling brought.
    """
    from playwright.async_api import TimeoutError as PlaywrightTimeoutError

    pattern = re.compile(data_url)
    loaded = 0
    for _ in range(times):
        if await page.query_selector(feed) is None:
            break
        height = await page.evaluate("document.documentElement.scrollHeight")
        try:
            async with page.expect_response(lambda r: bool(pattern.search(r.url)),
                                            timeout=SCROLL_WAIT_MS):
                await page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
            await page.wait_for_function("h => document.documentElement.scrollHeight > h",
                                         arg=height, timeout=SCROLL_WAIT_MS)
        except PlaywrightTimeoutError:
            break
        loaded += 1
    return loaded


def page_method_result(meta: dict[str, Any], method: Any) -> Any:
    """The result of the page method ``method`` (a name or a callable) run for a request."""
    for page_method in meta.get("playwright_page_methods") or ():
        if page_method.method == method or getattr(page_method.method, "__name__", None) == method:
            return page_method.result
    return None


def chain_page_init(request: Request, callback: PageInit) -> None:
    """Run ``callback`` as well as any page-init callback the request already has."""
    previous = request.meta.get(INIT_CALLBACK_META_KEY)

    async def both(page: Page, req: Request) -> None:
        if previous is not None:
            await previous(page, req)
        await callback(page, req)

    request.meta[INIT_CALLBACK_META_KEY] = both


def _scheme(url: str) -> str:
    return url.partition(":")[0].lower()


async def _close_socket(socket_route: WebSocketRoute) -> None:
    await socket_route.close(code=1008, reason="blocked by thriftwatch")


def replica_router(replica: str) -> PageInit:
    """A page-init callback that serves every browser request of the page from the replica.

    Routes registered later win in Playwright, so this handler answers before
    scrapy-playwright's own one; it repeats that handler's one job for the navigation
    request (send the Scrapy request's method and body) and fetches from the replica.
    The page keeps its real URL. Nothing else leaves the page: a scheme other than http(s)
    or data: is aborted, so is a real URL the fetch policy refuses (a non-public IP
    literal, a local name) and a request for the replica's own address, and every
    WebSocket is closed (Chromium resolves only loopback in replica mode, where they would
    otherwise reach this machine's services).
    """

    async def install(page: Page, request: Request) -> None:
        async def route(route: Route, browser_request: BrowserRequest) -> None:
            url = browser_request.url
            scheme = _scheme(url)
            if scheme == "data":
                await route.continue_()
                return
            if scheme not in PAGE_SCHEMES or url.startswith(replica) or refusal(url):
                await route.abort("blockedbyclient")
                return
            navigation = browser_request.is_navigation_request() and url.rstrip("/") == \
                request.url.rstrip("/")
            fetched = await route.fetch(
                url=replica_url(url, replica),
                method=request.method if navigation else browser_request.method,
                post_data=request.body if navigation and request.body else
                browser_request.post_data_buffer,
                max_redirects=0,
            )
            await route.fulfill(response=fetched)

        await page.route("**", route)
        await page.route_web_socket(re.compile(".*"), _close_socket)

    return install


class HostCheck:
    """Whether a rendered page may reach a URL outside replica mode: the fetch policy
    (:func:`~crawler.runtime.url_policy.refusal`) on the URL, then every address its host
    resolves to, looked up off the event loop and remembered for the page's life."""

    def __init__(self) -> None:
        self._hosts: dict[str, str | None] = {}

    async def refusal(self, url: str) -> str | None:
        if _scheme(url) == "data":
            return None
        if (why := refusal(url)) is not None:
            return why
        host = urlsplit(url).hostname or ""
        if ip_literal(host) is not None:
            return None
        if host not in self._hosts:
            self._hosts[host] = await self._resolve(host)
        return self._hosts[host]

    @staticmethod
    async def _resolve(host: str) -> str | None:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, None,
                                                                 type=socket.SOCK_STREAM)
        except OSError:
            return None  # Chromium will not reach it either
        for *_, sockaddr in found:
            if (why := address_refusal(host, str(sockaddr[0]))) is not None:
                return why
        return None


def public_router() -> PageInit:
    """A page-init callback for rendered pages outside replica mode: requests and
    WebSockets to a scheme other than http(s) (or data:), to a non-public address, or to a
    name that resolves to one are aborted; the rest go on to scrapy-playwright's handler.

    Chromium resolves names again when it connects, so a name that changes its answer
    between the two look-ups is not caught here (see the README on rendered pages).
    """

    async def install(page: Page, request: Request) -> None:
        check = HostCheck()

        async def route(route: Route, browser_request: BrowserRequest) -> None:
            if await check.refusal(browser_request.url) is not None:
                await route.abort("blockedbyclient")
            else:
                await route.fallback()

        async def web_socket(socket_route: WebSocketRoute) -> None:
            url = socket_route.url
            http_like = re.sub(r"^ws", "http", url, flags=re.IGNORECASE)
            if _scheme(url) not in ("ws", "wss") or await check.refusal(http_like) is not None:
                await _close_socket(socket_route)
            else:
                socket_route.connect_to_server()

        await page.route("**", route)
        await page.route_web_socket(re.compile(".*"), web_socket)

    return install


@dataclass(frozen=True)
class DataResponse:
    """A JSON (or other) response the page's own scripts fetched."""

    url: str
    method: str
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class DataCollector:
    """Keeps the bodies of the page's fetches whose URL matches ``pattern``.

    ``watch`` is a page-init callback; ``thriftwatch_data`` a PageMethod callable whose result
    (a list of :class:`DataResponse`) reaches the spider in ``playwright_page_methods``.
    """

    pattern: re.Pattern[str]
    _reads: list[asyncio.Task[DataResponse | None]] = field(default_factory=list)

    async def watch(self, page: Page, request: Request) -> None:
        page.on("response", self._on_response)

    def _on_response(self, response: BrowserResponse) -> None:
        if self.pattern.search(response.url):
            self._reads.append(asyncio.ensure_future(self._read(response)))

    @staticmethod
    async def _read(response: BrowserResponse) -> DataResponse | None:
        try:
            body = await response.body()
        except PlaywrightError:  # the page went away mid-read: there is nothing to keep
            return None
        return DataResponse(response.url, response.request.method, response.status,
                            await response.all_headers(), body)

    async def thriftwatch_data(self, page: Page) -> list[DataResponse]:
        done = await asyncio.gather(*self._reads)
        return [data for data in done if data is not None]


class RenderMiddleware:
    """Downloader middleware: hand a request a spider marked ``meta[Meta.RENDER]`` to
    Chromium (scrapy-playwright), routed to the replica in replica mode.

    It runs last before the download (order 950), on every attempt, so a retried request
    is prepared afresh.
    """

    def __init__(self, crawler: Crawler, replica: str | None):
        self.crawler = crawler
        self.replica = replica

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderMiddleware:
        return cls(crawler, Config.from_crawler(crawler).replica)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if Meta.RENDER in request.meta:
            cookies = getattr(self.crawler.spider, "session_cookies", None)
            prepare_rendered_request(request, self.replica, cookies)
