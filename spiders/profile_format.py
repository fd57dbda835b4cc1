r"""Site profiles: a marketplace or a seller's own shop described in TOML, read without code.

An investigator adds a site by writing a profile; the ``profile`` spider crawls it. This
module loads and checks profiles and turns a search response into listings, as pure
functions over text (no Scrapy), so both are testable on a string.

Format (``spiders/profiles/olx.toml`` is a commented example)::

    [site]
    name = "olx"                          # the listings' platform: a-z, 0-9, "-" or "_"
    allowed_domains = ["olx.co.id"]       # the crawl stays on these (and their subdomains)

    [search]
    url = "https://www.olx.co.id/items/q-{keyword}?page={page}"
    method = "GET"                        # or "POST" (then an optional body template)
    body = '{"q": "{keyword}", "offset": {offset}}'
    headers = { Accept = "text/html" }
    page_size = 20                        # listings on a full page
    first_page = 1                        # the number the site gives its first page: 0 or 1
    format = "html"                       # or "json"

    [listing]
    items = "css:li[data-aut-id='itemBox']"         # one node per listing ("jmespath:data.ads")
    page_marker = "css:ul[data-aut-id='itemsList']"  # optional: on every results page,
                                                     # even an empty one

    [fields]                              # selectors relative to one item node
    listing_id = { select = "css:a::attr(href)", re = "-iid-(\\d+)" }
    url = "css:a::attr(href)"
    title = "css:span[data-aut-id='itemTitle']"

    [paging]
    has_more = "css:button[data-aut-id='btnLoadMore']"  # or "full_page" (the default)

    [block]                               # read only on a page that is not results
    selectors = ["css:[data-aut-id='loginWall']"]  # the wall's own structure
    titles = ["(?i)verifikasi keamanan|captcha"]   # regexes on the page's <title>

    [listing_page]                        # optional: each listing's own page (its url), HTML
    page_marker = "css:[data-aut-id='itemParams']"  # on every live listing page
    gone = ["css:[data-aut-id='errorPage']"]        # the site's "listing removed" page

    [listing_page.fields]                 # selectors over the whole page
    description = "css:[data-aut-id='itemDescriptionContent']"
    seller_joined = { select = "css:[data-aut-id='memberSince']", re = "sejak (.+)" }

Templates take ``{keyword}`` (URL-quoted in the URL and a form body, JSON-escaped in a body
sent as JSON), ``{page}`` (``first_page`` for the first page) and ``{offset}`` (the number
of listings before this page). The URL or body must hold ``{keyword}`` and one of
``{page}`` / ``{offset}``.

Selectors are ``css:`` or ``xpath:`` (parsel's dialects, ``::text`` and ``::attr()``
included) for HTML, and ``jmespath:`` for JSON: a `JMESPath <https://jmespath.org>`_
expression, run through parsel (``data.ads``, ``[0].data.ads``, ``images[*].url``,
``locations[0].city``, ``items[?price > `0`]``). For JSON, ``[listing] items`` must reach
an array of objects; a field reaching a list keeps each value (``image_urls``), and one
reaching an object is an error. A field selector that picks an element reads its text. A field
may be a table ``{ select = "...", re = "..." }``: only values the regex matches are kept,
and a capturing group keeps just that group. ``listing_id``, ``url`` and ``title`` are
required; ``url``, ``seller_url`` and ``image_urls`` are made absolute against the page URL.
``image_urls`` keeps every value, other fields the first.

``[listing_page]`` lets enrichment read a listing's own page (the listing's ``url``, an
HTML page): ``page_marker`` is on every live listing page, ``gone`` (optional) are the
elements of the site's not-found page, and ``[listing_page.fields]`` select over the whole
page: ``description`` (required), ``title``, ``price`` (read as rupiah), ``category``,
``condition``, ``seller_id``, ``seller_name``, ``seller_url``, ``seller_joined`` (text as
written), ``seller_location``, ``seller_followers``, ``seller_sales``, ``stock`` (counts
as written: "1,2rb"), ``seller_rating``, ``seller_about`` and ``image_urls`` (every
value). A page without ``page_marker`` is the listing gone when a ``gone`` selector
matches, the site's wall when a ``[block]`` rule says so, and otherwise not the page the
profile describes; sellers write the description, so none of these reads it.

``[block]`` says how the site's captcha or login wall looks, so that it is recorded as a
block and never as "no results". Sellers write the listings' text, so block rules never
read it: they are consulted only on a page that is *not* a results page (``[listing]
page_marker`` absent, or, without one, no listing found), and they are structure
(``selectors``: css:/xpath: on an HTML page, jmespath: on a JSON one, where an element
inside a listing never counts) or the page's ``<title>`` (``titles``: regexes searched in
the title's text, never the body). The legacy ``patterns`` (regexes over the raw body)
still load, but read only a page on which no listing at all was found; prefer
``selectors`` and ``titles``.

A profile is named by its path (``PATH.toml`` or anything with a ``/``) or by the name of a
profile shipped in ``spiders/profiles/``. Any mistake in it is a :class:`ProfileError`
naming the file, the field and the problem.
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote, quote_plus, urljoin, urlsplit

from cssselect import SelectorError
from parsel import Selector

from crawler.decoding import DecodeError, decode_json
from crawler.items import Listing, ListingPage
from crawler.normalise import parse_price_idr, parse_sold_count
from crawler.page_status import block_pattern, block_title
from spiders.base import BlockedError, ListingGoneError, ResponseShapeError, SearchPage, parse_each
from spiders.listing_values import (
    page_count,
    page_id,
    page_name,
    page_rating,
    page_text,
    page_url,
    page_urls,
)

if TYPE_CHECKING:
    from parsel.selector import SelectorList

FIELDS = ("listing_id", "url", "title", "description", "price_text", "seller_id",
          "seller_name", "seller_url", "location", "sold_text", "posted_at", "category",
          "image_urls", "condition")
REQUIRED_FIELDS = ("listing_id", "url", "title")
URL_FIELDS = frozenset({"url", "seller_url", "image_urls"})
# [listing_page.fields]: what a listing's own page may state, and how each is read.
PAGE_TEXTS = ("description", "seller_about")
PAGE_NAMES = ("title", "category", "condition", "seller_name", "seller_joined",
              "seller_location")
PAGE_COUNTS = ("seller_followers", "seller_sales", "stock")
PAGE_FIELDS = (*PAGE_TEXTS, *PAGE_NAMES, *PAGE_COUNTS, "price", "seller_id", "seller_url",
               "seller_rating", "image_urls")
FULL_PAGE = "full_page"
SECTIONS = {
    "site": ({"name", "allowed_domains"}, {"name", "allowed_domains"}),
    "search": ({"url", "method", "body", "headers", "page_size", "first_page", "format"},
               {"url", "page_size"}),
    "listing": ({"items", "page_marker"}, {"items"}),
    "fields": (set(FIELDS), set(REQUIRED_FIELDS)),
    "paging": ({"has_more"}, set()),
    "block": ({"selectors", "titles", "patterns"}, set()),
    "listing_page": ({"page_marker", "gone", "fields"}, {"page_marker", "fields"}),
}
REQUIRED_SECTIONS = ("site", "search", "listing", "fields")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLACEHOLDERS = frozenset({"keyword", "page", "offset"})
SELECTOR_KINDS = {"html": ("css", "xpath"), "json": ("jmespath",)}
SITE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
logger = logging.getLogger(__name__)
_EMPTY = {"css": Selector(text="<html></html>"), "xpath": Selector(text="<html></html>"),
          "jmespath": Selector(root={}, type="json")}


class ProfileError(ValueError):
    """A site profile that cannot be used: names the file, the field and what is wrong."""


@dataclass(frozen=True)
class Select:
    """One selector: ``kind`` is css, xpath or jmespath."""

    kind: str
    expression: str
    pattern: re.Pattern[str] | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.expression}"


@dataclass(frozen=True)
class SearchTemplate:
    """How the site is searched: the request for any keyword and page."""

    url: str
    method: str
    body: str | None
    headers: dict[str, str]
    page_size: int
    first_page: int
    format: str

    def url_and_body(self, keyword: str, page: int) -> tuple[str, str | None]:
        """The real URL and body for ``page`` (1-based, as the spider counts) of ``keyword``."""
        numbers = {"page": str(page - 1 + self.first_page),
                   "offset": str((page - 1) * self.page_size)}
        in_url = {**numbers, "keyword": quote(keyword, safe="")}
        url = PLACEHOLDER.sub(lambda m: in_url[m[1]], self.url)
        if self.body is None:
            return url, None
        sent_as_json = "json" in self.headers.get("Content-Type", "").lower()
        in_body = {**numbers, "keyword": json.dumps(keyword, ensure_ascii=False)[1:-1]
                   if sent_as_json else quote_plus(keyword)}
        return url, PLACEHOLDER.sub(lambda m: in_body[m[1]], self.body)


@dataclass(frozen=True)
class PageTemplate:
    """How a listing's own page is read (``[listing_page]``)."""

    page_marker: Select
    gone: tuple[Select, ...]
    fields: dict[str, Select]


