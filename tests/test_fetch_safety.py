"""What a crawl may fetch: only http(s) URLs on the platform's hosts and on public addresses,
whatever a seller stored as a listing URL, wherever a redirect points, whatever a name
resolves to; and what a rendered page may reach from inside Chromium.

The pure tests drive the policy, the fetch guard and the resolver directly; the crawl and
browser tests run them for real against servers on loopback that must receive nothing.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import threading
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import CannotResolveHostError
from scrapy.http import Response
from scrapy.resolver import dnscache
from scrapy.utils.test import get_crawler

from crawler.keys import FAULT_KINDS, page_fault
from crawler.runtime import resolver as resolver_module
from crawler.runtime.fetch_guard import FetchGuardMiddleware, RefusedAddressMiddleware
from crawler.runtime.process import project_settings
from crawler.runtime.resolver import PublicOnlyResolver, RefusedAddress
from crawler.runtime.url_policy import RefusedURL, ip_literal, refusal
from tests.helpers import REPO, run_command

REPO_PROFILE = REPO / "spiders" / "profiles" / "olx.toml"
REFUSED_URLS = [
    "file:///etc/hostname", "file://localhost/etc/hostname", "data:text/plain,hello",
    "ftp://ftp.example.com/x", "s3://bucket/key", "javascript:alert(1)", "gopher://x/",
    "http:///no-host", "https://", "//www.tokopedia.com/x",
    "http://127.0.0.1:8080/internal-admin", "http://127.1/", "http://2130706433/",
    "http://0x7f000001/", "http://0x7f.1/", "http://017700000001/", "http://0177.0.0.1/",
    "http://0/", "http://0.0.0.0/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/", "http://[0:0:0:0:0:ffff:a00:1]/", "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/", "http://[fe80::1%25eth0]/", "http://[fc00::1]/",
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://172.16.0.1/",
    "http://192.168.1.1/", "http://100.64.0.1/", "http://198.18.0.1/", "http://224.0.0.1/",
    "http://255.255.255.255/", "http://192.0.2.1/", "http://localhost/",
    "http://LOCALHOST./", "http://admin.localhost/", "http://metadata.google.internal/",
    "http://printer.local/", "https://www.tokopedia.com:99999/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_non_http_schemes_hostless_and_non_public_urls_are_refused(url):
    assert refusal(url) is not None


@pytest.mark.parametrize("url", [
    "https://www.tokopedia.com/toko/kaos-1", "http://shopee.co.id/product/1/2",
    "https://8.8.8.8/", "https://[2001:4860:4860::8888]/", "http://0x08080808/",
])
def test_public_http_urls_pass(url):
    assert refusal(url) is None


@pytest.mark.parametrize(("url", "expected"), [
    ("https://gql.tokopedia.com/graphql", None),
    ("https://tokopedia.com/x", None),
    ("https://evil.example/x", "not on"),
    ("https://www.tokopedia.com.evil.example/x", "not on"),
    ("https://faketokopedia.com/x", "not on"),
    ("https://www.tokopedia.com@evil.example/x", "not on"),  # userinfo, then the real host
])
def test_a_crawl_is_confined_to_its_domains(url, expected):
    why = refusal(url, ["tokopedia.com"])
    assert (why is None) if expected is None else (expected in why)


@pytest.mark.parametrize(("host", "address"), [
    ("2130706433", "127.0.0.1"), ("0x7f.0.0.1", "127.0.0.1"), ("0177.1", "127.0.0.1"),
    ("[::1]", "::1"), ("10.1", "10.0.0.1"), ("www.example.com", None), ("deadbeef", None),
])
def test_ip_literals_in_every_form_a_resolver_accepts(host, address):
    found = ip_literal(host)
    assert (str(found) if found else None) == address


def test_only_http_download_handlers_and_the_guards_are_configured():
    settings = project_settings()
    handlers = settings.getdict("DOWNLOAD_HANDLERS")
    assert all(handlers[scheme] is None for scheme in ("file", "s3", "ftp", "data"))
    assert settings["TWISTED_DNS_RESOLVER"] == "crawler.runtime.resolver.PublicOnlyResolver"
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    guard = middlewares["crawler.runtime.fetch_guard.FetchGuardMiddleware"]
    refused = middlewares["crawler.runtime.fetch_guard.RefusedAddressMiddleware"]
    # First to see a request (before robots.txt, offsite, capture); first to see a failed
    # download (before the retry middleware at 550 could retry it).
    assert guard < 10
    assert refused > 550
    assert "refused_url" in FAULT_KINDS


# -- the fetch guard and the resolver, driven directly --------------------------------------

class FakeCrawler:
    """What the guard uses of a crawler: its spider, stats and signals (faults kept)."""

    def __init__(self, allowed_domains=None):
        self.spider = SimpleNamespace(name="recheck", allowed_domains=allowed_domains)
        self.values: dict[str, int] = {}
        self.stats = SimpleNamespace(
            inc_value=lambda key, n=1: self.values.__setitem__(key, self.values.get(key, 0) + n))
        self.faults: list[tuple[str, str, str]] = []

        def send(signal, **kwargs):
            assert signal is page_fault
            self.faults.append((kwargs["request"].url, kwargs["kind"], kwargs["detail"]))

        self.signals = SimpleNamespace(send_catch_log=send)


@pytest.mark.parametrize("url", ["file:///etc/hostname", "http://127.0.0.1:9/admin",
                                 "http://2130706433/", "https://evil.example/"])
def test_the_guard_refuses_and_records_before_any_download(url):
    crawler = FakeCrawler(["tokopedia.com"])
    guard = FetchGuardMiddleware(crawler)
    with pytest.raises(RefusedURL):
        guard.process_request(Request(url, dont_filter=True))  # dont_filter changes nothing
    [(recorded, kind, _)] = crawler.faults
    assert (recorded, kind) == (url, "refused_url")
    assert crawler.values == {"thriftwatch/faults/refused_url/recheck": 1}


def test_the_guard_lets_the_platform_through():
    crawler = FakeCrawler(["tokopedia.com"])
    assert FetchGuardMiddleware(crawler).process_request(
        Request("https://www.tokopedia.com/toko/kaos-1")) is None
    assert crawler.faults == []


@pytest.mark.parametrize("target", ["http://127.0.0.1:8080/internal-admin",
                                    "https://offsite.example.com/landing",
                                    "http://[::1]/", "file:///etc/hostname"])
def test_every_redirect_is_checked_again(target):
    """Scrapy's redirect middleware answers a 3xx with a new request; that request is what
    the guard sees next (the crawl tests show the engine really sends it through)."""
    crawler = FakeCrawler(["tokopedia.com"])
    original = Request("https://www.tokopedia.com/toko/kaos-1", dont_filter=True)
    response = Response(original.url, status=302, headers={"Location": target},
                        request=original)
    redirect = RedirectMiddleware(project_settings())
    redirect.crawler = get_crawler(settings_dict={})
    followed = redirect.process_response(original, response)
    if not isinstance(followed, Request):  # Scrapy itself refused to follow (file://)
        assert followed is response
        return
    assert followed.url.rstrip("/") == target.rstrip("/")
    with pytest.raises(RefusedURL):
        FetchGuardMiddleware(crawler).process_request(followed)
    assert crawler.faults[0][0] == followed.url


def _resolve(resolver: PublicOnlyResolver, name: str):
    """The resolver's answer for a name already in Scrapy's DNS cache (no lookup, no
    reactor): the address, or the failure."""
    result = []
    resolver.getHostByName(name).addBoth(result.append)
    return result[0]


@pytest.fixture
def resolver():
    resolver = PublicOnlyResolver(SimpleNamespace(), cache_size=100, timeout=1)
    dnscache["looks-public.example"] = "127.0.0.1"
    dnscache["metadata.example"] = "169.254.169.254"
    dnscache["private.example"] = "10.0.0.7"
    dnscache["public.example"] = "93.184.216.34"
    yield resolver
    for name in ("looks-public.example", "metadata.example", "private.example",
                 "public.example"):
        dnscache.pop(name, None)


@pytest.mark.parametrize("name", ["looks-public.example", "metadata.example",
                                  "private.example"])
def test_a_name_resolving_to_a_non_public_address_is_refused(resolver, name):
    failure = _resolve(resolver, name)
    assert failure.check(RefusedAddress)
    assert "non-public" in resolver_module.refused_name(name)


def test_public_names_resolve_and_the_replica_host_may_be_loopback(resolver):
    assert _resolve(resolver, "public.example") == "93.184.216.34"
    resolver.allowed_hosts = ("looks-public.example",)
    assert _resolve(resolver, "looks-public.example") == "127.0.0.1"


def test_a_refused_lookup_becomes_a_recorded_refusal_not_a_retry(resolver):
    _resolve(resolver, "private.example")
    crawler = FakeCrawler()
    request = Request("https://private.example/x")
    with pytest.raises(RefusedURL):
        RefusedAddressMiddleware(crawler).process_exception(
            request, CannotResolveHostError("no results for hostname lookup"))
    assert crawler.faults[0][:2] == ("https://private.example/x", "refused_url")
    # An ordinary DNS failure stays one (and is retried as before).
    assert RefusedAddressMiddleware(crawler).process_exception(
        Request("https://unknown.example/"), CannotResolveHostError("no results")) is None


# -- crawls: a name that resolves to loopback, outside replica mode --------------------------

class CountingServer:
    """An HTTP server on loopback that answers 200 and counts every connection."""

    def __init__(self) -> None:
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                 b"Content-Length: 13\r\nConnection: close\r\n\r\ninternal-only")
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def internal_server():
    server = CountingServer()
    yield server
    server.close()


def _loopback_name() -> str:
    """A name (not an IP literal, not "localhost") that resolves to a loopback or private
    address on this machine: its host name, usually."""
    name = socket.gethostname()
    try:
        address = socket.gethostbyname(name)
    except OSError:
        pytest.skip(f"this machine's name {name!r} does not resolve")
    if ip_literal(name) is not None or refusal(f"http://{name}/") is not None:
        pytest.skip(f"{name!r} is refused by name already")
    from crawler.runtime.url_policy import address_refusal
    if address_refusal(name, address) is None:
        pytest.skip(f"{name!r} resolves to a public address")
    return name


@pytest.mark.crawl
def test_a_name_that_resolves_to_loopback_is_refused_and_recorded(internal_server, tmp_path):
    name = _loopback_name()
    profile = (REPO_PROFILE.read_text("utf-8")
               .replace('allowed_domains = ["olx.co.id"]', f'allowed_domains = ["{name}"]')
               .replace("https://www.olx.co.id/items/",
                        f"http://{name}:{internal_server.port}/items/")
               .replace('name = "olx"', 'name = "internal"'))
    path = tmp_path / "internal.toml"
    path.write_text(profile, "utf-8")
    db = tmp_path / "evidence.db"
    result = run_command("scrapy", "crawl", "profile", "-a", f"profile={path}",
                         "-a", "keywords=balpres", "-s", f"THRIFTWATCH_DB={db}",
                         "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0")
    assert result.returncode == 0, result.stderr[-3000:]
    assert internal_server.connections == 0
    with sqlite3.connect(db) as conn:
        faults = conn.execute("SELECT url, kind, detail FROM faults WHERE kind = 'refused_url'"
                              ).fetchall()
        captures = conn.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
    # One fault: the search page (its robots.txt is refused for the same reason, unrecorded).
    [(url, _, detail)] = faults
    assert url == f"http://{name}:{internal_server.port}/items/q-balpres?page=1"
    assert detail.startswith(f"{name} resolves to a non-public address")
    assert captures == 0
    assert "retry/count" not in result.stderr  # refused, not retried as a DNS failure


# -- rendered pages: what a page may reach from inside Chromium ------------------------------

HOSTILE_PAGE = """<!DOCTYPE html><html><head><title>hostile</title></head><body>
<div id="ready">ready</div>
<img src="http://127.0.0.1:{port}/img.png"><img src="http://[::1]:{port}/v6.png">
<iframe src="ftp://127.0.0.1:{port}/"></iframe><iframe src="file:///etc/hostname"></iframe>
<script>
  window.results = [];
  function note(what) {{ window.results.push(what); }}
  try {{ const ws = new WebSocket("ws://127.0.0.1:{port}/socket");
        ws.onopen = () => note("ws-open"); ws.onerror = () => note("ws-error");
        ws.onclose = () => note("ws-close"); }} catch (e) {{ note("ws-throw"); }}
  fetch("http://127.0.0.1:{port}/internal-admin").then(() => note("fetch-ok"),
        () => note("fetch-refused"));
  fetch("http://2130706433:{port}/decimal").then(() => note("fetch2-ok"),
        () => note("fetch2-refused"));
