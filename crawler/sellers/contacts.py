"""The contacts sellers write into listings: phone and WhatsApp numbers, Instagram, TikTok,
Telegram and LINE handles, e-mail addresses and links to their shops on other platforms.

Sellers move buyers off the platform ("chat WA aja": just chat on WhatsApp) and write their
numbers so that the platform's filters miss them: ``0812-3456-7890``, ``+62 812 3456
7890``, ``62812...``, with dots, emoji or letters between the digits, ``o812`` with the
letter o for 0, ``08ll`` with l for 1 ("ll = sebelas": ll is eleven), or as words in
Indonesian ("nol delapan satu dua": zero eight one two), Javanese ("wolu": eight),
Sundanese ("dalapan") or English. :func:`extract` reads them all back.

Phones are validated and written in E.164 by ``phonenumbers``: only Indonesian mobile
numbers are kept, and Malaysian mobile numbers written with ``+60`` (sellers near the
border use them). A number is never read out of a price ("Rp 150.000", "150rb", "1,5jt":
rb is ribu, thousand; jt is juta, million), a date, a time, a weight, a size, a quantity
("isi 100 pcs": holds 100 pieces), a postcode, a bank account, an order or SKU number, or
a URL that is not a contact link.

Numbers are also read split by slashes ("0812/3456/7890") or over up to three lines, and
from WhatsApp links in the local form sellers put there ("wa.me/0812..."). Handles,
e-mails and links are read however their letters are styled (fullwidth, mathematical:
each character NFKC-normalised in place).

Not every contact written in a listing is the seller's own. :func:`never_own` names the
values that never are (the stop-list ``crawler/data/contact_stoplist.toml``: platforms'
and couriers' accounts and mailboxes, placeholder e-mails such as ``email@gmail.com``,
hashtags written as mentions such as ``@ootd``, WhatsApp and Telegram group invitations,
platforms' own shops and pages such as categories, campaigns, help, stories and events),
and a contact is dropped when the words right before it, in its clause, give it to
someone else: a courier ("kurir hub 0811..."), a platform's customer service, or a shop
the seller warns against ("jangan beli di ..., penipu": don't buy at ..., a swindler).

Pure and bounded: each field is read up to :data:`MAX_TEXT` characters, every pattern is
linear in its input, and nothing here logs (contacts are personal data).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import phonenumbers

MAX_TEXT = 20_000  # characters of one field that are read
MAX_CONTACTS = 50  # contacts kept from one field
MAX_RAW = 200  # characters of the text kept as written
_MAX_SEEDS = 400  # places a phone number may start that are read, per field
_WINDOW = 200  # characters read from one such place

KINDS = ("phone", "whatsapp", "instagram", "tiktok", "telegram", "line", "email", "shop")


class Contact(NamedTuple):
    kind: str  # one of KINDS
    value: str  # phones in E.164; handles lower-case without '@'; shops 'platform:slug'
    raw: str  # as written (at most MAX_RAW characters); a shop or handle the seller
    # claims as its own from the claim on ("toko kami yang lain: tokopedia.com/x")
    start: int  # where it is in the field's text
    end: int
    field: str  # the listing field it was read from ('title', 'description', ...)


def extract(text: str, field: str) -> list[Contact]:
    """Every contact written in ``text`` (one field of a listing), in order, each once."""
    if not text:
        return []
    text = text[:MAX_TEXT]
    folded = _folded(text)  # fullwidth and styled letters as plain ones, positions kept
    taken: list[tuple[int, int]] = []  # spans read already, which nothing else may claim
    found = _links(folded, taken) if _LINK_HINT.search(folded) else []
    found += _emails(folded, taken)
    found += _phones(folded, _digits_view(folded), taken)
    found += _handles(folded, taken)
    found.sort(key=lambda contact: contact[2])
    seen: set[tuple[str, str]] = set()
    contacts = []
    for kind, value, start, end in found:
        if (kind, value) in seen or never_own(kind, value) or _someone_elses(
                folded, start, number=kind in ("phone", "whatsapp")):
            continue
        seen.add((kind, value))
        written_from = _claim_start(folded, start, kind) if kind in CLAIMABLE else start
        contacts.append(Contact(kind, value, text[written_from:end][:MAX_RAW], start, end,
                                field))
    return contacts[:MAX_CONTACTS]


def claims_own(raw: str, kind: str) -> bool:
    """Whether a shop or handle contact, as written (its ``raw``), is presented by the
    seller as its own: a claim ("toko kami yang lain: tokopedia.com/x": our other shop)
    or, for a handle, the contact cue of its kind ("IG: @x") written before it."""
    value_at = re.search(r"[^\s@＠]*$", raw)
    before = raw[:value_at.start()] if value_at else ""
    if not before.strip():
        return False
    return bool(stoplist().claims.search(before) or (
        kind in _CLAIM_CUES and _CLAIM_CUES[kind].search(before)))


def _claim_start(text: str, start: int, kind: str) -> int:
    """Where the seller's claim of the shop or handle at ``start`` begins (in its clause,
    at most a few words before it), or ``start`` when there is none."""
    reach = max(0, start - _CUE_REACH)
    before = text[reach:start]
    clause_ends = [match.end() for match in _CLAUSE_END.finditer(before)]
    offset = clause_ends[-1] if clause_ends else 0
    before = before[offset:]
    found = [match.start() for match in stoplist().claims.finditer(before)]
    if kind in _CLAIM_CUES:
        found += [match.start() for match in _CLAIM_CUES[kind].finditer(before)]
    return reach + offset + min(found) if found else start


# A shop or handle is claimed by these (see claims_own); a handle also by its kind's cue.
CLAIMABLE = frozenset({"shop", "instagram", "tiktok", "telegram", "line"})
_CLAIM_CUES = {
    "instagram": re.compile(r"\b(?:instagram|insta|ig)\b", re.IGNORECASE),
    "tiktok": re.compile(r"\b(?:tiktok|tik\s?tok|tt)\b", re.IGNORECASE),
    "telegram": re.compile(r"\b(?:telegram|tele|tg)\b", re.IGNORECASE),
    "line": re.compile(r"\bline\b", re.IGNORECASE),
}


def never_own(kind: str, value: str) -> bool:
    """Whether a contact value is one that is never a seller's own (the stop-list
    ``crawler/data/contact_stoplist.toml``): a platform's or courier's account, a
    placeholder e-mail, a hashtag written as a mention, a group invitation, a platform's
    own shop. Seller networks never link on such a value."""
    stop = stoplist()
    if not isinstance(value, str):
        return False
    value = value.lower()
    if kind in ("phone", "whatsapp") and value in stop.phones:
        return True
    if kind in ("instagram", "tiktok", "telegram", "line") and value in stop.handles:
        return True
    if kind == "email":
        local, _, domain = value.rpartition("@")
        return domain in stop.email_domains or any(
            domain.endswith("." + known) for known in stop.email_domains
        ) or local in stop.email_locals or any(
            pattern.match(local) for pattern in stop.email_patterns)
    if kind == "shop" and value in stop.shops:
        return True
    return any(value.startswith(prefix) for prefix in stop.prefixes.get(kind, ()))


@dataclass(frozen=True)
class Stoplist:
    """``crawler/data/contact_stoplist.toml``, read once."""

    phones: frozenset[str]
    handles: frozenset[str]
    email_domains: frozenset[str]
    email_locals: frozenset[str]
    email_patterns: tuple[re.Pattern[str], ...]  # placeholder local parts (test123@...)
    prefixes: dict[str, tuple[str, ...]]
    shops: frozenset[str]
    pages: dict[str, frozenset[str]]  # platform → first path segments that are no shop
    page_patterns: tuple[re.Pattern[str], ...]
    claims: re.Pattern[str]  # a seller presenting a shop or account as its own
    services: re.Pattern[str]  # a courier or a platform's customer service
    warnings: re.Pattern[str]  # a shop or number warned against
    own: re.Pattern[str]  # the seller's own word


@lru_cache(maxsize=1)
def stoplist() -> Stoplist:
    """The stop-list shipped in ``crawler/data/contact_stoplist.toml``."""
    text = resources.files("crawler.data").joinpath("contact_stoplist.toml").read_text(
        encoding="utf-8")
    data = tomllib.loads(text)

    def lowered(values: list[str]) -> frozenset[str]:
        return frozenset(value.lower() for value in values)

    def words(values: list[str]) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(value) for value in sorted(values, key=len,
                                                                      reverse=True))
        return re.compile(rf"(?<![\w&])(?:{alternatives})(?![\w&])", re.IGNORECASE)

    handles, emails, pages = data["handles"], data["emails"], dict(data["pages"])
    patterns = tuple(re.compile(pattern) for pattern in pages.pop("patterns", ()))
    third = data["third_party"]
    return Stoplist(
        phones=lowered(data["phones"]["values"]),
        handles=lowered(handles["platform_accounts"] + handles["words"]),
        email_domains=lowered(emails["domains"]), email_locals=lowered(emails["local_parts"]),
        email_patterns=tuple(re.compile(pattern) for pattern in emails["local_patterns"]),
        prefixes={kind: tuple(values) for kind, values in data["prefixes"].items()},
        shops=lowered(data["shops"]["values"]),
        pages={platform: lowered(values) for platform, values in pages.items()},
        page_patterns=patterns, claims=words(data["claims"]["words"]),
        services=words(third["services"]),
        warnings=words(third["warnings"]), own=words(third["own"]))


_CLAUSE_END = re.compile(r"[!?;,\n]|\.(?=\s+[A-Z])")
_CUE_REACH = 40  # characters before a contact where a third party's word counts


def _someone_elses(text: str, start: int, *, number: bool) -> bool:
    """Whether the words right before the contact at ``start`` (in its clause) say it is
    someone else's: a courier's or a platform's service, or a shop or number the seller
    warns against, with no word of the seller's own in between."""
    before = text[max(0, start - _CUE_REACH):start]
    clause_ends = [match.end() for match in _CLAUSE_END.finditer(before)]
    if clause_ends:
        before = before[clause_ends[-1]:]
    stop = stoplist()
    cues = [(match.end(), "service") for match in stop.services.finditer(before)]
    cues += [(match.end(), "warning") for match in stop.warnings.finditer(before)]
    if not cues:
        return False
    end, which = max(cues)
    between = before[end:]
    if stop.own.search(between):
        return False
    return not (which == "service" and number and _WHATSAPP_CUE.search(between))


