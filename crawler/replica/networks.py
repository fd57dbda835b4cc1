"""Seller networks planted in the replica catalogue, and the truth about them.

Every catalogue offer is listed on every platform by its catalogue seller, and on each
platform that seller is one *account* (``crawler.replica.accounts``). On top of that, from
the catalogue's seed, this module plants what an investigator looks for:

- **Operators**: one person or business behind 2–5 accounts on several platforms (two of
  them may be the same shop cross-listed on two platforms). The accounts give themselves
  away as real sellers do: the same WhatsApp number written differently on each
  (``0812-0000-1234``, ``+62 812-0000-1234``, ``62-812…``, ``0812.0000.1234``, spaced
  digits, emoji or the letter O between digits, the digits in words, wa.me and
  api.whatsapp.com links), an Instagram or Telegram handle, links to their other shops, and
  the same product photos (each account's copy re-encoded and resized by its platform).
  They write them at the end of their descriptions, in their seller profiles (shop
  description, Instagram bio) and, where a platform's search card shows text (Bukalapak's
  description, an Instagram caption), on the card. Every account is linked to the others
  by at least one of these, directly or through another account.
- **Takedowns and returning sellers**: about one operator in four has an account that will
  be taken down (``ReplicaServer.take_down_planted()``: its listings then answer as removed
  and leave the platform's search) and a *returning* account on the same platform, a new
  shop listing the same products with the same photos and the operator's number, which
  appears in search only after that takedown, so a crawl first sees it after it.
- **Cross-listers**: the sellers who write their WhatsApp number in every title (the
  catalogue's ``whatsapp_handoff`` sellers): one network of all their accounts, linked by
  that number on the search cards themselves.
- **Decoys**: accounts that share only the stock photo (``photos.STOCK_PHOTO``, in the
  listings of dozens of unrelated accounts, as a photo from the internet is), and accounts
  that share only a name with a network's account (the same catalogue shop on a platform
  where it is not part of the network).

No other account shares a contact or a photo with any other: every other listing's photos
are its own (``listing_photos``).

The truth: :func:`planted_networks`, :func:`returning_accounts`, :func:`taken_down_accounts`
and :func:`decoy_accounts`, for the same ``seed`` and ``size`` as the catalogue. Account keys
are ``"platform:seller_id"``, as a crawl stores them. A network is found by a crawl only
through the accounts the crawl saw; the operators' accounts are picked among those a demo
crawl (the default search terms, five pages) sees, so most of every network is in view.
"""

from __future__ import annotations

import hashlib
import random
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from crawler.replica.accounts import PLATFORMS, account_key, instagram_username, shop_url
from crawler.replica.catalogue import build_catalogue, search, seller_phone
from crawler.replica.photos import COPIES, STOCK_PHOTO, Copy

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crawler.replica.catalogue import Offer

# How many results of each default search term a demo crawl (five pages) reads per platform.
DEMO_WINDOWS = {"tokopedia": 300, "shopee": 300, "bukalapak": 250, "lazada": 200,
                "blibli": 200, "tiktokshop": 100, "facebook": 120, "instagram": 33, "olx": 100}
OPERATORS_PER_3000 = 16
STOCK_DECOYS_PER_3000 = 36
RETURNING_EVERY = 4  # one operator in this many has an account taken down, and returns
RETURNING_OFFERS = 5
# Platforms a returning seller comes back on (where takedowns by account are routine).
TAKEDOWN_PLATFORMS = ("tokopedia", "shopee", "bukalapak", "lazada", "blibli", "olx")

_DIGIT_WORDS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan",
                "sembilan")
_HANDLE_WORDS = ("bal", "thrift", "import", "gudang", "juragan", "karung", "second", "ori",
                 "preloved", "grosir", "bekas", "korea", "jepang", "murah", "official")
