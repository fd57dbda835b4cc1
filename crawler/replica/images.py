"""Product photos on every platform's image CDN: their URLs and the bytes behind them.

Each platform names a listing's photos its own way (the shapes below follow the URLs in the
captures of ``../shared/corpus`` where there is one: Tokopedia's ``images.tokopedia.net``
cache paths, Shopee's bare hashes under ``down-id.img.susercontent.com/file/``,
Bukalapak's ``s<N>.bukalapak.com/img/<number>/<size>/<name>.jpg``, Blibli's
``static-src.com/.../MTA-<n>/<name>_full<NN>_<hash>.jpg``; the others follow their public
pages). Every URL carries a token that names one offer and the photo's place in its
listing: the offer's ``image_key`` for the first (the cover), then tokens derived from it
(:func:`token`). The replica answers each with real JPEG or PNG bytes
(:mod:`crawler.replica.photos`): the photo the listing's account shows in that place
(``SellerWorld.listing_photos``), as that account's copy, resized to the size the URL asks
for (``200-square``, ``:300:300``, ``s=780x0``, ``/small/`` ...), never above
``photos.MAX_SIDE``.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import TYPE_CHECKING

from aiohttp import web

from crawler.replica import photos
from crawler.replica.catalogue import slugify

if TYPE_CHECKING:
    from crawler.replica.catalogue import Offer
    from crawler.replica.market import Market

# Image CDN hosts and the platform whose photos each serves.
IMAGE_HOSTS = {
    "images.tokopedia.net": "tokopedia",
    "down-id.img.susercontent.com": "shopee",
    **{f"s{n}.bukalapak.com": "bukalapak" for n in range(5)},
    "img.lazcdn.com": "lazada",
    "www.static-src.com": "blibli",
    "p16-oec-sg.ibyteimg.com": "tiktokshop",
    "scontent-cgk1-1.xx.fbcdn.net": "facebook",
    "scontent-cgk1-2.cdninstagram.com": "instagram",
    "apollo-singapore.akamaized.net": "olx",
}
BLIBLI_IMAGES = ("https://www.static-src.com/wcsstore/Indraprastha/images/catalog/full/"
                 "catalog-image")
INSTAGRAM_CDN = "scontent-cgk1-2.cdninstagram.com"
MAX_PHOTOS = 4  # a token names at most this many photos of one offer

_HEX_TOKEN = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
_BUKALAPAK = re.compile(r"^/img/(\d+)/")
_BLIBLI = re.compile(r"/MTA-(\d+)/[^/]*_full(\d\d)_")
_SIZE_HINTS = (re.compile(r"/(\d{2,4})-square/"), re.compile(r"/cache/(\d{2,4})/"),
               re.compile(r":(\d{2,4}):\d{2,4}\.\w+$"), re.compile(r";s=(\d{2,4})x"),
               re.compile(r"_p?(\d{2,4})x\d{1,4}"), re.compile(r"[_s](\d{2,4})x\d{2,4}"))
_NAMED_SIZES = {"/small/": 160, "/medium/": 400, "/thumbnail/": 160}


def token(offer: Offer, n: int) -> str:
    """The token of the ``n``-th photo of ``offer`` (0: the cover, its ``image_key``)."""
    if n == 0:
        return offer.image_key
    if n == 1:  # as Shopee's search answers have always named the second image
        return hashlib.md5(offer.image_key.encode(), usedforsecurity=False).hexdigest()
    return hashlib.md5(f"{offer.image_key}/{n}".encode(), usedforsecurity=False).hexdigest()


def photo_urls(platform: str, offer: Offer, count: int) -> list[str]:
    """The URLs of the first ``count`` photos of ``offer``'s listing page on ``platform``."""
    return [photo_url(platform, offer, n) for n in range(min(count, MAX_PHOTOS))]


