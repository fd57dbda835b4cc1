"""All thriftwatch settings, read once from Scrapy settings into a typed config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.settings import BaseSettings

DEFAULT_DB = "thriftwatch.db"


class ConfigError(ValueError):
    """A thriftwatch setting has a value the tool cannot use."""


@dataclass(frozen=True)
class Config:
    """What thriftwatch's own components need to know, validated once."""

    db_path: Path
    replica: str | None
    max_pages: int
    operator: str | None
    lexicon_file: Path | None
    http_handler: str
    chromium: str
    resume_dir: Path | None
    store_batch: int

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Config:
        max_pages = _positive_int(settings, "THRIFTWATCH_MAX_PAGES", 5)
        lexicon = settings.get("THRIFTWATCH_LEXICON")
        return cls(
            db_path=Path(settings.get("THRIFTWATCH_DB") or DEFAULT_DB),
            replica=parse_replica(settings.get("THRIFTWATCH_REPLICA")),
            max_pages=max_pages,
            operator=settings.get("THRIFTWATCH_OPERATOR") or None,
            lexicon_file=Path(lexicon) if lexicon else None,
            http_handler=settings.get("THRIFTWATCH_HTTP_HANDLER"),
            chromium=settings.get("THRIFTWATCH_CHROMIUM") or "/usr/bin/chromium",
            resume_dir=Path(settings["THRIFTWATCH_RESUME_DIR"])
            if settings.get("THRIFTWATCH_RESUME_DIR") else None,
            store_batch=_positive_int(settings, "THRIFTWATCH_STORE_BATCH", 100),
        )


def _positive_int(settings: BaseSettings, name: str, default: int) -> int:
    try:
        value = settings.getint(name, default)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {settings.get(name)!r}") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, not {value}")
    return value


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
