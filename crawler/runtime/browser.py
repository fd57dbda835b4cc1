"""Rendered pages: what a page does in Chromium, replica routing inside the browser,
collecting a page's data fetches, and keeping session cookies out of the evidence.

All of it works through scrapy-playwright hooks, so the spiders stay declarative:
``playwright_page_init_callback`` (run once the page exists, before navigation) and
``PageMethod`` callables (run after navigation, before the page's HTML is taken).
:class:`RenderMiddleware` turns a spider's ``meta[Meta.RENDER]`` into those hooks.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import socket
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote, unquote, urlsplit

from lxml import etree
from parsel import Selector
from playwright.async_api import Error as PlaywrightError
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError
from scrapy_playwright.page import PageMethod

from crawler.config import Config
from crawler.keys import Meta
from crawler.runtime.replica_mode import replica_url
from crawler.runtime.url_policy import address_refusal, ip_literal, refusal

if TYPE_CHECKING:
    from collections.abc import Iterable

    from playwright.async_api import Page, Route, WebSocketRoute
    from playwright.async_api import Request as BrowserRequest
    from playwright.async_api import Response as BrowserResponse
    from scrapy.crawler import Crawler
    from scrapy.http import Response

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
# Set on a rendered request whose page held a session cookie's value: what was replaced
# and whether the screenshot was withheld (cookie names only, never values). The spider
# records it as a fault of this kind, with the page's capture.
REDACTED_META = "thriftwatch_session_redacted"
REDACTED_FAULT = "session_redacted"
SECRETS_META = "thriftwatch_session_secrets"


def launch_options(executable_path: str) -> dict[str, Any]:
    """``PLAYWRIGHT_LAUNCH_OPTIONS`` for Debian's Chromium."""
    return {"executable_path": executable_path, "headless": True, "args": list(CHROMIUM_ARGS)}


def prepare_rendered_request(request: Request, replica: str | None,
                             cookies: list[dict[str, Any]] | None = None,
                             timeout_ms: float = 30_000,
                             domains: Iterable[str] | None = None) -> None:
    """Turn ``meta[Meta.RENDER]`` into scrapy-playwright meta on ``request``.

    The page waits for the spider's selector, is scrolled for more results if the spider
    asks (``"scroll": {"times", "feed"}``), hands over the data fetches it watched, and is
    screenshotted in full; scrapy-playwright closes it after (no leaked pages). Session
    ``cookies`` go into the browser context only, HttpOnly (no script of the page can read
    them) and Secure; their values are watched for in the page (:class:`SessionSecrets`)
    and never reach meta as text, logs or evidence. Outside replica mode, the page's
    requests may go only to ``domains`` (the platform's hosts and CDNs) when given.
    """
    render = request.meta[Meta.RENDER]
    request.meta["playwright"] = True
    request.meta["playwright_context_kwargs"] = {
        **(request.meta.get("playwright_context_kwargs") or {}), **CONTEXT_KWARGS}
    request.meta.pop(INIT_CALLBACK_META_KEY, None)
    request.meta.pop(SECRETS_META, None)
    request.meta.pop(REDACTED_META, None)
    secrets = None
    if cookies:
        hardened = harden_cookies(cookies)
        secrets = SessionSecrets(hardened)
        request.meta[SECRETS_META] = secrets

        async def add_cookies(page: Page, _: Request) -> None:
            await page.context.add_cookies(hardened)

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
    # With session cookies, the screenshot is taken between two looks at the page for their
    # values (SessionSecrets.screenshot); its name stays "screenshot" for the capture.
    methods.append(PageMethod(secrets.screenshot if secrets else SCREENSHOT_METHOD,
                              full_page=True, type="png"))
    request.meta["playwright_page_methods"] = methods
    chain_page_init(request, replica_router(replica) if replica is not None
                    else public_router(domains))


# -- session cookies: never in the evidence ---------------------------------------------------

