"""A DNS resolver that refuses names resolving to non-public addresses.

Scrapy's HTTP/1.1 download handler connects to whatever address a name resolves to, so a
public-looking host (``evil.example`` → 127.0.0.1) would reach this machine or its network.
This resolver checks the address it hands back (cached or fresh) against
:func:`crawler.runtime.url_policy.address_refusal`; the check and the connection use the
same address, so a name cannot change its answer in between. In replica mode the replica's
own host may resolve to loopback: it is the only name Scrapy resolves there.

A refused name fails like an unknown one (Twisted turns every lookup failure into "no
results"), so the reason is kept here, by name, for
:class:`crawler.runtime.fetch_guard.RefusedAddressMiddleware` to record as the request's
``refused_url`` fault.

Enable with ``TWISTED_DNS_RESOLVER = "crawler.runtime.resolver.PublicOnlyResolver"``
(``DNS_RESOLVER`` before Scrapy 2.15). IP literals never reach a resolver: the fetch guard
(:mod:`crawler.runtime.fetch_guard`) checks them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.datatypes import LocalCache
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from crawler.config import Config
from crawler.runtime.url_policy import address_refusal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from twisted.internet.base import ReactorBase
    from twisted.internet.defer import Deferred

_refused: LocalCache[str, str] = LocalCache(10_000)  # name → why it was refused


class RefusedAddress(DNSLookupError):
    """A name resolved to an address the fetch policy refuses."""


def _key(name: str) -> str:
    return name.lower().rstrip(".")


def refused_name(name: str) -> str | None:
    """Why the resolver refused ``name``, if it did."""
    return _refused.get(_key(name))


@implementer(IResolverSimple)
class PublicOnlyResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing any name that resolves outside the public
    internet, except ``allowed_hosts``."""

    allowed_hosts: tuple[str, ...] = ()

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: ReactorBase) -> PublicOnlyResolver:
        # Scrapy passes its CrawlerProcess here, not a Crawler: only its settings are read.
        resolver = super().from_crawler(crawler, reactor)
        replica = Config.from_settings(crawler.settings).replica
        resolver.allowed_hosts = (urlsplit(replica).hostname or "",) if replica else ()
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        resolved = super().getHostByName(name, timeout)
        resolved.addCallback(self._check, name)
        return resolved

    def _check(self, address: str, name: str) -> str:
        why = address_refusal(name, address, self.allowed_hosts)
        if why is not None:
            _refused[_key(name)] = why
            raise RefusedAddress(name, why)
        return address