def _folded(text: str) -> str:
    """``text`` with each character that NFKC writes as one other character (fullwidth
    letters, mathematical and circled letters, the fullwidth '@') written so, character for
    character (positions stay the same), so that handles, e-mails and links are read
    however they are styled."""
    if text.isascii():
        return text
    table: dict[int, str] = {}
    for char in set(text):
        if char.isascii():
            continue
        plain = unicodedata.normalize("NFKC", char)
        if len(plain) == 1 and plain != char:
            table[ord(char)] = plain
    return text.translate(table) if table else text


def shop_link(url: str) -> str | None:
    """``'platform:slug'`` for a link to a seller's shop (the value of a 'shop' contact),
    so that an account's own ``seller_url`` can be compared with links other accounts
    wrote; None for any other link."""
    found = _link_contact(url)
    return found[1] if found and found[0] == "shop" else None


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in taken)


# ---------------------------------------------------------------------------------------
# Links

_CONTACT_HOSTS = (
    r"wa\.me|(?:api\.|web\.|chat\.)?whatsapp\.com|instagram\.com|instagr\.am|tiktok\.com"
    r"|t\.me|telegram\.me|telegram\.dog|line\.me|tokopedia\.com|shop-id\.tokopedia\.com"
    r"|shopee\.co\.id|bukalapak\.com|lazada\.co\.id|blibli\.com|facebook\.com|fb\.com"
    r"|fb\.me|m\.me|olx\.co\.id"
)
# A link to a known host (with or without its scheme), or any other link: read or hidden.
_LINK = re.compile(
    rf"(?<![\w.@/-])(?:https?://)?(?:(?:www|m|id|web|mobile|vt)\.)?(?:{_CONTACT_HOSTS})"
    r"(?![\w-])(?:[/?][^\s<>\"'\[\]{}]*)?"
    r"|\bhttps?://[^\s<>\"'\[\]{}]+|(?<![\w.@/-])www\.[^\s<>\"'\[\]{}]+"
    r"|(?<![\w.@/-])[a-z0-9-]{1,63}\.(?:com|co\.id|id|ly|link|me|net|org|io|gl|cc|to|page)"
    r"/[^\s<>\"'\[\]{}]+",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)*"
