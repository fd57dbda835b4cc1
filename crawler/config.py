"""Every thriftwatch setting, read once from Scrapy settings into typed, checked config.

The way scrapy-playwright's ``Config`` works: a component's ``from_crawler`` calls
:meth:`Config.from_crawler` and takes the part it needs (``config.store``,
``config.health`` ...); no other module reads a ``THRIFTWATCH_*`` setting. Defaults are
written once, in :mod:`crawler.settings`; a setting missing from the settings given (a
bare ``Settings()`` in a script, say) takes that default. A value the tool cannot use is a
:class:`ConfigError` naming the setting.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit
from weakref import WeakKeyDictionary

from crawler import settings as project_defaults

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

DEFAULT_DB = project_defaults.THRIFTWATCH_DB
# Read from the environment, not from a setting: it would show in Scrapy's
# "Overridden settings" log line and in the settings digest of every run.
SMTP_PASSWORD_ENV = "THRIFTWATCH_SMTP_PASSWORD"  # noqa: S105 - an env var's name, not a password


class ConfigError(ValueError):
    """A thriftwatch setting has a value the tool cannot use."""


class _Reader:
    """Typed, checked reads of one settings object, with the project's defaults."""

    def __init__(self, settings: BaseSettings):
        self.settings = settings

    def raw(self, name: str) -> Any:
        value = self.settings.get(name)
        return getattr(project_defaults, name) if value is None else value

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        return None if value in (None, "") else str(value)

    def path(self, name: str) -> Path | None:
        value = self.text(name)
        return Path(value) if value else None

    def flag(self, name: str) -> bool:
        try:
            return self.settings.getbool(name, getattr(project_defaults, name))
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{name} must be True or False, not {self.raw(name)!r}") from None

    def whole(self, name: str, minimum: int = 1) -> int:
        try:
            value = self.settings.getint(name, getattr(project_defaults, name))
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{name} must be a whole number, not {self.raw(name)!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, not {value}")
        return value

    def number(self, name: str, minimum: float = 0.0, maximum: float | None = None) -> float:
        try:
            value = self.settings.getfloat(name, getattr(project_defaults, name))
        except (TypeError, ValueError, OverflowError):
            raise ConfigError(f"{name} must be a number, not {self.raw(name)!r}") from None
        if not minimum <= value <= (maximum if maximum is not None else float("inf")):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
            raise ConfigError(f"{name} must be {bounds}, not {value}")
        return value

    def strings(self, name: str) -> tuple[str, ...]:
        try:
            items = self.settings.getlist(name, getattr(project_defaults, name))
        except TypeError:
            items = [None]
        if not all(isinstance(item, str) for item in items):
            raise ConfigError(f"{name} must be comma-separated text, not {self.raw(name)!r}")
        return tuple(item.strip() for item in items if item.strip())


@dataclass(frozen=True)
class StoreConfig:
    """The evidence DB, how runs are recorded in it, and where their heads are anchored."""

    db_path: Path
    batch: int  # listings written per transaction (at most until the next page)
    operator: str | None  # who ran the crawl, recorded with the run
    resume_dir: Path | None  # keeps each platform's unfinished run id, to resume after a kill
    tsa_urls: tuple[str, ...] = ()  # RFC 3161 time-stamp authorities, tried in order
    tsa_timeout: float = 10.0  # seconds per TSA

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> StoreConfig:
        read = _Reader(settings)
        urls = read.strings("THRIFTWATCH_TSA_URL")
        for url in urls:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise ConfigError(f"THRIFTWATCH_TSA_URL takes http(s) URLs, not {url!r}")
        return cls(db_path=read.path("THRIFTWATCH_DB") or Path(DEFAULT_DB),
                   batch=read.whole("THRIFTWATCH_STORE_BATCH"),
                   operator=read.text("THRIFTWATCH_OPERATOR"),
                   resume_dir=read.path("THRIFTWATCH_RESUME_DIR"),
                   tsa_urls=urls,
                   tsa_timeout=read.number("THRIFTWATCH_TSA_TIMEOUT", minimum=0.1))


@dataclass(frozen=True)
class FlaggingConfig:
    lexicon_file: Path | None  # an investigator's lexicon, extending the shipped one

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> FlaggingConfig:
        return cls(lexicon_file=_Reader(settings).path("THRIFTWATCH_LEXICON"))


@dataclass(frozen=True)
class HealthConfig:
    """When a run-health check fires (see :mod:`crawler.ops.health`)."""

    enabled: bool = True
    block_rate: float = 0.2  # share of search pages answered with a block
    error_rate: float = 0.2  # share of search pages lost to HTTP or network errors
    drop: float = 0.5  # per-keyword pages or listings below this share of the usual
    history: int = 5  # earlier runs the usual is the median of
    min_history: int = 2  # earlier runs needed before a drop is judged

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> HealthConfig:
        read = _Reader(settings)
        return cls(enabled=read.flag("THRIFTWATCH_HEALTH_ENABLED"),
                   block_rate=read.number("THRIFTWATCH_HEALTH_BLOCK_RATE", 0.0, 1.0),
                   error_rate=read.number("THRIFTWATCH_HEALTH_ERROR_RATE", 0.0, 1.0),
                   drop=read.number("THRIFTWATCH_HEALTH_DROP", 0.0, 1.0),
                   history=read.whole("THRIFTWATCH_HEALTH_HISTORY"))


@dataclass(frozen=True)
class AlertConfig:
    """Where run-health alerts go; every part is optional (no webhook, no SMTP: log only)."""

    webhook: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_ssl: bool = False  # SMTPS: TLS from the first byte
    smtp_allow_plain: bool = False  # send the password over a plain connection anyway
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)  # from the environment only
    email_from: str = "thriftwatch@localhost"
    email_to: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> AlertConfig:
        read = _Reader(settings)
        smtp = read.text("THRIFTWATCH_ALERT_SMTP") or ""
        host, _, port = smtp.rpartition(":") if ":" in smtp else (smtp, "", "")
        if port and not port.isdigit():
            raise ConfigError(f"THRIFTWATCH_ALERT_SMTP must be HOST or HOST:PORT, not {smtp!r}")
        starttls, smtps = (read.flag("THRIFTWATCH_ALERT_SMTP_STARTTLS"),
                           read.flag("THRIFTWATCH_ALERT_SMTP_SSL"))
        user, allow_plain = (read.text("THRIFTWATCH_ALERT_SMTP_USER"),
                             read.flag("THRIFTWATCH_ALERT_SMTP_ALLOW_PLAIN"))
        if starttls and smtps:
            raise ConfigError("THRIFTWATCH_ALERT_SMTP_STARTTLS and THRIFTWATCH_ALERT_SMTP_SSL "
                              "are two ways to encrypt: set one")
        if user and host and not (starttls or smtps or allow_plain):
            raise ConfigError(
                "THRIFTWATCH_ALERT_SMTP_USER is set but the SMTP connection is not encrypted: "
                "set THRIFTWATCH_ALERT_SMTP_STARTTLS or THRIFTWATCH_ALERT_SMTP_SSL (or, for a "
                "trusted local relay, THRIFTWATCH_ALERT_SMTP_ALLOW_PLAIN)")
        return cls(webhook=read.text("THRIFTWATCH_ALERT_WEBHOOK"),
                   smtp_host=host or None,
                   smtp_port=int(port or (465 if smtps else 25)),
                   smtp_starttls=starttls,
                   smtp_ssl=smtps,
                   smtp_allow_plain=allow_plain,
                   smtp_user=user,
                   smtp_password=os.environ.get(SMTP_PASSWORD_ENV) or None,
                   email_from=read.text("THRIFTWATCH_ALERT_EMAIL_FROM") or cls.email_from,
                   email_to=read.strings("THRIFTWATCH_ALERT_EMAIL_TO"))


