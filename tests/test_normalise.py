"""The normalisers, as plain functions over plain data."""

import time

import pytest

from crawler.normalise import (
    clean_identifier,
    clean_line,
    clean_text,
    normalise_city,
    normalise_listing,
    parse_price_idr,
    parse_sold_count,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("Rp23.999", 23_999),
    ("Rp 1.500.000", 1_500_000),
    ("Rp1.000", 1_000),
    ("Rp1,5jt", 1_500_000),
    ("Rp 8 jt", 8_000_000),
    ("Rp2.5 juta", 2_500_000),
    ("150rb", 150_000),
    ("150 ribu", 150_000),
    ("IDR 250,000", 250_000),
    ("Rp 75.000,00", 75_000),
    ("Rp 10.000 - Rp 20.000", 10_000),
    ("Rp0", 0),
    ("harga nego", None),
    ("", None),
    (None, None),
    ("Rp99999999999999999999", None),
])
def test_price_in_every_written_form(text, expected):
    assert parse_price_idr(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("750+ terjual", 750),
    ("10rb+ terjual", 10_000),
    ("1,2rb terjual", 1_200),
    ("1.2K sold", 1_200),
    ("Terjual 17", 17),
    ("17 terjual", 17),
    ("2jt+ terjual", 2_000_000),
    (42, 42),
    (-3, None),
    (True, None),
    ("", None),
    ("baru", None),
    (None, None),
])
def test_sold_counts(text, expected):
    assert parse_sold_count(text) == expected


@pytest.mark.parametrize("text", ["1" * 50_000, "Rp " + "9" * 50_000 + " rb"])
def test_a_number_no_price_is_written_with_is_read_in_bounded_time(text):
    # A seller's price or sold text of 50,000 digits: price_parser's reading of a number is
    # quadratic in its length (16 s here), and every listing on the page pays it.
    started = time.perf_counter()
    assert parse_price_idr(text) is None
    assert parse_sold_count(text) is None
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(("text", "expected"), [
    ("KOTA BANDUNG", "Bandung"),
    ("KAB. BANDUNG", "Kab. Bandung"),
    ("Kabupaten Sidoarjo", "Kab. Sidoarjo"),
    ("Kota Jakarta Timur", "Jakarta Timur"),
    ("Kota Adm. Jakarta Selatan", "Jakarta Selatan"),
    ("jakbar", "Jakarta Barat"),
    ("  Batam ", "Batam"),
    ("Luar Negeri", "Luar Negeri"),
    ("Medan Kota", "Medan"),
    ("Bandung Kab.", "Kab. Bandung"),
    ("", None),
    (None, None),
])
def test_one_spelling_per_city(text, expected):
    assert normalise_city(text) == expected


def test_clean_text_collapses_space_and_controls_but_keeps_letters():
    assert clean_text("  Kemeja\u00a0 flanel\t\x07 \n\n  isi 100  ") == "Kemeja flanel\nisi 100"
    fancy = "𝐛𝐚𝐥𝐩𝐫𝐞𝐬"  # the seller's fancy letters are evidence: not folded here
    assert clean_text(fancy) == fancy
    assert clean_text("e\u0301") == "é"  # NFC composes
    assert clean_text("   ") is None
    assert clean_text("bal\udfffpres\x1b[2K\x9b\u202e") == "bal\ufffdpres [2K"


def test_ids_and_urls_lose_every_control_character_and_titles_are_one_line():
    assert clean_identifier(" 1\r\x1b[2K\t2\u2066 ") == "1[2K2"
    assert clean_identifier("12345\udfff") == "12345\ufffd"
    assert clean_identifier("\x1b\x07") is None
    assert clean_identifier("e\u0301") == "e\u0301"  # an id is matched as it is: no NFC
    assert clean_line("Kemeja\nflanel\r\n isi 100") == "Kemeja flanel isi 100"
    assert clean_line(None) is None


def test_normalise_listing_derives_typed_values_and_keeps_structured_ones():
    listing = {"title": " Balpres  jaket ", "price_text": "Rp 8,5 jt", "price_idr": None,
               "sold_text": "1,2rb terjual", "sold_count": None, "location": "KOTA MEDAN"}
    out = normalise_listing(listing)
    assert out["title"] == "Balpres jaket"
    assert out["price_idr"] == 8_500_000
    assert out["sold_count"] == 1_200
    assert out["location"] == "Medan"
    assert listing["title"] == " Balpres  jaket "  # input untouched
    kept = normalise_listing({"title": "x", "price_text": "Rp1", "price_idr": 23_999})
    assert kept["price_idr"] == 23_999
