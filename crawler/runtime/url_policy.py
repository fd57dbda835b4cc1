"""Which URLs a crawl may fetch: the one policy the fetch guard, the DNS resolver, the
browser and ``recheck`` share.

A crawl fetches only ``http(s)`` URLs with a host name, never an address outside the
public internet: no loopback, private, link-local, shared (CGNAT), multicast, reserved or
documentation range, written as an IP literal in any form (``127.0.0.1``, ``[::1]``,
``2130706433``, ``0x7f.1``, ``017700000001``, ``[::ffff:127.0.0.1]``) or reached by a
name that resolves there (checked by :mod:`crawler.runtime.resolver`). Pure: no Scrapy
but the exception a refusal raises.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = frozenset({"http", "https"})
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64 well-known and
# local-use prefixes): judged by the IPv4 address they lead to.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
# Names that by standard or custom mean this machine or its own network, whatever DNS says.
_LOCAL_NAMES = ("localhost", "local", "internal", "home.arpa", "localdomain")


class RefusedURL(IgnoreRequest):
    """A request the fetch policy refuses: recorded as a ``refused_url`` fault, never sent."""

    def __init__(self, target: str, reason: str):
        super().__init__(f"refused {target}: {reason}")
        self.target = target  # the URL, or the host name the resolver refused
        self.reason = reason


def is_public(address: Address) -> bool:
    """Whether ``address`` is on the public internet (and so are the IPv4 addresses that an
    IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address leads to)."""
    if address.is_multicast or not address.is_global:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour,
                    *(address.teredo or ())]
        if any(address in network for network in _NAT64):
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
        return all(is_public(inner) for inner in embedded if inner is not None)
    return True


def ip_literal(host: str) -> Address | None:
    """The address ``host`` names if it is an IP literal in any form a resolver accepts
    (dotted, decimal, hex, octal or shortened IPv4; IPv6 with or without brackets or a
    zone), else None."""
    bare = host.strip().strip("[]").rstrip(".")
    bare = bare.split("%", 1)[0]  # an IPv6 zone: fe80::1%eth0
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if not bare or any(c not in "0123456789abcdefxABCDEFX." for c in bare):
        return None
    try:  # what inet_aton (and so getaddrinfo) makes of "2130706433", "0x7f.1", "0177.1"
        return ipaddress.IPv4Address(socket.inet_aton(bare))
    except OSError:
        return None


def host_on(host: str, domains: Iterable[str]) -> bool:
    """Whether ``host`` is one of ``domains`` or a subdomain of one (Scrapy's offsite rule)."""
    host = host.lower()
    return any(host == d.lower() or host.endswith("." + d.lower()) for d in domains)


def refusal(url: str, domains: Iterable[str] | None = None) -> str | None:
    """Why ``url`` may not be fetched, or None if it may.

    ``domains``: the hosts the crawl is confined to (a spider's ``allowed_domains``); None or
    empty means any public host.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except (ValueError, TypeError):
        return "not a URL"
    if parts.scheme.lower() not in SCHEMES:
        return f"scheme {parts.scheme or '(none)'!r} is not http(s)"
    if not host:
        return "no host"
    address = ip_literal(host)
    if address is not None and not is_public(address):
        return f"host {host} is a non-public address ({address})"
    if address is None and host_on(host.rstrip("."), _LOCAL_NAMES):
        return f"host {host} is a local name"
    domains = list(domains or ())
    if domains and not host_on(host, domains):
        return f"host {host} is not on {', '.join(sorted(domains))}"
    return None


def address_refusal(host: str, address: str, allowed_hosts: Iterable[str] = ()) -> str | None:
    """Why connecting to ``address`` (what ``host`` resolved to) is refused, or None.

    ``allowed_hosts``: names allowed to resolve anywhere (the replica's own host in replica
    mode).
    """
    if host.lower() in {h.lower() for h in allowed_hosts}:
        return None
    try:
        resolved = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{host} resolved to {address!r}, not an address"
    if not is_public(resolved):
        return f"{host} resolves to a non-public address ({resolved})"
    return None