# Something in the text that may be a link: most texts hold none, and skip the full pattern.
_LINK_HINT = re.compile(
    r"://|www\.|\.(?:com|co|id|ly|link|me|net|org|io|gl|cc|to|page|am|dog)\b", re.IGNORECASE)

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _platform_page(platform: str, first: str) -> bool:
    """Whether a link's first path segment on ``platform`` is one of the platform's own
    pages (search, a category, a campaign, help, a story, an event), not a seller's."""
    stop = stoplist()
    return first in stop.pages.get(platform, ()) or any(
        pattern.match(first) for pattern in stop.page_patterns)


_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,59}")
_HANDLE = re.compile(r"[a-z0-9._]{1,30}")
_TELEGRAM = re.compile(r"[a-z0-9_]{5,32}")
_LINE = re.compile(r"[a-z0-9._-]{3,20}")


def _links(text: str, taken: list[tuple[int, int]]) -> list[tuple[str, str, int, int]]:
    found = []
    for match in _LINK.finditer(text):
        link = match.group().rstrip(_TRAILING)
        start, end = match.start(), match.start() + len(link)
        taken.append((start, end))
        contact = _link_contact(link)
        if contact:
            found.append((*contact, start, end))
    return found


def _link_contact(link: str) -> tuple[str, str] | None:
    """(kind, value) of a link to a contact or a shop, or None."""
    if "://" not in link[:10]:
        link = "https://" + link
    try:
        parts = urlsplit(link)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    host = re.sub(r"^(?:www|m|id|web|mobile|vt)\.(?=.+\..+)", "", host)
    path = [segment for segment in parts.path.split("/") if segment]
    first = path[0].lower() if path else ""
    query = parse_qs(parts.query)

    if host == "wa.me":
        if first == "message" and len(path) > 1:
            return "whatsapp", f"wa.me/message/{path[1][:40]}"
        phone = _link_phone(first)
        return ("whatsapp", phone) if phone else None
    if host in ("api.whatsapp.com", "whatsapp.com"):
        phone = _link_phone((query.get("phone") or [""])[0])
        return ("whatsapp", phone) if phone else None
    if host == "chat.whatsapp.com" and path:
        return "whatsapp", f"chat.whatsapp.com/{path[0][:40]}"
    if host in ("instagram.com", "instagr.am"):
        name = path[1].lower() if first == "stories" and len(path) > 1 else first
        if _platform_page("instagram", name):
            return None
        return _handle_contact("instagram", name)
    if host == "tiktok.com":
        return _handle_contact("tiktok", first[1:]) if first.startswith("@") else None
    if host in ("t.me", "telegram.me", "telegram.dog"):
        name = path[1].lower() if first == "s" and len(path) > 1 else first
        if first == "joinchat" and len(path) > 1:
            return "telegram", f"joinchat/{path[1][:40]}"
        if name.startswith("+"):
            return "telegram", path[0][:40]
        if _platform_page("telegram", name):
            return None
        return _handle_contact("telegram", name)
    if host == "line.me":
        # line.me/ti/p/~ID (personal) or line.me/R/ti/p/@ID (official accounts)
        lowered = [segment.lower() for segment in path]
        if "p" in lowered[:-1]:
            name = unquote(lowered[lowered.index("p") + 1]).lstrip("~@")
            return _handle_contact("line", name)
        return None
    return _shop_contact(host, path, first, query)


