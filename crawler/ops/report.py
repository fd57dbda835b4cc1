"""A self-contained HTML report of an evidence DB: inline SVG charts and tables, no scripts,
no stylesheets or images from elsewhere. Links go to listings on their platform and to
each listing's stored capture as ``thriftwatch serve`` shows it (``/-/capture/SHA256``).

The seller-networks section draws the largest networks (:func:`network_svg`: accounts as
nodes coloured by platform, links labelled by kind), lists each one's accounts and links
with the captures that prove them, names the returning sellers with the link that proves
each return, and shows how platforms complied with takedown requests
(:func:`takedown_compliance`). Contacts are personal data; the report is a case output and
shows them, as ``thriftwatch sellers`` does.

Sellers write almost everything the report shows, so every value is escaped (in HTML and in
the SVG drawings alike), only ``http://`` and ``https://`` URLs become links (anything else
is shown as text), and a Content-Security-Policy forbids scripts and every fetch (see
:func:`csp`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from crawler import __version__
from crawler.flagging.lexicon import load_lexicon
from crawler.flagging.suggest import rank
from crawler.runtime.process import LEVELS
from crawler.sellers.networks import (
    DECISIVE,
    DEFAULT_IMAGE_DISTANCE,
    DEFAULT_IMAGE_MAX_ACCOUNTS,
    TAKEN_DOWN,
    account_key,
)
from crawler.sellers.stored import read_networks

if TYPE_CHECKING:
    from crawler.evidence.store import EvidenceStore

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
LEVEL_COLOURS = {"strong": "#b2182b", "medium": "#ef8a62", "weak": "#fddbc7", "none": "#d1e5f0"}
RECHECK_COLOURS = {"removed": "#1a9850", "live": "#d73027", "blocked": "#999999"}
HEALTH_CLASSES = ("ok", "warning", "failing")
LINK_SCHEMES = ("http", "https")
TOP = 10
NETWORKS_SHOWN = 10  # networks drawn and tabled, largest first
NODES_DRAWN = 12  # accounts drawn in one network's drawing (the rest are counted)
SIDES_SHOWN = 6  # evidence sides listed per link
RETURNS_LISTED = 50
COMPLIANCE_DAYS = (1, 7, 30)
PLATFORM_COLOURS = {"tokopedia": "#2ca02c", "shopee": "#ff7f0e", "bukalapak": "#d62728",
                    "lazada": "#1f3b8f", "blibli": "#17becf", "tiktokshop": "#222222",
                    "facebook": "#1f77b4", "instagram": "#e377c2", "olx": "#9467bd"}


@dataclass
class ReportData:
    """Everything the report shows, read from the DB; plain data, so tests can check it."""

    since: str | None
    generated_at: str
    head: str = ""  # the DB's head when the report was made (see crawler.evidence.custody)
    flagged_per_day: dict[str, dict[str, int]] = field(default_factory=dict)  # day → platform → n
    levels: dict[str, int] = field(default_factory=dict)
    top_sellers: list[tuple[str, int]] = field(default_factory=list)
    top_cities: list[tuple[str, int]] = field(default_factory=list)
    top_terms: list[tuple[str, int]] = field(default_factory=list)
    suggested: list[dict[str, Any]] = field(default_factory=list)
    rechecks: dict[str, dict[str, int]] | None = None  # platform → status → n; None: no recheck
    flagged: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    # Seller networks of two or more accounts, largest first (``Network.as_dict``), at most
    # NETWORKS_SHOWN; how many there are, and how many accounts they hold.
    networks: list[dict[str, Any]] = field(default_factory=list)
    network_count: int = 0
    networked_accounts: int = 0
    returning: list[dict[str, Any]] = field(default_factory=list)  # every proof of a return
    # platform → requested, removed, live_after_1d/7d/30d, not_rechecked (accounts)
    compliance: dict[str, dict[str, int]] = field(default_factory=dict)


def since_cutoff(text: str | None, now: datetime | None = None) -> str | None:
    """``"7d"``/``"12h"`` (or an ISO date) → the ISO UTC time the report starts at."""
    if not text:
        return None
    now = now or datetime.now(UTC)
    unit = {"d": 86400, "h": 3600, "m": 60}.get(text[-1:])
    if unit and text[:-1].isdigit():
        start = now - timedelta(seconds=int(text[:-1]) * unit)
        return start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    except ValueError:
        raise ValueError(
            f"--since takes 7d, 12h, 30m or a date like 2026-01-31, not {text!r}") from None


def gather(store: EvidenceStore, since: str | None, lexicon_file: str | None = None, *,
           image_distance: int = DEFAULT_IMAGE_DISTANCE,
           image_max_accounts: int = DEFAULT_IMAGE_MAX_ACCOUNTS) -> ReportData:
    """Read what the report shows; an unsound DB (an index that no longer matches its table,
    a changed view: ``EvidenceStore.require_sound``) is refused first. Seller networks and
    takedown compliance cover all time (an account's history is not cut by ``since``)."""
    store.require_sound()
    data = ReportData(since=since, generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
                      head=store.head())
    cutoff = since or ""
    for day, platform, count in store.conn.execute("""
            SELECT substr(o.seen_at, 1, 10), o.platform, COUNT(DISTINCT o.listing_id)
            FROM observations o JOIN latest_flags f ON f.observation_id = o.id
            WHERE f.flagged = 1 AND o.seen_at >= ? GROUP BY 1, 2 ORDER BY 1, 2""", [cutoff]):
        data.flagged_per_day.setdefault(day, {})[platform] = count
    records = [_shown(record) for record in store.export_records(since=since)]
    data.levels = dict.fromkeys(LEVELS, 0) | Counter(r["level"] for r in records)
    flagged = [r for r in records if r["flagged"]]
    data.top_sellers = Counter(f"{r['seller_name'] or r['seller_id']} ({r['platform']})"
                               for r in flagged if r["seller_id"] or r["seller_name"]
                               ).most_common(TOP)
    data.top_cities = Counter(r["location"] for r in flagged if r["location"]).most_common(TOP)
    data.top_terms = Counter(reason["rule"].removeprefix("term:") for r in flagged
                             for reason in r["reasons"] if reason["rule"].startswith("term:")
                             ).most_common(TOP)
    data.suggested = [s.as_dict() for s in rank(records, load_lexicon(extra=lexicon_file))[:TOP]]
    data.rechecks = _rechecks(store, cutoff)
    data.flagged = sorted(flagged,
                          key=lambda r: (-r["score"], r["platform"], r["listing_id"]))[:100]
    data.runs = [dict(row) for row in store.db.query("""
        SELECT r.id, r.platform, r.started_at, r.status, r.stats, h.status AS health, h.findings
        FROM runs r LEFT JOIN run_health h ON h.run_id = r.id
        WHERE r.started_at >= ? ORDER BY r.id DESC LIMIT 50""", [cutoff])]
    networks = [n for n in read_networks(store, image_distance=image_distance,
                                         image_max_accounts=image_max_accounts)
                if len(n.accounts) > 1]
    data.network_count = len(networks)
    data.networked_accounts = sum(len(n.accounts) for n in networks)
    data.networks = [n.as_dict() for n in networks[:NETWORKS_SHOWN]]
    data.returning = [proof for n in networks for proof in n.returning_evidence]
    data.compliance = takedown_compliance(
        store.takedown_requests(),
        store.conn.execute("SELECT platform, listing_id, status, checked_at FROM rechecks"))
    return data


def takedown_compliance(requests: Iterable[Mapping[str, Any]],
                        rechecks: Iterable[Sequence[Any] | Mapping[str, Any]],
                        days: Sequence[int] = COMPLIANCE_DAYS) -> dict[str, dict[str, int]]:
    """Per platform, the accounts asked for in takedown requests and what rechecks of their
    cited listings found after the account's first request: ``removed`` (every cited
    listing rechecked since was removed or blocked at its latest recheck),
    ``live_after_Nd`` (a recheck made N days or more after the request found a cited
    listing live), ``not_rechecked`` (no cited listing rechecked since). Pure."""
    asked: dict[str, tuple[datetime, set[str]]] = {}
    for request in requests:
        when = _time(request.get("created_at"))
        cited = {str(e.get("listing_id")) for e in request.get("evidence") or []
                 if isinstance(e, Mapping)}
        for account in request.get("accounts") or []:
            if not isinstance(account, Mapping) or when is None:
                continue
            key = account_key(account.get("platform") or request["platform"],
                              account.get("seller_id"))
            first, listings = asked.get(key, (when, set()))
            asked[key] = (min(first, when), listings | cited)
    checks: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for row in rechecks:
        platform, listing_id, status, checked_at = (
            (row["platform"], row["listing_id"], row["status"], row["checked_at"])
            if isinstance(row, Mapping) else row)
        checked = _time(checked_at)
        if status in DECISIVE and checked is not None:
            checks[(platform, str(listing_id))].append((checked, status))
    compliance: dict[str, dict[str, int]] = {}
    for key, (when, listings) in sorted(asked.items()):
        platform = key.split(":", 1)[0]
        counts = compliance.setdefault(platform, dict.fromkeys(
            ["requested", "removed", *(f"live_after_{n}d" for n in days), "not_rechecked"], 0))
        counts["requested"] += 1
        latest = [max(found) for found in (
            [c for c in checks[(platform, listing)] if c[0] >= when] for listing in listings)
            if found]
        if not latest:
            counts["not_rechecked"] += 1
            continue
        if all(status in TAKEN_DOWN for _, status in latest):
            counts["removed"] += 1
        for n in days:
            if any(status == "live" and checked >= when + timedelta(days=n)
                   for listing in listings for checked, status in checks[(platform, listing)]):
                counts[f"live_after_{n}d"] += 1
    return compliance


def _time(text: Any) -> datetime | None:
    """An ISO UTC time as the store writes it, or None."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _shown(record: dict[str, Any]) -> dict[str, Any]:
    """A record whose BLOB values (which no thriftwatch write leaves in a listing) read
    ``X'HEX'``, so the report neither fails on them nor shows them as text they are not."""
    return {name: f"X'{bytes(value).hex()}'" if isinstance(value, (bytes, bytearray))
            else value for name, value in record.items()}


def _rechecks(store: EvidenceStore, cutoff: str) -> dict[str, dict[str, int]] | None:
    """The latest recheck status of each listing, counted per platform; None before any."""
    if not store.db["rechecks"].exists():
        return None
    counts: dict[str, dict[str, int]] = {}
    for platform, status, count in store.conn.execute("""
            SELECT platform, status, COUNT(*) FROM rechecks r
            WHERE id = (SELECT MAX(id) FROM rechecks WHERE platform = r.platform
                        AND listing_id = r.listing_id) AND checked_at >= ?
            GROUP BY 1, 2""", [cutoff]):
        counts.setdefault(platform, {})[status] = count
    return counts or None


# -- SVG charts ------------------------------------------------------------------------------

def _e(value: Any) -> str:
    """``value`` as text safe in HTML content and in quoted attributes (a BLOB as X'HEX')."""
    if isinstance(value, (bytes, bytearray)):
        value = f"X'{bytes(value).hex()}'"
    return html.escape(str(value), quote=True)


def safe_href(url: Any) -> str | None:
    """``url`` if it may be a link: an ``http://`` or ``https://`` URL with a host and no
    whitespace, control or invisible characters (which browsers drop, so java-TAB-script: is
    javascript:); otherwise None. The result still needs :func:`_e`."""
    if not isinstance(url, str) or any(unicodedata.category(c)[0] in "CZ" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced IPv6 bracket
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.netloc:
        return None
    if not url.lower().startswith(f"{parts.scheme.lower()}://"):
        return None  # "https:\\host" and the like: only the plain form is trusted
    return url


def link(url: Any, text: str) -> str:
    """An ``<a>`` to ``url`` showing ``text`` (both escaped), or, if ``url`` may not be a link
    (:func:`safe_href`), ``text`` with the URL beside it as plain text."""
    href = safe_href(url)
    if href is not None:
        return f'<a href="{_e(href)}" rel="noopener noreferrer">{_e(text)}</a>'
    if not url:
        return _e(text)
    return f'{_e(text)} <code class="unlinked" title="not a web link">{_e(url)}</code>'


def bar_chart(items: Sequence[tuple[str, int]], colour: str | Mapping[str, str] = PALETTE[0],
              label_width: int = 220) -> str:
    """Horizontal bars, one per ``(label, value)``."""
    if not items:
        return '<p class="empty">nothing in this period</p>'
    row, width = 22, 360
    top = max(value for _, value in items) or 1
    height = row * len(items) + 4
    bars = []
    for i, (label, value) in enumerate(items):
        fill = colour.get(label, PALETTE[0]) if isinstance(colour, Mapping) else colour
        y, length = i * row + 2, width * value / top
        room = label_width // 7  # characters that fit left of the bars
        shown = label if len(label) <= room else label[:room - 1] + "…"
        bars.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">{_e(shown)}</text>'
            f'<rect x="{label_width}" y="{y + 2}" width="{length:.1f}" height="{row - 6}" '
            f'fill="{_e(fill)}"><title>{_e(label)}: {_e(value)}</title></rect>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + 15}">{_e(value)}</text>')
    return (f'<svg class="chart" role="img" width="{label_width + width + 60}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(bars)}</svg>')


def daily_chart(per_day: Mapping[str, Mapping[str, int]]) -> str:
    """Stacked columns: flagged listings per day, one colour per platform, with a legend."""
    if not per_day:
        return '<p class="empty">no flagged listings in this period</p>'
    days = sorted(per_day)
    platforms = sorted({p for counts in per_day.values() for p in counts})
    colours = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(platforms)}
    top = max(sum(c.values()) for c in per_day.values()) or 1
    column, plot_h, left, base = max(18, min(60, 640 // len(days))), 200, 40, 230
    shapes = [(f'<line x1="{left}" y1="{base}" x2="{left + column * len(days)}" y2="{base}" '
               'stroke="#444"/>'),
              (f'<text x="{left - 4}" y="{base - plot_h + 4}" '
               f'text-anchor="end">{_e(top)}</text>'),
              (f'<text x="{left - 4}" y="{base}" '
               'text-anchor="end">0</text>')]
    for i, day in enumerate(days):
        x, y = left + i * column, base
        for platform in platforms:
            value = per_day[day].get(platform, 0)
            if value:
                h = plot_h * value / top
                y -= h
                shapes.append(f'<rect x="{x + 2}" y="{y:.1f}" width="{column - 4}" '
                              f'height="{h:.1f}" fill="{_e(colours[platform])}"><title>'
                              f'{_e(day)} {_e(platform)}: {_e(value)}</title></rect>')
        shapes.append(f'<text x="{x + column / 2}" y="{base + 14}" text-anchor="middle" '
                      f'class="small">{_e(day[5:])}</text>')
    legend_y = base + 34
    for i, platform in enumerate(platforms):
        x = left + (i % 5) * 130
        y = legend_y + (i // 5) * 18
        shapes.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" '
                      f'fill="{_e(colours[platform])}"/>'
                      f'<text x="{x + 16}" y="{y}">{_e(platform)}</text>')
    height = legend_y + (len(platforms) - 1) // 5 * 18 + 10
    width = max(left + column * len(days) + 20, 680)
    return (f'<svg class="chart" role="img" width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>')


def network_svg(network: Mapping[str, Any]) -> str:
    """One network drawn: its accounts (at most NODES_DRAWN) on a circle, each a dot
    coloured by platform and labelled with its platform and seller name; each pair of
    accounts a link joins, a line labelled with the link kinds (solid for strong links,
    dashed for photos). A taken-down account has a dashed ring, a returning one a thick
    ring. Every seller value is escaped and shortened; details are in each ``<title>``."""
    accounts = list(network["accounts"])[:NODES_DRAWN]
    keys = [account_key(a["platform"], a["seller_id"]) for a in accounts]
    width, height, radius = 640, 320 + 10 * len(keys), 100 + 6 * len(keys)
    centre_x, centre_y = width / 2, height / 2
    spot = {}
    for i, key in enumerate(keys):
        angle = 2 * math.pi * i / len(keys) - math.pi / 2
        spot[key] = (centre_x + radius * math.cos(angle), centre_y + radius * math.sin(angle))
    pairs: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for found in network["links"]:
        linked = [key for key in found["accounts"] if key in spot]
        for i, first in enumerate(linked):
            for second in linked[i + 1:]:
                pairs[(first, second)].append(found)
    shapes = []
    for (first, second), found in sorted(pairs.items()):
        (x1, y1), (x2, y2) = spot[first], spot[second]
        kinds = sorted({f["kind"] for f in found})
        dash = "" if any(f.get("strength") == "strong" for f in found) else \
            ' stroke-dasharray="5 4"'
        detail = "; ".join(f"{f['kind']} {_short(f['value'], 40)}" for f in found[:6])
        shapes.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#555" '
            f'stroke-width="1.5"{dash}><title>{_e(detail)}</title></line>'
            f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 3:.1f}" text-anchor="middle" '
            f'class="small">{_e(" + ".join(kinds))}</text>')
    returned = {proof["returned"] for proof in network.get("returning_evidence") or []}
    for account, key in zip(accounts, keys, strict=True):
        x, y = spot[key]
        colour = PLATFORM_COLOURS.get(account["platform"], PALETTE[7])
        ring = (' stroke="#000" stroke-width="4"' if key in returned
                else ' stroke="#000" stroke-dasharray="3 2"' if account.get("status") ==
                "taken_down" else ' stroke="#fff"')
        anchor = "start" if x > centre_x + 1 else "end" if x < centre_x - 1 else "middle"
        dx = 14 if anchor == "start" else -14 if anchor == "end" else 0
        # Beside the dot, or above it at the top of the circle and below it at the bottom.
        dy = 0 if anchor != "middle" else -24 if y < centre_y else 24
        name = _short(account.get("seller_name") or account["seller_id"], 24)
        status = f", {account['status']}" if account.get("status") else ""
        shapes.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="10" fill="{_e(colour)}"{ring}><title>'
            f'{_e(key)} {_e(account.get("seller_name") or "")}{_e(status)}</title></circle>'
            f'<text x="{x + dx:.1f}" y="{y + dy - 2:.1f}" text-anchor="{anchor}">'
            f'{_e(account["platform"])}</text>'
            f'<text x="{x + dx:.1f}" y="{y + dy + 12:.1f}" text-anchor="{anchor}" class="small">'
            f'{_e(name)}</text>')
    hidden = len(network["accounts"]) - len(accounts)
    if hidden > 0:
        shapes.append(f'<text x="8" y="{height - 8}" class="small">and {hidden} more accounts '
                      "(in the table)</text>")
    return (f'<svg class="chart" role="img" width="{width}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>network {_e(network["network_id"])}'
            f'</title>{"".join(shapes)}</svg>')


def _short(value: Any, room: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= room else text[:room - 1] + "…"


# -- the page --------------------------------------------------------------------------------

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
h3{font-size:14px;margin-top:20px}
.chart text{font:12px system-ui,sans-serif;fill:#222}.chart .small{font-size:10px}
table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #ddd;
padding:3px 6px;text-align:left;vertical-align:top}th{background:#f3f3f3}
.grid{display:flex;flex-wrap:wrap;gap:24px}.empty{color:#777;font-style:italic}
.ok{color:#1a7f37}.warning{color:#9a6700}.failing{color:#cf222e}code{font-size:11px}
.unlinked{word-break:break-all;color:#777}
"""


def csp() -> str:
    """The report's Content-Security-Policy: nothing may load or run (no scripts, images,
    fonts, frames, forms or fetches, no ``<base>``), and the one stylesheet that applies is
    the report's own ``<style>``, allowed by its SHA-256."""
    digest = base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; style-src 'sha256-{digest}'; base-uri 'none'; "
            "form-action 'none'")