# How a seller writes its number: the style's name, then a template of the national number
# "0812-0000-1234" split as a = "0812", b = "0000", c = "1234" and written with n = the
# number after 0 ("81200001234").
PHONE_STYLES = {
    "dashed": "{a}-{b}-{c}",
    "spaced": "{a} {b} {c}",
    "plain": "{a}{b}{c}",
    "plus": "+62 {a1}-{b}-{c}",
    "plus_plain": "+62{n}",
    "sixty_two": "62-{a1}-{b}-{c}",
    "dotted": "{a}.{b}.{c}",
    "emoji": "{a}\U0001f525{b}\U0001f525{c}",
    "letter_o": "{ao} {bo} {c}",  # "o812 O000 1234": the letter o for a zero, twice
    "words": "{words}",
    "digits_spaced": "{spaced}",
    "wa_me": "wa.me/62{n}",
    "api_whatsapp": "https://api.whatsapp.com/send?phone=62{n}",
}
_LINK_STYLES = ("wa_me", "api_whatsapp")


def write_phone(e164: str, style: str) -> str:
    """``e164`` ("+6281200001234") as a seller writes it in ``style`` (see PHONE_STYLES)."""
    national = "0" + e164.removeprefix("+62")
    a, b, c = national[:4], national[4:8], national[8:]
    return PHONE_STYLES[style].format(
        a=a, b=b, c=c, a1=a[1:], n=national[1:],
        ao=a.replace("0", "o"), bo=b.replace("0", "O", 1),
        words=" ".join(_DIGIT_WORDS[int(d)] for d in national),
        spaced=" ".join(national))


def e164(national: str) -> str:
    """A national number in E.164: "0812-0000-1234" → "+6281200001234"."""
    digits = "".join(ch for ch in national if ch.isdigit())
    return "+62" + digits.removeprefix("0")


@dataclass(frozen=True)
class AccountPlan:
    """What one planted account shows beyond its catalogue offers."""

    key: str
    platform: str
    seller_id: int  # the catalogue seller (or returning seller) whose offers it lists
    operator: str | None  # None: a decoy on its own
    description_note: str = ""  # written at the end of every listing's description
    profile_note: str = ""  # written in the seller profile (shop description, bio)
    card_note: str = ""  # written where the platform's search card shows text
    shared_photos: tuple[str, ...] = ()  # photo ids every listing shows after its cover
    copy: Copy = field(default_factory=Copy)
    # What it shows, as thriftwatch normalises it: (kind, value); kinds "phone",
    # "whatsapp" (E.164 values), "instagram", "telegram" (handles), "shop" (another
    # account's key).
    contacts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Operator:
    name: str
    accounts: tuple[str, ...]
    phones: tuple[str, ...]  # E.164
    instagram: str | None
    telegram: str | None
    photos: tuple[str, ...]
    taken_down: str | None = None
    returning: str | None = None


@dataclass(frozen=True)
class SellerProfile:
    """A seller's profile as a platform shows it beside a listing."""

    joined: str  # ISO date
    city: str
    followers: int
    sales: int
    rating: float
    rating_count: int
    products: int
    about: str  # the shop description or bio the seller wrote