def _link_phone(number: str) -> str | None:
    """The number of a WhatsApp link: international (62812...), or written in the local
    form sellers also put there (0812..., 812...)."""
    digits = re.sub(r"\D", "", unquote(number))
    return _phone_value(digits, international=not digits.startswith(("0", "8")))


def _shop_contact(host: str, path: list[str], first: str,
                  query: dict[str, list[str]]) -> tuple[str, str] | None:
    second = path[1].lower() if len(path) > 1 else ""
    slug: str | None = None
    platform = host.partition(".")[0]
    if host == "shop-id.tokopedia.com":  # TikTok Shop Indonesia
        platform, slug = "tiktokshop", second if first == "shop" else None
    elif host == "tokopedia.com":
        slug = first if not _platform_page("tokopedia", first) else None
    elif host == "shopee.co.id":
        product = re.search(r"-i\.(\d+)\.\d+$", path[-1]) if path else None
        if product:
            slug = product.group(1)
        elif first in ("shop", "product"):
            slug = second
        elif not _platform_page("shopee", first):
            slug = first
    elif host == "bukalapak.com":
        slug = second if first == "u" else None
    elif host == "lazada.co.id":
        slug = second if first == "shop" else None
    elif host == "blibli.com":
        # blibli.com/merchant/<name>/<MERCHANT-CODE>: the code is the seller's id
        slug = (path[2] if len(path) > 2 else second).lower() if first == "merchant" else None
    elif host in ("facebook.com", "fb.com", "fb.me", "m.me"):
        platform = "facebook"
        if first == "profile.php":
            slug = (query.get("id") or [""])[0]
        elif (first, second) == ("marketplace", "profile") or first in ("people", "pages"):
            slug = path[2] if len(path) > 2 else None
        elif not _platform_page("facebook", first):
            slug = first
    elif host == "olx.co.id":
        slug = second if first == "profile" else None
    if not slug or not _SLUG.fullmatch(slug.lower()):
        return None
    return "shop", f"{platform}:{slug.lower()}"


def _handle_contact(kind: str, name: str) -> tuple[str, str] | None:
    name = name.lower().rstrip(".")
    pattern = {"telegram": _TELEGRAM, "line": _LINE}.get(kind, _HANDLE)
    if not pattern.fullmatch(name) or not re.search(r"[a-z]", name):
        return None
    return kind, name


# ---------------------------------------------------------------------------------------
# E-mail addresses, also written "name (at) gmail (dot) com" ("titik" is Indonesian for dot)

_AT = r"(?:\s*[(\[{<]\s*(?:at|et|@)\s*[)\]}>]\s*|@)"
_DOT = r"(?:\s*[(\[{<]\s*(?:dot|titik)\s*[)\]}>]\s*|\.)"
_MAIL_HOSTS = r"gmail|yahoo|ymail|hotmail|outlook|icloud|live|rocketmail|proton(?:mail)?|aol"
_EMAIL_HINT = re.compile(
    rf"(?=[@＠(\[{{< \t])(?:[@＠]|[(\[{{<][ \t]*[ae]t|[ \t][ae]t[ \t]+(?:{_MAIL_HOSTS}))",
    re.IGNORECASE)
_EMAIL = re.compile(
    rf"(?<![\w.+-])(?P<local>[a-z0-9][a-z0-9._%+-]{{0,63}})"
    rf"(?:{_AT}(?P<domain>[a-z0-9-]{{1,63}}(?:{_DOT}[a-z0-9-]{{1,63}}){{0,3}}){_DOT}"
    rf"(?P<tld>[a-z]{{2,24}})"
    rf"|\s+(?:at|et)\s+(?P<host>{_MAIL_HOSTS})\s*(?:dot|titik|\.)\s*(?P<tld2>com|net|co\s*\.?\s*id))"
    r"(?![\w@-])",
    re.IGNORECASE,
)


def _emails(text: str, taken: list[tuple[int, int]]) -> list[tuple[str, str, int, int]]:
    found: list[tuple[str, str, int, int]] = []
    for match in _windows(text, _EMAIL_HINT, _EMAIL, before=70, after=150):
        start, end = match.span()
        if _overlaps(start, end, taken):
            continue
        local = match.group("local").lower().strip(".")
        if match.group("domain"):
            domain = re.sub(_DOT, ".", match.group("domain"), flags=re.IGNORECASE)
            address = f"{local}@{domain}.{match.group('tld')}".lower()
        else:
            tld = re.sub(r"[\s.]", "", match.group("tld2")).lower()
            address = f"{local}@{match.group('host').lower()}.{'co.id' if tld == 'coid' else tld}"
        taken.append((start, end))
        found.append(("email", address, start, end))
    return found


