"""One JSON decoder for everything read from outside: any input decodes or is a
DecodeError (a ValueError), never a RecursionError or UnicodeDecodeError."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.decoding import DecodeError, decode_json


def test_json_decodes():
    assert decode_json(b'{"a": [1, "b"]}') == {"a": [1, "b"]}
    assert decode_json("[]") == []


@pytest.mark.parametrize(("data", "reason"), [
    (b"<html>captcha</html>", "Expecting value, line 1 column 1"),
    ("[" * 100_000 + "]" * 100_000, "nested deeper"),
    (b'{"a": "\xff\xfe"}', "not UTF-8"),
    (b"", "Expecting value"),
])
def test_what_is_not_json_is_a_decode_error_with_a_reason(data, reason):
    with pytest.raises(DecodeError, match=reason):
        decode_json(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode)
       | st.integers(1, 50_000).map(lambda depth: ('{"a":' * depth + "1" + "}" * depth).encode()))
def test_any_bytes_decode_or_raise_decode_error(data):
    try:
        value = decode_json(data)
    except DecodeError as error:
        assert isinstance(error, ValueError)
        assert str(error)
    else:
        assert json.dumps(value) is not None


@pytest.mark.parametrize("document", ['{"price": ' + "9" * 5000 + "}", "[" + "1" * 4301 + "]"])
def test_a_number_too_long_to_convert_is_a_decode_error(document):
    with pytest.raises(DecodeError, match="number too long"):
        decode_json(document)
    with pytest.raises(DecodeError, match="number too long"):
        decode_json(document.encode())
