"""Photo fingerprints (crawler/sellers/images.py): the same photo re-encoded, resized or
saved in another format keeps its pHash within a few bits, a different photo does not;
non-images and decompression bombs give None; a stock photo posted by many accounts is
named common and links nobody.

The photos are drawn here with Pillow (a smooth background with blurred shapes, like a
product on a table), so the test needs no image files.
"""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter

from crawler.sellers.images import (
    MAX_BYTES,
    MAX_FULL_DECODE_PIXELS,
    MAX_PIXELS,
    Fingerprint,
    common_hashes,
    distance,
    fingerprint,
    near_pairs,
)

SAME = 6  # the default THRIFTWATCH_IMAGE_DISTANCE: near-identical at or below
DIFFERENT = 20


def photo(seed: int, size: tuple[int, int] = (800, 600)) -> Image.Image:
    """A photo-like picture: a lit background and blurred objects, different per seed."""
    chance = random.Random(seed)
    width, height = size
    picture = Image.new("RGB", size)
    draw = ImageDraw.Draw(picture)
    tint = [chance.randrange(256) for _ in range(3)]
    for y in range(height):
        shade = y / height
        draw.line([(0, y), (width, y)],
                  fill=(int(tint[0] * shade), int(tint[1] * (1 - shade)), tint[2]))
    for _ in range(30):
        x, y = chance.randrange(width), chance.randrange(height)
        w = chance.randrange(width // 20, width // 3)
        h = chance.randrange(height // 20, height // 3)
        colour = tuple(chance.randrange(256) for _ in range(3))
        if chance.random() < 0.5:
            draw.ellipse([x, y, x + w, y + h], fill=colour)
        else:
            draw.rectangle([x, y, x + w, y + h], fill=colour)
    return picture.filter(ImageFilter.GaussianBlur(width / 300))


def encode(picture: Image.Image, image_format: str = "JPEG", **options: object) -> bytes:
    body = io.BytesIO()
    picture.save(body, image_format, **options)
    return body.getvalue()


def phash(body: bytes) -> str:
    found = fingerprint(body)
    assert found is not None
    return found.phash


@pytest.fixture(scope="module")
def original() -> Image.Image:
    return photo(1)


def test_a_photo_has_a_16_hex_digit_phash_and_its_size(original: Image.Image) -> None:
    found = fingerprint(encode(original, quality=92))
    assert isinstance(found, Fingerprint)
    assert len(found.phash) == 16
    assert int(found.phash, 16) >= 0
    assert (found.width, found.height) == (800, 600)
    assert fingerprint(encode(original, quality=92)) == found  # deterministic


def test_the_same_photo_as_platforms_serve_it_stays_near(original: Image.Image) -> None:
    first = phash(encode(original, quality=92))
    copies = {
        "re-encoded at quality 40": encode(original, quality=40),
        "re-encoded at quality 75, progressive": encode(original, quality=75, progressive=True),
        "resized to half": encode(original.resize((400, 300)), quality=85),
        "resized to a thumbnail": encode(original.resize((200, 150)), quality=80),
        "enlarged": encode(original.resize((1600, 1200)), quality=90),
        "PNG": encode(original, "PNG"),
        "WebP": encode(original, "WEBP", quality=60),
        "GIF (256 colours)": encode(original.convert("P"), "GIF"),
    }
    distances = {name: distance(first, phash(body)) for name, body in copies.items()}
    assert all(value <= SAME for value in distances.values()), distances


def test_different_photos_are_far_apart(original: Image.Image) -> None:
    first = phash(encode(original, quality=92))
    distances = [distance(first, phash(encode(photo(seed)))) for seed in range(2, 22)]
    assert min(distances) > DIFFERENT, distances


def test_a_photo_turned_by_its_exif_orientation_is_read_upright(original: Image.Image) -> None:
    """A phone stores a portrait as landscape pixels with an EXIF orientation; the
    platform that turns the pixels itself must give the same fingerprint."""
    stored = original.transpose(Image.Transpose.ROTATE_90)  # 600 x 800 pixels
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to show"
    found = fingerprint(encode(stored, quality=90, exif=exif.tobytes()))
    assert found is not None
    assert (found.width, found.height) == (800, 600)
    assert distance(found.phash, phash(encode(original, quality=90))) <= SAME


def test_transparent_and_animated_images(original: Image.Image) -> None:
    transparent = original.convert("RGBA")
    transparent.putalpha(200)
    assert fingerprint(encode(transparent, "PNG")) is not None
    frames = [original.convert("P"), photo(2).convert("P")]
    body = io.BytesIO()
    frames[0].save(body, "GIF", save_all=True, append_images=frames[1:], duration=100)
    animated = fingerprint(body.getvalue())
    assert animated is not None  # the first frame
    assert distance(animated.phash, phash(encode(original))) <= SAME


def png(width: int, height: int, data: bytes = b"\x00", *, crc_ok: bool = True) -> bytes:
    """A PNG whose header claims ``width`` x ``height``, whatever its data holds."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) ^ (0 if crc_ok else 1)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b""))


def bmp(picture: Image.Image) -> bytes:
    return encode(picture, "BMP")


@pytest.mark.parametrize(("name", "body"), [
    ("nothing", b""),
    ("text", b"hello, this is not a picture"),
    ("an HTML page", b"<!doctype html><html><body><img src=x></body></html>"),
    ("an SVG", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'),
    ("a JSON error", b'{"error": "not found"}'),
    ("a JPEG cut short", encode(photo(3), quality=90)[:2000]),
    ("a JPEG header only", encode(photo(3), quality=90)[:200]),
    ("a PNG with a broken checksum", png(10, 10, crc_ok=False)),
    ("a PNG whose data is too short", png(100, 100, b"\x00")),
    ("a decompression bomb: 100,000 x 100,000", png(100_000, 100_000)),
    ("just over the pixel bound", png(8000, MAX_PIXELS // 8000 + 1)),
    ("a BMP (a format not opened)", bmp(photo(3, (64, 48)))),
    ("a zero-size PNG", png(0, 0)),
])
def test_anything_but_a_safe_image_gives_none(name: str, body: bytes) -> None:
    assert fingerprint(body) is None, name


def test_a_body_over_the_byte_bound_is_not_opened() -> None:
    body = encode(photo(4, (64, 48)), "PNG")
    assert fingerprint(body) is not None
    assert fingerprint(body + b"\x00" * (MAX_BYTES - len(body) + 1)) is None


def test_a_big_photo_within_the_bounds_is_read() -> None:
    """A 12-megapixel camera JPEG (decoded at a fraction of its size) and the platform's
    800-pixel copy of it."""
    camera = photo(5, (4000, 3000))
    found = fingerprint(encode(camera, quality=85))
    assert found is not None
    assert (found.width, found.height) == (4000, 3000)
    assert distance(found.phash, phash(encode(camera.resize((800, 600)), quality=85))) <= SAME


def test_a_picture_decoded_in_full_has_a_lower_pixel_bound() -> None:
    """A JPEG is decoded at a fraction of its size; a PNG (or GIF, WebP) in full, four
    bytes a pixel: the same 17-megapixel picture is read as a JPEG and refused as a PNG."""
    width = 5000
    height = MAX_FULL_DECODE_PIXELS // width + 200
    assert width * height < MAX_PIXELS
    big = photo(6, (500, height // 10)).resize((width, height), Image.Resampling.NEAREST)
    assert fingerprint(encode(big, quality=85)) is not None
    assert fingerprint(encode(big, "PNG", compress_level=1)) is None
    fits = big.resize((4000, MAX_FULL_DECODE_PIXELS // 4000), Image.Resampling.NEAREST)
    assert fingerprint(encode(fits, "PNG", compress_level=1)) is not None


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a",
                        b"RIFF\x00\x00\x00\x00WEBPVP8 "]),
       st.binary(max_size=2000))
def test_any_bytes_give_a_fingerprint_or_none(magic: bytes, rest: bytes) -> None:
    found = fingerprint(magic + rest)
    assert found is None or (len(found.phash) == 16 and found.width > 0 and found.height > 0)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_damaged_real_image_gives_a_fingerprint_or_none(data: st.DataObject) -> None:
    image_format = data.draw(st.sampled_from(["JPEG", "PNG", "GIF", "WEBP"]))
    body = bytearray(encode(photo(6, (160, 120)), image_format))
    for _ in range(data.draw(st.integers(1, 8))):
        body[data.draw(st.integers(0, len(body) - 1))] = data.draw(st.integers(0, 255))
    found = fingerprint(bytes(body))
    assert found is None or len(found.phash) == 16


def test_distance() -> None:
    assert distance("0000000000000000", "0000000000000000") == 0
    assert distance("0000000000000000", "ffffffffffffffff") == 64
    assert distance("8000000000000001", "0000000000000000") == 2
    assert distance("a824555d1b5a4df9", "A824555D1B5A4DF9".lower()) == 0
    for bad in ("", "abc", "0x00000000000000", "g000000000000000", " 000000000000000",
                "00000000000000000", "0000_00000000000"):
        with pytest.raises(ValueError, match="pHash"):
            distance(bad, "0000000000000000")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=12),
       st.lists(st.integers(0, 63), max_size=10), st.integers(0, 12))
def test_near_pairs_are_exactly_the_pairs_within_the_distance(
        bases: list[int], flips: list[int], max_distance: int) -> None:
    """Multi-index hashing finds the same pairs as comparing every pair."""
    values = set(bases)
    for base in bases:  # near copies of each base: some bits flipped
        flipped = base
        for bit in flips:
            flipped ^= 1 << bit
            values.add(flipped)
    hashes = [f"{value:016x}" for value in values]
    expected = {tuple(sorted((a, b))) for a in hashes for b in hashes
                if a != b and distance(a, b) <= max_distance}
    assert {tuple(sorted(pair)) for pair in near_pairs(hashes, max_distance)} == expected
    assert len(list(near_pairs(hashes, max_distance))) == len(expected)  # each pair once


def test_a_stock_photo_on_many_accounts_is_common_an_operators_photo_is_not() -> None:
    """Eight unrelated accounts post the same stock photo, each copy re-encoded or resized
    by its platform; two accounts of one operator share their own photo. Above five
    accounts the stock photo is common (and so links nobody); the operator's is not."""
    stock, own = photo(10), photo(11)
    hashes_by_account: dict[str, list[str]] = {}
    for index in range(8):
        copy = stock.resize((800 - 40 * index, 600 - 30 * index))
        hashes_by_account[f"shopee:{index}"] = [
            phash(encode(copy, quality=95 - 7 * index)), phash(encode(photo(100 + index)))]
    hashes_by_account["tokopedia:op"] = [phash(encode(own, quality=90))]
    hashes_by_account["bukalapak:op"] = [phash(encode(own.resize((400, 300)), quality=60))]
    stock_hashes = {hashes[0] for key, hashes in hashes_by_account.items() if "shopee" in key}
    own_hashes = set(hashes_by_account["tokopedia:op"] + hashes_by_account["bukalapak:op"])

    common = common_hashes(hashes_by_account, max_accounts=5)
    assert common == stock_hashes
    assert not common & own_hashes
    assert common_hashes(hashes_by_account, max_accounts=8) == set()  # not more than 8
    assert common_hashes({}, max_accounts=5) == set()


def test_near_identical_copies_count_as_one_photo() -> None:
    """Six accounts each post a slightly different copy (no two hashes equal): counted
    together they are above the limit; counted exactly, none would be."""
    base = 0x0F0F_0F0F_0F0F_0F0F
    hashes_by_account = {f"facebook:{bit}": [f"{base ^ (1 << bit):016x}"] for bit in range(6)}
    assert len({hash_ for hashes in hashes_by_account.values() for hash_ in hashes}) == 6
    assert common_hashes(hashes_by_account, max_accounts=5) == {
        hashes[0] for hashes in hashes_by_account.values()}
    assert common_hashes(hashes_by_account, max_accounts=5, max_distance=0) == set()