def _windows(text: str, hint: re.Pattern[str], pattern: re.Pattern[str], *, before: int,
             after: int) -> list[re.Match[str]]:
    """The matches of ``pattern`` in the stretches of ``text`` around the matches of the
    cheaper ``hint`` (most texts hold none, and the full pattern is read only there)."""
    stretches: list[list[int]] = []
    for hinted in hint.finditer(text):
        start, end = max(0, hinted.start() - before), min(len(text), hinted.end() + after)
        if stretches and start <= stretches[-1][1]:
            stretches[-1][1] = end
        else:
            stretches.append([start, end])
    return [match for start, end in stretches for match in pattern.finditer(text, start, end)]


# ---------------------------------------------------------------------------------------
# Handles: "IG: @name", "ig name_id", "tiktok @name", "tele: name", "id line: name", "@name"

_HANDLE_CUE = re.compile(
    r"(?=[iItTlL])\b(?P<cue>instagram|insta|ig|tiktok|tik\s?tok|tt|telegram|tele|tg"
    r"|line\s*id|id\s*line|line)\b"
    r"(?:\s*(?:kami|kita|ku|saya|aku|nya|toko|shop|official|resmi|juga))?"
    r"(?P<sep>\s*(?:[:=：]+|-+>?|[➡→»>]+)\s*|\s+)?(?P<at>[@＠]\s?)?"
    r"(?P<handle>[a-z0-9._-]{2,32})",
    re.IGNORECASE,
)
_BARE_HANDLE = re.compile(r"(?<![\w.@＠])[@＠](?P<handle>[a-z0-9._]{3,30})", re.IGNORECASE)
_CUE_KIND = {"instagram": "instagram", "insta": "instagram", "ig": "instagram",
             "tiktok": "tiktok", "tt": "tiktok", "telegram": "telegram", "tele": "telegram",
             "tg": "telegram", "line": "line"}
# Words that follow "ig" or "line" in a sentence and are not a name.
_NOT_A_NAME = _words(
    "aja saja ya yaa kami kita dm cek bio link di ke atau dan sama follow juga only no wa "
    "nya official shop toko story stories reels live ini itu untuk buat yang kak gan sis "
    "sebelah for the and or ig instagram tiktok line tele telegram",
)
# "3 pcs @50rb": in a price, '@' means "each"
_NOT_A_HANDLE = re.compile(
    r"[\d.,]+(?:rb|ribu|k|jt|juta|kg|gr|g|pcs|pc|an|ml|l)?|rp[\d.,]*|idr[\d.,]*"
    rf"|(?:{_MAIL_HOSTS})(?:\..*)?",
    re.IGNORECASE,
)


def _handles(text: str, taken: list[tuple[int, int]]) -> list[tuple[str, str, int, int]]:
    found = []
    for match in _HANDLE_CUE.finditer(text):
        start, end = match.span()
        cue = re.sub(r"\s|id", "", match.group("cue").lower()) or "line"
        kind = _CUE_KIND.get(cue, "line")
        name = match.group("handle")
        marked = match.group("at") or (match.group("sep") or "").strip()
        if (_overlaps(start, end, taken) or name.lower() in _NOT_A_NAME
                or (not marked and (cue in ("tt", "tele", "tg", "line")
                                    or not re.search(r"[._\d]", name)))):
            continue
        contact = _handle_contact(kind, name.rstrip(".-"))
        if contact:
            taken.append((start, end))
            found.append((*contact, start, end))
    for match in _BARE_HANDLE.finditer(text) if "@" in text or "＠" in text else ():
        start, end = match.span()
        name = match.group("handle").rstrip(".")
        if _overlaps(start, end, taken) or _NOT_A_HANDLE.fullmatch(name):
            continue
        contact = _handle_contact("instagram", name)  # a bare @name is most often Instagram's
        if contact:
            found.append((*contact, start, start + 1 + len(name)))
    return found


# ---------------------------------------------------------------------------------------
# Phone and WhatsApp numbers

# Digits written as words. Indonesian: nol/kosong 0, satu 1, dua 2, tiga 3, empat 4, lima 5,
# enam 6, tujuh 7, delapan 8, sembilan 9, sebelas 11; Javanese: siji, loro, telu, papat,
# limo, enem, pitu, wolu, songo/sanga; Sundanese: hiji, tilu, opat, genep, dalapan,
# salapan; English.
_DIGIT_WORDS = {
    **dict.fromkeys(("nol", "kosong", "zero", "enol"), "0"),
    **dict.fromkeys(("satu", "siji", "hiji", "one"), "1"),
    **dict.fromkeys(("dua", "loro", "two"), "2"),
    **dict.fromkeys(("tiga", "telu", "tilu", "three"), "3"),
    **dict.fromkeys(("empat", "papat", "opat", "four"), "4"),
    **dict.fromkeys(("lima", "limo", "five"), "5"),
    **dict.fromkeys(("enam", "enem", "genep", "six"), "6"),
    **dict.fromkeys(("tujuh", "pitu", "seven"), "7"),
    **dict.fromkeys(("delapan", "lapan", "wolu", "dalapan", "eight"), "8"),
    **dict.fromkeys(("sembilan", "songo", "sanga", "salapan", "nine"), "9"),
    "sebelas": "11",
}
def _any_case(words: str) -> str:
    """``words`` ('a|b') as a pattern that matches them in any case, without IGNORECASE
    (which would make the engine try every position of the text)."""
    return "|".join("".join(f"[{char}{char.upper()}]" for char in word)
                    for word in words.split("|"))


