"""Instagram: public hashtag pages, rendered in Chromium, optionally with the investigator's
session cookies.

``/explore/tags/<tag>/`` draws its posts from the page's own fetch of
``/api/v1/tags/web_info/?tag_name=<tag>`` (top posts and recent posts); that JSON is kept as
evidence and parsed. Each post becomes a :class:`Listing`: sellers write title, description
and price into the caption. One page per hashtag: further posts need a logged-in scroll.

Keywords are hashtags without the "#"; by default the ones in
``spiders/data/instagram_hashtags.toml``. Session cookies (spider argument ``cookies=FILE``
or the setting ``THRIFTWATCH_INSTAGRAM_COOKIES = FILE``; a JSON cookie export or a Netscape
``cookies.txt``) go into the browser only, each made HttpOnly and Secure whatever the file
says (no script of a page can read them): they are never put into requests' meta, logged,
or stored, and their values are taken out of every rendered page and data fetch before it
is stored (a page that showed one keeps no screenshot; see crawler.runtime.browser).
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import scrapy
from parsel import Selector

from crawler.config import Config
from crawler.decoding import DecodeError, decode_json
from crawler.items import Listing
from crawler.runtime.browser import harden_cookies
from spiders.base import BlockedError, ResponseShapeError, SearchPage, parse_each, parse_keywords
from spiders.rendered import RenderedSearchSpider

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy.http import Response

SITE = "https://www.instagram.com"
COOKIE_DOMAIN = "instagram.com"
WEB_INFO_URL = r"^https://www\.instagram\.com/api/v1/tags/web_info/"
POST_LINK = 'article a[href^="/p/"]'
LOGIN_FORM = "#loginForm"  # the login page Instagram shows instead of the hashtag's posts
FEEDS = ("top", "recent")  # the hashtag page's two grids: "Postingan teratas", "Terbaru"
MAX_TITLE = 200
# A price as sellers write it in captions: "Rp150.000", "Rp 1,5 jt", "150rb", "85k", "3,5jt"
# ("rb"/"ribu" = thousand, "jt"/"juta" = million). The normalise pipeline reads the amount.
CAPTION_PRICE = re.compile(
    r"\bRp\.?\s?\d+(?:[.,]\d+)*(?:\s?(?:rb|ribu|k|jt|juta)\b)?"
    r"|\b\d+(?:[.,]\d+)*\s?(?:rb|ribu|k|jt|juta)\b",
    re.IGNORECASE,
)
HTTP_ONLY_PREFIX = "#HttpOnly_"  # how cookies.txt marks an HttpOnly cookie
# Playwright's sameSite values for those of browser-extension cookie exports.
_SAME_SITE = {"no_restriction": "None", "none": "None", "lax": "Lax", "strict": "Strict"}


def default_hashtags() -> list[str]:
    with files("spiders.data").joinpath("instagram_hashtags.toml").open("rb") as handle:
        return list(tomllib.load(handle)["hashtags"])


def hashtag(keyword: str) -> str:
    """A keyword as Instagram's tag name: ``"#Bal Jepang"`` → ``"baljepang"``."""
    return "".join(keyword.lstrip("#").lower().split())


def caption_price(caption: str) -> str | None:
    """The first price written in a caption, as written, or ``None``."""
    match = CAPTION_PRICE.search(caption)
    return match.group(0) if match else None


