"""What tests share besides fixtures: running commands and crawls, opening evidence DBs.

Test tiers (markers registered in pyproject.toml): a test that starts a crawl is marked
``crawl``, one that starts Chromium ``browser``, scrapyd ``scrapyd``, a compiler ``build``.
``make test-fast`` leaves them all out. :func:`run_command` refuses to start a crawl from a
test that carries none of these markers (conftest.py tells it which test runs), so an
unmarked slow test cannot creep into the fast tier.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SLOW_MARKERS = frozenset({"crawl", "browser", "scrapyd", "build"})
# Commands that crawl (or run crawls): only tests in a slow tier may start them.
CRAWLING = {("scrapy", "crawl"), ("thriftwatch", "crawl"), ("thriftwatch", "demo"),
            ("thriftwatch", "recheck"), ("thriftwatch", "monitor")}

# Crawls in tests run without enrichment (listing pages, photos) unless the test asks for it
# with ``-s THRIFTWATCH_ENRICH=True`` (a later -s wins): most tests count search sightings
# and captures, and enrichment is tested on its own (tests/test_enrich_crawl.py, ...).
ENRICHING = {("scrapy", "crawl"), ("thriftwatch", "crawl")}
ENRICH_OFF = ("-s", "THRIFTWATCH_ENRICH=False")

current_test: pytest.Item | None = None  # set by conftest.py while a test runs


def run_command(*args: str, timeout: float = 300, cwd: Path = REPO,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command from the venv in a subprocess (each crawl needs its own reactor);
    ``env`` adds to the environment."""
    if tuple(args[:2]) in CRAWLING and current_test is not None and not any(
            current_test.get_closest_marker(name) for name in SLOW_MARKERS):
        pytest.fail(f"{current_test.nodeid} starts `{' '.join(args[:2])}` but is not marked "
                    f"{' / '.join(sorted(SLOW_MARKERS))}")
    if tuple(args[:2]) in ENRICHING:
        args = (*args[:2], *ENRICH_OFF, *args[2:])
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    bindir = Path(sys.executable).parent
    return subprocess.run([str(bindir / args[0]), *args[1:]], cwd=cwd, env=env, timeout=timeout,
                          capture_output=True, text=True, check=False)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def crawl_replica(replica, db: Path, spider: str, *args: str,
                  timeout: float = 300) -> subprocess.CompletedProcess:
    """``scrapy crawl SPIDER ARGS`` into ``db`` through replica mode, with no politeness
    delays (the replica is local); fails the test unless the crawl exits cleanly."""
    result = run_command(
        "scrapy", "crawl", spider, *args, "-s", f"THRIFTWATCH_DB={db}",
        "-s", f"THRIFTWATCH_REPLICA={replica.url}",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def open_db(db: Path) -> sqlite3.Connection:
    """The evidence DB, rows readable by column name."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return conn


@dataclass
class Crawl:
    """One finished crawl: its evidence DB (path and open connection) and its log."""

    db: Path
    conn: sqlite3.Connection
    log: str


def crawled_db(spider: str, *args: str, browser: bool = False,
               before: Callable[[Path], Sequence[str]] | None = None) -> Any:
    """A module-scoped fixture that crawls ``spider`` with ``args`` through the replica once
    and yields the :class:`Crawl`. Tests using it are marked ``crawl`` (and ``browser``).

    ``before(folder)``, if given, runs first and returns more crawl arguments (a cookies
    file it wrote into the crawl's folder, say).
    """

    @pytest.fixture(scope="module")
    def crawled(replica, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
        folder = tmp_path_factory.mktemp(spider)
        db = folder / "evidence.db"
        extra = before(folder) if before is not None else ()
        result = crawl_replica(replica, db, spider, *args, *extra)
        conn = open_db(db)
        yield Crawl(db, conn, result.stderr)
        conn.close()

    crawled.thriftwatch_markers = ("crawl", "browser") if browser else ("crawl",)
    return crawled
