"""Perceptual fingerprints of listing photos, to link accounts that post the same photo.

Sellers re-upload one photo on each of their accounts; every platform re-encodes and
resizes it, so its bytes differ but its pHash (a 64-bit perceptual hash from
``imagehash``) stays within a few bits. :func:`fingerprint` decodes an image safely,
:func:`distance` compares two hashes, :func:`near_pairs` finds every pair of near-identical
hashes among many, and :func:`common_hashes` names the hashes too common to link anyone
(stock photos and platform placeholders seen on many accounts).

Images come from sellers, so decoding is hostile input: only JPEG, PNG, GIF and WebP are
opened, a picture over :data:`MAX_PIXELS` (a decompression bomb: a small file that decodes
to gigabytes; :data:`MAX_FULL_DECODE_PIXELS` for a format decoded at full size) or
:data:`MAX_BYTES` is refused before it is decoded, the file is checked
with Pillow's ``verify()`` first, and anything that fails gives None, never an error.

A picture with too little in it to tell one photo from another gives None too
(:func:`low_information`): smaller than :data:`MIN_SIDE` pixels a side (a tracking pixel,
an icon), nearly one colour (a blank, a single-colour square: the standard deviation of
its grey levels under :data:`MIN_DEVIATION`), or a pHash with almost all of its bits equal
(gradients and flat pictures all hash to about ``8000000000000000``). pHash sets a bit
for each of 64 low frequencies above their median, so a real photo's hash has about 32
bits set; fewer than :data:`MIN_HASH_BITS` means most frequencies tie, with nothing in the
picture. Seller networks never link on such a hash, also one stored before this rule.

Limits of one 64-bit pHash (the schema keeps one ``phash`` per image): re-encoding,
resizing, a grey copy and small brightness changes stay within a few bits and link;
cropping 5 %, a 3 % border, a rotation of 2 degrees or a banner over a tenth of the photo
move it 6 to 12 bits, at and beyond the linking distance (6), and often do not link; a
rotation by a quarter turn does not link. A mirrored copy is found without a second
stored hash: mirroring a picture flips the sign of its odd horizontal frequencies, so
its pHash is about the original's with the bits of those frequencies inverted
(:func:`mirrored`, within 0 to 8 bits on photos), and networks compare each hash with
the others' mirrored hashes too.
"""

from __future__ import annotations

import io
import re
import warnings
from collections import defaultdict
from typing import TYPE_CHECKING, NamedTuple

import imagehash
from PIL import (  # importing a plugin registers its format; FORMATS opens only these
    GifImagePlugin,  # noqa: F401
    Image,
    ImageOps,
    ImageStat,
    JpegImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    WebPImagePlugin,  # noqa: F401
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

MAX_BYTES = 20_000_000  # one image file
MIN_SIDE = 32  # pixels: pHash reads a 32 x 32 copy; a smaller picture holds no more detail
MIN_DEVIATION = 1.0  # grey levels (of 255): a picture flatter than this is one colour
MIN_HASH_BITS = 8  # a pHash with fewer bits set (or unset) is a flat picture's
MAX_PIXELS = 40_000_000  # width x height; marketplace photos are a few million at most
# A JPEG is decoded at a fraction of its size (draft); PNG, GIF and WebP in full, 4 bytes a
# pixel: this many pixels is 64 MB decoded.
MAX_FULL_DECODE_PIXELS = 16_000_000
DRAFTED = ("JPEG", "MPO")  # what Pillow decodes at a fraction of its size (MPO: a JPEG's kin)
FORMATS = ("JPEG", "PNG", "GIF", "WEBP")  # JPEG opens a phone camera's MPO too
_HASH = re.compile(r"[0-9a-f]{16}")
_HASH_BITS = 64
# The bits of a pHash (row-major 8 x 8 frequencies, the first the highest bit) whose
# horizontal frequency is odd: their sign flips when a picture is mirrored.
_ODD_COLUMNS = sum(1 << (63 - (row * 8 + column)) for row in range(8) for column in range(1, 8, 2))
_EXIF_ORIENTATION = 0x0112
_SIDEWAYS = (5, 6, 7, 8)  # EXIF orientations that turn the picture a quarter


class Fingerprint(NamedTuple):
    phash: str  # 16 hex characters (64 bits)
    width: int  # as shown, after the EXIF orientation
    height: int


def fingerprint(body: bytes) -> Fingerprint | None:
    """The pHash and size of an image, or None for anything that is not a safe image."""
    if not body or len(body) > MAX_BYTES:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body), formats=FORMATS) as image:
                pixels = image.width * image.height
                if pixels > MAX_PIXELS or (image.format not in DRAFTED
                                           and pixels > MAX_FULL_DECODE_PIXELS):
                    return None
                image.verify()  # structure and checksums, without decoding the pixels
            with Image.open(io.BytesIO(body), formats=FORMATS) as image:
                width, height = image.size
                if image.getexif().get(_EXIF_ORIENTATION) in _SIDEWAYS:
                    width, height = height, width
                if min(width, height) < MIN_SIDE:
                    return None
                image.draft("RGB", (256, 256))  # JPEG: decode at a fraction of the size
                picture = _upright(image)
                if _flat(picture):
                    return None
                phash = str(imagehash.phash(picture))
    except Exception:  # noqa: BLE001 - every decoder's own errors on a hostile file
        return None
    if not width or not height or low_information(phash):
        return None
    return Fingerprint(phash, width, height)


