"""Seller accounts grouped into networks: one operator behind several accounts, on one
platform or many. Pure: plain rows in (as the evidence store's readers give them), plain
data out; no SQLite, no Scrapy.

Two accounts are *linked* when their listings share

- a contact (strong): the same phone or WhatsApp number (E.164, however the sellers wrote
  it), e-mail, Instagram, TikTok or Telegram handle, LINE ID, or link to a shop;
- a photo (medium): two images whose perceptual hashes differ in at most
  ``image_distance`` bits (or one is the other mirrored, within ``image_distance -
  MIRROR_MARGIN`` bits: :func:`crawler.sellers.images.mirrored`), unless the photo is
  common: a hash (or near-identical hashes) held by more than ``image_max_accounts``
  unrelated accounts is a stock photo or a platform placeholder and links nobody (the
  rule of :func:`crawler.sellers.images.common_hashes`, counted over groups of accounts
  already linked by contacts, so one operator's many accounts count once). A flat
  picture's hash (:func:`crawler.sellers.images.low_information`) links nobody.

What any seller may write must not join unrelated sellers, so three rules keep values out:

- *Never a seller's own*: the stop-list ``crawler/data/contact_stoplist.toml``
  (:func:`crawler.sellers.contacts.never_own`): platforms' and couriers' accounts,
  placeholder e-mails, hashtags written as mentions, group invitations, platforms' own
  shops. (Extraction also drops a contact its clause gives to someone else: a courier's,
  a platform's service, a shop the seller warns against.)
- *Document frequency*: a value written by more than ``contact_max_accounts`` groups of
  accounts (accounts linked by their other values and photos count as one group) is a
  shared service's or a placeholder, and links nobody (:func:`_capped_contacts`).
- *Mentions*: an account's own shop or handle, read from the ``seller_url`` the platform
  gives it, is owned by that account. Another account's listing that names it only
  mentions it ("mampir ke tokopedia.com/xyz": drop by at ...; "jangan beli di
  tokopedia.com/xyz, penipu!": don't buy at ..., a swindler), which alone links nothing,
  nor links two accounts that mention the same shop. A mention links the writer to the
  owner only when it is mutual (the owner's listings name the writer's own shop or handle
  too) or claimed: the writer presents it as its own, in the words before it ("toko
  kami yang lain: ...": our other shop; "IG: @..." before a handle; the claim is kept in
  the contact's ``raw`` as evidence). When two accounts are linked by anything else, an
  unclaimed one-way mention adds nothing the other link does not prove, and is left out;
  so a returning seller is never proved by one. A shop or handle that is no account's
  own in the DB, written by several accounts, is shared like any contact. Limit: a claim
  is the writer's word; a seller claiming a stranger's shop as its own joins it, and the
  claim shown as evidence lets the investigator judge it.

A seller's *name* never links anything: "Thrift Murah" is everyone's name. Links are
grouped with union-find into networks. Every link keeps its evidence: for each account,
the listing, field and capture each shared value was read from.

A network is *returning* when one of its accounts was taken down (every one of its
rechecked listings was removed by the platform at its latest recheck; a recheck walled by a
captcha or login says nothing) and another of its
accounts was first seen after that takedown; the chain of links between the two proves it.

A network's id is the first 12 hex digits of the SHA-256 of its sorted account keys
(``platform:seller_id``, one per line): the same accounts always make the same id, and a
network that gains or loses an account gets a new one.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from typing import TYPE_CHECKING, Any

from crawler.sellers import images
from crawler.sellers.contacts import claims_own, extract, never_own, stoplist

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

# Contact kinds that link accounts (all strong); a WhatsApp number is a phone number.
CONTACT_KINDS = ("phone", "whatsapp", "email", "instagram", "tiktok", "telegram", "line", "shop")
NUMBER_KINDS = frozenset({"phone", "whatsapp"})
HANDLE_KINDS = ("instagram", "tiktok", "telegram", "line")
IDENTITY_FIELD = "seller_url"  # an account's own shop or handle, as the platform gives it
STRENGTH = {"image": "medium"} | dict.fromkeys(CONTACT_KINDS, "strong")
# A recheck status that means taken down: the platform removed the listing. "blocked" (a
# captcha, login wall, 403 or 429) says the crawler was walled, nothing about the account:
# like errors and refusals it says nothing about the listing.
TAKEN_DOWN = frozenset({"removed"})
DECISIVE = TAKEN_DOWN | {"live"}
DEFAULT_IMAGE_DISTANCE = 6
DEFAULT_IMAGE_MAX_ACCOUNTS = 5
# A mirrored photo links within this many bits less than a photo as it is: the mirrored
# hash is only about the mirror's, and comparing every hash with every mirrored one too
# doubles the chances of a match by chance (the demo's 5,636 photos hold one chance pair of
# mirrored hashes 6 bits apart, and none at 4 or less; real mirrored copies are 0 to 8 bits
# from the mirrored hash, most within 4).
MIRROR_MARGIN = 2
# A contact value written by more groups of accounts than this links nobody (see
# _capped_contacts). Twice the photo limit: a number or handle is written by its owner,
# while a photo is copied by design, so a value is shared by unrelated sellers far less
# often; an operator running more accounts than this still counts once when its accounts
# share anything else (a second number, a handle, a photo), and one running up to ten
# accounts that share nothing but one number is still found. A value on more than ten
# unrelated groups is a courier's, a platform's or a placeholder, not one operator's.
DEFAULT_CONTACT_MAX_ACCOUNTS = 10
# The listings, per account and per shared value, whose evidence a link keeps: the first
# sightings; the rest say the same thing again.
EVIDENCE_PER_ACCOUNT = 3
_WEB = ("https://", "http://")
_PHASH = re.compile(r"[0-9a-f]{16}")  # as images.fingerprint writes it
_MAX_VALUE = 500  # a longer "contact" is not one (contacts extraction caps raw text at 200)


def account_key(platform: str, seller_id: Any) -> str:
    """``platform:seller_id``, how an account is named everywhere in thriftwatch."""
    return f"{platform}:{seller_id}"


def network_id(keys: Iterable[str]) -> str:
    """The first 12 hex digits of SHA-256 over the sorted account keys, one per line."""
    text = "\n".join(sorted(keys))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


@dataclass
class Link:
    """Accounts that share one value; ``evidence`` has one or more sides per account."""

    kind: str  # a contact kind ('whatsapp' only when every side was one), or 'image'
    value: str  # E.164 number, lower-case handle, e-mail, 'platform:shop', or the photo's pHash
    accounts: list[str]
    evidence: list[dict[str, Any]]
    distance: int | None = None  # images only: Hamming distance of the two pHashes
    mirrored: bool = False  # images only: one photo is the other flipped left to right

    @property
    def strength(self) -> str:
        return STRENGTH.get(self.kind, "strong")

    def as_dict(self) -> dict[str, Any]:
        shown = {"kind": self.kind, "value": self.value, "accounts": self.accounts,
                 "evidence": self.evidence, "strength": self.strength}
        if self.distance is not None:
            shown["distance"] = self.distance
        if self.mirrored:
            shown["mirrored"] = True
        return shown


@dataclass
class Network:
    network_id: str
    accounts: list[dict[str, Any]]
    links: list[Link]
    returning_evidence: list[dict[str, Any]] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [account_key(a["platform"], a["seller_id"]) for a in self.accounts]

    @property
    def platforms(self) -> list[str]:
        return sorted({a["platform"] for a in self.accounts})

    @property
    def flagged_listings(self) -> int:
        return sum(a["flagged"] or 0 for a in self.accounts)

    @property
    def returning(self) -> bool:
        return bool(self.returning_evidence)

    def as_dict(self) -> dict[str, Any]:
        """The network as ``thriftwatch sellers`` writes it (JSON)."""
        return {"network_id": self.network_id, "accounts": self.accounts,
                "links": [link.as_dict() for link in self.links],
                "platforms": self.platforms, "flagged_listings": self.flagged_listings,
                "returning": self.returning, "returning_evidence": self.returning_evidence}


class _UnionFind:
    def __init__(self, items: Iterable[str]):
        self.parent = {item: item for item in items}

    def find(self, item: str) -> str:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, first: str, second: str) -> None:
        a, b = self.find(first), self.find(second)
        if a != b:
            # The smaller key becomes the root: the same links give the same roots in any order.
            self.parent[max(a, b)] = min(a, b)


def build_networks(accounts: Iterable[Mapping[str, Any]] = (),
                   listings: Iterable[Mapping[str, Any]] = (),
                   contacts: Iterable[Mapping[str, Any]] = (),
                   image_rows: Iterable[Mapping[str, Any]] = (),
                   rechecks: Iterable[Mapping[str, Any]] = (), *,
                   image_distance: int = DEFAULT_IMAGE_DISTANCE,
                   image_max_accounts: int = DEFAULT_IMAGE_MAX_ACCOUNTS,
                   contact_max_accounts: int = DEFAULT_CONTACT_MAX_ACCOUNTS) -> list[Network]:
    """Every account's network, largest first (then by flagged listings, then id).

    - ``accounts``: rows of the ``accounts`` view (platform, seller_id, seller_name,
      seller_url, listings, flagged, first_seen, last_seen, status, taken_down_at);
    - ``listings``: (platform, listing_id, seller_id) and, where known, flagged, url,
      first_seen, capture_sha256: whose listing each contact and photo is (a listing's
      current seller); an account with listings but no ``accounts`` row is made from them;
    - ``contacts``: rows of the ``contacts`` table (platform, listing_id, field, kind, value,
      raw, capture_sha256, seen_at);
    - ``image_rows``: rows of the ``images`` table (platform, listing_id, url, body_sha256,
      phash, fetched_at);
    - ``rechecks``: rows of ``rechecks`` (platform, listing_id, status, checked_at): when
      given, each account's takedown status and time are worked out from them (the
      accounts view's rule); otherwise the ``accounts`` rows' status and taken_down_at
      are used;
    - ``contact_max_accounts``: a contact value written by more than this many groups of
      accounts (accounts already linked by other evidence count as one group) is a
      shared service's or a placeholder and links nobody (:func:`_capped_contacts`).
    """
    listings = list(listings)
    owner, found = _owners(listings)
    members, takedowns = _accounts(accounts, found)
    owner = {listing: key for listing, key in owner.items() if key in members}
    image_rows = list(image_rows)
    links, photo_links = _capped_contacts(
        contact_links([*contacts, *identities(listings, owner)], owner), members,
        lambda group_of: image_links(image_rows, owner, group_of, distance=image_distance,
                                     max_accounts=image_max_accounts),
        contact_max_accounts)
    forest = _UnionFind(members)
    for link in links + photo_links:
        for other in link.accounts[1:]:
            forest.union(link.accounts[0], other)
    links += photo_links
    rechecks = list(rechecks)
    if rechecks:
        takedowns = _takedowns(rechecks, owner)
        for key, when in takedowns.items():  # as the accounts view says it, from the rows
            members[key]["status"] = "live" if when is None else "taken_down"
    groups: dict[str, list[str]] = defaultdict(list)
    for key in members:
        groups[forest.find(key)].append(key)
    links_of: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        links_of[forest.find(link.accounts[0])].append(link)
    networks = []
    for root, keys in groups.items():
        keys.sort()
        network = Network(network_id(keys), [members[key] for key in keys],
                          sorted(links_of[root], key=_link_order))
        network.returning_evidence = _returning(network, members, takedowns)
        networks.append(network)
    networks.sort(key=lambda n: (-len(n.accounts), -n.flagged_listings, n.network_id))
    return networks


def _capped_contacts(candidates: list[Link], members: Iterable[str],
                     photo_links: Callable[[Mapping[str, str]], list[Link]],
                     max_accounts: int) -> tuple[list[Link], list[Link]]:
    """The contact links that survive the document-frequency cap, and the photo links.

    A value many unrelated sellers write (a courier's number, a platform's customer
    service, a placeholder e-mail, a common word as a handle) would otherwise join them
    all. As for photos (:func:`crawler.sellers.images.common_hashes`), accounts are counted
    in groups already linked by other evidence, so one operator's many accounts count once:
    a value held by at most ``max_accounts`` accounts links them; a value held by more links
    them only once its accounts fall into at most ``max_accounts`` groups of the links
    kept so far (the rarer values and the photos), which is repeated until nothing
    changes. ``photo_links`` makes the photo links for groups of accounts (account → its
    group's root) linked by contacts."""
    members = list(members)
    kept = [link for link in candidates if len(link.accounts) <= max_accounts]
    frequent = sorted((link for link in candidates if len(link.accounts) > max_accounts),
                      key=_link_order)
    contact_forest = _union(members, kept)
    photos = photo_links({key: contact_forest.find(key) for key in members})
    if not frequent:
        return kept, photos
    forest = _union(members, kept + photos)
    accepted = 0
    grown = True
    while grown and frequent:
        grown, waiting = False, []
        for link in frequent:
            if len({forest.find(account) for account in link.accounts}) <= max_accounts:
                kept.append(link)
                _union_into(forest, [link])
                grown = True
                accepted += 1
            else:
                waiting.append(link)
        frequent = waiting
    if accepted:  # larger contact groups: a photo may now be common to fewer groups
        contact_forest = _union(members, kept)
        photos = photo_links({key: contact_forest.find(key) for key in members})
    return kept, photos


def _union(members: Iterable[str], links: Iterable[Link]) -> _UnionFind:
    forest = _UnionFind(members)
    _union_into(forest, links)
    return forest


def _union_into(forest: _UnionFind, links: Iterable[Link]) -> None:
    for link in links:
        for other in link.accounts[1:]:
            forest.union(link.accounts[0], other)


def _owners(listings: Iterable[Mapping[str, Any]],
            ) -> tuple[dict[tuple[str, str], str], dict[str, dict[str, Any]]]:
    """(platform, listing_id) → account key, and what the listings say of each account."""
    owner: dict[tuple[str, str], str] = {}
    found: dict[str, dict[str, Any]] = {}
    for listing in listings:
        seller_id = listing.get("seller_id")
        if seller_id is None or seller_id == "":
            continue
        platform, key = listing["platform"], account_key(listing["platform"], seller_id)
        owner[(platform, str(listing["listing_id"]))] = key
        seen = found.setdefault(key, {
            "platform": platform, "seller_id": str(seller_id),
            "seller_name": listing.get("seller_name"), "url": listing.get("seller_url"),
            "listings": 0, "flagged": 0, "first_seen": None, "last_seen": None,
            "status": None})
        seen["listings"] += 1
        seen["flagged"] += 1 if listing.get("flagged") else 0
        for name, pick in (("first_seen", min), ("last_seen", max)):
            value = listing.get(name)
            if isinstance(value, str):
                seen[name] = value if seen[name] is None else pick(seen[name], value)
    return owner, found


def identities(listings: Iterable[Mapping[str, Any]],
               owner: Mapping[tuple[str, str], str]) -> list[dict[str, Any]]:
    """Each account's own handle or shop, read from its ``seller_url`` (the platform writes
    it, not the seller) as a contact of its first listing that shows one, so that another
    account's listing naming that shop or handle links the two."""
    first: dict[str, Mapping[str, Any]] = {}
    for row in listings:
        account = owner.get((row.get("platform"), str(row.get("listing_id"))))
        url = row.get("seller_url")
        if account is None or not isinstance(url, str) or not url.startswith(_WEB):
            continue
        held = first.get(account)
        if held is None or (str(row.get("first_seen") or ""), str(row["listing_id"])) < (
                str(held.get("first_seen") or ""), str(held["listing_id"])):
            first[account] = row
    found = []
    for row in first.values():
        for contact in extract(row["seller_url"], "seller_url"):
            found.append({  # noqa: PERF401
                "platform": row["platform"], "listing_id": str(row["listing_id"]),
                "field": "seller_url", "kind": contact.kind, "value": contact.value,
                "raw": contact.raw, "capture_sha256": row.get("capture_sha256"),
                "seen_at": row.get("first_seen")})
    return found


def _accounts(rows: Iterable[Mapping[str, Any]], found: Mapping[str, dict[str, Any]],
              ) -> tuple[dict[str, dict[str, Any]], dict[str, str | None]]:
    """Every account as ``sellers`` shows it, keyed ``platform:seller_id``, and when each
    rechecked account was taken down (None: still live) as the accounts view says."""
    members: dict[str, dict[str, Any]] = {}
    takedowns: dict[str, str | None] = {}
    for row in rows:
        if row.get("seller_id") is None or row.get("seller_id") == "":
            continue
        key = account_key(row["platform"], row["seller_id"])
        if row.get("status") == "taken_down" and isinstance(row.get("taken_down_at"), str):
            takedowns[key] = row["taken_down_at"]
        elif row.get("status") == "live":
            takedowns[key] = None
        members[key] = {
            "platform": row["platform"], "seller_id": str(row["seller_id"]),
            "seller_name": row.get("seller_name"),
            "url": row.get("seller_url", row.get("url")),
            "listings": row.get("listings") or 0, "flagged": row.get("flagged") or 0,
            "first_seen": row.get("first_seen"), "last_seen": row.get("last_seen"),
            "status": row.get("status")}
    for key, seen in found.items():
        members.setdefault(key, dict(seen))
    return members, takedowns


def _side(account: str, row: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {"account": account, "platform": row["platform"], "listing_id": str(row["listing_id"]),
            "field": row.get("field"), "capture_sha256": row.get("capture_sha256"), **extra}


def contact_links(contacts: Iterable[Mapping[str, Any]],
                  owner: Mapping[tuple[str, str], str]) -> list[Link]:
    """The strong links of shared contact values (before the document-frequency cap of
    :func:`build_networks`).

    A value links the accounts whose listings wrote it. A value that is an account's own
    shop or handle (read from its ``seller_url``: an *identity*) is owned by that account,
    and another account's listing that names it only *mentions* it: a mention links the
    writer to the owner only when the owner's listings name the writer's own shop or
    handle too (a mutual mention), or when the writer claims it as its own
    (:func:`crawler.sellers.contacts.claims_own`: "toko kami yang lain: ...", "IG: @...");
    two accounts that merely mention the same owned shop are not linked by it. Values that
    are never a seller's own (:func:`crawler.sellers.contacts.never_own`) link nobody.

    Contacts are matched by the SHA-256 of their value (``value_sha256``), so a contact
    whose text was erased (``thriftwatch retention``) still links its accounts; the link
    then shows ``erased:`` and the digest instead of the value."""
    sides: dict[tuple[str, str], dict[str, list[tuple[Any, ...]]]] = defaultdict(
        lambda: defaultdict(list))
    shown: dict[tuple[str, str], str] = {}
    stopped = _stopped_digests()
    for row in contacts:
        kind, value = row.get("kind"), row.get("value")
        account = owner.get((row.get("platform"), str(row.get("listing_id"))))
        if account is None or kind not in STRENGTH or kind == "image":
            continue
        if isinstance(value, str) and value and len(value) <= _MAX_VALUE:
            if never_own(kind, value):
                continue
            digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
        elif value is None and isinstance(row.get("value_sha256"), str):
            digest = row["value_sha256"]  # erased: its digest still matches
            if (kind, digest) in stopped:
                continue
        else:
            continue
        group = "phone" if kind in NUMBER_KINDS else kind
        if value is not None:
            shown[(group, digest)] = value
        sides[(group, digest)][account].append(
            (str(row.get("seen_at") or ""), row["platform"], str(row["listing_id"]),
             str(row.get("field") or ""), kind, row))
    links = []
    owned_by: dict[str, set[tuple[str, str]]] = defaultdict(set)  # its identities
    named_by: dict[str, set[tuple[str, str]]] = defaultdict(set)  # others' it names
    mentions: list[tuple[str, str, tuple[str, str]]] = []  # (writer, owner, value)
    for value_key, by_account in sides.items():
        owners = sorted(account for account, found in by_account.items()
                        if any(side[3] == IDENTITY_FIELD for side in found))
        writers = sorted(account for account in by_account if account not in owners)
        for account in owners:
            owned_by[account].add(value_key)
        if owners:
            for writer in writers:
                named_by[writer].add(value_key)
                mentions += [(writer, one, value_key) for one in owners]
        # An owned value links its owners (the same seller_url); its writers only mention
        # it, and link to the owner below, not to each other. Anyone else's value links
        # everyone who wrote it.
        accounts = owners or writers
        if len(accounts) > 1:
            links.append(_contact_link(value_key, {a: by_account[a] for a in accounts}, shown))
    for writer, one, value_key in mentions:
        # each names the other's own shop or handle, or the writer claims it as its own
        if owned_by[writer] & named_by[one] or any(
                claims_own(str(side[5].get("raw") or ""), side[4])
                for side in sides[value_key][writer]):
            by_account = sides[value_key]
            links.append(_contact_link(value_key, {writer: by_account[writer],
                                                   one: by_account[one]}, shown))
    return links


def _contact_link(value_key: tuple[str, str], by_account: Mapping[str, list[tuple[Any, ...]]],
                  shown: Mapping[tuple[str, str], str]) -> Link:
    """The link of one shared value between ``by_account``'s accounts, with the first
    sightings of each as its evidence."""
    group, digest = value_key
    value = shown.get(value_key, f"erased:{digest}")
    evidence, kinds = [], set()
    for account in sorted(by_account):
        kept: set[tuple[str, str, Any]] = set()
        for *_, kind, row in sorted(by_account[account], key=lambda s: s[:4]):
            kinds.add(kind)
            mark = (row["listing_id"], row.get("field"), row.get("capture_sha256"))
            if mark in kept or len(kept) >= EVIDENCE_PER_ACCOUNT:
                continue
            kept.add(mark)
            evidence.append(_side(account, row, kind=kind, raw=row.get("raw"),
                                  seen_at=row.get("seen_at")))
    kind = "whatsapp" if kinds == {"whatsapp"} else group
    return Link(kind, value, sorted(by_account), evidence)


@lru_cache(maxsize=1)
def _stopped_digests() -> frozenset[tuple[str, str]]:
    """(kind, SHA-256) of the stop-list's exact values, so that an erased contact of such
    a value links nobody either."""
    stop = stoplist()
    found = set()
    for kinds, values in ((NUMBER_KINDS, stop.phones), (HANDLE_KINDS, stop.handles),
                          (("shop",), stop.shops)):
        for value in values:
            digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
            found.update((kind, digest) for kind in kinds)
    return frozenset(found)


def image_links(image_rows: Iterable[Mapping[str, Any]],
                owner: Mapping[tuple[str, str], str],
                group_of: Mapping[str, str] | None = None, *,
                distance: int = DEFAULT_IMAGE_DISTANCE,
                max_accounts: int = DEFAULT_IMAGE_MAX_ACCOUNTS) -> list[Link]:
    """One medium link per pair of accounts holding near-identical photos (the closest pair
    of their photos is the evidence), common photos left out
    (:func:`crawler.sellers.images.common_hashes`). ``group_of`` maps each account to the
    group of accounts already linked by contacts: a photo's accounts are counted as groups
    when deciding whether it is common."""
    if distance < 0 or max_accounts < 1:
        return []
    # Each account's first sighting of each hash (by fetch time, then listing), as evidence.
    holders: dict[str, dict[str, tuple[Any, ...]]] = defaultdict(dict)
    for row in image_rows:
        phash = row.get("phash")
        account = owner.get((row.get("platform"), str(row.get("listing_id"))))
        if (account is None or not isinstance(phash, str) or not _PHASH.fullmatch(phash)
                or images.low_information(phash)):  # a blank's hash, stored before the rule
            continue
        rank = (str(row.get("fetched_at") or ""), row["platform"], str(row["listing_id"]),
                str(row.get("url") or ""))
        held = holders[phash].get(account)
        if held is None or rank < held[0]:
            holders[phash][account] = (rank, row)
    pairs = [(a, b, apart, False) for a, b, apart in near_pairs(holders, distance)]
    pairs += [(a, b, apart, True)
              for a, b, apart in mirror_pairs(holders, distance - MIRROR_MARGIN)]
    group_of = group_of or {}
    # Only a photo held by two groups, or near another, can be common or link anyone.
    shared = {phash for phash, accounts in holders.items()
              if len({group_of.get(account, account) for account in accounts}) > 1}
    shared.update(phash for pair in pairs for phash in pair[:2])
    common = common_hashes({phash: {group_of.get(account, account) for account in holders[phash]}
                            for phash in shared}, [pair[:3] for pair in pairs], max_accounts)
    best: dict[tuple[str, str], tuple[Any, ...]] = {}
    for first, second, apart, flipped in [(h, h, 0, False) for h in sorted(shared)] + pairs:
        if first in common or second in common:
            continue
        for one, one_held in holders[first].items():
            for two, two_held in holders[second].items():
                if one == two:
                    continue
                (a, a_held), (b, b_held) = sorted(((one, one_held), (two, two_held)),
                                                  key=lambda pair: pair[0])
                candidate = (apart, flipped, a_held[0], b_held[0], a_held[1], b_held[1])
                if (a, b) not in best or candidate[:4] < best[(a, b)][:4]:
                    best[(a, b)] = candidate
    links = []
    for (a, b), (apart, flipped, _, _, a_row, b_row) in best.items():
        evidence = [_image_side(a, a_row), _image_side(b, b_row)]
        links.append(Link("image", min(a_row["phash"], b_row["phash"]), [a, b], evidence,
                          distance=apart, mirrored=flipped))
    return links


def mirror_pairs(hashes: Iterable[str], distance: int) -> list[tuple[str, str, int]]:
    """Every pair of different pHashes one of which is, within ``distance`` bits, the hash
    a mirrored copy of the other would have (:func:`crawler.sellers.images.mirrored`), as
    ``(smaller, larger, bits)``: a photo posted flipped left to right."""
    if distance < 0:
        return []
    group = {phash for phash in hashes if _PHASH.fullmatch(phash)}
    mirror_of = {images.mirrored(phash): phash for phash in group}
    found: dict[tuple[str, str], int] = {}
    candidates = [(flipped, flipped, 0) for flipped in mirror_of]  # mirrored exactly
    candidates += near_pairs([*group, *mirror_of], distance)
    for x, y, apart in candidates:
        for flipped, plain in ((x, y), (y, x)):
            original = mirror_of.get(flipped)
            if original is None or plain not in group or original == plain:
                continue
            key = (min(original, plain), max(original, plain))
            found[key] = min(apart, found.get(key, apart))
    return sorted((a, b, apart) for (a, b), apart in found.items())


def common_hashes(groups_of: Mapping[str, set[str]], pairs: Iterable[tuple[str, str, int]],
                  max_accounts: int) -> set[str]:
    """The hashes held by more than ``max_accounts`` groups of accounts, counting the groups
    of near-identical hashes (``pairs``, from :func:`near_pairs`) too: the rule of
    :func:`crawler.sellers.images.common_hashes` (tests hold the two to the same answer),
    from the pairs found once for linking instead of finding them again."""
    near: dict[str, set[str]] = defaultdict(set)
    for a, b, _ in pairs:
        near[a].add(b)
        near[b].add(a)
    common = set()
    for phash, groups in groups_of.items():
        seen = set(groups)
        for other in near[phash]:
            if len(seen) > max_accounts:
                break
            seen |= groups_of.get(other, set())
        if len(seen) > max_accounts:
            common.add(phash)
    return common


def _image_side(account: str, row: Mapping[str, Any]) -> dict[str, Any]:
    # The photo's own bytes are the capture: the body stored under its SHA-256.
    return {"account": account, "platform": row["platform"], "listing_id": str(row["listing_id"]),
            "field": "image", "capture_sha256": row.get("body_sha256"), "url": row.get("url"),
            "phash": row["phash"], "fetched_at": row.get("fetched_at")}


def near_pairs(hashes: Iterable[str], distance: int) -> list[tuple[str, str, int]]:
    """Every pair of different pHashes (16 hex digits) at most ``distance`` bits apart, as
    ``(smaller, larger, bits)``, each checked by :func:`crawler.sellers.images.distance`.

    Not every pair is compared (400,000 photos make 80 billion pairs). Each hash is cut
    into ``distance + k`` bands; two hashes that differ in at most ``distance`` bits differ
    in at most ``distance`` bands, so they agree exactly on some ``k`` of them
    (pigeonhole). Only hashes that agree on one of those combinations of bands are
    compared: with numpy, one sort per combination (:func:`_agreeing`)."""
    group = sorted({phash for phash in hashes if _PHASH.fullmatch(phash)})
    if len(group) < 2 or distance < 0:
        return []
    pairs = []
    for a, b in _agreeing(group, 64, distance):
        apart = images.distance(a, b)
        if apart <= distance:
            pairs.append((a, b, apart))
    pairs.sort()
    return pairs


def _agreeing(group: list[str], bits: int, distance: int) -> list[tuple[str, str]]:
    """Pairs of ``group`` (hex hashes of ``bits`` ≤ 64 bits) that are at most ``distance``
    bits apart, found through the combinations of bands they must agree on."""
    import numpy as np

    values = np.array([int(phash, 16) for phash in group], dtype=np.uint64)
    count = len(group)
    agree, bands = _banding(bits, distance, count)
    widths = [bits // bands + (1 if i < bits % bands else 0) for i in range(bands)]
    band_masks, low = [], 0
    for width in widths:
        band_masks.append(((1 << width) - 1) << low)
        low += width
    found = []
    for combination in combinations(band_masks, agree):
        mask = np.uint64(sum(combination))
        keys = values & mask
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        # Runs of equal keys: every pair inside a run is a candidate.
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sizes = np.diff(np.r_[starts, count])
        rank = np.arange(count) - np.repeat(starts, sizes)  # place of each hash in its run
        later = np.repeat(sizes, sizes) - rank - 1  # how many come after it in its run
        if not later.any():
            continue
        left = np.repeat(np.arange(count), later)
        offsets = np.arange(len(left)) - np.repeat(np.cumsum(later) - later, later)
        right = left + 1 + offsets
        first, second = order[left], order[right]
        close = _popcount(values[first] ^ values[second]) <= distance
        first, second = first[close], second[close]
        found.append(np.minimum(first, second) * count + np.maximum(first, second))
    if not found:
        return []
    # The group is sorted, so the pair with the smaller index comes first.
    return [(group[int(code) // count], group[int(code) % count])
            for code in np.unique(np.concatenate(found))]


def _banding(bits: int, distance: int, count: int) -> tuple[int, int]:
    """``(k, bands)`` for :func:`_agreeing`: the cheapest way, for ``count`` hashes, to cut
    ``bits`` into ``distance + k`` bands of which ``k`` must agree (a sort per combination
    of ``k`` bands, against the pairs that agree by chance)."""
    best = (1, distance + 1)
    cost_of_best = float("inf")
    for agree in range(1, bits - distance + 1):
        bands = distance + agree
        if bands > bits:
            break
        key_bits = bits * agree / bands
        cost = math.comb(bands, agree) * (count * 20 + count * count / 2 ** (key_bits + 1))
        if cost < cost_of_best:
            best, cost_of_best = (agree, bands), cost
    return best


def _popcount(values: Any) -> Any:
    """Set bits of each uint64 in a numpy array."""
    import numpy as np

    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(values)
    table = np.array([i.bit_count() for i in range(256)], dtype=np.uint8)
    return table[values.view(np.uint8).reshape(-1, 8)].sum(axis=1)


def _takedowns(rechecks: Iterable[Mapping[str, Any]],
               owner: Mapping[tuple[str, str], str]) -> dict[str, str | None]:
    """Each rechecked account: when it was taken down (every rechecked listing removed at
    its latest recheck; the time the last of them went), or None while one of its listings
    is live. Rechecks that were walled or ended in an error say nothing and are passed over."""
    history: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for row in rechecks:
        listing = (row.get("platform"), str(row.get("listing_id")))
        if row.get("status") in DECISIVE and listing in owner:
            history[listing].append((str(row.get("checked_at") or ""), row["status"]))
    went: dict[str, list[str | None]] = defaultdict(list)
    for listing, checks in history.items():
        checks.sort()
        if checks[-1][1] not in TAKEN_DOWN:
            went[owner[listing]].append(None)
            continue
        since = checks[-1][0]  # the first check of the final run of removed answers
        for checked_at, status in reversed(checks):
            if status not in TAKEN_DOWN:
                break
            since = checked_at
        went[owner[listing]].append(since)
    return {account: None if None in times else max(t for t in times if t is not None)
            for account, times in went.items()}


def _returning(network: Network, members: Mapping[str, Mapping[str, Any]],
               takedowns: Mapping[str, str | None]) -> list[dict[str, Any]]:
    """Each taken-down account of ``network`` with each of its accounts first seen after the
    takedown, and the links that join them (the shortest chain)."""
    found = []
    keys = network.keys
    for gone in keys:
        when = takedowns.get(gone)
        if not when:
            continue
        for later in keys:
            first_seen = members[later].get("first_seen")
            if later == gone or not isinstance(first_seen, str) or first_seen <= when:
                continue
            found.append({"taken_down": gone, "taken_down_at": when, "returned": later,
                          "first_seen": first_seen,
                          "links": [link.as_dict() for link in _chain(network.links, gone,
                                                                       later)]})
    return found


def _chain(links: list[Link], start: str, end: str) -> list[Link]:
    """The shortest chain of ``links`` from account ``start`` to ``end`` (strong links first
    among equally short ones)."""
    touching: dict[str, list[Link]] = defaultdict(list)
    for link in links:  # already in order: strong before medium
        for account in link.accounts:
            touching[account].append(link)
    came_by: dict[str, tuple[str, Link] | None] = {start: None}
    queue = deque([start])
    while queue:
        here = queue.popleft()
        if here == end:
            break
        for link in touching[here]:
            for there in link.accounts:
                if there not in came_by:
                    came_by[there] = (here, link)
                    queue.append(there)
    chain: list[Link] = []
    step = came_by.get(end)
    while step is not None:
        here, link = step
        chain.append(link)
        step = came_by[here]
    return chain[::-1]


def _link_order(link: Link) -> tuple[Any, ...]:
    return (link.strength != "strong", link.kind, link.value, link.accounts)