MIN_SECRET = 6  # shorter values ("1", "en") are no secret and cannot be told from page text
MIN_SECRET_PART = 8  # parts of a value ("USERID:random:sig"), as pages may show them apart


def harden_cookies(cookies: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The session ``cookies`` as the browser gets them: every one HttpOnly, so no script of
    a page (a hostile one included) can read its value from ``document.cookie``, and Secure,
    so it goes only over https (all the platforms are https; a cookie given with an
    ``http:`` url keeps its own Secure flag)."""
    hardened = []
    for cookie in cookies:
        url = cookie.get("url")
        plain_http = isinstance(url, str) and url.lower().startswith("http:")
        hardened.append({**cookie, "httpOnly": True,
                         "secure": bool(cookie.get("secure")) if plain_http else True})
    return hardened


def _alternation(forms: Iterable[bytes]) -> re.Pattern[bytes] | None:
    """One pattern for all ``forms``, longest first (a value is replaced whole before any
    part of it); a form of digits only never matches inside a longer number (a user id in a
    post's id)."""
    ordered = sorted(forms, key=lambda form: (-len(form), form))
    if not ordered:
        return None
    return re.compile(b"|".join(rb"(?<![0-9])" + re.escape(form) + rb"(?![0-9])"
                                if form.isdigit() else re.escape(form) for form in ordered))


def _flat(text: str) -> str:
    """``text`` without whitespace and invisible format characters: how a value split
    across lines, tags or zero-width characters still reads."""
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


class SessionSecrets:
    """The values of a rendered page's session cookies, and whether the page showed them.

    A page's server may echo a session value into the page (Instagram puts its CSRF token
    in the page's data), and a hostile page may try to draw one. Every form of each value
    (as stored, URL-decoded, HTML- or JSON-escaped, and its long ``:``-separated parts) is
    replaced in what is stored (:meth:`scrub`); a page that showed one where it could be
    drawn (:meth:`shown`: anywhere but in a script's text), around the screenshot or in the
    final page, has its screenshot withheld. Never pickled (a JOBDIR would write it to
    disk) and never printed.
    """

    def __init__(self, cookies: Iterable[dict[str, Any]]):
        forms: dict[bytes, str] = {}
        flat: dict[str, str] = {}
        named = [(re.sub(r"[^A-Za-z0-9_.-]", "_", str(cookie.get("name", "")))[:40],
                  str(cookie.get("value", ""))) for cookie in cookies]
        # Whole values first: a value that is also part of another (the user id in the
        # session id) is named after its own cookie.
        for whole in (True, False):
            for name, value in named:
                for text in self._values(value, whole):
                    flat.setdefault(_flat(text), name)
                    for form in self._encodings(text):
                        forms.setdefault(form.encode("utf-8", "surrogatepass"), name)
        self._names = forms
        self._forms = _alternation(forms)
        self._flat_names = {text.encode(): name for text, name in flat.items() if text}
        self._flat = _alternation(self._flat_names)
        self.shown_names: set[str] = set()

    @staticmethod
    def _values(value: str, whole: bool) -> set[str]:
        """The value as stored and URL-decoded (``whole``), or its long parts."""
        decoded = unquote(value)
        if whole:
            values = {value, decoded}
        else:
            values = {part for part in re.split(r"[:|]", decoded)
                      if len(part) >= MIN_SECRET_PART}
        return {v for v in values if len(v) >= MIN_SECRET}

    @staticmethod
    def _encodings(value: str) -> set[str]:
        in_json = {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
        in_json |= {text.replace("/", "\\/") for text in in_json}  # "<\/script>"-safe JSON
        in_json |= {text.replace("<", "\\u003c").replace(">", "\\u003e")
                    .replace("&", "\\u0026") for text in in_json}  # HTML-safe JSON
        return {value, html.escape(value), html.escape(value, quote=False),
                quote(value, safe=""), quote(value), *in_json}

    def __bool__(self) -> bool:
        return self._forms is not None

    def __repr__(self) -> str:
        return f"<SessionSecrets: {len(self._names)} forms>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("session cookie values are never written to disk")

    def scrub(self, data: bytes) -> tuple[bytes, set[str]]:
        """``data`` with every form of every value replaced, and the cookies found."""
        if self._forms is None:
            return data, set()
        found = set()

        def redacted(match: re.Match[bytes]) -> bytes:
            name = self._names[match[0]]
            found.add(name)
            return f"[redacted: session cookie {name}]".encode()

        return self._forms.sub(redacted, data), found

    def hidden(self, data: bytes) -> set[str]:
        """The cookies whose value ``data`` still holds once markup, entities, whitespace
        and invisible characters are taken out: spelled out in pieces."""
        if self._flat is None:
            return set()
        text = html.unescape(re.sub(r"<[^>]*>", "", data.decode("utf-8", "replace")))
        flat = _flat(text).encode("utf-8", "surrogatepass")
        return {self._flat_names[match[0]] for match in self._flat.finditer(flat)}

    def shown(self, page_html: str | bytes) -> set[str]:
        """The cookies whose value the page holds where it could be drawn: its text,
        styles and attributes (anything but the text of its scripts)."""
        text = page_html if isinstance(page_html, str) else page_html.decode("utf-8", "replace")
        root = Selector(text=text or "<html></html>", type="html").root
        etree.strip_elements(root, "script", etree.Comment, with_tail=False)
        drawable = etree.tostring(root, encoding="utf-8", method="html")
        return self.scrub(drawable)[1] | self.hidden(drawable)

    async def screenshot(self, page: Page, **kwargs: Any) -> bytes:
        """The page method that takes the screenshot, looking for the values in the page
        just before and just after."""
        self.shown_names |= self.shown(await page.content())
        png = await page.screenshot(**kwargs)
        self.shown_names |= self.shown(await page.content())
        return png


def _notice(names: Iterable[str]) -> str:
    return f"session cookie value(s) of {', '.join(sorted(names))}"


def redact_rendered(request: Request, response: Response) -> Response:
    """A rendered response (and its page's data fetches) with every session cookie value
    replaced. When the page showed one where it could be drawn, its screenshot is dropped;
    a page that spells a value out in pieces is kept as a notice only. What was done is
    said in ``meta[REDACTED_META]`` (cookie names only)."""
    secrets = request.meta.get(SECRETS_META)
    if not isinstance(secrets, SessionSecrets) or not secrets:
        return response
    shown = secrets.shown_names | secrets.shown(response.body)
    body, found = secrets.scrub(response.body)
    url, in_url = secrets.scrub(response.url.encode())
    data_found: set[str] = set()
    for method in request.meta.get("playwright_page_methods") or ():
        if _method_name(method) == DATA_METHOD and method.result:
            redacted = [_redact_data(secrets, data) for data in method.result]
            method.result = [data for data, _ in redacted]
            data_found |= {name for _, names in redacted for name in names}
    said = []
    if hidden := secrets.hidden(body):
        body = (f"<html><body><p>thriftwatch: this rendered page is not kept: it spelled out "
                f"{_notice(hidden)} in pieces that cannot be redacted.</p></body></html>"
                ).encode()
        said.append(f"the page spelled out {_notice(hidden)}: only a notice is stored")
        shown |= hidden
    if found | in_url:
        said.append(f"{_notice(found | in_url)} replaced in the stored page")
    if data_found:
        said.append(f"{_notice(data_found)} replaced in the page's stored data")
    if shown:
        for method in request.meta.get("playwright_page_methods") or ():
            if _method_name(method) == SCREENSHOT_METHOD:
                method.result = None
        said.append(f"the page showed {_notice(shown)}: its screenshot is not stored")
    if said:
        request.meta[REDACTED_META] = "; ".join(said)
    if body == response.body and not in_url:
        return response
    return response.replace(body=body, url=_url(url) if in_url else response.url)


def refuse_oversize(request: Request, response: Response, maxsize: int) -> None:
    """Raise :class:`DownloadCancelledError` when a rendered page, or a data fetch of its
    own, is larger than the request's ``download_maxsize`` (``DOWNLOAD_MAXSIZE``), as
    Scrapy cancels a plain download over it: scrapy-playwright reads every byte."""
    cap = request.meta.get("download_maxsize", maxsize)
    if not cap:
        return
    sizes = [len(response.body)] + [
        len(data.body) for method in request.meta.get("playwright_page_methods") or ()
        if _method_name(method) == DATA_METHOD and method.result for data in method.result]
    if max(sizes) > cap:
        raise DownloadCancelledError(f"Cancelling the rendered page {response.url}: "
                                     f"{max(sizes)} bytes, larger than download max size "
                                     f"({cap})")


def _method_name(method: PageMethod) -> str:
    return method.method if isinstance(method.method, str) else getattr(method.method,
                                                                         "__name__", "")


def _redact_data(secrets: SessionSecrets, data: DataResponse) -> tuple[DataResponse, set[str]]:
    body, found = secrets.scrub(data.body)
    if hidden := secrets.hidden(body):
        body = b'{"thriftwatch": "not kept: it spelled out a session cookie value"}'
        found |= hidden
    url, in_url = secrets.scrub(data.url.encode())
    return replace(data, body=body, url=_url(url) if in_url else data.url), found | in_url


def _url(scrubbed: bytes) -> str:
    """A URL a value was replaced in, still a URL (the replacement's spaces escaped)."""
    return quote(scrubbed.decode("utf-8", "replace"), safe=":/?#&=%;@+,!$'()*~")


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
    (:func:`~crawler.runtime.url_policy.refusal`) on the URL, confined to ``domains`` (and
    their subdomains) when given, then every address its host resolves to, looked up off
    the event loop and remembered for the page's life."""

    def __init__(self, domains: Iterable[str] | None = None) -> None:
        self._hosts: dict[str, str | None] = {}
        self.domains = tuple(domains or ())

    async def refusal(self, url: str) -> str | None:
        if _scheme(url) == "data":
            return None
        if (why := refusal(url, self.domains)) is not None:
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


def public_router(domains: Iterable[str] | None = None) -> PageInit:
    """A page-init callback for rendered pages outside replica mode: requests and
    WebSockets to a scheme other than http(s) (or data:), to a host outside ``domains``
    (when given: the platform's own hosts and CDNs, so a page cannot send what it holds to
    a third party), to a non-public address, or to a name that resolves to one are
    aborted; the rest go on to scrapy-playwright's handler.

    Chromium resolves names again when it connects, so a name that changes its answer
    between the two look-ups is not caught here (see the README on rendered pages).
    """

    async def install(page: Page, request: Request) -> None:
        check = HostCheck(domains)

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
    Chromium (scrapy-playwright), routed to the replica in replica mode, confined to the
    spider's ``page_domains()`` outside it.

    It runs last before the download (order 950), on every attempt, so a retried request
    is prepared afresh; and first on the rendered response, before the capture middleware
    stores it, so session cookie values are taken out first (:func:`redact_rendered`) and
    a page over the size cap is cancelled, never stored (:func:`refuse_oversize`).
    """

    def __init__(self, crawler: Crawler, replica: str | None):
        self.crawler = crawler
        self.replica = replica
        self.maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderMiddleware:
        return cls(crawler, Config.from_crawler(crawler).replica)

    def process_request(self, request: Request, spider: Any = None) -> None:
        if Meta.RENDER in request.meta:
            spider = self.crawler.spider
            cookies = getattr(spider, "session_cookies", None)
            page_domains = getattr(spider, "page_domains", None)
            prepare_rendered_request(request, self.replica, cookies,
                                     domains=page_domains() if callable(page_domains) else None)

    def process_response(self, request: Request, response: Response,
                         spider: Any = None) -> Response:
        if Meta.RENDER in request.meta and "playwright" in response.flags:
            refuse_oversize(request, response, self.maxsize)
            return redact_rendered(request, response)
        return response