def render(data: ReportData, db_name: str, serve_url: str) -> str:
    period = f"since {data.since}" if data.since else "all time"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp())}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>thriftwatch report: {_e(db_name)}</title><style>{STYLE}</style></head><body>",
        f"<h1>thriftwatch report: {_e(db_name)}</h1>",
        (f"<p>{_e(period)}; generated {_e(data.generated_at)} by thriftwatch {_e(__version__)}. "
         f"Capture links open in <code>thriftwatch serve --db {_e(db_name)}</code> at "
         f"{_e(serve_url)}.</p>"),
        (f"<p>The evidence DB's head when this report was made: <code>{_e(data.head)}</code> "
         f"(<code>thriftwatch verify --db {_e(db_name)} --head {_e(data.head)}</code> proves "
         "the DB still holds it).</p>"),
        "<h2>Flagged listings per platform per day</h2>", daily_chart(data.flagged_per_day),
        '<div class="grid"><section><h2>Verdict levels</h2>',
        bar_chart(list(data.levels.items()), LEVEL_COLOURS, 80),
        "</section><section><h2>Takedown status (latest recheck)</h2>", _recheck_section(data),
        "</section></div>",
        '<div class="grid"><section><h2>Top sellers (flagged listings)</h2>',
        bar_chart(data.top_sellers, PALETTE[1]),
        "</section><section><h2>Top cities (flagged listings)</h2>",
        bar_chart(data.top_cities, PALETTE[2], 140), "</section></div>",
        '<div class="grid"><section><h2>Top matched terms</h2>',
        bar_chart(data.top_terms, PALETTE[4], 140),
        "</section><section><h2>Newly suggested terms</h2>", _suggested(data.suggested),
        "</section></div>",
        "<h2>Flagged listings (highest score first)</h2>", _flagged_table(data.flagged, serve_url),
        "<h2>Seller networks</h2>", _networks_section(data, serve_url),
        "<h2>Takedown compliance (accounts asked for, by later rechecks)</h2>",
        _compliance_table(data.compliance),
        "<h2>Runs</h2>", _runs_table(data.runs), "</body></html>",
    ]
    return "\n".join(parts)