@dataclass(frozen=True)
class SellerWorld:
    """The catalogue with its planted networks: who is behind which account."""

    seed: int
    size: int
    catalogue: tuple[Offer, ...]
    # The returning sellers' offers, listed (on one platform each) only after the takedown.
    extras: tuple[Offer, ...]
    extra_platform: dict[int, str]
    extra_origin: dict[int, int]  # a returning seller's offer → the catalogue offer it relists
    plans: dict[str, AccountPlan]
    operators: tuple[Operator, ...]
    cross_listers: tuple[frozenset[str], ...]
    stock_accounts: frozenset[str]
    successor: dict[str, str]  # taken-down account → returning account
    _sellers: dict[int, tuple[Offer, ...]] = field(repr=False)

    def plan(self, platform: str, offer: Offer) -> AccountPlan | None:
        return self.plans.get(account_key(platform, offer))

    def operator_of(self, key: str) -> Operator | None:
        plan = self.plans.get(key)
        return next((op for op in self.operators if plan and op.name == plan.operator), None)

    def networks(self) -> list[frozenset[str]]:
        return ([frozenset(op.accounts) for op in self.operators] + list(self.cross_listers))

    def seller_offers(self, seller_id: int) -> tuple[Offer, ...]:
        return self._sellers.get(seller_id, ())

    def listing_photos(self, platform: str, offer: Offer) -> tuple[tuple[str, Copy], ...]:
        """The photos of ``offer``'s listing on ``platform``, in order: (photo id, copy)."""
        plan = self.plan(platform, offer)
        key = account_key(platform, offer)
        copy = plan.copy if plan else COPIES[_digest(key) % len(COPIES)]
        origin = self.extra_origin.get(offer.offer_id, offer.offer_id)
        if plan and plan.operator:
            cover = f"{plan.operator}:offer:{origin}"
        elif self._cross_lister(offer):
            cover = f"seller:{offer.seller_id}:offer:{origin}"
        else:
            cover = f"{key}:offer:{origin}"
        shared = plan.shared_photos if plan else ()
        return ((cover, copy), *((photo_id, copy) for photo_id in shared),
                (f"{cover}:back", copy))

    def _cross_lister(self, offer: Offer) -> bool:
        return offer.variant == "whatsapp_handoff"

    def profile(self, platform: str, offer: Offer) -> SellerProfile:
        """The seller profile ``platform`` shows beside ``offer``."""
        key = account_key(platform, offer)
        digest = _digest(key)
        offers = self.seller_offers(offer.seller_id) or (offer,)
        first = min(datetime.fromisoformat(o.posted_at) for o in offers).date()
        if offer.offer_id in self.extra_platform:  # a new shop: opened just before it lists
            joined = first - timedelta(days=1 + digest % 3)
        else:
            joined = first - timedelta(days=30 + digest % 900)
        rated = [o.rating for o in offers if o.rating]
        sales = sum(o.sold_count for o in offers)
        plan = self.plans.get(key)
        about = (f"Selamat datang di {offer.seller_name}. "
                 f"{_ABOUTS[digest % len(_ABOUTS)].format(city=offer.city)}")
        if plan and plan.profile_note:
            about = f"{about} {plan.profile_note}"
        return SellerProfile(
            joined=joined.isoformat(), city=offer.city,
            followers=(digest >> 8) % 5000 + sales // 3, sales=sales,
            rating=round(sum(rated) / len(rated), 1) if rated else 0.0,
            rating_count=sum(o.sold_count // 3 for o in offers if o.rating),
            products=len(offers), about=about)

    def description(self, platform: str, offer: Offer) -> str:
        """The full description of ``offer``'s listing on ``platform``."""
        plan = self.plan(platform, offer)
        if plan and plan.description_note:
            return f"{offer.description}\n\n{plan.description_note}"
        return offer.description

    def card_description(self, platform: str, offer: Offer) -> str:
        """The description a search card shows, where the platform's card shows one."""
        plan = self.plan(platform, offer)
        if plan and plan.card_note:
            return f"{offer.description} {plan.card_note}"
        return offer.description


_ABOUTS = (
    "Pengiriman setiap hari dari {city}.", "Belanja aman, barang sesuai foto.",
    "Melayani grosir dan eceran.", "Jam operasional 08.00 - 17.00 WIB.",
    "Follow toko kami untuk update stok terbaru.", "Barang dikirim dari {city}, packing rapi.",
)


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


@cache
def default_search_terms() -> tuple[str, ...]:
    text = resources.files("crawler.data").joinpath("search_terms.toml").read_text("utf-8")
    return tuple(tomllib.loads(text)["terms"])


def demo_visibility(catalogue: tuple[Offer, ...]) -> dict[str, set[int]]:
    """Per platform, the catalogue sellers a demo crawl sees (in ``DEMO_WINDOWS``)."""
    results = {term: search(catalogue, term) for term in default_search_terms()}
    return {platform: {offer.seller_id for found in results.values()
                       for offer in found[:window]}
            for platform, window in DEMO_WINDOWS.items()}


@lru_cache(maxsize=8)
def seller_world(seed: int = 2026, size: int = 3000) -> SellerWorld:
    """The catalogue of ``seed`` and ``size`` with its planted networks (always the same)."""
    catalogue = build_catalogue(seed, size)
    return _Planter(seed, size, catalogue).world()


def planted_networks(seed: int = 2026, size: int = 3000) -> list[frozenset[str]]:
    """Every planted network: the account keys of one operator (or one cross-lister)."""
    return seller_world(seed, size).networks()


def returning_accounts(seed: int = 2026, size: int = 3000) -> set[str]:
    """The accounts that come back after their operator's account is taken down."""
    return set(seller_world(seed, size).successor.values())


def taken_down_accounts(seed: int = 2026, size: int = 3000) -> set[str]:
    """The accounts ``ReplicaServer.take_down_planted()`` takes down."""
    return set(seller_world(seed, size).successor)


def decoy_accounts(seed: int = 2026, size: int = 3000) -> dict[str, str]:
    """Accounts in no network that share something with others, and what they share:
    "stock photo" (a photo many unrelated sellers use) or "name" (a network account's
    shop name: the same shop on a platform where it is not part of the network, or an
    unrelated shop of the same name)."""
    world = seller_world(seed, size)
    decoys = dict.fromkeys(sorted(world.stock_accounts), "stock photo")
    in_networks = {key for network in world.networks() for key in network}
    names = {world.seller_offers(world.plans[key].seller_id)[0].seller_name
             for operator in world.operators for key in operator.accounts}
    for offer in world.catalogue:
        if offer.seller_name in names:
            for platform in PLATFORMS:
                key = account_key(platform, offer)
                if key not in in_networks:
                    decoys.setdefault(key, "name")
    return decoys


class _Planter:
    """Plants the networks into one catalogue, drawing from one seeded generator."""

    def __init__(self, seed: int, size: int, catalogue: tuple[Offer, ...]):
        self.seed, self.size, self.catalogue = seed, size, catalogue
        self.rng = random.Random(f"networks:{seed}:{size}")
        by_seller: dict[int, list[Offer]] = defaultdict(list)
        for offer in catalogue:
            by_seller[offer.seller_id].append(offer)
        self.sellers = {sid: tuple(offers) for sid, offers in by_seller.items()}
        self.visible = demo_visibility(catalogue)
        self.plans: dict[str, AccountPlan] = {}
        self.used_sellers: set[int] = set()
        self.phones_in_use = {e164(seller_phone(sid)) for sid in self.sellers}
        self.handles_in_use = {o.seller_slug[:30] for o in catalogue}
        self.extras: list[Offer] = []
        self.extra_platform: dict[int, str] = {}
        self.extra_origin: dict[int, int] = {}
        self.successor: dict[str, str] = {}

    def world(self) -> SellerWorld:
        cross = tuple(frozenset(account_key(p, offers[0]) for p in PLATFORMS)
                      for sid, offers in sorted(self.sellers.items())
                      if offers[0].variant == "whatsapp_handoff")
        self.used_sellers |= {sid for sid, offers in self.sellers.items()
                              if offers[0].variant == "whatsapp_handoff"}
        count = max(2, round(OPERATORS_PER_3000 * self.size / 3000))
        operators = [self._operator(index, count) for index in range(count)]
        operators = [op for op in operators if op is not None]
        stock = self._stock_decoys(operators)
        sellers = dict(self.sellers)
        for offer in self.extras:
            sellers[offer.seller_id] = (*sellers.get(offer.seller_id, ()), offer)
        return SellerWorld(
            seed=self.seed, size=self.size, catalogue=self.catalogue,
            extras=tuple(self.extras), extra_platform=self.extra_platform,
            extra_origin=self.extra_origin, plans=self.plans, operators=tuple(operators),
            cross_listers=cross, stock_accounts=frozenset(stock), successor=self.successor,
            _sellers=sellers)

    # -- picking accounts ------------------------------------------------------------

    def _candidates(self, platform: str) -> list[int]:
        """Sellers of plainly illegal offers a demo crawl sees on ``platform``, not yet used."""
        return sorted(sid for sid in self.visible[platform]
                      if sid not in self.used_sellers
                      and self.sellers[sid][0].kind in ("plain", "evasive")
                      and self.sellers[sid][0].variant != "whatsapp_handoff")

    def _operator(self, index: int, count: int) -> Operator | None:
        rng = self.rng
        name = f"operator-{index + 1:02d}"
        wanted = rng.choice((2, 2, 3, 3, 3, 4, 4, 5))
        returning = count >= 2 and index % RETURNING_EVERY == 1
        if returning:  # its returning account is one more: at most five in all
            wanted = min(wanted, 4)
        first = TAKEDOWN_PLATFORMS[index % len(TAKEDOWN_PLATFORMS)] if returning else \
            PLATFORMS[index % len(PLATFORMS)]
        pairs: list[tuple[str, int]] = []
        platforms = [first, *rng.sample([p for p in PLATFORMS if p != first], len(PLATFORMS) - 1)]
        for platform in platforms:
            if len(pairs) == wanted:
                break
            own = [sid for p, sid in pairs if (platform, sid) not in pairs]
            if own and rng.random() < 0.25 and own[0] in self.visible[platform]:
                pairs.append((platform, own[0]))  # the same shop, cross-listed
                continue
            candidates = self._candidates(platform)
            if candidates:
                seller = rng.choice(candidates)
                self.used_sellers.add(seller)
                pairs.append((platform, seller))
        if len(pairs) < 2:
            return None
        phones = [self._new_phone()]
        if rng.random() < 0.4:
            phones.append(self._new_phone())
        instagram_pair = next(((p, s) for p, s in pairs if p == "instagram"), None)
        if instagram_pair:
            instagram = instagram_username(self.sellers[instagram_pair[1]][0])
        elif rng.random() < 0.6:
            instagram = self._new_handle()
        else:
            instagram = None
        telegram = self._new_handle(telegram=True) if rng.random() < 0.35 else None
        photos = tuple(f"{name}:photo:{k}" for k in range(rng.choice((1, 2))))
        operator = Operator(name=name, accounts=(), phones=tuple(phones), instagram=instagram,
                            telegram=telegram, photos=photos)
        offers = {pair: self.sellers[pair[1]][0] for pair in pairs}
        keys = [account_key(p, offers[(p, s)]) for p, s in pairs]
        self._plan_accounts(operator, pairs, offers, keys)
        if returning and pairs[0][0] in TAKEDOWN_PLATFORMS:
            taken, back = self._returning(operator, pairs[0], keys)
            keys.append(back)
            operator = replace(operator, taken_down=taken, returning=back)
        return replace(operator, accounts=tuple(keys))

    def _plan_accounts(self, operator: Operator, pairs: list[tuple[str, int]],
                       offers: dict[tuple[str, int], Offer], keys: list[str]) -> None:
        rng = self.rng
        styles = rng.sample(list(PHONE_STYLES), len(PHONE_STYLES))
        channels: list[set[str]] = []
        for _ in pairs:
            chosen = set()
            if rng.random() < 0.85:
                chosen.add("phone")
            if len(operator.phones) > 1 and rng.random() < 0.4:
                chosen.add("phone2")
            if operator.instagram and rng.random() < 0.5:
                chosen.add("instagram")
            if operator.telegram and rng.random() < 0.4:
                chosen.add("telegram")
            if rng.random() < 0.85:
                chosen.add("photo")
            if len(pairs) > 1 and rng.random() < 0.3:
                chosen.add("shop")
            channels.append(chosen)
        _connect(channels)
        links = {key: shop_url(pair[0], offers[pair]).removeprefix("https://")
                 for key, pair in zip(keys, pairs, strict=True)}
        for index, ((platform, _seller), chosen) in enumerate(zip(pairs, channels, strict=True)):
            others = {k: link for k, link in links.items() if k != keys[index]}
            self.plans[keys[index]] = self._plan(
                operator, keys[index], platform, offers[pairs[index]], chosen=chosen,
                style=styles[index % len(styles)], others=others, copy=COPIES[index % len(COPIES)])

    def _plan(self, operator: Operator, key: str, platform: str, offer: Offer, *,
              chosen: set[str], style: str, others: dict[str, str], copy: Copy,
              ) -> AccountPlan:
        rng = self.rng
        words: list[str] = []
        contacts: list[tuple[str, str]] = []
        if "phone" in chosen:
            number = operator.phones[0]
            words.append(_phone_phrase(rng, number, style))
            contacts.append(("whatsapp" if style in _LINK_STYLES else "phone", number))
        if "phone2" in chosen:
            number = operator.phones[1]
            second = rng.choice([s for s in PHONE_STYLES if s != style])
            words.append(_phone_phrase(rng, number, second))
            contacts.append(("whatsapp" if second in _LINK_STYLES else "phone", number))
        if "instagram" in chosen and operator.instagram:
            words.append(rng.choice(("IG: @{h}", "Follow IG @{h}", "instagram.com/{h}",
                                     "cek ig kami @{h}")).format(h=operator.instagram))
            contacts.append(("instagram", operator.instagram))
        if "telegram" in chosen and operator.telegram:
            words.append(rng.choice(("Join grup Telegram t.me/{h} untuk info bal terbaru",
                                     "Telegram: @{h}", "https://t.me/{h}")).format(
                                         h=operator.telegram))
            contacts.append(("telegram", operator.telegram))
        if "shop" in chosen and others:
            other = rng.choice(sorted(others))
            words.append(f"Cek juga toko kami yang lain: {others[other]}")
            contacts.append(("shop", other))
        note = ". ".join(words)
        where = rng.random()
        description_note = profile_note = card_note = ""
        if where < 0.6 or platform not in ("tokopedia", "shopee", "bukalapak", "instagram"):
            description_note = note
        else:
            profile_note = note
        if platform in ("bukalapak", "instagram") and note and rng.random() < 0.5:
            card_note = note
        shared = operator.photos if "photo" in chosen else ()
        return AccountPlan(key=key, platform=platform, seller_id=offer.seller_id,
                           operator=operator.name, description_note=description_note,
                           profile_note=profile_note, card_note=card_note,
                           shared_photos=shared, copy=copy, contacts=tuple(contacts))

    def _returning(self, operator: Operator, pair: tuple[str, int],
                   keys: list[str]) -> tuple[str, str]:
        """Plant the returning account of ``operator`` on the platform of ``pair``."""
        rng = self.rng
        platform, seller = pair
        taken = keys[0]
        originals = [o for o in self.sellers[seller]
                     if any(o in found[:DEMO_WINDOWS[platform]]
                            for found in _default_results(self.catalogue))]
        originals = (originals or list(self.sellers[seller]))[:RETURNING_OFFERS]
        last = max(datetime.fromisoformat(o.posted_at) for o in self.catalogue)
        new_id = 16_000_000 + rng.randrange(1_000_000)
        while new_id in self.sellers:
            new_id += 1
        base = self.sellers[seller][0]
        name = rng.choice(("Gudang", "Juragan", "Pusat", "Raja", "Kios")) + " " + \
            rng.choice(("Bal", "Thrift", "Karungan", "Preloved", "Second")) + " " + \
            rng.choice(("Baru", "Jaya", "88", "Store", "Official", base.city))
        slug = "".join(ch for ch in name.lower() if ch.isalnum()) + str(new_id % 1000)
        next_id = self.catalogue[-1].offer_id + 1_000_000 * (len(self.successor) + 1)
        relisted = []
        for k, original in enumerate(originals):
            posted = last + timedelta(days=1 + k, hours=rng.randrange(24))
            offer = replace(original, offer_id=next_id + k * 7_919, seller_id=new_id,
                            seller_name=name, seller_slug=slug,
                            posted_at=posted.strftime("%Y-%m-%dT%H:%M:%SZ"),
                            image_key=f"{rng.getrandbits(128):032x}")
            relisted.append(offer)
            self.extra_platform[offer.offer_id] = platform
            self.extra_origin[offer.offer_id] = original.offer_id
        self.extras.extend(relisted)
        back = account_key(platform, relisted[0])
        style = rng.choice(list(PHONE_STYLES))
        phrase = _phone_phrase(rng, operator.phones[0], style)
        self.plans[back] = AccountPlan(
            key=back, platform=platform, seller_id=new_id, operator=operator.name,
            description_note=phrase, shared_photos=operator.photos,
            copy=COPIES[(len(keys) + 2) % len(COPIES)],
            contacts=(("whatsapp" if style in _LINK_STYLES else "phone", operator.phones[0]),))
        self.successor[taken] = back
        return taken, back

    def _stock_decoys(self, operators: list[Operator]) -> set[str]:
        """Accounts on their own whose listings carry the stock photo; and a few network
        accounts that use it too (it must not link them to anyone)."""
        rng = self.rng
        wanted = max(8, round(STOCK_DECOYS_PER_3000 * self.size / 3000))
        decoys: set[str] = set()
        for index in range(wanted * 3):
            if len(decoys) == wanted:
                break
            platform = PLATFORMS[index % len(PLATFORMS)]
            candidates = self._candidates(platform)
            if not candidates:
                continue
            seller = rng.choice(candidates)
            self.used_sellers.add(seller)
            key = account_key(platform, self.sellers[seller][0])
            decoys.add(key)
            self.plans[key] = AccountPlan(key=key, platform=platform, seller_id=seller,
                                          operator=None, shared_photos=(STOCK_PHOTO,),
                                          copy=COPIES[index % len(COPIES)])
        for operator in operators[:: max(1, len(operators) // 3)]:
            key = operator.accounts[0]
            plan = self.plans[key]
            self.plans[key] = replace(plan, shared_photos=(*plan.shared_photos, STOCK_PHOTO))
        return decoys

    def _new_phone(self) -> str:
        prefixes = ("0812", "0813", "0821", "0822", "0852", "0857", "0878", "0896")
        while True:
            number = e164(f"{self.rng.choice(prefixes)}0000{self.rng.randrange(10_000):04d}")
            if number not in self.phones_in_use:
                self.phones_in_use.add(number)
                return number

    def _new_handle(self, telegram: bool = False) -> str:
        """A new Instagram handle, or a Telegram one (Telegram allows no dot in a name)."""
        while True:
            first, second = self.rng.sample(_HANDLE_WORDS, 2)
            handle = f"{first}{self.rng.choice(('.', '_', ''))}{second}{self.rng.randrange(100)}"
            if telegram:
                handle = handle.replace(".", "_")
            if handle not in self.handles_in_use:
                self.handles_in_use.add(handle)
                return handle


@lru_cache(maxsize=8)
def _default_results(catalogue: tuple[Offer, ...]) -> tuple[tuple[Offer, ...], ...]:
    return tuple(search(catalogue, term) for term in default_search_terms())


def _phone_phrase(rng: random.Random, number: str, style: str) -> str:
    written = write_phone(number, style)
    if style in _LINK_STYLES:
        return rng.choice(("Chat langsung: {p}", "Order via {p}", "{p}")).format(p=written)
    return rng.choice(("Info & order WA {p}", "Fast respon WA: {p}", "Hub. {p} (WA)",
                       "CP/WA {p}", "Minat serius hubungi {p}", "Whatsapp {p} chat only",
                       "Telp/WA {p}")).format(p=written)


def _connect(channels: list[set[str]]) -> None:
    """Make sure every account shares something with the others (directly or not), and
    that none shows nothing: an account cut off is given the first phone number."""
    for chosen in channels:
        if not chosen:
            chosen.add("phone")
    linking = ("phone", "phone2", "instagram", "telegram", "photo")
    while True:
        parent = list(range(len(channels)))

        def find(i: int, parent: list[int] = parent) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for channel in linking:
            holders = [i for i, chosen in enumerate(channels) if channel in chosen]
            for i in holders[1:]:
                parent[find(i)] = find(holders[0])
        roots = {find(i) for i in range(len(channels))}
        if len(roots) == 1:
            return
        main = find(0)
        for i, chosen in enumerate(channels):
            if find(i) != main:
                chosen.add("phone")
        channels[0].add("phone")


def shared_between(world: SellerWorld, keys: Iterable[str]) -> dict[str, set[str]]:
    """For each account of ``keys``, the contact values and photo ids it shows (the tests'
    view of what links accounts)."""
    out: dict[str, set[str]] = {}
    for key in keys:
        plan = world.plans.get(key)
        shown = set()
        if plan:
            shown |= {f"{'phone' if kind == 'whatsapp' else kind}:{value}"
                      for kind, value in plan.contacts if kind != "shop"}
            shown |= {f"photo:{photo_id}" for photo_id in plan.shared_photos
                      if photo_id != STOCK_PHOTO}
        out[key] = shown
    return out