_DIGIT_WORD = re.compile(rf"\b(?:{_any_case('|'.join(_DIGIT_WORDS))})\b")
_ZERO_WORDS = _any_case("nol|kosong|zero|enol")
_EIGHT_WORDS = _any_case("delapan|lapan|wolu|dalapan|eight")
_SUBSTITUTES = str.maketrans("oOlI", "0011")  # letters written for digits

# Where a number may start: +62/+60, 62, 0 (or o) before an 8, or an 8 after a cue; and
# "nol" (zero), looked for only in texts that hold a zero word. (The leading look-ahead
# lets the engine skip to those characters; whether the place begins a word is checked
# by _starts_word.)
_SEED = re.compile(
    rf"(?=[(\[+0oO68])(?:[(\[][ \t]*)?(?:\+[ \t]*[(\[]?[ \t]*6[02]"
    rf"|62(?=[\W_]{{0,4}}[8(])|[0oO](?=[\W_]{{0,8}}(?:8|{_EIGHT_WORDS}))|8(?=[\W_]{{0,3}}\d))",
)
_WORD_SEED = re.compile(rf"(?:[(\[][ \t]*)?(?:{_ZERO_WORDS})\b")
# Numbers that are something else, hidden before numbers are read: prices (Rp 150.000,
# 150rb, 1,5jt), quantities, weights and sizes, dates, times, and labelled ids and
# accounts (SKU, resi: a parcel's tracking number, pesanan: an order, "order no" followed by
# what cannot open a phone number, rekening: a bank account, kode pos: postcode, NIK/NPWP:
# identity and tax numbers).
_BANKS = (r"bca|bri|bni|mandiri|bsi|btn|btpn|cimb(?:[ \t]*niaga)?|permata|danamon|mega|panin"
          r"|ocbc|maybank|jago|seabank|jenius|blu")