def photo_url(platform: str, offer: Offer, n: int, size: str = "") -> str:
    """The URL of photo ``n`` of ``offer`` on ``platform``'s CDN, as its listing page shows it
    (``size`` picks the platform's size, where its URLs name one)."""
    name = token(offer, n)
    if platform == "tokopedia":
        return f"https://images.tokopedia.net/img/cache/{size or '700'}/{name}.jpg"
    if platform == "shopee":
        return f"https://down-id.img.susercontent.com/file/{name}"
    if platform == "bukalapak":
        number = int(offer.image_key[n * 8:n * 8 + 8], 16)
        return (f"https://s{n}.bukalapak.com/img/{number}/{size or 'large'}/"
                f"{slugify(offer.title)[:40]}.jpg")
    if platform == "lazada":
        return f"https://img.lazcdn.com/g/p/{name}.jpg{size}"
    if platform == "blibli":
        return (f"{BLIBLI_IMAGES}/MTA-{offer.offer_id % 10**9}/"
                f"{slugify(offer.title)[:60].replace('-', '_')}_full{n + 1:02d}_{name[:8]}.jpg")
    if platform == "tiktokshop":
        side = size or "800"
        return (f"https://p16-oec-sg.ibyteimg.com/{name}~tplv-o3syd03w52-resize-webp:"
                f"{side}:{side}.webp")
    if platform == "facebook":
        return (f"https://scontent-cgk1-1.xx.fbcdn.net/v/t45.5328-4/{name}_n.jpg"
                f"?stp=dst-jpg_{size or 's960x960'}&_nc_cat=1")
    if platform == "instagram":
        return (f"https://{INSTAGRAM_CDN}/v/t51.29350-15/{name}_n.jpg"
                f"?stp=dst-jpg_e35_{size or 's640x640'}_sh0.08&_nc_ht={INSTAGRAM_CDN}")
    if platform == "olx":
        return (f"https://apollo-singapore.akamaized.net/v1/files/{name}-ID/image;"
                f"s={size or '780x0'};q=60")
    raise ValueError(f"no image CDN for {platform!r}")


def serves(host: str) -> bool:
    return host in IMAGE_HOSTS


async def handle(request: web.Request, market: Market) -> web.Response:
    """Answer a request to an image CDN host with the photo its URL names."""
    host = request.match_info["host"]
    path = "/" + request.match_info["path"]
    platform = IMAGE_HOSTS[host]
    found = locate(market, platform, path)
    if found is None:
        # A photo the catalogue does not know (a seller's own URL, a guess): a photo all
        # the same, named by its path, as a CDN answers any stored file.
        photo_id, copy = f"unknown:{host}{path}", photos.Copy(320)
    else:
        offer, n = found
        listing = market.world.listing_photos(platform, offer)
        photo_id, copy = listing[n] if n < len(listing) else (f"{listing[0][0]}:{n}",
                                                              listing[0][1])
    side = _size_hint(request.path_qs)
    if side:
        copy = photos.Copy(min(side, copy.side), copy.fmt, copy.quality)
    body = photos.render(photo_id, copy)
    return web.Response(body=body, content_type=copy.content_type,
                        headers={"Cache-Control": "public, max-age=31536000"})


def locate(market: Market, platform: str, path: str) -> tuple[Offer, int] | None:
    """The offer, and the photo's place in its listing, that an image path names."""
    if platform == "bukalapak":
        match = _BUKALAPAK.search(path)
        found = _bukalapak_index(market).get(int(match[1])) if match else None
    elif platform == "blibli":
        match = _BLIBLI.search(path)
        found = None
        if match:
            offer = _blibli_index(market).get(int(match[1]))
            found = (offer.offer_id, int(match[2]) - 1) if offer else None
    else:
        match = _HEX_TOKEN.search(path)
        found = _token_index(market).get(match[0]) if match else None
    if found is None:
        return None
    offer = market.by_id.get(found[0])
    return (offer, found[1]) if offer is not None else None


@lru_cache(maxsize=4)
def _token_index(market: Market) -> dict[str, tuple[int, int]]:
    return {token(offer, n): (offer.offer_id, n)
            for offer in market.all_offers for n in range(MAX_PHOTOS)}


@lru_cache(maxsize=4)
def _bukalapak_index(market: Market) -> dict[int, tuple[int, int]]:
    return {int(offer.image_key[n * 8:n * 8 + 8], 16): (offer.offer_id, n)
            for offer in market.all_offers for n in range(MAX_PHOTOS)}


@lru_cache(maxsize=4)
def _blibli_index(market: Market) -> dict[int, Offer]:
    return {offer.offer_id % 10**9: offer for offer in market.all_offers}


def _size_hint(path: str) -> int | None:
    for name, side in _NAMED_SIZES.items():
        if name in path:
            return side
    for pattern in _SIZE_HINTS:
        if match := pattern.search(path):
            return max(16, int(match[1]))
    return None
