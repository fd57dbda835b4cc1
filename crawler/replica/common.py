"""Formatting shared by the replica's platform modules: how Indonesian sites write things."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from crawler.replica.catalogue import Offer

if TYPE_CHECKING:
    from crawler.replica.market import Market

# The replica's generated catalogue, stored on the aiohttp app.
CATALOGUE = web.AppKey("catalogue", tuple[Offer, ...])
# What its platforms list now (crawler.replica.market.Market), stored on the app.
MARKET: web.AppKey[Market] = web.AppKey("market")


def rupiah(amount: int) -> str:
    """Price text as Indonesian sites write it: ``Rp1.500.000``."""
    return "Rp" + f"{amount:,}".replace(",", ".")


def json_response(data: Any, status: int = 200) -> web.Response:
    r"""JSON with Indonesian text left readable (no ``\u`` escapes), as the platforms send it."""
    return web.json_response(data, status=status,
                             dumps=lambda value: json.dumps(value, ensure_ascii=False))


def not_found(what: str = "not found") -> web.Response:
    return json_response({"message": what}, status=404)


def variants(offer: Offer) -> list[tuple[str, list[str]]]:
    """The variants a seller offers ``offer`` in: (name, options), none for most goods.

    A bale or sack comes by grade, a garment by size; phones, motorbikes, sacks for rice
    and the like have none.
    """
    if offer.kind in ("ordinary", "lookalike") and not offer.category_breadcrumb.startswith(
            ("fashion", "olahraga/hiking")):
        return []
    if offer.price_idr >= 1_000_000:
        return [("Grade", ["A", "B"] if offer.offer_id % 2 else ["A", "AA", "B"])]
    sizes = ["S", "M", "L", "XL", "XXL"]
    start = offer.offer_id % 2
    return [("Ukuran", sizes[start:start + 3 + offer.offer_id % 2])]


def option_stock(offer: Offer, total: int) -> list[tuple[str, int]]:
    """``total`` stock split over the options of the first variant (one entry if none)."""
    found = variants(offer)
    if not found:
        return [("", total)]
    options = found[0][1]
    share, rest = divmod(total, len(options))
    return [(option, share + (1 if i < rest else 0)) for i, option in enumerate(options)]


def script_json(data: Any) -> str:
    """JSON safe inside an HTML <script> element: no ``</script>`` or ``<!--`` can end it."""
    return (json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def market_of(request: web.Request) -> Market:
    return request.app[MARKET]


# The drawing a rendered listing page does (TikTok Shop, Facebook, Instagram): its photos
# into #pdp-gallery and the seller's profile into #seller-profile, in the same markup the
# server-rendered pages have, then data-state="loaded" on #seller-profile. Seller text goes
# in as text only (textContent), never as HTML.
DRAW_JS = """function twDraw(photos, rows, about) {
  const gallery = document.getElementById("pdp-gallery");
  photos.forEach((src, i) => {
    const img = document.createElement("img");
    img.className = "pdp-gallery__image"; img.dataset.index = String(i); img.src = src;
    gallery.append(img);
  });
  const box = document.getElementById("seller-profile");
  const list = document.createElement("dl");
  for (const [name, label, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    const term = document.createElement("dt"); term.textContent = label;
    const detail = document.createElement("dd"); detail.dataset.field = name;
    detail.textContent = String(value);
    list.append(term, detail);
  }
  const text = document.createElement("div");
  text.className = "seller-profile__about"; text.dataset.field = "about";
  text.textContent = about || "";
  box.append(list, text);
  box.dataset.state = "loaded";
}
function twDay(seconds) {
  return seconds ? new Date(seconds * 1000).toISOString().slice(0, 10) : null;
}
"""
