"""JSON for queue entries (``SCHEDULER_SERIALIZER``): scrapy-redis pickles by default, and
an entry read back from Redis is input from outside, which pickle would run as code.

``dumps`` takes the dict of a request (:meth:`scrapy.Request.to_dict`) and refuses anything
JSON cannot hold exactly (:class:`EntryEncodeError`, naming where); ``loads`` gives it back or
raises :class:`EntryDecodeError`, evaluating nothing. Bytes travel as base64, tuples and
dicts with keys other than plain text as tagged lists, so a request comes back as it went.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any

from crawler.decoding import DecodeError, decode_json

MAX_ENTRY_BYTES = 1_000_000  # no search request comes near: a bigger entry is refused
MAX_DEPTH = 32  # nesting of lists and dicts in one entry
# A dict whose keys are all text and none starts with "$" is written as a JSON object;
# everything else is one of these one-key objects.
BYTES, TUPLE, MAP = "$b64", "$tuple", "$map"


class EntryEncodeError(TypeError):
    """A request holds something JSON cannot carry exactly; the message says what and where."""


class EntryDecodeError(ValueError):
    """A queue entry that is not one this serializer wrote; the message says why."""


def dumps(obj: dict[str, Any]) -> bytes:
    """``obj`` as compact UTF-8 JSON, or :class:`EntryEncodeError`."""
    data = json.dumps(_encode(obj, "request", 0), ensure_ascii=False, allow_nan=False,
                      separators=(",", ":"), sort_keys=True).encode("utf-8")
    if len(data) > MAX_ENTRY_BYTES:
        raise EntryEncodeError(f"the request is {len(data)} bytes as JSON, more than "
                               f"{MAX_ENTRY_BYTES}")
    return data


def loads(data: bytes | str) -> dict[str, Any]:
    """The dict :func:`dumps` wrote, or :class:`EntryDecodeError`."""
    if len(data) > MAX_ENTRY_BYTES:
        raise EntryDecodeError(f"an entry of {len(data)} bytes, more than {MAX_ENTRY_BYTES}")
    try:
        value = decode_json(data)
    except DecodeError as error:
        raise EntryDecodeError(f"not JSON: {error}") from None
    decoded = _decode(value, 0)
    if not isinstance(decoded, dict):
        raise EntryDecodeError(f"an entry is a JSON object, not {type(decoded).__name__}")
    return decoded


def _encode(value: Any, where: str, depth: int) -> Any:
    """``value`` as JSON values. Types are matched exactly: a subclass of ``str`` (a keyword
    tagged with more) would come back as a plain ``str``, so it is refused."""
    if depth > MAX_DEPTH:
        raise EntryEncodeError(f"{where} nests deeper than {MAX_DEPTH}")
    kind = type(value)
    if value is None or kind in (bool, str, int):
        return value
    if kind is float:
        if not math.isfinite(value):
            raise EntryEncodeError(f"{where} is {value}, which JSON cannot hold")
        return value
    if kind in (bytes, bytearray):
        return {BYTES: base64.b64encode(bytes(value)).decode("ascii")}
    if kind is list:
        return [_encode(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    if kind is tuple:
        return {TUPLE: [_encode(item, f"{where}[{i}]", depth + 1)
                        for i, item in enumerate(value)]}
    if kind is dict:
        if all(type(key) is str and not key.startswith("$") for key in value):
            return {key: _encode(item, f"{where}[{key!r}]", depth + 1)
                    for key, item in value.items()}
        pairs = []
        for key, item in value.items():
            if type(key) not in (str, bytes, int):
                raise EntryEncodeError(f"{where} has a key of type {type(key).__name__}")
            pairs.append([_encode(key, f"{where} key", depth + 1),
                          _encode(item, f"{where}[{key!r}]", depth + 1)])
        return {MAP: pairs}
    raise EntryEncodeError(f"{where} is a {kind.__module__}.{kind.__qualname__}, which is "
                           f"not plain JSON: the request cannot be shared")


def _decode(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise EntryDecodeError(f"nested deeper than {MAX_DEPTH}")
    if isinstance(value, list):
        return [_decode(item, depth + 1) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and next(iter(value)).startswith("$"):
        (tag, inner), = value.items()
        if tag == BYTES and isinstance(inner, str):
            try:
                return base64.b64decode(inner, validate=True)
            except (binascii.Error, ValueError):
                raise EntryDecodeError("bytes that are not base64") from None
        if tag == TUPLE and isinstance(inner, list):
            return tuple(_decode(item, depth + 1) for item in inner)
        if tag == MAP and isinstance(inner, list):
            result: dict[Any, Any] = {}
            for pair in inner:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise EntryDecodeError("a map entry that is not a [key, value] pair")
                key = _decode(pair[0], depth + 1)
                if not isinstance(key, (str, bytes, int)) or isinstance(key, bool):
                    raise EntryDecodeError("a map key that is not text, bytes or a number")
                result[key] = _decode(pair[1], depth + 1)
            return result
        raise EntryDecodeError(f"an unknown or malformed tag {tag[:20]!r}")
    if any(key.startswith("$") for key in value):
        raise EntryDecodeError("a plain object with a key starting with '$'")
    return {key: _decode(item, depth + 1) for key, item in value.items()}