def listing_from_media(media: dict[str, Any], tag: str) -> Listing:
    """One post of the hashtag page (``layout_content.medias[].media``) as a :class:`Listing`."""
    try:
        code = media["code"]
    except (KeyError, TypeError) as error:
        raise ResponseShapeError(f"post without a shortcode: {media!r:.200}") from error
    if not isinstance(code, str) or not code:
        raise ResponseShapeError(f"post whose shortcode is not a string: {media!r:.200}")
    try:
        caption = (media.get("caption") or {}).get("text") or ""
        lines = [line.strip() for line in caption.splitlines() if line.strip()]
        user = media.get("user") or {}
        username = user.get("username")
        images = media.get("image_versions2") or next(
            (item.get("image_versions2") for item in media.get("carousel_media") or ()), None) or {}
        candidates = images.get("candidates") or []
        taken_at = media.get("taken_at")
        return Listing(
            platform="instagram",
            listing_id=code,
            url=f"{SITE}/p/{code}/",
            title=lines[0][:MAX_TITLE] if lines else "",
            keyword=tag,
            description=caption or None,
            price_text=caption_price(caption),
            seller_id=str(user["pk"]) if user.get("pk") else None,
            seller_name=username,
            seller_url=f"{SITE}/{username}/" if username else None,
            image_urls=[candidates[0]["url"]] if candidates else [],
            posted_at=(datetime.fromtimestamp(taken_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                       if isinstance(taken_at, (int, float)) else None),
        )
    except (KeyError, TypeError, AttributeError, ValueError, OverflowError, OSError) as error:
        # A field changed shape; OSError: a taken_at the platform's clock cannot have written.
        raise ResponseShapeError(f"post {code} has a field the parser cannot read: "
                                 f"{error!r}") from error


def parse_web_info(body: Any, tag: str) -> tuple[list[Listing], tuple[str, ...]]:
    """The posts of a ``tags/web_info`` body (JSON-decoded), top then recent, and why any
    post could not be read."""
    try:
        data = body["data"]
        feeds = [data[name] for name in FEEDS if data.get(name)]
        medias = [item["media"] for feed in feeds for section in feed["sections"]
                  for item in section["layout_content"].get("medias") or ()]
    except (KeyError, TypeError, AttributeError) as error:
        raise ResponseShapeError(f"not a tags/web_info body: {error!r}") from error
    if not feeds:
        raise ResponseShapeError("tags/web_info body has neither top nor recent posts")
    return parse_each(medias, lambda media: listing_from_media(media, tag))


def parse_tag_page(html: str, data_bodies: Iterable[bytes], tag: str) -> SearchPage:
    """A rendered hashtag page: the page as drawn and the bodies of its web_info fetches.

    Each post once: a top post is often among the recent ones too.
    """
    if Selector(text=html).css(LOGIN_FORM):
        raise BlockedError("Instagram showed its login page instead of the hashtag's posts")
    documents = []
    for body in data_bodies:
        try:
            documents.append(decode_json(body))
        except DecodeError as error:
            raise ResponseShapeError(
                f"web_info body is not JSON ({error}): {body[:120]!r}") from error
    if any(isinstance(d, dict) and d.get("require_login") for d in documents):
        raise BlockedError("Instagram's web_info answered require_login")
    if not documents:
        raise ResponseShapeError("the hashtag page fetched no tags/web_info data")
    unique: dict[str, Listing] = {}
    problems: list[str] = []
    for document in documents:
        listings, skipped = parse_web_info(document, tag)
        problems += skipped
        for listing in listings:
            unique.setdefault(listing.listing_id, listing)
    return SearchPage(list(unique.values()), has_more=False, problems=tuple(problems))


def load_cookies(path: Path) -> list[dict[str, Any]]:
    """The instagram.com cookies of a cookie file, as Playwright's ``add_cookies`` takes them.

    Reads a Netscape ``cookies.txt``, a JSON list of cookies (browser-extension exports) or a
    Playwright storage state (``{"cookies": [...]}``). Cookies of other sites are dropped.
    Every cookie is made HttpOnly and Secure (``harden_cookies``): Instagram marks its
    ``csrftoken`` and ``ds_user_id`` readable by scripts, and a page must read none.
    Errors name the file but never quote it: it holds secrets.
    """
    try:
        text = path.read_text("utf-8")
        cookies = (_json_cookies(decode_json(text)) if text.lstrip().startswith(("[", "{"))
                   else _netscape_cookies(text))
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(f"{path} is not a readable JSON or Netscape cookies file") from None
    ours = [c for c in cookies if c["domain"].lstrip(".") == COOKIE_DOMAIN
            or c["domain"].endswith("." + COOKIE_DOMAIN)]
    if not ours:
        raise ValueError(f"{path} holds no {COOKIE_DOMAIN} cookies")
    return harden_cookies(ours)


def _json_cookies(document: Any) -> list[dict[str, Any]]:
    entries = document["cookies"] if isinstance(document, dict) else document
    cookies = []
    for entry in entries:
        cookie = {"name": entry["name"], "value": entry["value"], "domain": entry["domain"],
                  "path": entry.get("path") or "/", "secure": bool(entry.get("secure")),
                  "httpOnly": bool(entry.get("httpOnly"))}
        if not all(isinstance(cookie[key], str) for key in ("name", "value", "domain", "path")):
            raise TypeError("a cookie's name, value, domain and path must be strings")
        expires = entry.get("expires", entry.get("expirationDate"))
        if isinstance(expires, (int, float)) and expires > 0:
            cookie["expires"] = expires
        same_site = _SAME_SITE.get(str(entry.get("sameSite", "")).lower())
        if same_site:
            cookie["sameSite"] = same_site
        cookies.append(cookie)
    return cookies


def _netscape_cookies(text: str) -> list[dict[str, Any]]:
    """The cookies of a Netscape ``cookies.txt``. (Not ``http.cookiejar``: it warns with a
    traceback, which can quote a cookie, on lines it cannot read.)"""
    cookies = []
    for raw_line in text.splitlines():
        http_only = raw_line.startswith(HTTP_ONLY_PREFIX)
        line = raw_line.removeprefix(HTTP_ONLY_PREFIX)
        if not line.strip() or line.startswith("#"):
            continue
        domain, _, path, secure, expires, name, value = line.split("\t")
        cookie = {"name": name, "value": value, "domain": domain, "path": path or "/",
                  "secure": secure.upper() == "TRUE", "httpOnly": http_only}
        if int(expires) > 0:
            cookie["expires"] = int(expires)
        cookies.append(cookie)
    return cookies


class InstagramSpider(RenderedSearchSpider):
    name = "instagram"
    allowed_domains = ["www.instagram.com"]
    page_size = 33  # the web client's hashtag page: 9 top posts and 24 recent ones
    ready_selector = f"{POST_LINK}, {LOGIN_FORM}"
    data_url = WEB_INFO_URL
    # Its pages draw from these besides www.instagram.com (outside replica mode, nothing
    # else is reached: a page cannot hand what it holds to a third party).
    page_hosts = ("instagram.com", "cdninstagram.com", "fbcdn.net")

    def __init__(self, keywords: str | Iterable[str] | None = None, *args: Any,
                 cookies: str | None = None, **kwargs: Any):
        tags = [hashtag(k) for k in parse_keywords(keywords) or default_hashtags()]
        super().__init__(tags, *args, **kwargs)
        self.cookies_file = cookies
        self.session_cookies: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> InstagramSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        path = spider.cookies_file or Config.from_crawler(crawler).instagram.cookies_file
        if path:
            spider.session_cookies = load_cookies(Path(path))
            spider.logger.info("Using %d instagram.com session cookies from %s",
                               len(spider.session_cookies), path)
        return spider

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        return scrapy.Request(f"{SITE}/explore/tags/{quote(keyword, safe='')}/")

    def parse_page(self, response: Response, keyword: str, page: int) -> SearchPage:
        bodies = [data.body for data in self.data_responses(response)]
        return parse_tag_page(response.text, bodies, keyword)