@dataclass(frozen=True)
class Profile:
    """A checked site profile."""

    name: str
    source: str
    allowed_domains: tuple[str, ...]
    search: SearchTemplate
    items: Select
    page_marker: Select | None
    fields: dict[str, Select]
    has_more: Select | None  # None: another page follows a full page
    # [block], read only on a page that is not results: the wall's structure, regexes on
    # the page's <title>, and legacy raw-body regexes (read only where no listing is).
    block_patterns: tuple[re.Pattern[str], ...] = ()
    block_selectors: tuple[Select, ...] = ()
    block_titles: tuple[re.Pattern[str], ...] = ()
    listing_page: PageTemplate | None = None  # None: listings are not enriched


# -- loading ------------------------------------------------------------------------------

def shipped_profiles() -> list[str]:
    """Names of the profiles shipped in ``spiders/profiles/``."""
    return sorted(entry.name.removesuffix(".toml") for entry in files("spiders.profiles").iterdir()
                  if entry.name.endswith(".toml"))


def load_profiles(name_or_path: str | None) -> list[Profile]:
    """The profile an argument names, or every shipped profile when it names none."""
    if name_or_path:
        return [load_profile(name_or_path)]
    profiles = [load_profile(name) for name in shipped_profiles()]
    names = [profile.name for profile in profiles]
    if len(set(names)) != len(names):
        raise ProfileError(f"spiders/profiles: two shipped profiles share a [site] name: {names}")
    return profiles


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a profile file (``x.toml`` or a path with ``/``) or a shipped profile by name."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(name_or_path)
        if not path.is_file():
            raise ProfileError(f"{path}: no such profile file")
        return parse_profile(path.read_text("utf-8"), str(path))
    if text not in shipped_profiles():
        raise ProfileError(f"{text}: no shipped profile of that name (shipped: "
                           f"{', '.join(shipped_profiles())}); give a path to a .toml file")
    resource = files("spiders.profiles").joinpath(f"{text}.toml")
    return parse_profile(resource.read_text("utf-8"), f"spiders/profiles/{text}.toml")