</script></body></html>"""


async def _render(url: str, init, html: str | None = None) -> list[str]:
    """Open ``url`` (or ``html``) in Debian's Chromium with thriftwatch's options and the
    page-init callback ``init``, wait for the page's scripts, and return what they noted."""
    from playwright.async_api import async_playwright

    from crawler.runtime.browser import CONTEXT_KWARGS, launch_options
    from spiders.rendered import REPLICA_ONLY_RESOLVER

    options = launch_options("/usr/bin/chromium")
    if html is None:
        options["args"].append(REPLICA_ONLY_RESOLVER)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**options)
        context = await browser.new_context(**CONTEXT_KWARGS)
        page = await context.new_page()
        await init(page, Request(url))
        if html is None:
            await page.goto(url)
        else:
            await page.set_content(html)
        await page.wait_for_timeout(1500)
        results = await page.evaluate("window.results || []")
        await browser.close()
    return results


@pytest.mark.browser
def test_a_rendered_page_in_replica_mode_reaches_no_loopback_service(replica, internal_server):
    from crawler.runtime.browser import replica_router

    url = "https://www.tokopedia.com/hostile-shop/hostile-page"
    replica.plant("www.tokopedia.com", "/hostile-shop/hostile-page",
                  HOSTILE_PAGE.format(port=internal_server.port), content_type="text/html")
    results = asyncio.run(_render(url, replica_router(replica.url)))
    assert internal_server.connections == 0, results
    assert not {"ws-open", "fetch-ok", "fetch2-ok"} & set(results), results


@pytest.mark.browser
def test_a_rendered_page_outside_replica_mode_reaches_no_private_address(internal_server):
    from crawler.runtime.browser import public_router

    html = HOSTILE_PAGE.format(port=internal_server.port) + (
        f'<img src="http://{socket.gethostname()}:{internal_server.port}/by-name.png">')
    results = asyncio.run(_render("https://www.example.com/", public_router(), html=html))
    assert internal_server.connections == 0, results
    assert not {"ws-open", "fetch-ok", "fetch2-ok"} & set(results), results

