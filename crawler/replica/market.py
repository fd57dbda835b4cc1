"""What the replica's platforms list right now: takedowns by account and returning sellers.

A replica starts with every catalogue offer listed on every platform by its seller's
account there. ``take_down(account_key)`` (``ReplicaServer.take_down``, ``POST
/_replica/takedown``) takes one account down, as a platform does after a takedown
request: its listings leave that platform's search, and their listing pages and detail
endpoints answer as removed (the account-wide form of ``listing_pages``' "removed" mark).
When a planted operator's account is taken down, the operator's returning account on the
same platform starts listing: its offers come first in that platform's search for the
words they hold, so the next crawl sees them (``crawler.replica.networks``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.replica.accounts import account_key
from crawler.replica.catalogue import matching, search

if TYPE_CHECKING:
    from crawler.replica.catalogue import Offer
    from crawler.replica.networks import SellerWorld


class Market:
    """The listings of every platform: the catalogue, less takedowns, plus returners."""

    def __init__(self, world: SellerWorld):
        self.world = world
        self.catalogue = world.catalogue
        # Offers in offer_id order: the returning sellers' offers come after the catalogue's.
        self.all_offers: tuple[Offer, ...] = (*world.catalogue, *world.extras)
        self.by_id = {offer.offer_id: offer for offer in self.all_offers}
        self.taken_down: set[str] = set()

    def take_down(self, key: str) -> list[str]:
        """Take account ``key`` down; the returning accounts that now list, if any."""
        self.taken_down.add(key)
        back = self.world.successor.get(key)
        return [back] if back else []

    def take_down_planted(self) -> list[str]:
        """Take down every account the catalogue plans to be taken down (and so let their
        operators' returning accounts list). Returns the accounts taken down."""
        for key in sorted(self.world.successor):
            self.take_down(key)
        return sorted(self.world.successor)

    def is_listed(self, platform: str, offer: Offer) -> bool:
        """Whether ``offer`` is live on ``platform``: its account is up, and a returning
        seller's offer only on its platform once its operator's account is down."""
        home = self.world.extra_platform.get(offer.offer_id)
        if home is not None and (home != platform or not self._returned(offer)):
            return False
        return not self.taken_down or account_key(platform, offer) not in self.taken_down

    def is_removed(self, platform: str, offer: Offer) -> bool:
        """Whether ``offer`` was listed on ``platform`` and its account was taken down."""
        return bool(self.taken_down) and account_key(platform, offer) in self.taken_down

    def _returned(self, offer: Offer) -> bool:
        back = account_key(self.world.extra_platform[offer.offer_id], offer)
        return any(self.world.successor.get(key) == back for key in self.taken_down)

    def search(self, platform: str, keyword: str) -> tuple[Offer, ...]:
        """``platform``'s results for ``keyword``: the catalogue's (see ``catalogue.search``),
        without taken-down accounts, after the returning sellers' offers that match."""
        results = search(self.catalogue, keyword)
        if not self.taken_down:
            return results
        returned = tuple(offer for offer in self.world.extras
                         if self.is_listed(platform, offer))
        return (*matching(returned, keyword),
                *(offer for offer in results if self.is_listed(platform, offer)))

    def offer(self, platform: str, offer_id: int) -> Offer | None:
        """The offer ``offer_id`` as ``platform`` knows it (listed now or taken down), or
        None if the platform never listed it."""
        offer = self.by_id.get(offer_id)
        if offer is None:
            return None
        home = self.world.extra_platform.get(offer_id)
        if home is not None and (home != platform or not self._returned(offer)):
            return None
        return offer