@dataclass(frozen=True)
class BackoffConfig:
    """Retry waits: the server's Retry-After, else ``base * 2**(n-1)`` seconds, capped."""

    base: float
    cap: float

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> BackoffConfig:
        read = _Reader(settings)
        return cls(base=read.number("THRIFTWATCH_BACKOFF_BASE"),
                   cap=read.number("THRIFTWATCH_BACKOFF_MAX"))


@dataclass(frozen=True)
class ProgressConfig:
    enabled: bool
    interval: float  # seconds between plain progress lines (off a terminal)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> ProgressConfig:
        read = _Reader(settings)
        return cls(enabled=read.flag("THRIFTWATCH_PROGRESS_ENABLED"),
                   interval=read.number("THRIFTWATCH_PROGRESS_INTERVAL", minimum=0.01))


@dataclass(frozen=True)
class BrowserConfig:
    chromium: str  # the browser the rendered platforms run in

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> BrowserConfig:
        return cls(chromium=_Reader(settings).text("THRIFTWATCH_CHROMIUM")
                   or project_defaults.THRIFTWATCH_CHROMIUM)


@dataclass(frozen=True)
class InstagramConfig:
    cookies_file: Path | None  # session cookies for Instagram; never stored or logged

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> InstagramConfig:
        return cls(cookies_file=_Reader(settings).path("THRIFTWATCH_INSTAGRAM_COOKIES"))