def _recheck_section(data: ReportData) -> str:
    if data.rechecks is None:
        return '<p class="empty">no recheck yet: run <code>thriftwatch recheck</code></p>'
    totals = Counter()
    for counts in data.rechecks.values():
        totals.update(counts)
    rows = "".join(f"<tr><td>{_e(p)}</td>" + "".join(
        f"<td>{_e(c.get(s, 0))}</td>" for s in RECHECK_COLOURS) + "</tr>"
        for p, c in sorted(data.rechecks.items()))
    return (bar_chart([(s, totals.get(s, 0)) for s in RECHECK_COLOURS], RECHECK_COLOURS, 80)
            + "<table><tr><th>platform</th>"
            + "".join(f"<th>{_e(s)}</th>" for s in RECHECK_COLOURS)
            + f"</tr>{rows}</table>")


def _suggested(suggested: Sequence[Mapping[str, Any]]) -> str:
    if not suggested:
        return '<p class="empty">no suggestions: the lexicon covers what flagged listings say</p>'
    rows = "".join(f"<tr><td>{_e(s['term'])}</td><td>{_e(s['z'])}</td>"
                   f"<td>{_e(s['flagged'])}</td><td>{_e(s['other'])}</td></tr>"
                   for s in suggested)
    return ("<table><tr><th>term</th><th>z-score</th><th>flagged</th><th>other</th></tr>"
            f"{rows}</table><p>Accept one with <code>thriftwatch suggest-terms --accept TERM "
            "--lexicon-file USER.toml</code>.</p>")


