"""Who sells an offer on each platform: account keys, seller ids and shop URLs.

Every catalogue offer is listed on every platform the replica serves, by its catalogue
seller. On a platform, that seller is one *account*, known by the id the platform gives
it and the spiders record as ``seller_id``; thriftwatch names an account
``"platform:seller_id"`` (``"shopee:30123456"``). The ids below are the ones each platform
module writes into its answers (Shopee's shop ids are 8–9 digits, Facebook's user ids 15,
...), so an account key computed here is the one a crawl stores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.replica.catalogue import slugify

if TYPE_CHECKING:
    from crawler.replica.catalogue import Offer

# The platforms the replica serves, by the name their spider (or site profile) gives them.
PLATFORMS = ("tokopedia", "shopee", "bukalapak", "lazada", "blibli", "tiktokshop", "facebook",
             "instagram", "olx")

# What each platform adds to a catalogue seller id to make its own seller id.
SELLER_ID_BASES = {
    "tokopedia": 0, "shopee": 30_000_000, "bukalapak": 0, "lazada": 400_000_000,
    "tiktokshop": 0, "facebook": 100_000_000_000_000, "instagram": 40_000_000_000, "olx": 0,
}


def merchant_code(offer: Offer) -> str:
    """A Blibli merchant code such as ``SAO-60034``: letters of the shop, then digits."""
    letters = (slugify(offer.seller_name).replace("-", "").upper() + "XXX")[:3]
    return f"{letters}-{offer.seller_id % 100_000:05d}"


def platform_seller_id(platform: str, offer: Offer) -> str:
    """The seller id ``platform`` shows for the seller of ``offer``."""
    if platform == "blibli":
        return merchant_code(offer)
    return str(SELLER_ID_BASES[platform] + offer.seller_id)


def account_key(platform: str, offer: Offer) -> str:
    """``"platform:seller_id"``: the account that lists ``offer`` on ``platform``."""
    return f"{platform}:{platform_seller_id(platform, offer)}"


def shop_url(platform: str, offer: Offer) -> str:
    """The account's own page, as the platform links it (and as sellers paste it)."""
    seller_id = platform_seller_id(platform, offer)
    return {
        "tokopedia": f"https://www.tokopedia.com/{offer.seller_slug}",
        "shopee": f"https://shopee.co.id/shop/{seller_id}",
        "bukalapak": f"https://www.bukalapak.com/u/{offer.seller_slug}",
        "lazada": f"https://www.lazada.co.id/shop/{offer.seller_slug}/",
        "blibli": f"https://www.blibli.com/merchant/{offer.seller_slug}/{seller_id}",
        "tiktokshop": f"https://shop-id.tokopedia.com/shop/{seller_id}",
        "facebook": f"https://www.facebook.com/marketplace/profile/{seller_id}/",
        "instagram": f"https://www.instagram.com/{instagram_username(offer)}/",
        "olx": f"https://www.olx.co.id/profile/{seller_id}",
    }[platform]


def instagram_username(offer: Offer) -> str:
    """The seller's Instagram username: its shop slug, as long as Instagram allows."""
    return offer.seller_slug[:30]