# What a listing's card verdict must reach for its page to be fetched and its contacts read:
# every listing, any reason at all (a clothing word in the title is one), or a level.
ENRICH_FLOORS = ("all", "reason", "weak", "medium", "strong")


@dataclass(frozen=True)
class EnrichConfig:
    """Enrichment: listing pages, contacts and images of the listings above the floor, and
    how photos link accounts (read by ``thriftwatch sellers`` and ``takedown`` too)."""

    enabled: bool = True  # fetch listing pages and images (contacts on cards are read anyway)
    floor: str = "reason"  # one of ENRICH_FLOORS
    detail_cap: int = 500  # listing pages fetched per run
    image_cap: int = 4  # images fetched per flagged listing
    image_bytes: int = 200_000_000  # image bytes fetched per run
    image_distance: int = 6  # pHash bits two photos may differ by and still link accounts
    image_max_accounts: int = 5  # a photo on more unrelated accounts is a stock photo

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> EnrichConfig:
        read = _Reader(settings)
        floor = (read.text("THRIFTWATCH_ENRICH_FLOOR") or "").strip().lower()
        if floor not in ENRICH_FLOORS:
            raw = read.raw("THRIFTWATCH_ENRICH_FLOOR")
            raise ConfigError(f"THRIFTWATCH_ENRICH_FLOOR must be one of "
                              f"{', '.join(ENRICH_FLOORS)}, not {raw!r}")
        distance = read.whole("THRIFTWATCH_IMAGE_DISTANCE", minimum=0)
        if distance > 32:
            raise ConfigError(f"THRIFTWATCH_IMAGE_DISTANCE takes 0 to 32 bits, not {distance}")
        return cls(enabled=read.flag("THRIFTWATCH_ENRICH"), floor=floor,
                   detail_cap=read.whole("THRIFTWATCH_DETAIL_CAP", minimum=0),
                   image_cap=read.whole("THRIFTWATCH_IMAGE_CAP", minimum=0),
                   image_bytes=read.whole("THRIFTWATCH_IMAGE_BYTES", minimum=0),
                   image_distance=distance,
                   image_max_accounts=read.whole("THRIFTWATCH_IMAGE_MAX_ACCOUNTS"))