def parse_profile(text: str, source: str) -> Profile:
    """Check a profile's TOML text; ``source`` names it in every error."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{source}: TOML syntax error: {error}") from None
    for section in data:
        if section not in SECTIONS:
            _fail(source, f"[{section}]", f"unknown section (known: {', '.join(SECTIONS)})")
    tables = {section: _table(data, source, section) for section in SECTIONS}
    site, search, listing = tables["site"], tables["search"], tables["listing"]

    name = _string(source, "site", site, "name")
    if not SITE_NAME.fullmatch(name):
        _fail(source, "[site] name", f"{name!r} must be lowercase letters, digits, - or _")
    domains = _strings(source, "site", site, "allowed_domains")
    if not domains:
        _fail(source, "[site] allowed_domains", "must name at least one domain")

    template = _search_template(source, search, tuple(domains))
    kinds = SELECTOR_KINDS[template.format]
    items = _select(source, "[listing] items", listing["items"], kinds)
    marker = listing.get("page_marker")
    fields = {field: _field(source, field, value, kinds)
              for field, value in tables["fields"].items()}
    has_more = tables["paging"].get("has_more", FULL_PAGE)
    block = tables["block"]
    if block.get("patterns"):
        logger.warning("%s: [block] patterns are regexes over the raw body, where sellers "
                       "write; they are read only on pages with no listing at all. Write "
                       "[block] selectors (the wall's structure) or titles instead.", source)
    return Profile(
        name=name,
        source=source,
        allowed_domains=tuple(domains),
        search=template,
        items=items,
        page_marker=None if marker is None else _select(source, "[listing] page_marker",
                                                        marker, kinds),
        fields={field: fields[field] for field in FIELDS if field in fields},
        has_more=None if has_more == FULL_PAGE else _select(source, "[paging] has_more",
                                                            has_more, kinds),
        block_patterns=tuple(_regex(source, "[block] patterns", pattern)
                             for pattern in _strings(source, "block", block, "patterns")),
        block_selectors=tuple(_select(source, "[block] selectors", select, kinds)
                              for select in _strings(source, "block", block, "selectors")),
        block_titles=tuple(_regex(source, "[block] titles", pattern)
                           for pattern in _strings(source, "block", block, "titles")),
        listing_page=_page_template(source, tables["listing_page"]),
    )


def _page_template(source: str, table: dict[str, Any]) -> PageTemplate | None:
    """``[listing_page]``, checked; None when the profile has none."""
    if not table:
        return None
    kinds = SELECTOR_KINDS["html"]
    fields = table["fields"]
    if not isinstance(fields, dict):
        _fail(source, "[listing_page.fields]", f"must be a table, not {fields!r}")
    for field in fields:
        if field not in PAGE_FIELDS:
            _fail(source, f"[listing_page.fields] {field}",
                  f"unknown field (known: {', '.join(sorted(PAGE_FIELDS))})")
    if "description" not in fields:
        _fail(source, "[listing_page.fields] description", "missing required field")
    return PageTemplate(
        page_marker=_select(source, "[listing_page] page_marker", table["page_marker"], kinds),
        gone=tuple(_select(source, "[listing_page] gone", select, kinds)
                   for select in _strings(source, "listing_page", table, "gone")),
        fields={field: _field(source, field, value, kinds, "listing_page.fields")
                for field, value in fields.items()},
    )


def _fail(source: str, where: str, problem: str) -> NoReturn:
    raise ProfileError(f"{source}: {where}: {problem}")


def _table(data: dict[str, Any], source: str, section: str) -> dict[str, Any]:
    table = data.get(section)
    if table is None:
        if section in REQUIRED_SECTIONS:
            _fail(source, f"[{section}]", "missing section")
        return {}
    if not isinstance(table, dict):
        _fail(source, f"[{section}]", f"must be a table, not {table!r}")
    known, required = SECTIONS[section]
    for key in table:
        if key not in known:
            _fail(source, f"[{section}] {key}",
                  f"unknown field (known: {', '.join(sorted(known))})")
    for key in sorted(required - set(table)):
        _fail(source, f"[{section}] {key}", "missing required field")
    return table


def _string(source: str, section: str, table: dict[str, Any], key: str,
            default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        _fail(source, f"[{section}] {key}", f"must be a non-empty string, not {value!r}")
    return value


def _strings(source: str, section: str, table: dict[str, Any], key: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        _fail(source, f"[{section}] {key}", f"must be a list of strings, not {value!r}")
    return value


def _search_template(source: str, search: dict[str, Any],
                     domains: tuple[str, ...]) -> SearchTemplate:
    url = _string(source, "search", search, "url")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        _fail(source, "[search] url", f"must be an http(s) URL, not {url!r}")
    if not any(host == domain or host.endswith("." + domain) for domain in domains):
        _fail(source, "[search] url",
              f"host {host} is outside [site] allowed_domains {list(domains)}")
    method = _string(source, "search", search, "method", "GET").upper()
    if method not in ("GET", "POST"):
        _fail(source, "[search] method", f"must be GET or POST, not {method!r}")
    body = search.get("body")
    if body is not None:
        body = _string(source, "search", search, "body")
        if method != "POST":
            _fail(source, "[search] body", "only a POST search sends a body")
    headers = search.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        _fail(source, "[search] headers", f"must be a table of strings, not {headers!r}")
    page_size = search["page_size"]
    if not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1:
        _fail(source, "[search] page_size", f"must be a positive integer, not {page_size!r}")
    first_page = search.get("first_page", 1)
    if first_page not in (0, 1) or isinstance(first_page, bool):
        _fail(source, "[search] first_page", f"must be 0 or 1, not {first_page!r}")
    form = search.get("format", "html")
    if form not in SELECTOR_KINDS:
        _fail(source, "[search] format", f"must be html or json, not {form!r}")

    used: set[str] = set()
    for key, template in (("url", url), ("body", body or "")):
        for placeholder in PLACEHOLDER.findall(template):
            if placeholder not in PLACEHOLDERS:
                _fail(source, f"[search] {key}", f"unknown placeholder {{{placeholder}}} "
                      "(known: {keyword}, {page}, {offset})")
            used.add(placeholder)
    if "keyword" not in used:
        _fail(source, "[search] url", "the url (or body) template must contain {keyword}")
    if not used & {"page", "offset"}:
        _fail(source, "[search] url", "the url (or body) template must contain {page} or "
              "{offset}, or every page would be the same request")
    return SearchTemplate(url=url, method=method, body=body, headers=dict(headers),
                          page_size=page_size, first_page=first_page, format=form)


def _field(source: str, field: str, value: Any, kinds: tuple[str, ...],
           section: str = "fields") -> Select:
    where = f"[{section}] {field}"
    if not isinstance(value, dict):
        return _select(source, where, value, kinds)
    for key in value:
        if key not in ("select", "re"):
            _fail(source, f"{where}.{key}", "unknown key (a field table takes select and re)")
    if "select" not in value:
        _fail(source, f"{where}.select", "missing required key")
    select = _select(source, where, value["select"], kinds)
    if "re" not in value:
        return select
    if not isinstance(value["re"], str):
        _fail(source, f"{where}.re", f"must be a string, not {value['re']!r}")
    pattern = _regex(source, f"{where}.re", value["re"])
    if pattern.groups > 1:
        _fail(source, f"{where}.re", "may have at most one capturing group")
    return Select(select.kind, select.expression, pattern)


def _select(source: str, where: str, value: Any, kinds: tuple[str, ...]) -> Select:
    """Parse ``kind:expression`` and compile it now, so a bad selector fails at load time."""
    if not isinstance(value, str):
        _fail(source, where, f"must be a selector string, not {value!r}")
    kind, sep, expression = value.partition(":")
    if kind == "json":
        _fail(source, where, f"{value!r}: json: paths are now JMESPath expressions: "
              f"write jmespath:{expression}")
    if not sep or kind not in ("css", "xpath", "jmespath"):
        _fail(source, where, f"{value!r} needs a selector prefix: css:, xpath: or jmespath:")
    if kind not in kinds:
        form = "html" if kind == "jmespath" else "json"
        _fail(source, where, f"{kind}: selectors do not apply to a {form} profile "
              f"(use {' or '.join(k + ':' for k in kinds)})")
    if not expression.strip():
        _fail(source, where, f"empty {kind}: selector")
    try:
        getattr(_EMPTY[kind], kind)(expression)
    # parsel's XPath errors and jmespath's JMESPathError are ValueErrors.
    except (ValueError, SelectorError) as error:
        message = " ".join(str(error).split())
        _fail(source, where, f"invalid {_DIALECT[kind]} {expression!r}: {message}")
    return Select(kind, expression)


_DIALECT = {"css": "CSS", "xpath": "XPath", "jmespath": "JMESPath"}


def _regex(source: str, where: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as error:
        _fail(source, where, f"invalid regex {pattern!r}: {error}")


# -- extraction ---------------------------------------------------------------------------

def parse_search_body(profile: Profile, text: str, page_url: str, keyword: str,
                      page: int = 1) -> SearchPage:
    """Parse one search response body of ``profile``'s site into listings.

    Raises :class:`BlockedError` when the body is not a results page and a ``[block]`` rule
    says it is a wall, and :class:`ResponseShapeError` when the body is not a results page
    the profile describes.
    """
    if profile.search.format == "json":
        try:
            root = Selector(root=decode_json(text), type="json")
        except DecodeError as error:
            _raise_if_wall(profile, None, text, ())
            raise ResponseShapeError(f"{profile.name}: body is not JSON ({error}): "
                                     f"{text[:120]!r}") from error
        if root.jmespath(f"type({profile.items.expression})").get() != "array":
            _raise_if_wall(profile, root, text, ())
            raise ResponseShapeError(f"{profile.name}: {profile.items} is not an array")
        items = _nodes(root, profile.items)
        if not all(isinstance(item.get(), dict) for item in items):
            raise ResponseShapeError(f"{profile.name}: {profile.items} holds a value that is "
                                     "not an object")
    else:
        root = Selector(text=text)
        items = _nodes(root, profile.items)
    results = (matches(root, profile.page_marker) if profile.page_marker is not None
               else bool(items))
    if not results:
        _raise_if_wall(profile, root, text, items)
        if profile.page_marker is not None:
            raise ResponseShapeError(f"{profile.name}: not a results page: nothing matches "
                                     f"[listing] page_marker {profile.page_marker}")
    listings, problems = parse_each(
        items, lambda item: listing_from_item(profile, item, page_url, keyword))
    if profile.has_more is None:
        has_more = len(listings) >= profile.search.page_size
    else:
        has_more = bool(listings) and matches(root, profile.has_more)
    return SearchPage(listings, has_more=has_more, problems=problems)


def block_rule(profile: Profile, root: Selector | None, text: str,
               items: SelectorList | tuple[()]) -> str | None:
    """Why a page that is not results is the site's wall, by its ``[block]`` rules, or None.

    ``root`` is the parsed page (None: a body a JSON profile could not decode), ``items``
    the listing nodes found on it all the same. No rule reads what sellers write: an
    element inside a listing is not the wall, the title is matched alone, and the legacy
    raw-body ``patterns`` are read only when no listing is on the page.
    """
    if root is not None:
        for select in profile.block_selectors:
            if _matches_outside(root, select, items):
                return f"the page has {select}"
    html = root is None or root.type != "json"
    if html and profile.block_titles and (why := block_title(profile.block_titles,
                                                                text)) is not None:
        return why
    if not items and (hit := block_pattern(profile.block_patterns, text)) is not None:
        return f"the page matches block pattern {hit!r}"
    return None


def _raise_if_wall(profile: Profile, root: Selector | None, text: str,
                   items: SelectorList | tuple[()]) -> None:
    if (why := block_rule(profile, root, text, items)) is not None:
        raise BlockedError(f"{profile.name}: {why}")


def _matches_outside(root: Selector, select: Select, items: SelectorList | tuple[()]) -> bool:
    """Whether ``select`` finds something in ``root`` that is no listing's: an element not
    inside any item node (a value, on a JSON page or from ``::text``, only where there is no
    item at all)."""
    if select.kind == "jmespath" or not items:
        return matches(root, select)
    listings = {item.root for item in items}
    for node in _nodes(root, select):
        element = node.root
        if isinstance(element, str):
            continue
        if element not in listings and not any(up in listings
                                               for up in element.iterancestors()):
            return True
    return False


def listing_from_item(profile: Profile, item: Selector, page_url: str,
                      keyword: str) -> Listing:
    """One item node (a parsel ``Selector`` of HTML or JSON) as a :class:`Listing`."""
    found: dict[str, Any] = {}
    for field, select in profile.fields.items():
        found_values = values(item, select)
        if field in URL_FIELDS:
            found_values = list(dict.fromkeys(_absolute(profile, field, page_url, v)
                                              for v in found_values))
        if field == "image_urls":
            found[field] = found_values
        elif found_values:
            found[field] = found_values[0]
        elif field in REQUIRED_FIELDS:
            raise ResponseShapeError(f"{profile.name}: a listing has no {field} "
                                     f"({select}): {_preview(item)}")
    return Listing(platform=profile.name, keyword=keyword, **found)


def parse_listing_page_body(profile: Profile, text: str, url: str,
                            listing_id: str) -> ListingPage:
    """Read a listing's own page (HTML ``text`` at ``url``) by ``profile``'s
    ``[listing_page]``.

    A page without the ``page_marker`` is :class:`ListingGoneError` when a ``gone``
    selector matches, :class:`BlockedError` when a ``[block]`` rule says it is the wall, and
    :class:`ResponseShapeError` otherwise. Every value is bounded
    (``spiders.listing_values``); one the page does not state, or cannot be read as its
    field's type, is None.
    """
    spec = profile.listing_page
    if spec is None:
        raise ResponseShapeError(f"{profile.name}: the profile has no [listing_page]")
    root = Selector(text=text)
    if not matches(root, spec.page_marker):
        if any(matches(root, select) for select in spec.gone):
            raise ListingGoneError(f"{profile.name}: the site says the listing is gone")
        _raise_if_wall(profile, root, text, ())
        raise ResponseShapeError(f"{profile.name}: not a listing page: nothing matches "
                                 f"[listing_page] page_marker {spec.page_marker}")
    found = {field: values(root, select) for field, select in spec.fields.items()}

    def first(field: str) -> str | None:
        return (found.get(field) or [None])[0]

    return ListingPage(
        platform=profile.name, listing_id=listing_id, url=url,
        **{field: page_text(first(field)) for field in PAGE_TEXTS},
        **{field: page_name(first(field)) for field in PAGE_NAMES},
        **{field: page_count(parse_sold_count(page_name(first(field))))
           for field in PAGE_COUNTS},
        price_idr=parse_price_idr(page_name(first("price"))),
        seller_id=page_id(first("seller_id")),
        seller_url=page_url(first("seller_url"), url),
        seller_rating=page_rating(first("seller_rating")),
        image_urls=page_urls(found.get("image_urls") or (), url),
    )


def _absolute(profile: Profile, field: str, page_url: str, url: str) -> str:
    try:
        return urljoin(page_url, url)
    except ValueError as error:  # e.g. "http://[::1": a host that is not one
        raise ResponseShapeError(f"{profile.name}: {field} {url[:120]!r} is not a URL "
                                 f"({error})") from error


def values(node: Selector, select: Select) -> list[str]:
    """Every non-empty text value ``select`` picks from ``node``, whitespace collapsed."""
    if select.kind == "jmespath":  # a list result is each of its values: image URLs
        raw = [_json_text(value, select) for value in node.jmespath(select.expression).getall()]
    else:
        raw = [n.root if isinstance(n.root, str) else n.xpath("string()").get()
               for n in _nodes(node, select)]
    texts = (" ".join(value.split()) for value in raw)
    if select.pattern is not None:
        texts = (_matched(select.pattern, text) for text in texts)
    return [text for text in texts if text]


def matches(node: Selector, select: Select) -> bool:
    """Whether ``select`` finds an element, a non-empty string or a true value in ``node``."""
    if select.kind == "jmespath":
        return any(value not in (False, "", 0, [], {})
                   for value in node.jmespath(select.expression).getall())
    return any(not isinstance(n.root, str) or n.root.strip() for n in _nodes(node, select))


def _nodes(node: Selector, select: Select) -> SelectorList:
    return getattr(node, select.kind)(select.expression)


def _json_text(value: Any, select: Select) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        raise ResponseShapeError(f"{select} reaches {type(value).__name__} "
                                 f"{json.dumps(value)[:80]}, not a value")
    return "" if value is None else json.dumps(value)


def _matched(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    if match is None:
        return ""
    return (match[1] or "") if pattern.groups else match[0]


def _preview(item: Selector) -> str:
    text = item.get() if item.type != "json" else json.dumps(item.get(), ensure_ascii=False)
    return f"{text[:200]!r}"
