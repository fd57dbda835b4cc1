"""Shared fixtures: the replica marketplace on loopback and the optional ../shared corpus."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def replica():
    """The replica marketplace on a free loopback port, for the whole test session."""
    from crawler.replica.server import ReplicaServer

    with ReplicaServer() as server:
        yield server


@pytest.fixture
def corpus():
    """Path into ../shared/corpus; the test is skipped where that folder is absent."""
    root = SHARED / "corpus"
    if not root.is_dir():
        pytest.skip("../shared/corpus is not present")
    return root


def run_command(*args: str, timeout: float = 300, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run a command from the venv in a subprocess (each crawl needs its own reactor)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    bindir = Path(sys.executable).parent
    return subprocess.run([str(bindir / args[0]), *args[1:]], cwd=cwd, env=env, timeout=timeout,
                          capture_output=True, text=True)


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
