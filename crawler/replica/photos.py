"""Product photos for the replica: real JPEG and PNG bytes, drawn deterministically with Pillow.

A photo is named by a string (its *photo id*) and drawn from a seed taken from that name:
a studio-like background (a smooth random field between two colours), a garment (a
shirt's outline, turned and placed at random, plain, striped, checked or dotted), then lit
(:func:`_light`): soft light and shade laid over the whole picture so that its perceptual
hash (pHash, as ``crawler.sellers.images.fingerprint`` reads it) is a 64-bit value drawn
from the same seed, with every one of its frequencies well clear of the median. Drawn
shapes alone hash alike (a centred shirt on a smooth background: thousands of them put
unrelated sellers' photos 6 bits apart, which links them); lit, unrelated photos are as
far apart as independent random hashes can be (32 of 64 bits on average, and about one
pair in 25 million within 10 bits), while a *copy* of a photo (the same photo re-encoded
at another JPEG quality or as PNG, resized, as a seller's upload comes out of each
platform's CDN) keeps its hash to the bit.

The *stock photo* is one picture of pressed bales stacked in a warehouse, the kind of
photo taken from the internet that many unrelated sellers put in their listings.

Every image is bounded: sides of at most ``MAX_SIDE`` pixels, so at most a few hundred
kilobytes.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import random
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw

BASE_SIDE = 400  # every photo is drawn at this size, then resized for each copy
MAX_SIDE = 640
STOCK_PHOTO = "stock:bales"
# pHash reads a photo as a 32 x 32 grey picture and keeps the signs, against their median,
# of its 8 x 8 lowest DCT frequencies (unnormalised DCT-II, as scipy computes it).
_HASH_GRID, _HASH_FREQUENCIES = 32, 8
# How far clear of the median every frequency is put: a cosine of 4 grey levels.
_MARGIN = 4.0 * _HASH_GRID**2
_LIGHTING_ROUNDS = 4  # resizing and clipping move a frequency a little; a few rounds settle it
_GRID_BASIS = 2 * np.cos(np.pi * np.outer(np.arange(_HASH_FREQUENCIES),
                                          2 * np.arange(_HASH_GRID) + 1) / (2 * _HASH_GRID))
_GRID_GAIN = np.diag(1 / np.diag(_GRID_BASIS @ _GRID_BASIS.T))
# The same cosines on a coarser grid (pixel centres where the hash grid's fall), from
# which light and shade is stretched smoothly to the side a photo is drawn.
_SHADE_SIDE = 64
_SHADE_BASIS = 2 * np.cos(np.pi * np.outer(np.arange(_HASH_FREQUENCIES),
                                           np.arange(_SHADE_SIDE) + 0.5) / _SHADE_SIDE)
_GREY = 128  # light and shade are stored as grey levels around this one

# A shirt's outline, in units of its width and height around its centre.
_SHIRT = ((-0.5, -0.5), (-0.15, -0.55), (0, -0.45), (0.15, -0.55), (0.5, -0.5), (0.75, -0.2),
          (0.55, -0.05), (0.4, -0.2), (0.4, 0.5), (-0.4, 0.5), (-0.4, -0.2), (-0.55, -0.05),
          (-0.75, -0.2))


@dataclass(frozen=True)
class Copy:
    """How one upload of a photo comes out of a CDN: its side, format and JPEG quality."""

    side: int = BASE_SIDE
    fmt: str = "JPEG"  # or "PNG"
    quality: int = 85

    @property
    def content_type(self) -> str:
        return "image/png" if self.fmt == "PNG" else "image/jpeg"


# The copies a seller's photos come out as on its different accounts: each account serves
# its shared photos as one of these (re-encoded, resized, or both).
COPIES = (Copy(400, "JPEG", 88), Copy(560, "JPEG", 72), Copy(320, "JPEG", 92),
          Copy(360, "PNG"), Copy(640, "JPEG", 65), Copy(448, "JPEG", 80))


def _seed(photo_id: str) -> int:
    return int.from_bytes(hashlib.sha256(photo_id.encode("utf-8")).digest()[:8], "big")


def _colour(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return int(red * 255), int(green * 255), int(blue * 255)


@lru_cache(maxsize=256)
def photo(photo_id: str) -> Image.Image:
    """The photo named ``photo_id``, drawn at ``BASE_SIDE`` pixels (do not modify it)."""
    if photo_id == STOCK_PHOTO:
        return _stock_photo()
    rng = random.Random(_seed(photo_id))
    side = BASE_SIDE
    cells = rng.choice((6, 7, 8))
    field = Image.frombytes("L", (cells, cells), bytes(rng.randrange(256)
                                                        for _ in range(cells * cells)))
    light = _colour(rng.random(), rng.uniform(0.1, 0.5), rng.uniform(0.7, 1.0))
    dark = _colour(rng.random(), rng.uniform(0.2, 0.7), rng.uniform(0.15, 0.5))
    image = Image.composite(Image.new("RGB", (side, side), light),
                            Image.new("RGB", (side, side), dark),
                            field.resize((side, side), Image.Resampling.BICUBIC))
    centre_x, centre_y = rng.uniform(0.3, 0.7) * side, rng.uniform(0.35, 0.65) * side
    width = rng.uniform(0.3, 0.55) * side
    height = width * rng.uniform(0.9, 1.3)
    turn = rng.uniform(-0.5, 0.5)
    outline = [(centre_x + x * width * math.cos(turn) - y * height * math.sin(turn),
                centre_y + x * width * math.sin(turn) + y * height * math.cos(turn))
               for x, y in _SHIRT]
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).polygon(outline, fill=255)
    cloth = Image.new("RGB", (side, side),
                      _colour(rng.random(), rng.uniform(0.3, 1.0), rng.uniform(0.2, 0.95)))
    _pattern(ImageDraw.Draw(cloth), rng, side)
    image.paste(cloth, (0, 0), mask)
    return _light(image, _hash_signs(rng))


def _hash_signs(rng: random.Random) -> np.ndarray:
    """Which of the 8 x 8 frequencies a photo's pHash sets: the first (its mean light,
    always above the median) and 31 of the other 63, drawn at random."""
    chosen = {0, *rng.sample(range(1, _HASH_FREQUENCIES**2), _HASH_FREQUENCIES**2 // 2 - 1)}
    return np.array([index in chosen for index in range(_HASH_FREQUENCIES**2)]).reshape(
        _HASH_FREQUENCIES, _HASH_FREQUENCIES)


def _light(image: Image.Image, signs: np.ndarray) -> Image.Image:
    """``image`` under soft light and shade (a sum of the 63 low cosines pHash reads) that
    puts each frequency at least ``_MARGIN`` above (where ``signs`` is set) or below zero,
    changing only those that are not already: 32 above, 32 below, so the median falls in
    the gap and re-encoding or resizing flips no bit."""
    for _ in range(_LIGHTING_ROUNDS):
        now = _low_frequencies(image)
        wanted = np.where(signs, np.maximum(now, _MARGIN), np.minimum(now, -_MARGIN))
        wanted[0, 0] = now[0, 0]
        change = wanted - now
        if np.abs(change).max() < _MARGIN / 8:
            break
        shade = _SHADE_BASIS.T @ (_GRID_GAIN @ change @ _GRID_GAIN) @ _SHADE_BASIS
        grey = Image.fromarray((shade + _GREY).astype(np.float32), "F").resize(
            image.size, Image.Resampling.BILINEAR).convert("L")
        image = ImageChops.add(image, Image.merge("RGB", (grey, grey, grey)), offset=-_GREY)
    return image


def _low_frequencies(image: Image.Image) -> np.ndarray:
    """The 8 x 8 lowest DCT frequencies of ``image`` as pHash computes them."""
    grey = image.convert("L").resize((_HASH_GRID, _HASH_GRID), Image.Resampling.LANCZOS)
    return _GRID_BASIS @ np.asarray(grey, dtype=np.float64) @ _GRID_BASIS.T


def _pattern(draw: ImageDraw.ImageDraw, rng: random.Random, side: int) -> None:
    """Stripes, checks, dots or nothing, in a second colour."""
    kind = rng.randrange(4)
    ink = _colour(rng.random(), rng.uniform(0.2, 1.0), rng.uniform(0.2, 1.0))
    step = rng.randint(8, 40)
    if kind == 0:
        for x in range(-side, 2 * side, step):
            draw.line([(x, 0), (x + side // 2, side)], fill=ink, width=max(1, step // 3))
    elif kind == 1:
        for x in range(0, side, step):
            draw.line([(x, 0), (x, side)], fill=ink, width=max(1, step // 4))
            draw.line([(0, x), (side, x)], fill=ink, width=max(1, step // 4))
    elif kind == 2:
        for x in range(0, side, step):
            for y in range(0, side, step):
                draw.ellipse([x, y, x + step // 3, y + step // 3], fill=ink)


def _stock_photo() -> Image.Image:
    """Pressed bales wrapped in plastic and strapped, stacked three high in a warehouse."""
    side = BASE_SIDE
    image = Image.new("RGB", (side, side), (196, 190, 176))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, int(side * 0.78), side, side], fill=(120, 112, 100))
    wraps = ((70, 110, 160), (150, 60, 60), (70, 130, 80), (180, 160, 90), (90, 90, 140))
    for row in range(3):
        for column in range(3):
            left = 20 + column * 125 + (row % 2) * 20
            top = int(side * 0.78) - (row + 1) * 95
            draw.rectangle([left, top, left + 115, top + 90],
                           fill=wraps[(row * 3 + column) % len(wraps)], outline=(40, 40, 40),
                           width=3)
            for strap in (0.3, 0.7):
                x = left + int(115 * strap)
                draw.line([(x, top), (x, top + 90)], fill=(235, 235, 235), width=4)
    return image


@lru_cache(maxsize=2048)
def render(photo_id: str, copy: Copy = Copy()) -> bytes:
    """The bytes of ``photo_id`` as ``copy`` (bounded to ``MAX_SIDE`` pixels a side)."""
    side = max(16, min(copy.side, MAX_SIDE))
    image = photo(photo_id)
    if side != image.width:
        image = image.resize((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if copy.fmt == "PNG":
        image.save(out, "PNG", compress_level=3)
    else:
        image.save(out, "JPEG", quality=max(30, min(copy.quality, 95)))
    return out.getvalue()