# A run key and a node name become parts of Redis key names and of the run's record.
_FRONTIER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def frontier_run_now() -> str:
    """The run key a process uses when none is given: the UTC hour it started in
    (``2026-01-31T10``). Processes of one round share it when started within that hour;
    the monitor gives every round its own."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H")


@dataclass(frozen=True)
class FrontierConfig:
    """The shared crawl frontier in Redis (:mod:`crawler.frontier`); ``url`` None: none."""

    url: str | None = field(default=None, repr=False)  # may hold the password: never shown
    public_url: str | None = None  # the same URL without any password: logged and recorded
    run: str = ""  # the round every process of a platform shares
    node: str = ""  # this process's node name
    idle: float = 30.0  # seconds the frontier stays drained before a process ends
    lease: float = 30.0  # seconds a killed process's in-flight requests stay leased to it

    @property
    def enabled(self) -> bool:
        return self.url is not None

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> FrontierConfig:
        read = _Reader(settings)
        node = read.text("THRIFTWATCH_NODE") or socket.gethostname().split(".")[0] or "node"
        if not _FRONTIER_NAME.fullmatch(node):
            raise ConfigError(f"THRIFTWATCH_NODE takes letters, digits, '.', '_' and '-' "
                              f"(at most 100), not {node!r}")
        run = read.text("THRIFTWATCH_FRONTIER_RUN") or frontier_run_now()
        if not _FRONTIER_NAME.fullmatch(run):
            raise ConfigError(f"THRIFTWATCH_FRONTIER_RUN takes letters, digits, '.', '_' and "
                              f"'-' (at most 100), not {run!r}")
        idle = read.number("THRIFTWATCH_FRONTIER_IDLE", minimum=0.0, maximum=86400.0)
        lease = read.number("THRIFTWATCH_FRONTIER_LEASE", minimum=1.0, maximum=86400.0)
        url, public = parse_frontier(read.text("THRIFTWATCH_FRONTIER"),
                                     replica=bool(read.text("THRIFTWATCH_REPLICA")))
        return cls(url=url, public_url=public, run=run, node=node, idle=idle, lease=lease)


def parse_frontier(value: str | None, *, replica: bool) -> tuple[str | None, str | None]:
    """``redis://[:PASSWORD@]HOST:PORT/DB`` checked: the URL to connect to and the same
    without the password (a password may also come from the environment: see
    :mod:`crawler.frontier.connection`). In replica mode (training, tests) only a loopback
    Redis is allowed."""
    if not value:
        return None, None
    problem = "THRIFTWATCH_FRONTIER must look like redis://[:PASSWORD@]HOST:PORT/DB"
    try:
        parts = urlsplit(str(value))
        host, port, user = parts.hostname, parts.port, parts.username
        secret = parts.password
    except ValueError:
        raise ConfigError(f"{problem} (the URL cannot be read)") from None
    database = parts.path.lstrip("/") or "0"
    if (parts.scheme not in ("redis", "rediss") or not host or parts.query or parts.fragment
            or not database.isdigit() or len(database) > 5):
        raise ConfigError(f"{problem}, not {_without_password(str(value))!r}")
    if replica and not _loopback(host):
        raise ConfigError("THRIFTWATCH_FRONTIER must be on 127.0.0.1 (or ::1) in replica mode, "
                          f"not {host!r}: a training crawl reaches nothing off this machine")
    address = f"[{host}]" if ":" in host else host
    netloc = f"{address}:{port or 6379}"
    public = f"{parts.scheme}://{netloc}/{int(database)}"
    if secret is None:
        return public, public
    login = quote(user or "", safe="") + ":" + quote(secret, safe="")
    return f"{parts.scheme}://{login}@{netloc}/{int(database)}", public


def _without_password(url: str) -> str:
    return re.sub(r"(//[^/@]*?:)[^/@]*@", r"\1REDACTED@", url)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_built: WeakKeyDictionary[Crawler, Config] = WeakKeyDictionary()


@dataclass(frozen=True)
class Config:
    """What thriftwatch's own components need to know, validated once per crawl."""

    replica: str | None  # replica mode: every request goes to this local replica
    max_pages: int  # search pages per keyword (the spider argument max_pages wins)
    http_handler: str  # the download handler replica mode wraps
    store: StoreConfig
    flagging: FlaggingConfig
    health: HealthConfig
    alerts: AlertConfig
    backoff: BackoffConfig
    progress: ProgressConfig
    browser: BrowserConfig
    instagram: InstagramConfig
    enrich: EnrichConfig = EnrichConfig()
    frontier: FrontierConfig = FrontierConfig()

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Config:
        read = _Reader(settings)
        return cls(
            replica=parse_replica(read.text("THRIFTWATCH_REPLICA")),
            max_pages=read.whole("THRIFTWATCH_MAX_PAGES"),
            http_handler=read.text("THRIFTWATCH_HTTP_HANDLER")
            or project_defaults.THRIFTWATCH_HTTP_HANDLER,
            store=StoreConfig.from_settings(settings),
            flagging=FlaggingConfig.from_settings(settings),
            health=HealthConfig.from_settings(settings),
            alerts=AlertConfig.from_settings(settings),
            backoff=BackoffConfig.from_settings(settings),
            progress=ProgressConfig.from_settings(settings),
            browser=BrowserConfig.from_settings(settings),
            instagram=InstagramConfig.from_settings(settings),
            enrich=EnrichConfig.from_settings(settings),
            frontier=FrontierConfig.from_settings(settings),
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Config:
        """The crawler's config, read from its (frozen) settings the first time it is asked."""
        if crawler not in _built:
            _built[crawler] = cls.from_settings(crawler.settings)
        return _built[crawler]


def use_http_handler(settings: BaseSettings, handler: str, priority: str) -> None:
    """Make replica mode wrap ``handler`` (scrapy-playwright's, for rendering spiders)."""
    settings.set("THRIFTWATCH_HTTP_HANDLER", handler, priority=priority)


def parse_replica(value: str | None) -> str | None:
    """Check a replica base URL such as ``http://127.0.0.1:8321`` and drop a trailing slash."""
    if not value:
        return None
    parts = urlsplit(str(value))  # a settings file may give a number
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(
            f"THRIFTWATCH_REPLICA must look like http://127.0.0.1:PORT, not {value!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"THRIFTWATCH_REPLICA takes no query or fragment: {value!r}")
    return f"{parts.scheme}://{parts.netloc}"
