"""OLX Indonesia's server-rendered search page ``/items/q-KEYWORD?page=N``, from the catalogue.

OLX is a classifieds site: its search page lists ad cards (``li[data-aut-id="itemBox"]``)
with price ("Rp 1.500.000"), title, "kecamatan, city" location ("Medan Baru, Medan Kota":
OLX writes a city as "Medan Kota" and a regency, kabupaten, as "Bandung Kab.") and a posting
date ("Hari ini" = today, "Kemarin" = yesterday, "3 hari yang lalu" = 3 days ago, else
"12 Nov"), 20 a page, and a "muat lainnya" (load more) button while more follow. Ordinary
OLX cards do not name the seller; the replica adds a seller line, as dealer cards show, so
that a profile can read one (unverified against a real capture).

Anti-bot answer: a keyword starting with ``__block__`` gets a login/captcha wall page
(HTTP 200, as the wall is served), which the shipped profile's ``[block]`` rules know.

An ad's page ``/item/<slug>-iid-<id>`` (served by ``listing_pages``) is server-rendered:
title, price, location, photos, ``[data-aut-id=itemDescriptionContent]`` and the seller's
card ``[data-aut-id=profileCard]`` with the name, a link to the seller's page and "Anggota
sejak <month> <year>" (member since); it ends with the ad's state as OLX's pages carry it,
``<script>window.__APP = {...}</script>`` (:func:`page_data`). The seller's own page,
``/profile/<id>``, shows the name, "Anggota sejak", the city and the seller's ads. No
capture of either is in ../shared; the ``data-aut-id`` names follow OLX's public pages
(unverified).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html import escape
from typing import TYPE_CHECKING

from aiohttp import web

from crawler.replica import images
from crawler.replica.catalogue import Offer, slugify
from crawler.replica.common import market_of, not_found, rupiah, script_json

if TYPE_CHECKING:
    from crawler.replica.market import Market

HOSTS = ("www.olx.co.id",)
PLATFORM = "olx"
SEARCH_PATH = re.compile(r"/items/q-(?P<keyword>.+)")
PROFILE_PATH = re.compile(r"/profile/(?P<seller>\d{1,12})")
BLOCK_PREFIX = "__block__"
PAGE_SIZE = 20
IMAGE_HOST = "https://apollo-singapore.akamaized.net/v1/files"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
# Kecamatan (districts) OLX shows before the city; a city not listed is shown alone.
DISTRICTS = {
    "Bandar Lampung": ("Tanjung Karang Pusat", "Kedaton"),
    "Bandung": ("Coblong", "Sukajadi", "Andir"),
    "Batam": ("Batam Kota", "Lubuk Baja", "Sekupang"),
    "Bekasi": ("Bekasi Barat", "Bekasi Timur"),
    "Cimahi": ("Cimahi Tengah", "Cimahi Utara"),
    "Denpasar": ("Denpasar Barat", "Denpasar Selatan"),
    "Depok": ("Beji", "Pancoran Mas"),
    "Dumai": ("Dumai Kota", "Dumai Timur"),
    "Jakarta Barat": ("Cengkareng", "Tambora", "Kebon Jeruk"),
    "Jakarta Pusat": ("Senen", "Tanah Abang", "Gambir"),
    "Jakarta Selatan": ("Tebet", "Kebayoran Baru"),
    "Jakarta Timur": ("Jatinegara", "Duren Sawit"),
    "Jakarta Utara": ("Tanjung Priok", "Penjaringan"),
    "Kab. Bandung": ("Baleendah", "Dayeuhkolot"),
    "Kab. Bekasi": ("Cikarang Utara", "Tambun Selatan"),
    "Kab. Bogor": ("Cibinong", "Gunung Putri"),
    "Kab. Tangerang": ("Cikupa", "Curug"),
    "Makassar": ("Wajo", "Mariso", "Panakkukang"),
    "Medan": ("Medan Baru", "Medan Petisah", "Medan Kota"),
    "Pekanbaru": ("Sukajadi", "Pekanbaru Kota"),
    "Pontianak": ("Pontianak Kota", "Pontianak Barat"),
    "Semarang": ("Semarang Tengah", "Gayamsari"),
    "Surabaya": ("Genteng", "Tegalsari", "Wonokromo"),
    "Surakarta": ("Pasar Kliwon", "Laweyan"),
    "Tangerang": ("Karawaci", "Cipondoh"),
    "Tanjungbalai": ("Tanjungbalai Selatan", "Datuk Bandar"),
    "Yogyakarta": ("Gondomanan", "Jetis"),
}


async def handle(request: web.Request, path: str) -> web.Response:
    if request.method == "GET" and (seller := PROFILE_PATH.fullmatch(path)):
        return seller_page(market_of(request), int(seller["seller"]))
    match = SEARCH_PATH.fullmatch(path)
    if match is None or request.method != "GET":
        return not_found()
    keyword = match["keyword"].replace("-", " ").strip()  # OLX slugs "bal thrift" as bal-thrift
    if keyword.startswith(BLOCK_PREFIX):
        return _html(LOGIN_WALL)
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1
    market = market_of(request)
    catalogue = market.catalogue
    results = market.search(PLATFORM, keyword)
    offers = results[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    today = datetime.fromisoformat(catalogue[-1].posted_at).date()
    return _html(search_page(keyword, offers, page * PAGE_SIZE < len(results), len(results),
                             today))


def search_page(keyword: str, offers: tuple[Offer, ...], more: bool, total: int,
                today: date) -> str:
    """The results page: the cards in ``ul[data-aut-id="itemsList"]``, then "load more"."""
    cards = [card(offer, today) for offer in offers]
    if len(cards) > 4:  # OLX puts an ad slot among the cards
        cards.insert(4, '<li class="_3V_Ww"><div data-aut-id="ad-slot" class="_1mXGx"></div></li>')
    load_more = ('<div class="_38O09"><button data-aut-id="btnLoadMore" type="button" '
                 'class="rui-apowA rui-htytx"><span>muat lainnya</span></button></div>'
                 if more else "")
    heading = escape(keyword.capitalize())
    return f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8">
<title>{heading} - Jual Beli {heading} Murah | OLX</title>
<link rel="canonical" href="https://www.olx.co.id/items/q-{escape(slugify(keyword))}">
</head><body><div id="container"><main class="_1k0Ln">
<div data-aut-id="resultsHeading" class="_2a8ro"><h1>{heading} di Indonesia</h1>
<p><span>{f"{total:,}".replace(",", ".")} iklan</span></p></div>
<ul data-aut-id="itemsList" class="rl3f9 _3mXOU">
{chr(10).join(cards)}
</ul>
{load_more}
</main></div></body></html>"""


