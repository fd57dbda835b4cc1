"""What a page says of itself: live, removed (taken down) or blocked (captcha, login wall).

The one home of block and takedown detection: spiders ask :func:`block_marker` why a page
they cannot parse is not results, site profiles match their own ``[block] titles`` through
:func:`block_title` (and legacy raw-body patterns through :func:`block_pattern`), and
``recheck`` asks :func:`classify` whether a listing is still up.

Sellers write much of every listing page, so a verdict is never searched for in the page's
text at large: it comes from the HTTP status, from the parts of the page only the platform
writes (CSS selectors per host, counted only where seller markup cannot reach: wholly
before the seller's description regions and, on a page that shows the product, before its
title; see :class:`_Page`), from the platform's own API fields on a JSON page, and, on
hosts without rules, from structure no seller text makes and the page's ``<title>`` as a
whole. The rules are data:
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
# Elements that hold no markup, only attributes: never a region sellers write HTML into.
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "param", "source", "track", "wbr"})
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
    # The same phrases with no " | Site" after them: the title of a known host's listing
    # page names the listing, so there only a title that is the phrase alone counts.
    removed_title_alone: re.Pattern[str] | None = None
    blocked_title_alone: re.Pattern[str] | None = None

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
                   blocked_title=_whole_title(default["blocked_titles"]),
                   removed_title_alone=_whole_title(default["removed_titles"], suffix=""),
                   blocked_title_alone=_whole_title(default["blocked_titles"], suffix=""))

    def rules(self, url: str | None) -> HostRules | None:
        try:
            host = (urlsplit(url or "").hostname or "").lower()
        except ValueError:
            return None
        return self.hosts.get(host)


def _whole_title(patterns: Iterable[str], suffix: str = _SUFFIX) -> re.Pattern[str]:
    return re.compile(rf"(?:{'|'.join(patterns)}){suffix}", re.IGNORECASE)


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


class _Page:
    """An HTML page as lxml builds it, and which of its elements the platform alone wrote.

    Sellers write into the page's description regions, and where a platform lets them write
    HTML (Lazada) their markup can close those regions and open elements of its own after
    them. An element a seller made therefore always lies inside or after a seller region,
    in document order (the parser appends elements in the order their bytes come). So a
    marker counts only if it is *wholly before* the first of the host's own description
    regions: it starts and ends before that region starts. The generic description guesses
    of ``[default]`` are a boundary the same way on hosts without rules; on a host with
    rules, where they are only guesses, an element inside one never counts.

    ``anchor`` is the element the host's ``live`` selectors find (the product's title
    heading): on a page that shows the product, a not-found or wall marker counts only if
    it too lies wholly before that heading, where the platform puts its status banner or a
    wall over the page, never in or after the product's content. A search page (read with
    ``listing=False``) has no such heading.
    """

    def __init__(self, text: str, rules: HostRules | None, lookup: PageMarkers,
                 listing: bool = True):
        self.selector = Selector(text=text or "<html></html>", type="html")
        elements = list(self.selector.root.iter())
        self._index: dict[Any, int] = {element: i for i, element in enumerate(elements)}
        # Where each element's subtree ends, in one pass (a page of nested markers costs no
        # more than a flat one).
        self._ends = list(range(len(elements)))
        for position in range(len(elements) - 1, 0, -1):
            parent = self._index.get(elements[position].getparent())
            if parent is not None:
                self._ends[parent] = max(self._ends[parent], self._ends[position])
        strong = rules.description if rules is not None else lookup.description
        weak = lookup.description if rules is not None else ()
        body = self.selector.xpath("/html/body")
        scope = body[0] if body else self.selector
        starts = [self._index[node.root] for css in strong for node in scope.css(css)
                  if self._is_region(node.root)]
        self.boundary = min(starts, default=None)
        self.inside = [(self._index[node.root], self._subtree_end(node.root))
                       for css in weak for node in scope.css(css) if self._is_region(node.root)]
        self.anchor: int | None = None
        self.live: str | None = None
        if rules is not None and listing:
            self.anchor, self.live = self._first_element(rules.selectors["live"])

    @staticmethod
    def _is_region(element: Any) -> bool:
        # Void elements (<meta itemprop=description>) hold an attribute, not markup.
        return isinstance(element.tag, str) and element.tag.lower() not in _VOID

    def _subtree_end(self, element: Any) -> int:
        return self._ends[self._index[element]]

    def counts(self, element: Any) -> bool:
        """Whether ``element`` is the platform's: wholly before the seller regions (and the
        product's title, on a page that shows one), in none of the guessed ones."""
        start = self._index.get(element)
        if start is None:
            return False
        end = self._subtree_end(element)
        for limit in (self.boundary, self.anchor):
            if limit is not None and end >= limit:
                return False
        return not any(first <= start <= last for first, last in self.inside)

    def _first_element(self, selectors: Iterable[str]) -> tuple[int | None, str | None]:
        for css in selectors:
            for node in self.selector.css(css):
                if isinstance(node.root, str):
                    continue
                start = self._index.get(node.root)
                if start is not None and (self.boundary is None
                                          or self._subtree_end(node.root) < self.boundary):
                    return start, css
        return None, None

    def first(self, selectors: Iterable[str]) -> str | None:
        """The first of ``selectors`` that finds an element the platform wrote."""
        for css in selectors:
            if any(not isinstance(node.root, str) and self.counts(node.root)
                   for node in self.selector.css(css)):
                return css
        return None

    def title(self) -> str:
        return _title(self.selector)


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