def _flagged_table(records: Sequence[Mapping[str, Any]], serve_url: str) -> str:
    if not records:
        return '<p class="empty">no flagged listings in this period</p>'
    rows = []
    for r in records:
        rules = ", ".join(reason["rule"] for reason in r["reasons"] if reason["weight"] > 0)
        rows.append(
            f"<tr><td>{_e(r['platform'])}</td><td>{link(r['url'], r['title'] or '')}"
            f"</td><td>{_e(r['seller_name'] or '')}</td><td>{_e(r['location'] or '')}</td>"
            f"<td>{_e(r['price_idr'] or '')}</td><td>{_e(r['level'])}</td>"
            f"<td>{_e(format(r['score'], '.2f'))}</td><td>{_e(rules)}</td>"
            f"<td>{_e(r['last_seen'])}</td>"
            f"<td>{_capture_link(r['capture_sha256'], serve_url)}</td></tr>")
    return ("<table><tr><th>platform</th><th>listing</th><th>seller</th><th>city</th>"
            "<th>price (IDR)</th><th>level</th><th>score</th><th>reasons</th><th>last seen</th>"
            f"<th>capture</th></tr>{''.join(rows)}</table>")


def _capture_link(digest: str | None, serve_url: str) -> str:
    """A link to a stored capture in ``thriftwatch serve`` (the Datasette plugin's page)."""
    if not digest:
        return ""
    url = f"{serve_url.rstrip('/')}/-/capture/{quote(str(digest), safe='')}"
    return link(url, str(digest)[:12])


