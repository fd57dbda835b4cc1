"""Which requests go to the shared frontier, and what comes back from it.

A request is shared as the JSON of :meth:`scrapy.Request.to_dict` (:mod:`.serializer`). What
only means something inside one process (the capture of its response, its download slot,
the frontier's own lease) is left out. A request that cannot be written exactly (a listing
page's request carries the search card, an object) raises :class:`NotShareable` and the
scheduler keeps it in the process.

An entry read back from Redis is outside input: :func:`from_entry` builds a request only
from what thriftwatch's spiders put in one, and raises :class:`EntryDecodeError` for
anything else. No class is loaded by name (``_class`` is one of three request classes); a
callback or errback is a public method of the spider's own code, never a method Scrapy's
``Spider`` has; meta keys are limited to those below, so an entry cannot set a proxy,
widen the fetch guard's hosts or switch off robots.txt.
"""

from __future__ import annotations

import inspect
import re
from typing import TYPE_CHECKING, Any

from scrapy import FormRequest, Request
from scrapy.http import JsonRequest

from crawler.frontier.serializer import EntryDecodeError, EntryEncodeError, dumps, loads
from crawler.keys import Meta

if TYPE_CHECKING:
    from scrapy import Spider

# Set by the scheduler on a request popped from the frontier: its lease token.
TOKEN_META = "thriftwatch_frontier_token"  # noqa: S105 - a meta key
# Meta a shared request may carry (what the spiders and Scrapy's retries set).
SHARED_META = frozenset({
    "handle_httpstatus_list", "dont_redirect", "retry_times", "depth", "download_timeout",
    "is_start_request", Meta.RENDER, Meta.CREDENTIALS,
})
# Meta that belongs to one process's handling of a request: dropped when it is shared.
LOCAL_META = frozenset({
    "download_slot", "download_latency", "retry_reason", TOKEN_META,
    Meta.CAPTURE, Meta.SCREENSHOT, Meta.REPLICA,
})
REQUEST_CLASSES = {
    "scrapy.http.request.form.FormRequest": FormRequest,
    "scrapy.http.request.json_request.JsonRequest": JsonRequest,
}
# Methods of thriftwatch's spiders that are no request's callback.
NOT_CALLBACKS = frozenset({"start", "start_requests", "from_crawler", "update_settings",
                           "close", "closed", "log", "handles_request", "set_crawler"})
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
_METHOD = re.compile(r"[A-Z]{1,10}")
MAX_PRIORITY = 10**6
MAX_URL = 16_384  # characters


class NotShareable(Exception):
    """The request stays in this process's own queue; the message says why."""


def to_entry(request: Request, spider: Spider) -> bytes:
    """``request`` as a queue entry, or :class:`NotShareable`."""
    try:
        data = request.to_dict(spider=spider)
    except ValueError as error:  # a callback that is no method of the spider
        raise NotShareable(str(error)) from None
    meta = {key: value for key, value in data.get("meta", {}).items() if key not in LOCAL_META}
    unknown = sorted(key for key in meta if key not in SHARED_META)
    if unknown:
        raise NotShareable(f"meta {', '.join(map(repr, unknown))} is not shared")
    data["meta"] = meta
    if data.get("_class") is not None and data["_class"] not in REQUEST_CLASSES:
        raise NotShareable(f"a {data['_class']} is not shared")
    if not _readable_url(data["url"]) or abs(data.get("priority", 0)) > MAX_PRIORITY:
        raise NotShareable("a URL or priority an entry read back would be refused for")
    try:
        return dumps(data)
    except EntryEncodeError as error:
        raise NotShareable(str(error)) from None


def from_entry(entry: bytes, spider: Spider) -> Request:
    """The request a queue entry holds, or :class:`EntryDecodeError`; nothing in it is run."""
    data = loads(entry)
    request_cls = Request
    if "_class" in data:
        request_cls = REQUEST_CLASSES.get(data["_class"]) if isinstance(
            data["_class"], str) else None
        if request_cls is None:
            raise EntryDecodeError("a request class thriftwatch does not share")
    url = data.get("url")
    if not _readable_url(url):
        raise EntryDecodeError("no http(s) URL")
    method = data.get("method", "GET")
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        raise EntryDecodeError("a method that is not an HTTP method")
    meta = data.get("meta") or {}
    if not isinstance(meta, dict) or not set(meta) <= SHARED_META:
        raise EntryDecodeError("meta keys thriftwatch does not share")
    priority = data.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or abs(
            priority) > MAX_PRIORITY:
        raise EntryDecodeError("a priority that is not a whole number in range")
    cb_kwargs = data.get("cb_kwargs") or {}
    if not isinstance(cb_kwargs, dict) or not all(isinstance(key, str) for key in cb_kwargs):
        raise EntryDecodeError("callback arguments that are not named")
    flags = data.get("flags") or []
    if not isinstance(flags, list) or not all(isinstance(flag, str) for flag in flags):
        raise EntryDecodeError("flags that are not text")
    kwargs: dict[str, Any] = {
        "url": url, "method": method, "meta": meta, "priority": priority,
        "cb_kwargs": cb_kwargs, "flags": flags,
        "dont_filter": data.get("dont_filter") is True,
        "callback": _method(spider, data.get("callback")),
        "errback": _method(spider, data.get("errback")),
    }
    for name in ("headers", "body", "cookies", "encoding"):
        if data.get(name) is not None:
            kwargs[name] = data[name]
    try:
        return request_cls(**kwargs)
    except (TypeError, ValueError, AttributeError, UnicodeError) as error:
        raise EntryDecodeError(f"not a request: {type(error).__name__}") from None


def _readable_url(url: Any) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://")) \
        and len(url) <= MAX_URL


def _method(spider: Spider, name: Any) -> Any:
    """The spider's own public method called ``name`` (None for none)."""
    if name is None:
        return None
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in NOT_CALLBACKS:
        raise EntryDecodeError("a callback that is no request callback of the spider")
    method = getattr(spider, name, None)
    home = type(spider).__module__.split(".")[0]
    if (not inspect.ismethod(method) or method.__self__ is not spider
            or method.__func__.__module__.split(".")[0] != home):
        raise EntryDecodeError(f"a callback {name!r} the spider's own code does not define")
    return method