def _flat(picture: Image.Image) -> bool:
    """Whether a picture is (nearly) one colour: its grey levels, read at the size pHash
    reads, hardly vary."""
    grey = picture.convert("L").resize((32, 32), Image.Resampling.BOX)
    return ImageStat.Stat(grey).stddev[0] < MIN_DEVIATION


def low_information(phash: str) -> bool:
    """Whether a pHash is a flat picture's: almost all of its 64 bits are equal (a blank,
    a single colour, a gradient). Such a hash links nobody."""
    if not _HASH.fullmatch(phash):
        return False
    ones = int(phash, 16).bit_count()
    return min(ones, _HASH_BITS - ones) < MIN_HASH_BITS


def mirrored(phash: str) -> str:
    """The pHash a left-right mirrored copy of the picture is expected to have (within a
    few bits): the bits of the odd horizontal frequencies inverted."""
    return f"{_bits(phash) ^ _ODD_COLUMNS:016x}"


def _upright(image: Image.Image) -> Image.Image:
    """The first frame, decoded and turned as its EXIF orientation says."""
    image.seek(0)
    image.load()
    return ImageOps.exif_transpose(image)


def distance(a: str, b: str) -> int:
    """How many of the 64 bits two pHashes differ in (0: the same picture)."""
    return (_bits(a) ^ _bits(b)).bit_count()


def _bits(phash: str) -> int:
    if not _HASH.fullmatch(phash):
        raise ValueError(f"not a 16-hex-digit pHash: {phash[:40]!r}")
    return int(phash, 16)


def near_pairs(hashes: Iterable[str], max_distance: int) -> Iterator[tuple[str, str]]:
    """Every pair of different hashes at most ``max_distance`` bits apart, each once.

    Multi-index hashing: the 64 bits are cut into ``max_distance // 2 + 1`` blocks, so
    two hashes that close agree on some block up to at most one bit; only hashes that
    share such a block are compared, which keeps this near-linear on real collections.
    """
    distinct = sorted({_bits(phash) for phash in hashes})
    blocks = max_distance // 2 + 1
    bounds = [round(index * _HASH_BITS / blocks) for index in range(blocks + 1)]
    spans = [(bounds[index], bounds[index + 1] - bounds[index]) for index in range(blocks)]
    tolerance = max_distance // blocks
    index: dict[tuple[int, int], list[int]] = defaultdict(list)
    for value in distinct:
        for block, (shift, width) in enumerate(spans):
            index[block, (value >> shift) & ((1 << width) - 1)].append(value)
    for value in distinct:
        candidates: set[int] = set()
        for block, (shift, width) in enumerate(spans):
            part = (value >> shift) & ((1 << width) - 1)
            for variant in _variants(part, width, tolerance):
                candidates.update(index.get((block, variant), ()))
        for other in candidates:
            if other > value and (value ^ other).bit_count() <= max_distance:
                yield f"{value:016x}", f"{other:016x}"


def _variants(part: int, width: int, tolerance: int) -> list[int]:
    """``part`` and every value within ``tolerance`` (0 or 1) flipped bits of it."""
    if tolerance == 0:
        return [part]
    return [part, *(part ^ (1 << bit) for bit in range(width))]


def common_hashes(hashes_by_account: Mapping[str, Iterable[str]], max_accounts: int,
                  max_distance: int = 6) -> set[str]:
    """The hashes posted by more than ``max_accounts`` accounts, counting a near-identical
    hash (within ``max_distance`` bits) as the same picture: stock photos and
    placeholders, which link nobody. ``hashes_by_account`` maps an account key
    ('platform:seller_id') to the pHashes of its images."""
    accounts_of: dict[str, set[str]] = defaultdict(set)
    for account, hashes in hashes_by_account.items():
        for phash in hashes:
            accounts_of[phash.lower()].add(account)
    near: dict[str, set[str]] = defaultdict(set)
    for a, b in near_pairs(accounts_of, max_distance):
        near[a].add(b)
        near[b].add(a)
    common = set()
    for phash, accounts in accounts_of.items():
        seen = set(accounts)
        for other in near[phash]:
            seen |= accounts_of[other]
            if len(seen) > max_accounts:
                break
        if len(seen) > max_accounts:
            common.add(phash)
    return common
