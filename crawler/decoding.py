"""JSON decoding for everything thriftwatch reads from outside: platform responses, the
page's own data fetches, profile sites, ``thriftwatch flag`` input and labelled sets.

One helper, so every reader fails the same way: :class:`DecodeError` (a ``ValueError``)
with a short reason, whether the text is not JSON, is not UTF-8, or nests deeper than the
interpreter can follow (a seller-built document can, and ``json`` then raises
``RecursionError``, which would escape a ``ValueError`` handler), or holds a number longer
than Python converts (over 4,300 digits: a plain ``ValueError`` that is not a
``JSONDecodeError``).
"""

from __future__ import annotations

import json
from typing import Any


class DecodeError(ValueError):
    """Text that could not be decoded as JSON; the message says why, never quoting it."""


def decode_json(data: bytes | str) -> Any:
    """``data`` decoded as JSON, or :class:`DecodeError`."""
    try:
        return json.loads(data)
    except RecursionError:
        raise DecodeError("nested deeper than any answer thriftwatch reads") from None
    except json.JSONDecodeError as error:
        raise DecodeError(f"{error.msg}, line {error.lineno} column {error.colno}") from None
    except UnicodeDecodeError as error:
        raise DecodeError(f"not UTF-8 text ({error.reason})") from None
    except ValueError:  # int() refuses a number of more than sys.get_int_max_str_digits()
        raise DecodeError("holds a number too long to read") from None
