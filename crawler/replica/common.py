"""Formatting shared by the replica's platform modules: how Indonesian sites write things."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from crawler.replica.catalogue import Offer

# The replica's generated catalogue, stored on the aiohttp app.
CATALOGUE = web.AppKey("catalogue", tuple[Offer, ...])


def rupiah(amount: int) -> str:
    """Price text as Indonesian sites write it: ``Rp1.500.000``."""
    return "Rp" + f"{amount:,}".replace(",", ".")


def slugify(title: str) -> str:
    """A URL slug from a title, as product URLs carry one."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "produk"


def json_response(data: Any, status: int = 200) -> web.Response:
    r"""JSON with Indonesian text left readable (no ``\u`` escapes), as the platforms send it."""
    return web.json_response(data, status=status,
                             dumps=lambda value: json.dumps(value, ensure_ascii=False))


def not_found(what: str = "not found") -> web.Response:
    return json_response({"message": what}, status=404)