def card(offer: Offer, today: date) -> str:
    """One ad card as OLX renders it; the item URL ends in ``-iid-`` and the ad id."""
    title = escape(offer.title)
    districts = DISTRICTS.get(offer.city)
    city = olx_city(offer.city)
    location = f"{districts[offer.offer_id % len(districts)]}, {city}" if districts else city
    image = f"{IMAGE_HOST}/{offer.image_key}-ID/image;s=300x600;q=60"
    price = rupiah(offer.price_idr).replace("Rp", "Rp ", 1)  # OLX spaces it: "Rp 46.000"
    return f"""<li data-aut-id="itemBox" class="_1DNjI">
<a href="/item/{slugify(offer.title)}-iid-{offer.offer_id}">
<figure data-aut-id="itemImage" class="_2grx4"><img src="{image}" alt="{title}"></figure>
<div class="_2Gr10">
<span data-aut-id="itemPrice" class="_2Ks63">{price}</span>
<span data-aut-id="itemTitle" class="_2poNJ">{title}</span>
</div>
<div class="_3rmDx"><span data-aut-id="item-location" class="_2VQu4">{escape(location)}</span>
<span class="_2jcGx"><span>{posted(offer, today)}</span></span></div>
</a>
<div data-aut-id="itemSeller" class="_3P3qK">
<a href="/profile/{offer.seller_id}">{escape(offer.seller_name)}</a></div>
</li>"""


def olx_city(city: str) -> str:
    """A catalogue city as OLX names it: "Medan" → "Medan Kota", "Kab. Garut" → "Garut Kab."."""
    if city.startswith("Kab. "):
        return city.removeprefix("Kab. ") + " Kab."
    if city.startswith("Jakarta "):  # Jakarta's administrative cities carry no "Kota"
        return city
    return city + " Kota"


