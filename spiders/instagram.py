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

A post's own page ``/p/<shortcode>/`` is rendered too: its script fetches the post,
``/api/v1/media/<pk>/info/`` (``items[0]``: ``code``, ``caption.text``, ``user``,
``carousel_media[].image_versions2.candidates`` or, for one photo, ``image_versions2``),
then its seller's profile, ``/api/v1/users/web_profile_info/?username=<name>``
(``data.user``: ``biography``, ``bio_links[].url``, ``external_url``,
``edge_followed_by.count``, ``city_name``), and draws both. Both answers are kept as
evidence and read. No capture of either is in ../shared/corpus: the names follow the web
client's public endpoints as public scrapers read them, as the replica serves them
(crawler/replica/instagram.py), unverified against a live page. Instagram shows no join
date, sales, rating, variants or stock.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import scrapy
from parsel import Selector

from crawler.config import Config
from crawler.decoding import DecodeError, decode_json
from crawler.items import Listing, ListingPage
from crawler.runtime.browser import harden_cookies
from spiders.base import (
    BlockedError,
    ListingGoneError,
    ResponseShapeError,
    SearchPage,
    parse_each,
    parse_keywords,
)
from spiders.listing_values import (
    MAX_DATA,
    MAX_IMAGES,
    as_list,
    as_object,
    page_count,
    page_id,
    page_name,
    page_text,
    page_url,
    page_urls,
)
from spiders.rendered import RenderedSearchSpider

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy.http import Response

SITE = "https://www.instagram.com"
COOKIE_DOMAIN = "instagram.com"
WEB_INFO_URL = r"^https://www\.instagram\.com/api/v1/tags/web_info/"
POST_LINK = 'article a[href^="/p/"]'
LOGIN_FORM = "#loginForm"  # the login page Instagram shows instead of the hashtag's posts
# A post's page fetches these two; the spider keeps both.
POST_DATA_URL = (r"^https://www\.instagram\.com/api/v1/"
                 r"(?:media/\d{1,25}/info/|users/web_profile_info/)")
MEDIA_INFO_PATH = re.compile(r"^/api/v1/media/\d{1,25}/info/")
UNAVAILABLE = "[data-testid=page-unavailable]"  # "Maaf, halaman ini tidak tersedia."
POST_PATH = re.compile(r"^/p/([A-Za-z0-9_-]{1,40})/?$")
# Drawn once the post and its seller are on the page, or on the not-found or login page.
POST_READY = f"[data-testid=seller-profile][data-state=loaded], {UNAVAILABLE}, {LOGIN_FORM}"
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


def listing_page_from_post(html: str, media_bodies: Iterable[bytes],
                           profile_bodies: Iterable[bytes], url: str) -> ListingPage:
    """A rendered post page: the page as drawn, the bodies of its ``media/<pk>/info`` and
    ``users/web_profile_info`` fetches, and the post's URL.

    The post's own answer decides: an item whose ``code`` is the URL's shortcode is the
    listing's page, its seller's profile added when the profile answer is that user's.
    Without one, Instagram's login form (or a ``require_login`` answer) is
    :class:`BlockedError` and its "page unavailable" element :class:`ListingGoneError`
    (elements Instagram draws: a caption is text, never an element); anything else is
    :class:`ResponseShapeError`.
    """
    match = POST_PATH.match(urlsplit(url).path)
    if match is None:
        raise ResponseShapeError(f"not an Instagram post URL: {url[:120]!r}")
    code = match[1]
    documents = [_document(body) for body in media_bodies]
    post = next((item for document in documents
                 for item in as_list(as_object(document).get("items"))[:MAX_IMAGES]
                 if isinstance(item, dict) and item.get("code") == code), None)
    if post is None:
        if Selector(text=html).css(LOGIN_FORM) or any(
                as_object(document).get("require_login") for document in documents):
            raise BlockedError("Instagram showed its login page instead of the post")
        if Selector(text=html).css(UNAVAILABLE):
            raise ListingGoneError("Instagram says the post is unavailable")
        raise ResponseShapeError(f"no media info answer for post {code} among "
                                 f"{len(documents)} fetched")
    page = post_page(post, code, url)
    username = page.seller_name
    for body in profile_bodies:
        user = as_object(as_object(as_object(_document(body)).get("data")).get("user"))
        if username and user.get("username") == username:
            add_profile(page, user)
            break
    return page


def _document(body: bytes) -> Any:
    """A data fetch's JSON, or None for one that is not JSON or larger than any answer."""
    if len(body) > MAX_DATA:
        return None
    try:
        return decode_json(body)
    except ValueError:  # DecodeError, or a number of more than 4300 digits
        return None


def post_page(post: dict[str, Any], code: str, url: str) -> ListingPage:
    """The :class:`ListingPage` of one ``media/<pk>/info`` item; fields of the wrong type
    are left out. The caption is the description (sellers write everything there), its
    first line the title, as on the hashtag page."""
    caption = page_text(as_object(post.get("caption")).get("text"))
    lines = [line.strip() for line in (caption or "").splitlines()[:10] if line.strip()]
    user = as_object(post.get("user"))
    username = page_name(user.get("username"))
    photos = as_list(post.get("carousel_media"))[:MAX_IMAGES] or [post]
    return ListingPage(
        platform="instagram",
        listing_id=code,
        url=url,
        title=lines[0][:MAX_TITLE] if lines else None,
        description=caption,
        image_urls=page_urls(
            (as_object((as_list(as_object(as_object(photo).get("image_versions2"))
                                .get("candidates")) or [None])[0]).get("url")
             for photo in photos), url),
        seller_id=page_id(user.get("pk")),
        seller_name=username,
        seller_url=f"{SITE}/{quote(username, safe='')}/" if username else None,
    )


def add_profile(page: ListingPage, user: dict[str, Any]) -> None:
    """The seller's profile from ``web_profile_info``'s ``data.user``: the biography and
    its links (where sellers put their WhatsApp number) as ``seller_about``, one a line."""
    links = [page_url(as_object(link).get("url"), page.url)
             for link in as_list(user.get("bio_links"))[:MAX_IMAGES]]
    links.append(page_url(user.get("external_url"), page.url))
    about = [page_text(user.get("biography")), *dict.fromkeys(filter(None, links))]
    page.seller_about = page_text("\n".join(filter(None, about)))
    page.seller_followers = page_count(as_object(user.get("edge_followed_by")).get("count"))
    page.seller_location = page_name(user.get("city_name"))
    page.seller_id = page.seller_id or page_id(user.get("id"))


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

    def listing_page_request(self, listing: Listing) -> scrapy.Request | None:
        """The post's page, rendered in Chromium with a full-page screenshot; its post and
        profile answers are kept."""
        if urlsplit(listing.url).hostname not in self.allowed_domains:
            return None
        return self.render_listing_page(listing.url, POST_READY, data_url=POST_DATA_URL)

    def parse_listing_page(self, response: Response, listing: Listing) -> ListingPage:
        data = self.data_responses(response)
        media = [d.body for d in data if MEDIA_INFO_PATH.match(urlsplit(d.url).path)]
        profiles = [d.body for d in data if not MEDIA_INFO_PATH.match(urlsplit(d.url).path)]
        return listing_page_from_post(response.text, media, profiles, listing.url)