def _networks_section(data: ReportData, serve_url: str) -> str:
    if not data.networks:
        return ('<p class="empty">no seller networks: no two accounts share a contact or a '
                "photo (contacts and photos come from listing pages; see "
                "<code>thriftwatch sellers</code>)</p>")
    parts = [(f"<p>{_e(data.network_count)} networks of two or more accounts "
             f"({_e(data.networked_accounts)} accounts), {_e(len(data.returning))} returns "
             f"after a takedown; the largest {_e(len(data.networks))} below, all in "
             "<code>thriftwatch sellers</code>. Accounts are linked by a shared contact "
             "(strong) or a near-identical photo (medium, dashed), never by name.</p>"),
             _returning_list(data.returning, serve_url)]
    for network in data.networks:
        flags = "; returning" if network["returning"] else ""
        parts.append(
            f'<h3>network <code>{_e(network["network_id"])}</code>: '
            f'{_e(len(network["accounts"]))} accounts on {_e(", ".join(network["platforms"]))}'
            f'; {_e(network["flagged_listings"])} flagged listings{_e(flags)}</h3>')
        parts.append(network_svg(network))
        parts.append(_accounts_table(network["accounts"]))
        parts.append(_links_table(network["links"], serve_url))
    return "\n".join(parts)


def _returning_list(proofs: Sequence[Mapping[str, Any]], serve_url: str) -> str:
    if not proofs:
        return ('<p class="empty">no returning sellers: no account first seen after a linked '
                "account was taken down</p>")
    items = []
    for proof in proofs[:RETURNS_LISTED]:
        links = proof["links"]
        # The accounts the chain passes through: both ends, and each account two
        # consecutive links share; each link is shown by its evidence on those accounts.
        path = {proof["taken_down"], proof["returned"]}
        for one, two in pairwise(links):
            path.update(set(one["accounts"]) & set(two["accounts"]))
        chain = " → ".join(f"{_e(found['kind'])} <code>{_e(found['value'])}</code> "
                           f"({_sides(_first_side_each(found['evidence'], path), serve_url)})"
                           for found in links)
        items.append(f"<li><b>{_e(proof['returned'])}</b> first seen "
                     f"{_e(proof['first_seen'])}, after <b>{_e(proof['taken_down'])}</b> was "
                     f"taken down {_e(proof['taken_down_at'])}: {chain}</li>")
    more = len(proofs) - RETURNS_LISTED
    return ("<p>Returning sellers:</p><ul>" + "".join(items) + "</ul>"
            + (f"<p>and {_e(more)} more</p>" if more > 0 else ""))