_UNITS = (
    r"rb|ribu|rebu|k|jt|juta|m|kg|kilo|kilogram|gr|gram|g|ons|ton|cm|mm|meter|inch|in|pcs|pc"
    r"|psc|biji|lembar|lbr|helai|potong|ptg|pasang|psg|bal|karung|koli|lusin|kodi|pack|pak"
    r"|box|dus|set|x|thn|tahun|hari|bulan|minggu|jam|menit"
)
_LABELS = (
    r"sku|kode(?:_(?:barang|produk|booking|bayar|pembayaran|pos|voucher))?|code|no\.?_?resi"
    r"|resi|awb|invoice|inv|order_?id|no\.?_?order"
    r"|order(?=_?(?:no|nomor|nomer|number)\b[.:# \t]*(?![.:# \t+0]|62))"
    r"|(?:no\.?|id)_?pesanan|pesanan|nik|npwp|va"
    r"|virtual_account|imei|serial|s/n|sn|batch|lot|art(?:ikel)?|id_?produk|item_?id|pos"
)
_NOT_PHONE = re.compile(
    (
        r"(?:\brp|\bidr)_?\.?_?\d[\d.,]*"
        rf"|(?<![\d.,])(?<!\d[ .-])\d[\d.,]{{0,8}}_?(?:{_UNITS})\b"
        r"|(?<![\d.,])\d[\d.,]{0,8}_?%"
        r"|(?<![\d./-])\d{1,2}([-/.])\d{1,2}\1(?:19|20)?\d{2}(?![-/.]?\d)"
        r"|(?<![\d.:])\d{1,2}[.:]\d{2}(?![.:]?\d)"
        rf"|\b(?:{_LABELS})\b(?:_?(?:no|nomor|nomer|nr|num|number)\b\.?)?_?[:#.\-/]?_?"
        r"[a-z0-9][a-z0-9\-/.]{0,30}"
        # an order or payment number: one unbroken run of 13 or more digits after the word
        # (an Indonesian mobile number has at most 13, and sellers group their own)
        r"|\b(?:order|orderan|transaksi|trx|tagihan|pembayaran|payment|tiket)\b"
        r"_?(?:id|no\.?|nomor|nomer)?_?[:#.]?_?\d{13,}"
        rf"|\b(?:(?:no\.?_?)?rek(?:ening)?|norek|{_BANKS})\b(?:_(?:{_BANKS})\b)?"
        r"_?(?:a\.?/n\.?_[^\W\d]+_?)?[:.\-]?_?\d[\d .-]{4,22}\d"
    ).replace("_?", "[ \t]*").replace("_", "[ \t]+"),  # spaces, never across lines
    re.IGNORECASE,
)
_WHATSAPP_CUE = re.compile(
    r"\b(?:w\s?\.?\s?a|whats?\s?app?|wha?tsap+|was+ap+|wats?ap+|wea|wa\.me)(?:\b|(?=\d))",
    re.IGNORECASE,
)
_WHATSAPP_AFTER = re.compile(r"\W{0,3}(?:\(\s*)?(?:wa|whatsapp)\b", re.IGNORECASE)
_PHONE_CUE = re.compile(
    r"\b(?:hp|telp?|tlp|telepon|telfon|call|sms|kontak|contact|cp|hub(?:ungi)?|no|nomor"
    r"|nomer|phone)\b|[☎📞📱]",
    re.IGNORECASE,
)
# A separator inside a number: spaces, dots, dashes, brackets, stars, emoji and marks.
# A piece of a number: a word (digits, letters for digits, digit words), a run of the
# usual separators (spaces, dots, dashes, brackets, stars), or any other character (an
# emoji or a mark may stand between digits, punctuation and line ends may not).
_PIECE = re.compile(r"([^\W_]+)|([ \t\u00a0.\-_()\[\]*~•·–—'\"/]+)|(.)", re.DOTALL)
_SENTENCE_END = re.compile(r"\.[ \t\u00a0]")  # a full stop and a space, never inside a number
_LINE_BREAKS = 2  # a number split over up to three lines ("0812\n3456\n7890") is read
_STOP = frozenset("+=|<>^`$\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def _digits_view(text: str) -> str:
    """``text`` with every other kind of digit written as an ASCII digit and look-alike
    Cyrillic and Greek o's as 'o', character for character (positions stay the same)."""
    if text.isascii():
        return text
    table: dict[int, str] = {}
    for char in set(text):
        if char.isascii():
            continue
        digit = unicodedata.digit(char, None)
        if digit is not None:
            table[ord(char)] = str(digit)
        elif char in "оОοΟ":
            table[ord(char)] = "o"
    return text.translate(table) if table else text


def _phones(text: str, view: str, taken: list[tuple[int, int]]) -> list[tuple[str, str, int, int]]:
    """Numbers read from ``view`` (``text`` with its digits made ASCII), around each place
    one may start, with links, e-mails and numbers that are something else hidden."""
    found: list[tuple[str, str, int, int]] = []
    read_to = 0
    seeds = _SEED.finditer(view)
    lowered = view.lower()
    if "nol" in lowered or "zero" in lowered or "kosong" in lowered:
        seeds = iter(sorted([*seeds, *_WORD_SEED.finditer(view)], key=lambda match: match.start()))
    for count, match in enumerate(seeds):
        if count >= _MAX_SEEDS:
            break
        start = match.start()
        if start < read_to or not _starts_word(view, start) or _inside_code(view, start):
            continue
        if match.group().endswith("8") and not _cue(text[max(read_to, start - 15):start]):
            continue  # a bare 8... is a number only where the seller says it is one
        if not _enough_digits(view, start) or not _read_number(view, start):
            continue  # (hiding what is not a phone below only ever shortens a number)
        offset = max(0, start - 64)
        window = _hidden(view, offset, min(len(view), start + _WINDOW + 40), taken)
        if "#" in window[start - offset:match.end() - offset]:
            continue  # a price, a date, an id... or inside a link
        number = _read_number(window, start - offset)
        if not number:
            continue
        digits, international, end = number
        end += offset
        before = text[max(read_to, start - 40):start].rpartition("\n")[2]
        phone = _phone_value(digits, international=international)
        if phone:
            after = text[end:end + 15].partition("\n")[0]
            kind = _cue(before) or (
                "whatsapp" if _WHATSAPP_AFTER.match(after) else "phone")
            found.append((kind, phone, start, end))
            taken.append((start, end))
            read_to = end
    return found


def _enough_digits(view: str, start: int) -> bool:
    """Whether the text from ``start`` holds the nine digits (or digit-like letters, or
    digit words) a number needs at least: most places that look like a start do not."""
    end = start + _WINDOW
    if sum(view.count(char, start, end) for char in "0123456789oOlI") >= 9:
        return True
    return _DIGIT_WORD.search(view, start, end) is not None


def _starts_word(view: str, start: int) -> bool:
    """Whether a number may start at ``start``: not inside a word or a number, except
    right after "wa" or "hp" ("WA081234567890")."""
    return start == 0 or not view[start - 1].isalnum() or view[max(0, start - 2):start].lower() in (
        "wa", "hp")


def _hidden(view: str, start: int, end: int, taken: list[tuple[int, int]]) -> str:
    """``view[start:end]`` with what is not a phone number written over with '#'."""
    chars = list(view[start:end])
    spans = [match.span() for match in _NOT_PHONE.finditer(view, start, end)]
    spans += [span for span in taken if span[0] < end and start < span[1]]
    for span in spans:
        span_start, span_end = max(span[0], start), min(span[1], end)
        chars[span_start - start:span_end - start] = "#" * (span_end - span_start)
    return "".join(chars)


def _cue(before: str) -> str | None:
    """'whatsapp' or 'phone' when the text before a number says which it is (the
    nearer cue wins: "WA / telp"), else None."""
    whatsapp = [match.end() for match in _WHATSAPP_CUE.finditer(before)]
    phone = [match.end() for match in _PHONE_CUE.finditer(before)]
    if not whatsapp and not phone:
        return None
    return "whatsapp" if max(whatsapp, default=-1) >= max(phone, default=-1) else "phone"


def _inside_code(view: str, start: int) -> bool:
    """Whether the number at ``start`` is part of a code such as ``TH-0812...`` (but not
    of ``WA-0812...``)."""
    glued = re.search(r"([^\W\d_]+)[-/_#.]$", view[max(0, start - 12):start])
    return bool(glued) and not _cue(glued.group(1))


def _read_number(view: str, start: int) -> tuple[str, bool, int] | None:
    """The digits of the phone number that starts at ``start`` (its digit groups as
    written, ended where the seller's grouping says), whether it was written with a '+',
    and where it ends."""
    groups: list[tuple[str, int]] = []  # (digits, end)
    international = False
    total = 0
    position = start
    limit = min(len(view), start + _WINDOW)
    separator = 0  # characters since the last group
    breaks = 0  # line breaks inside the number
    while position < limit and total <= 15:
        piece = _PIECE.match(view, position, limit)
        if piece is None:
            break
        word, spaces, other = piece.groups()
        if word:
            digits = _word_digits(word, bool(groups))
            if digits is None:
                break
            if total >= 9 and separator and _starts_number(digits) and _choose_number(
                    groups, international):
                break  # a whole number is read and the next one begins
            groups.append((digits, piece.end()))
            total += len(digits)
            separator = 0
        elif other == "+" and not groups and not international:
            international = True
            separator += 1
        elif other and other in "\r\n" and groups and total < 9 and breaks < _LINE_BREAKS:
            # a number broken over lines, before it has enough digits to be one
            breaks += other == "\n"
            separator += 1
        elif other and (other in _STOP or unicodedata.category(other)[0] not in "SMC"):
            break
        else:
            if groups and spaces and _SENTENCE_END.search(spaces):
                break  # "order no 82689410. nol delapan ...": a sentence ends a number
            separator += len(spaces or other)
            if separator > 8:
                break
        position = piece.end()
    return _choose_number(groups, international)


def _starts_number(digits: str) -> bool:
    return (digits.startswith("08") and len(digits) >= 3) or (
        digits.startswith("628") and len(digits) >= 9)


def _word_digits(word: str, inside: bool) -> str | None:
    """The digits a run of letters and digits stands for, or None when it is a word."""
    if word.isdigit() and word.isascii():
        return word
    lowered = word.lower()
    if lowered in _DIGIT_WORDS:
        return _DIGIT_WORDS[lowered]
    if not word.isascii():
        return None
    real = sum(char.isdigit() for char in word)
    substitutes = sum(char in "oOlI" for char in word)
    if real + substitutes == len(word):
        if real >= substitutes or (inside and len(word) <= 2) or (
                not inside and word[0] in "oO" and len(word) == 1):
            return word.translate(_SUBSTITUTES)
        return None
    # digits with single letters glued between them: 0812x3456x7890
    if re.fullmatch(r"[0-9oOlI]+(?:[a-zA-Z][0-9oOlI]+){1,3}", word) and real * 10 >= len(word) * 7:
        return re.sub(r"(?<=[0-9oOlI])[a-km-zA-HJ-NP-Z](?=[0-9oOlI])", "", word).translate(
            _SUBSTITUTES)
    return None


def _choose_number(groups: list[tuple[str, int]],
                   international: bool) -> tuple[str, bool, int] | None:
    """The longest run of whole groups that is a valid number, leaving out a short group
    trailing after longer ones ("0812 3456 7890 1" is a number and a 1)."""
    digits = ""
    ends = []
    for index, (group, end) in enumerate(groups):
        digits += group
        if len(digits) > 15:
            break
        short_tail = index >= 2 and len(group) < 3 and len(groups[index - 1][0]) >= 3
        if 9 <= len(digits) and not short_tail:
            ends.append((digits, end))
    for candidate, end in reversed(ends):
        if _phone_value(candidate, international=international):
            return candidate, international, end
    return None


@lru_cache(maxsize=4096)
def _phone_value(digits: str, *, international: bool) -> str | None:
    """The E.164 form of an Indonesian mobile number, or of a Malaysian one written with
    its country code (+60), or None."""
    if digits.startswith("620"):  # +62 (0)812...
        digits = "62" + digits[3:]
    # Indonesian mobile numbers are 08 and 8 to 11 more digits; Malaysian ones 01 and 8
    # or 9 more. Anything else is refused before phonenumbers (which is slow) is asked.
    indonesian = digits.startswith("628") and 11 <= len(digits) <= 14
    malaysian = digits.startswith("601") and international and 11 <= len(digits) <= 12
    if indonesian or malaysian:
        number = "+" + digits
    elif digits.startswith("08") and not international and 10 <= len(digits) <= 13:
        number = digits
    elif digits.startswith("8") and not international and 9 <= len(digits) <= 12:
        number = "0" + digits
    else:
        return None
    try:
        parsed = phonenumbers.parse(number, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.region_code_for_number(
            parsed) not in ("ID", "MY"):
        return None
    if phonenumbers.number_type(parsed) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
