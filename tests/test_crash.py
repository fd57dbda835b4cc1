"""Crash safety: crawls killed with SIGKILL at random moments leave a DB that verifies, and
`thriftwatch crawl --resume DIR` finishes the same runs without duplicate observations."""

import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.evidence.verify import verify_db
from tests.helpers import REPO

KEYWORDS = ("balpres", "karungan", "thrift")
PAGES = 2  # every keyword has at least 150 results, so 2 pages of 60 are always full


def _command(db: Path, resume: Path, replica_url: str) -> list[str]:
    return [str(Path(sys.executable).parent / "thriftwatch"), "crawl", "tokopedia", "shopee",
            "--keywords", ",".join(KEYWORDS), "--max-pages", str(PAGES), "--db", str(db),
            "--resume", str(resume), "--replica", replica_url, "--log-level", "WARNING",
            # slow enough (about 8 s) that every kill lands mid-crawl
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=1.0",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "THRIFTWATCH_ENRICH=False"]


@pytest.mark.crawl
def test_random_kills_then_resume_complete_the_crawl_exactly_once(replica, tmp_path):
    db, resume = tmp_path / "evidence.db", tmp_path / "resume"
    rng = random.Random(20261129)
    kills = 0
    for _ in range(12):  # bounded: at most 12 attempts
        process = subprocess.Popen(_command(db, resume, replica.url), cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.8, 4.5))
        assert process.poll() is None, "the crawl ended before it could be killed"
        process.kill()  # SIGKILL: no clean-up of any kind
        kills += 1
        process.wait(timeout=30)
        if db.exists():
            result = verify_db(db)
            assert result.ok, f"after kill {kills}: {result.problems[:3]}"
        if kills >= 10:
            break
    assert kills >= 10
    final = subprocess.run(_command(db, resume, replica.url), cwd=REPO, capture_output=True,
                           text=True, timeout=300, check=False)
    assert final.returncode == 0, final.stdout + final.stderr[-2000:]

    conn = sqlite3.connect(db)
    for platform in ("tokopedia", "shopee"):
        rows = conn.execute("SELECT listing_id, keyword FROM observations WHERE platform = ?",
                            [platform]).fetchall()
        assert len(rows) == len(set(rows)) == len(KEYWORDS) * PAGES * 60, platform
        finished = conn.execute("SELECT COUNT(*) FROM runs WHERE platform = ? AND status = "
                                "'finished'", [platform]).fetchone()[0]
        assert finished == 1
    # No observation without its verdict, none pointing at a capture that is not there.
    assert conn.execute("SELECT COUNT(*) FROM observations o LEFT JOIN flags f "
                        "ON f.observation_id = o.id WHERE f.id IS NULL").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM observations o LEFT JOIN captures c "
                        "ON c.id = o.capture_id WHERE c.id IS NULL").fetchone()[0] == 0
    assert verify_db(db).ok
    assert not list(resume.glob("*.run.json"))  # finished runs leave nothing to resume
