"""Real crawl processes sharing one frontier on a real redis-server: two processes split one
crawl with every page fetched once; a process SIGKILLed mid-crawl loses no page and the
pages it stored are not fetched again; malformed queue entries and a password-protected
Redis change nothing, and the password is in no log and no DB."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.evidence.verify import verify_db
from crawler.frontier.keys import FrontierKeys
from crawler.replica.server import ReplicaServer
from tests.helpers import ENRICH_OFF, REPO
from tests.redis_server import RedisServer, redis_server_path

pytestmark = [pytest.mark.crawl, pytest.mark.redis]

KEYWORDS = ("balpres", "karungan", "thrift", "bal thrift", "cakar", "monza")
PAGES = 2  # every keyword has at least 150 results: 2 full pages of 60
PASSWORD = "pl4nted-redis-s3cret"


@pytest.fixture(scope="module")
def slow_replica():
    """A replica of its own that answers like a real site (0.2 s), so both processes work."""
    with ReplicaServer(latency=0.2) as server:
        yield server


@pytest.fixture
def locked_redis():
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed (make test installs Debian's redis-server)")
    with RedisServer(password=PASSWORD) as server:
        yield server


def _crawl(replica, redis_url: str, db: Path, node: str, *extra: str) -> list[str]:
    return [str(Path(sys.executable).parent / "scrapy"), "crawl", "tokopedia",
            "-a", "keywords=" + ",".join(KEYWORDS),
            "-a", f"max_pages={PAGES}", *ENRICH_OFF,
            "-s", f"THRIFTWATCH_DB={db}", "-s", f"THRIFTWATCH_REPLICA={replica.url}",
            "-s", f"THRIFTWATCH_FRONTIER={redis_url}", "-s", "THRIFTWATCH_FRONTIER_RUN=t",
            "-s", f"THRIFTWATCH_NODE={node}", "-s", "THRIFTWATCH_FRONTIER_IDLE=2",
            "-s", "THRIFTWATCH_FRONTIER_LEASE=3", "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", *extra]


def _start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=log.open("w"))


def _pages(db: Path) -> dict[tuple[str, str], int]:
    """(keyword, first listing) of each search page the DB holds -> listings stored."""
    if not db.exists():
        return {}
    conn = sqlite3.connect(db, timeout=30)
    try:
        rows = conn.execute(
            "SELECT c.id, c.request_body_sha256, COUNT(o.id) FROM captures c "
            "LEFT JOIN observations o ON o.capture_id = c.id "
            "WHERE c.url NOT LIKE '%robots.txt' GROUP BY c.id").fetchall()
    except sqlite3.OperationalError:  # not written yet
        return {}
    finally:
        conn.close()
    return {body: count for _, body, count in rows}


def _observations(db: Path) -> set[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return set(conn.execute("SELECT keyword, listing_id FROM observations").fetchall())
    finally:
        conn.close()


def test_two_processes_split_one_crawl_each_page_fetched_once(slow_replica, locked_redis,
                                                              tmp_path):
    # Planted before the crawl: entries no thriftwatch process wrote (a pickle, a request
    # naming a Scrapy method, plain junk). Each is logged and dropped; nothing crashes.
    keys = FrontierKeys("tokopedia", "t")
    locked_redis.client().zadd(keys.queue, {
        b"\x80\x04\x95\x1a\x00cos\nsystem\n": 5, b'{"url": "https://gql.tokopedia.com/x", '
        b'"callback": "close"}': 5, b"[[[[": 5})
    nodes = [_start(_crawl(slow_replica, locked_redis.url, tmp_path / f"n{i}.db", f"n{i}"),
                    tmp_path / f"n{i}.log") for i in range(2)]
    for process in nodes:
        assert process.wait(timeout=240) == 0
    logs = [(tmp_path / f"n{i}.log").read_text() for i in range(2)]
    pages = [_pages(tmp_path / f"n{i}.db") for i in range(2)]
    assert all(pages), "both processes fetched pages"
    assert not set(pages[0]) & set(pages[1]), "a page fetched by both"
    assert len(pages[0]) + len(pages[1]) == len(KEYWORDS) * PAGES
    observations = [_observations(tmp_path / f"n{i}.db") for i in range(2)]
    assert not observations[0] & observations[1]
    assert len(observations[0] | observations[1]) == len(KEYWORDS) * PAGES * 60
    assert sum(log.count("frontier entry dropped") for log in logs) == 3
    for i in range(2):
        conn = sqlite3.connect(tmp_path / f"n{i}.db")
        recorded = conn.execute("SELECT node, frontier, frontier_key FROM run_nodes").fetchall()
        conn.close()
        assert recorded == [(f"n{i}", locked_redis.public_url, keys.prefix)]
        assert verify_db(tmp_path / f"n{i}.db").ok
        assert PASSWORD not in logs[i]
        assert PASSWORD.encode() not in (tmp_path / f"n{i}.db").read_bytes()
        assert "'finish_reason': 'finished'" in logs[i]
    # The run's keys stay for the round's other processes (they expire on their own).
    assert locked_redis.client().zcard(keys.queue) == 0
    assert locked_redis.client().ttl(keys.dupefilter) > 0


def test_a_process_killed_mid_crawl_loses_no_page(slow_replica, redis_server, tmp_path):
    redis_server.flush()
    slow = ("-s", "DOWNLOAD_DELAY=0.6")  # about 10 s for the crawl: the kill lands mid-way
    victim = _start(_crawl(slow_replica, redis_server.url, tmp_path / "victim.db", "victim",
                           *slow), tmp_path / "victim.log")
    survivor = _start(_crawl(slow_replica, redis_server.url, tmp_path / "survivor.db",
                             "survivor", *slow), tmp_path / "survivor.log")
    deadline = time.monotonic() + 120
    while len(_pages(tmp_path / "victim.db")) < 3 and time.monotonic() < deadline:
        assert victim.poll() is None, "the victim ended before it could be killed"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)  # no clean-up of any kind
    victim.wait(timeout=30)
    assert survivor.wait(timeout=240) == 0
    killed, kept = _pages(tmp_path / "victim.db"), _pages(tmp_path / "survivor.db")
    assert 3 <= len(killed) < len(KEYWORDS) * PAGES
    # No page lost: every page's listings are stored by one process or the other.
    assert len(set(killed) | set(kept)) == len(KEYWORDS) * PAGES
    observations = _observations(tmp_path / "victim.db") | _observations(
        tmp_path / "survivor.db")
    assert len(observations) == len(KEYWORDS) * PAGES * 60
    # Pages the killed process stored in full are not fetched again, but for at most the
    # one it was killed on between the SQLite commit of its listings and the Redis
    # acknowledgement that follows it (the safe order: a kill there costs one fetch, never
    # a page; the kill here lands right after a commit is seen, so it can hit that window).
    # A page it was killed while writing (fewer listings) is rightly fetched again.
    again = [page for page, count in killed.items() if page in kept and count >= kept[page]]
    assert len(again) <= 1, again
    assert verify_db(tmp_path / "victim.db").ok
    assert verify_db(tmp_path / "survivor.db").ok
