"""What a page says of itself: live, removed (taken down) or blocked (captcha, login wall).

The one home of block and takedown detection: spiders ask :func:`block_marker` why a page
they cannot parse is not results, site profiles match their own ``[block]`` patterns
through :func:`block_pattern`, and ``recheck`` asks :func:`classify` whether a listing is
still up.

Sellers write much of every listing page, so a verdict is never searched for in the page's
text at large: it comes from the HTTP status, from the parts of the page only the platform
writes (CSS selectors per host, with the seller's description regions dropped first), from
the platform's own API fields on a JSON page, and, on hosts without rules, from structure
no seller text makes and the page's ``<title>`` as a whole. The rules are data:
``crawler/data/page_markers.toml`` (its header explains the order).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from parsel import Selector

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

REMOVED_STATUSES = {404, 410}
BLOCKED_STATUSES = {401, 403, 429}
VERDICTS = ("blocked", "removed", "live")  # the order a host's rules are tried in
MAX_PAGE = 8 * 1024 * 1024  # characters of a page that are parsed
_SUFFIX = r"(?:\s*[|\-\u2013\u2014:\u00b7]\s*[^|\u2013\u2014:\u00b7]{1,60})?"  # " | Site"


@dataclass(frozen=True)
class HostRules:
    """One host's page structure: selectors per verdict, seller regions, JSON rules."""

    selectors: Mapping[str, tuple[str, ...]]  # verdict → CSS selectors
    description: tuple[str, ...] = ()
    json: Mapping[str, tuple[str, ...]] | None = None  # verdict → JMESPath expressions


@dataclass(frozen=True)
class PageMarkers:
    """Every host's rules and the generic default (see ``page_markers.toml``)."""

    hosts: Mapping[str, HostRules]
    blocked: tuple[str, ...]
    description: tuple[str, ...]
    removed_title: re.Pattern[str]
    blocked_title: re.Pattern[str]

    @classmethod
    def from_toml(cls, data: Mapping[str, Any]) -> PageMarkers:
        default = data["default"]
        hosts = {}
        for host, rules in data.get("hosts", {}).items():
            json_rules = rules.get("json")
            hosts[host.lower()] = HostRules(
                selectors={v: tuple(rules.get(v, ())) for v in VERDICTS},
                description=tuple(rules.get("description", ())),
                json={v: tuple(json_rules.get(v, ())) for v in VERDICTS} if json_rules else None)
        return cls(hosts=hosts, blocked=tuple(default["blocked"]),
                   description=tuple(default.get("description", ())),
                   removed_title=_whole_title(default["removed_titles"]),
                   blocked_title=_whole_title(default["blocked_titles"]))

    def rules(self, url: str | None) -> HostRules | None:
        try:
            host = (urlsplit(url or "").hostname or "").lower()
        except ValueError:
            return None
        return self.hosts.get(host)


def _whole_title(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile(rf"(?:{'|'.join(patterns)}){_SUFFIX}", re.IGNORECASE)


@lru_cache(maxsize=1)
def markers() -> PageMarkers:
    with files("crawler.data").joinpath("page_markers.toml").open("rb") as handle:
        return PageMarkers.from_toml(tomllib.load(handle))


def _text(page: str | bytes) -> str:
    text = page.decode("utf-8", "replace") if isinstance(page, bytes) else page
    return text[:MAX_PAGE]


def _is_json(text: str, content_type: str | bytes | None) -> bool:
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    if content_type and "json" in content_type.lower():
        return True
    return text.lstrip()[:1] in ("{", "[")


def _html(text: str, drop: Iterable[str]) -> Selector:
    """The page as HTML, without the regions where sellers write."""
    page = Selector(text=text or "<html></html>", type="html")
    for css in drop:
        page.css(css).drop()
    return page


def _first(page: Selector, selectors: Iterable[str]) -> str | None:
    return next((css for css in selectors if page.css(css)), None)


def _title(page: Selector) -> str:
    title = " ".join(page.xpath("(/html/head/title)[1]//text()").getall())
    return re.sub(r"\s+", " ", title).strip()


def _json_verdict(text: str, rules: HostRules | None) -> tuple[str, str] | None:
    if rules is None or not rules.json:
        return None
    try:
        page = Selector(text=text, type="json")
    except ValueError:
        return None
    for verdict in VERDICTS:
        for expression in rules.json[verdict]:
            try:
                values = page.jmespath(expression).getall()
            except (ValueError, TypeError):  # jmespath's errors are ValueErrors
                continue
            if any(values):
                return verdict, f"API says {expression}"
    return None


def _wall(page: Selector, rules: HostRules | None, lookup: PageMarkers) -> str | None:
    """What on an HTML page (seller regions already dropped) says it is a wall."""
    host_hit = _first(page, rules.selectors["blocked"]) if rules else None
    if host_hit:
        return f"page has {host_hit}"
    if hit := _first(page, lookup.blocked):
        return f"page has {hit}"
    title = _title(page)
    if title and lookup.blocked_title.fullmatch(title):
        return f"page title is {title[:80]!r}"
    return None


def classify(http_status: int, page: str | bytes, url: str | None = None,
             content_type: str | bytes | None = None,
             lookup: PageMarkers | None = None) -> tuple[str, str]:
    """``(status, why)``: "removed", "blocked" or "live", for a page fetched from ``url``.

    Never from seller-written text: see the module docstring and ``page_markers.toml``.
    """
    if http_status in REMOVED_STATUSES:
        return "removed", f"HTTP {http_status}"
    if http_status in BLOCKED_STATUSES:
        return "blocked", f"HTTP {http_status}"
    lookup = lookup or markers()
    rules = lookup.rules(url)
    text = _text(page)
    fallback = ("blocked", f"HTTP {http_status}") if http_status >= 400 else None
    if _is_json(text, content_type):
        return _json_verdict(text, rules) or fallback or ("live", f"HTTP {http_status}")
    html = _html(text, (rules.description if rules else ()) + lookup.description)
    if rules is not None:
        for verdict in VERDICTS:
            if hit := _first(html, rules.selectors[verdict]):
                return verdict, f"page has {hit}"
    if wall := _wall(html, None, lookup):
        return "blocked", wall
    title = _title(html)
    if title and lookup.removed_title.fullmatch(title):
        return "removed", f"page title is {title[:80]!r}"
    if fallback:
        return fallback
    return "live", f"HTTP {http_status}" + ("; page not recognised" if rules else "")


def block_pattern(patterns: Iterable[re.Pattern[str]], text: str) -> str | None:
    """The first of a site's own block ``patterns`` (a site profile's ``[block]``) that
    ``text`` matches, if any."""
    return next((pattern.pattern for pattern in patterns if pattern.search(text)), None)


def block_marker(http_status: int, body: bytes, url: str | None = None,
                 content_type: str | bytes | None = None) -> str | None:
    """What says an unparseable page is a captcha or login wall, if anything.

    The status, a JSON page's API fields (per host), or an HTML page's walls: the host's
    and the generic ``blocked`` structure and a whole ``<title>``. Never seller text: a JSON
    page of real results with "captcha" in a title is not a wall.
    """
    if http_status in BLOCKED_STATUSES:
        return f"HTTP {http_status}"
    lookup = markers()
    rules = lookup.rules(url)
    text = _text(body)
    if _is_json(text, content_type):
        verdict = _json_verdict(text, rules)
        return verdict[1] if verdict and verdict[0] == "blocked" else None
    html = _html(text, (rules.description if rules else ()) + lookup.description)
    return _wall(html, rules, lookup)
