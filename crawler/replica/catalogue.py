"""Deterministic catalogue of offers behind the replica marketplace.

The replica serves these offers on 127.0.0.1 so that spiders and classifiers
can be exercised without touching a real marketplace. Every offer has a known
kind, so recall can be measured against :func:`truth`. Vocabulary and templates
live in ``catalogue.toml`` next to this module.
"""

from __future__ import annotations

import hashlib
import random
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

KINDS = ("plain", "evasive", "description_only", "lookalike", "ordinary")
ILLEGAL_KINDS = frozenset({"plain", "evasive", "description_only"})
MIN_RESULTS = 150
MAX_RESULTS = 420

_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(title: str) -> str:
    """A URL slug from a title, as product URLs carry one."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "produk"


@dataclass(frozen=True)
class Offer:
    """One listing of the replica marketplace."""

    offer_id: int
    kind: str
    illegal: bool
    title: str
    description: str
    price_idr: int
    seller_id: int
    seller_name: str
    seller_slug: str
    city: str
    sold_count: int
    rating: float
    category_name: str
    category_breadcrumb: str
    condition: str
    imported: bool
    posted_at: str
    image_key: str
    variant: str = ""  # the kind's variant in catalogue.toml ("bale", "whatsapp_handoff", ...)


@dataclass(frozen=True)
class _Seller:
    seller_id: int
    name: str
    slug: str
    city: str
    kind: str
    variant_index: int
    regional_word: str


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    text = resources.files("crawler.replica").joinpath("catalogue.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def fold_text(text: str) -> str:
    """Fold text for matching: drop invisible characters, NFKC, casefold."""
    visible = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFKC", visible).casefold()


_fold_offer_text = lru_cache(maxsize=1 << 16)(fold_text)


@lru_cache(maxsize=8)
def build_catalogue(seed: int = 2026, size: int = 3000) -> tuple[Offer, ...]:
    """Return ``size`` offers, the same ones for the same ``seed`` and ``size``.

    Offers are ordered by ``offer_id``, which grows with ``posted_at`` as on a
    real marketplace.
    """
    data = _data()
    rng = random.Random(seed)
    counts = _kind_counts(data["kinds"], size)
    seller_counts = {
        kind: max(1, round(count / data["catalogue"]["offers_per_seller"])) if count else 0
        for kind, count in counts.items()
    }
    seller_ids = iter(rng.sample(range(1_000_000, 16_000_000), sum(seller_counts.values())))
    used_slugs: set[str] = set()
    drafts: list[dict[str, Any]] = []
    for kind, count in counts.items():
        sellers = [
            _make_seller(rng, data, kind, next(seller_ids), used_slugs)
            for _ in range(seller_counts[kind])
        ]
        drafts.extend(_draft_offer(rng, data, seller) for seller in _spread(rng, sellers, count))
    drafts.sort(key=lambda draft: draft["posted_at"])
    offer_id = rng.randrange(1_000_000_000, 2_000_000_000)
    offers = []
    for draft in drafts:
        offer_id += rng.randint(1, 40_000)
        posted_at = draft.pop("posted_at").strftime("%Y-%m-%dT%H:%M:%SZ")
        offers.append(Offer(offer_id=offer_id, posted_at=posted_at, **draft))
    return tuple(offers)


def search(catalogue: tuple[Offer, ...], keyword: str) -> tuple[Offer, ...]:
    """Return the search results for ``keyword``, like a marketplace would.

    Offers containing every keyword token come first: title matches, then
    description matches. Filler offers picked from a hash of the keyword
    follow, so each keyword gets between ``MIN_RESULTS`` and ``MAX_RESULTS``
    results (fewer only when the catalogue itself is smaller).
    """
    normalised = " ".join(fold_text(keyword).split())
    digest = int.from_bytes(hashlib.sha256(normalised.encode("utf-8")).digest()[:8], "big")
    total = min(len(catalogue), MIN_RESULTS + digest % (MAX_RESULTS - MIN_RESULTS + 1))
    title_matches, description_matches, others = _split(catalogue, keyword)
    matches = (title_matches + description_matches)[:total]
    filler = random.Random(digest).sample(others, total - len(matches))
    return tuple(matches + filler)


def matching(offers: tuple[Offer, ...], keyword: str) -> tuple[Offer, ...]:
    """The offers holding every token of ``keyword``: title matches, then description ones."""
    title_matches, description_matches, _ = _split(offers, keyword)
    return tuple(title_matches + description_matches)


def _split(offers: tuple[Offer, ...], keyword: str) -> tuple[list[Offer], list[Offer],
                                                              list[Offer]]:
    normalised = " ".join(fold_text(keyword).split())
    tokens = {_EDGE_PUNCTUATION.sub("", word) for word in normalised.split()} - {""}
    title_matches, description_matches, others = [], [], []
    for offer in offers:
        title = _fold_offer_text(offer.title)
        if tokens and all(token in title for token in tokens):
            title_matches.append(offer)
        elif tokens and all(
            token in title or token in _fold_offer_text(offer.description) for token in tokens
        ):
            description_matches.append(offer)
        else:
            others.append(offer)
    return title_matches, description_matches, others


def truth(catalogue: tuple[Offer, ...]) -> dict[int, str]:
    """Map each offer_id to its kind."""
    return {offer.offer_id: offer.kind for offer in catalogue}


def _kind_counts(kinds: dict[str, Any], size: int) -> dict[str, int]:
    """Split ``size`` between kinds by share, largest remainders first."""
    exact = {kind: kinds[kind]["share"] * size for kind in KINDS}
    counts = {kind: int(value) for kind, value in exact.items()}
    by_remainder = sorted(KINDS, key=lambda kind: counts[kind] - exact[kind])
    for kind in by_remainder[: size - sum(counts.values())]:
        counts[kind] += 1
    return counts


def _make_seller(
    rng: random.Random, data: dict[str, Any], kind: str, seller_id: int, used_slugs: set[str]
) -> _Seller:
    variants = data["kinds"][kind]["variants"]
    variant_index = rng.choices(
        range(len(variants)), [variant["weight"] for variant in variants]
    )[0]
    regional_word = rng.choice(list(data["regional_words"]))
    pool = variants[variant_index]["city_pool"]
    if pool == "regional":
        city = rng.choice(data["regional_words"][regional_word])
    else:
        cities = data["cities"][pool]
        city = rng.choices(list(cities), list(cities.values()))[0]
    parts = data["sellers"][data["kinds"][kind]["sellers"]]
    suffix = rng.choice(variants[variant_index].get("seller_suffixes", parts["suffixes"]))
    name = f"{rng.choice(parts['prefixes'])} {rng.choice(parts['cores'])}".strip()
    name += suffix.format(city=city.removeprefix("Kab. "))
    base_slug = slug = _NOT_SLUG.sub("", name.lower())
    while slug in used_slugs:
        slug = f"{base_slug}{len(used_slugs) + rng.randrange(100)}"
    used_slugs.add(slug)
    return _Seller(seller_id, name, slug, city, kind, variant_index, regional_word)


def _spread(rng: random.Random, sellers: list[_Seller], count: int) -> list[_Seller]:
    """One offer per seller, then the rest by a long-tailed seller weight."""
    if not sellers:
        return []
    weights = [rng.paretovariate(1.5) for _ in sellers]
    first = sellers[:count]
    return first + rng.choices(sellers, weights, k=count - len(first))


def _draft_offer(rng: random.Random, data: dict[str, Any], seller: _Seller) -> dict[str, Any]:
    variant = data["kinds"][seller.kind]["variants"][seller.variant_index]
    garment = rng.choice(data["vocabulary"]["garments"])
    values = _template_values(rng, data, seller, garment["noun"])
    # A seller who writes a WhatsApp number writes the same one in every listing (and on
    # every platform): drawn from the seller's id, so the draws above stay as they were.
    values["phone"] = seller_phone(seller.seller_id)
    title = rng.choice(variant["titles"]).format_map(values)
    if rng.random() < 0.1:
        title = title.upper()
    closing = rng.choice(data["descriptions"]["closings"])
    description = f"{rng.choice(variant['descriptions']).format_map(values)} {closing}".strip()
    breadcrumb = variant.get("breadcrumb", garment["breadcrumb"])
    low, high = variant["price"]
    price = rng.randrange(low, high + 1, variant["price_step"])
    if price > 10_000 and rng.random() < 0.4:
        price -= rng.choice((1, 100))  # charm prices such as Rp 149.900 or Rp 23.999
    sold_count = int((rng.paretovariate(1.2) - 1) * variant["sales"]) if rng.random() > 0.12 else 0
    rating = (
        round(min(5.0, max(3.0, rng.gauss(4.75, 0.25))), 1)
        if sold_count and rng.random() > 0.1
        else 0.0
    )
    timing = data["catalogue"]
    posted_at = datetime.combine(timing["first_post_date"], time(), UTC) + timedelta(
        seconds=rng.randrange(timing["posting_days"] * 86_400)
    )
    return {
        "kind": seller.kind,
        "variant": variant["name"],
        "illegal": seller.kind in ILLEGAL_KINDS,
        "title": title,
        "description": description,
        "price_idr": price,
        "seller_id": seller.seller_id,
        "seller_name": seller.name,
        "seller_slug": seller.slug,
        "city": seller.city,
        "sold_count": min(sold_count, 100_000),
        "rating": rating,
        "category_name": data["category_names"][breadcrumb.split("/")[0]],
        "category_breadcrumb": breadcrumb,
        "condition": "Bekas" if rng.random() < variant["used_share"] else "Baru",
        "imported": rng.random() < variant["imported_share"],
        "posted_at": posted_at,
        "image_key": f"{rng.getrandbits(128):032x}",
    }


def seller_phone(seller_id: int) -> str:
    """The WhatsApp number a seller writes, as "0812-0000-1234".

    The middle block is always "0000", so that no real subscriber is likely to be hit.
    """
    prefixes = _data()["vocabulary"]["phone_prefixes"]
    digest = int.from_bytes(hashlib.sha256(f"phone:{seller_id}".encode()).digest()[:8], "big")
    return f"{prefixes[digest % len(prefixes)]}-0000-{digest // len(prefixes) % 10_000:04d}"


def _template_values(
    rng: random.Random, data: dict[str, Any], seller: _Seller, garment: str
) -> dict[str, Any]:
    vocabulary = data["vocabulary"]
    return {
        "garment": garment,
        "brand": rng.choice(vocabulary["brands"]),
        "local_brand": rng.choice(vocabulary["local_brands"]),
        "origin": rng.choice(vocabulary["origins"]),
        "grade": rng.choice(vocabulary["grades"]),
        "pcs": rng.choice(vocabulary["pieces"]),
        "kg": rng.choice(vocabulary["sack_kg"]),
        "percent": rng.choice(vocabulary["percents"]),
        "size": rng.choice(vocabulary["sizes"]),
        "year": rng.choice(vocabulary["years"]),
        "phone": f"{rng.choice(vocabulary['phone_prefixes'])}-0000-{rng.randrange(10_000):04d}",
        "phone_model": rng.choice(vocabulary["phone_models"]),
        "motorbike": rng.choice(vocabulary["motorbikes"]),
        "regional": seller.regional_word,
        "city": seller.city,
        "bale": _disguised_bale_word(rng, data["evasion"]),
    }


def _disguised_bale_word(rng: random.Random, evasion: dict[str, Any]) -> str:
    """Hide a bale word with one of the tricks sellers use against keyword filters."""
    trick = rng.choice(evasion["tricks"])
    if trick == "spelling":
        return rng.choice(evasion["spellings"])
    word = rng.choice(evasion["bale_words"])
    word = rng.choice((word, word.capitalize(), word.upper()))
    if trick == "homoglyph":
        swappable = [i for i, ch in enumerate(word) if ch.lower() in evasion["homoglyphs"]]
        chars = list(word)
        for i in rng.sample(swappable, min(len(swappable), rng.randint(1, 2))):
            lookalike = evasion["homoglyphs"][chars[i].lower()]
            chars[i] = lookalike.upper() if chars[i].isupper() else lookalike
        return "".join(chars)
    if trick == "invisible":
        chars = list(word)
        for i in sorted(
            rng.sample(range(1, len(word)), min(len(word) - 1, rng.randint(1, 2))), reverse=True
        ):
            chars.insert(i, rng.choice(evasion["invisible"]))
        return "".join(chars)
    if trick == "stretch":
        vowel_positions = [i for i, ch in enumerate(word) if ch.lower() in "aeiou"]
        i = rng.choice(vowel_positions)
        return word[: i + 1] + word[i] * rng.randint(2, 4) + word[i + 1 :]
    capital, small = rng.choice(evasion["fancy_alphabets"])
    fancy = {chr(ord("A") + i): chr(capital + i) for i in range(26)}
    fancy.update({chr(ord("a") + i): chr(small + i) for i in range(26)})
    return "".join(fancy.get(ch, ch) for ch in word)