def posted(offer: Offer, today: date) -> str:
    """OLX's posting date: relative for the last week, "12 Nov" within the year, else with it."""
    day = datetime.fromisoformat(offer.posted_at).date()
    days = (today - day).days
    if days == 0:
        return "Hari ini"
    if days == 1:
        return "Kemarin"
    if days < 7:
        return f"{days} hari yang lalu"
    month = MONTHS[day.month - 1]
    return f"{day.day} {month}" if day.year == today.year else f"{day.day} {month} {day.year}"


LOGIN_WALL = """<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8">
<title>Verifikasi Keamanan | OLX</title></head>
<body><div id="container"><div data-aut-id="loginWall" class="_2ABsX">
<h1>Masuk untuk melanjutkan</h1>
<p>Kami mendeteksi aktivitas yang tidak biasa dari jaringan Anda.
Selesaikan captcha di bawah ini atau masuk ke akun OLX Anda.</p>
<div class="g-recaptcha"></div>
<button data-aut-id="btnLogin" type="button">Masuk</button>
</div></body></html>"""


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def member_since(joined: str) -> str:
    """OLX's "Anggota sejak Mar 2021" (member since) from an ISO date."""
    day = date.fromisoformat(joined)
    return f"Anggota sejak {MONTHS[day.month - 1]} {day.year}"


def page_data(market: Market, offer: Offer) -> str:
    """The seller's card link and the ad's state ending an ad's page."""
    profile = market.world.profile(PLATFORM, offer)
    count = min(len(market.world.listing_photos(PLATFORM, offer)), images.MAX_PHOTOS)
    state = {"states": {"items": {"elements": {str(offer.offer_id): {
        "id": str(offer.offer_id), "title": offer.title,
        "description": market.world.description(PLATFORM, offer),
        "price": {"value": {"raw": offer.price_idr, "display": rupiah(offer.price_idr)}},
        "locations_resolved": {"ADMIN_LEVEL_3_name": offer.city},
        "images": [{"url": images.photo_url(PLATFORM, offer, n)} for n in range(count)],
        "user_id": str(offer.seller_id), "created_at": offer.posted_at,
        "parameters": [{"key": "condition", "formatted_value": offer.condition}]}}},
        "users": {"elements": {str(offer.seller_id): {
            "id": str(offer.seller_id), "name": offer.seller_name,
            "created_at": f"{profile.joined}T00:00:00+07:00", "about": profile.about,
            "is_business": False}}}}}
    card = (f'<div data-aut-id="sellerCard"><a data-aut-id="profileLink" '
            f'href="/profile/{offer.seller_id}">{escape(offer.seller_name)}</a>'
            f'<span data-aut-id="memberSince">{member_since(profile.joined)}</span></div>')
    return f"{card}<script>window.__APP = {script_json(state)};</script>"


def seller_page(market: Market, seller_id: int) -> web.Response:
    """``/profile/<id>``: the seller's name, member since, city and ads."""
    offers = [o for o in market.world.seller_offers(seller_id)
              if market.is_listed(PLATFORM, o)]
    if not offers:
        return web.Response(status=404, content_type="text/html", charset="utf-8",
                            text=PROFILE_GONE)
    first = offers[0]
    profile = market.world.profile(PLATFORM, first)
    today = datetime.fromisoformat(market.catalogue[-1].posted_at).date()
    return _html(f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>{escape(first.seller_name)} | OLX</title>
</head><body><div id="container"><main>
<div data-aut-id="profileCard"><h1 data-aut-id="profileName">{escape(first.seller_name)}</h1>
<span data-aut-id="memberSince">{member_since(profile.joined)}</span>
<span data-aut-id="profileLocation">{escape(olx_city(profile.city))}</span>
<span data-aut-id="adsCount">{len(offers)} iklan</span></div>
<ul data-aut-id="itemsList">
{chr(10).join(card(offer, today) for offer in offers[:40])}
</ul></main></div></body></html>""")


PROFILE_GONE = """<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">
<title>OLX.co.id</title></head><body><div id="container"><div data-aut-id="errorPage">
<h1>Profil ini tidak tersedia</h1></div></div></body></html>"""