def _first_side_each(sides: Sequence[Mapping[str, Any]],
                     accounts: set[str]) -> list[Mapping[str, Any]]:
    """The first side of a link's evidence for each of ``accounts``."""
    first: dict[str, Mapping[str, Any]] = {}
    for side in sides:
        if side["account"] in accounts:
            first.setdefault(side["account"], side)
    return list(first.values())


def _accounts_table(accounts: Sequence[Mapping[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{_e(a['platform'])}</td><td>{_e(a['seller_id'])}</td>"
        f"<td>{link(a.get('url'), a.get('seller_name') or str(a['seller_id']))}</td>"
        f"<td>{_e(a['listings'])}</td><td>{_e(a['flagged'])}</td>"
        f"<td>{_e(a.get('first_seen') or '')}</td><td>{_e(a.get('last_seen') or '')}</td>"
        f"<td>{_e(a.get('status') or 'not rechecked')}</td></tr>" for a in accounts)
    return ("<table><tr><th>platform</th><th>seller id</th><th>account</th><th>listings</th>"
            "<th>flagged</th><th>first seen</th><th>last seen</th><th>status</th></tr>"
            f"{rows}</table>")


def _links_table(links: Sequence[Mapping[str, Any]], serve_url: str) -> str:
    rows = []
    for found in links:
        apart = f" (distance {found['distance']})" if "distance" in found else ""
        more = len(found["evidence"]) - SIDES_SHOWN
        rows.append(
            f"<tr><td>{_e(found['kind'])}</td><td>{_e(found['strength'])}</td>"
            f"<td><code>{_e(found['value'])}</code>{_e(apart)}</td>"
            f"<td>{_e(', '.join(found['accounts']))}</td>"
            f"<td>{_sides(found['evidence'][:SIDES_SHOWN], serve_url)}"
            f"{f' and {more} more' if more > 0 else ''}</td></tr>")
    return ("<table><tr><th>link</th><th>strength</th><th>value</th><th>accounts</th>"
            f"<th>evidence (listing, field, capture)</th></tr>{''.join(rows)}</table>")


def _sides(sides: Sequence[Mapping[str, Any]], serve_url: str) -> str:
    return "; ".join(f"{_e(side['account'])} listing {_e(side['listing_id'])} "
                     f"{_e(side.get('field') or '')} "
                     f"{_capture_link(side.get('capture_sha256'), serve_url)}"
                     for side in sides)


def _compliance_table(compliance: Mapping[str, Mapping[str, int]]) -> str:
    if not compliance:
        return ('<p class="empty">no takedown requests yet: <code>thriftwatch takedown</code> '
                "records them, <code>thriftwatch recheck</code> sees what came of them</p>")
    columns = ["requested", "removed", *(f"live_after_{n}d" for n in COMPLIANCE_DAYS),
               "not_rechecked"]
    heads = ["accounts requested", "removed",
             *(f"still live after {n} day{'s' if n > 1 else ''}" for n in COMPLIANCE_DAYS),
             "not rechecked since"]
    rows = "".join(f"<tr><td>{_e(platform)}</td>"
                   + "".join(f"<td>{_e(counts.get(c, 0))}</td>" for c in columns) + "</tr>"
                   for platform, counts in sorted(compliance.items()))
    return ("<table><tr><th>platform</th>" + "".join(f"<th>{_e(h)}</th>" for h in heads)
            + f"</tr>{rows}</table>")


def _runs_table(runs: Sequence[Mapping[str, Any]]) -> str:
    if not runs:
        return '<p class="empty">no runs in this period</p>'
    rows = []
    for run in runs:
        stats = json.loads(run["stats"] or "{}")
        findings = "; ".join(f["check"] for f in json.loads(run["findings"] or "[]"))
        health = run["health"] or "not checked"
        css = health if health in HEALTH_CLASSES else ""
        rows.append(
            f"<tr><td>{_e(run['id'])}</td><td>{_e(run['platform'])}</td>"
            f"<td>{_e(run['started_at'])}</td><td>{_e(run['status'])}</td>"
            f"<td>{_e(stats.get('item_scraped_count', 0))}</td>"
            f"<td>{_e(stats.get('thriftwatch/flagged', 0))}</td><td class=\"{css}\">"
            f"{_e(health)}</td><td>{_e(findings)}</td></tr>")
    return ("<table><tr><th>run</th><th>platform</th><th>started</th><th>status</th>"
            "<th>listings</th><th>flagged</th><th>health</th><th>findings</th></tr>"
            f"{''.join(rows)}</table>")