def _wall(page: _Page, rules: HostRules | None, lookup: PageMarkers,
          title_alone: bool = False) -> str | None:
    """What on an HTML page says it is a wall: the platform's own structure (see
    :class:`_Page` for which elements count) or the whole ``<title>`` (the phrase alone,
    with ``title_alone``)."""
    host_hit = page.first(rules.selectors["blocked"]) if rules else None
    if host_hit:
        return f"page has {host_hit}"
    if hit := page.first(lookup.blocked):
        return f"page has {hit}"
    title = page.title()
    pattern = (lookup.blocked_title_alone or lookup.blocked_title) if title_alone \
        else lookup.blocked_title
    if title and pattern.fullmatch(title):
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
    html = _Page(text, rules, lookup)
    if rules is not None:
        for verdict in ("blocked", "removed"):
            if hit := html.first(rules.selectors[verdict]):
                return verdict, f"page has {hit}"
        if html.live is not None:
            return "live", f"page has {html.live}"
    # On a known host the <title> of a listing page holds the seller's title: it decides
    # only when it is the phrase alone (the platform's page not recognised otherwise).
    alone = rules is not None
    if wall := _wall(html, None, lookup, title_alone=alone):
        return "blocked", wall
    title = html.title()
    removed_title = (lookup.removed_title_alone or lookup.removed_title) if alone \
        else lookup.removed_title
    if title and removed_title.fullmatch(title):
        return "removed", f"page title is {title[:80]!r}"
    if fallback:
        return fallback
    return "live", f"HTTP {http_status}" + ("; page not recognised" if rules else "")


def page_title(page: str | bytes) -> str:
    """The ``<title>`` of an HTML page (the first in its head), whitespace collapsed: the
    platform's words on a search page, where no seller writes."""
    return _title(Selector(text=_text(page) or "<html></html>", type="html"))


def block_title(patterns: Iterable[re.Pattern[str]], page: str | bytes) -> str | None:
    """Why a page is a wall by a site profile's ``[block] titles``: the first of
    ``patterns`` its ``<title>`` matches, if any."""
    title = page_title(page)
    hit = next((pattern.pattern for pattern in patterns if title and pattern.search(title)),
               None)
    return None if hit is None else f"the page title {title[:80]!r} matches {hit!r}"


def block_pattern(patterns: Iterable[re.Pattern[str]], text: str) -> str | None:
    """The first of a site's own raw-body block ``patterns`` (a site profile's legacy
    ``[block] patterns``) that ``text`` matches, if any. The body holds seller text: the
    caller reads them only on a page that holds no results (see ``spiders.profile_format``)."""
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
    return _wall(_Page(text, rules, lookup, listing=False), rules, lookup)
