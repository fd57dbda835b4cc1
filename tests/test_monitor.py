"""Recurring crawls on this machine: a crontab line that really runs, then a restarted monitor
that waits for the next round to be due and records each round in the DB."""

from __future__ import annotations

import shlex
import sqlite3
import subprocess
from datetime import datetime, timedelta

import pytest

from crawler.commands.schedule import cron_times
from crawler.flagging.lexicon import default_search_terms
from crawler.flagging.suggest import accepted_terms_toml
from crawler.ops.scheduler import monitor_keywords, parse_every
from tests.helpers import run_command


def test_every_takes_a_number_and_a_unit():
    assert [parse_every(t) for t in ("90s", "30m", "6h", "1d")] == [90, 1800, 21600, 86400]
    for bad in ("6", "h", "0h", "1w", "-1h"):
        with pytest.raises(ValueError, match="--every takes a number and a unit"):
            parse_every(bad)


def test_cron_times_only_for_intervals_cron_can_repeat_evenly():
    assert cron_times(parse_every("15m")) == "*/15 * * * *"
    assert cron_times(parse_every("1h")) == "0 * * * *"
    assert cron_times(parse_every("6h")) == "0 */6 * * *"
    assert cron_times(parse_every("2d")) == "0 0 */2 * *"
    for bad in ("90s", "7h", "45m", "30s"):
        with pytest.raises(ValueError, match=r"cron (counts in whole minutes|cannot repeat every)"):
            cron_times(parse_every(bad))


def test_keywords_are_the_shipped_terms_and_those_accepted_into_the_lexicon(tmp_path):
    user = tmp_path / "user.toml"
    user.write_text(accepted_terms_toml(["bal gudang"], {"bal gudang": "warehouse bale"}),
                    encoding="utf-8")
    assert monitor_keywords(None) == default_search_terms()
    assert monitor_keywords(user) == [*default_search_terms(), "bal gudang"]


@pytest.mark.crawl
def test_a_cron_line_runs_a_round_and_a_restarted_monitor_waits_until_the_next_is_due(
        replica, tmp_path):
    db, log = tmp_path / "evidence.db", tmp_path / "monitor.log"
    printed = run_command("thriftwatch", "schedule", "--cron", "--every", "1m", "tokopedia",
                          "--db", str(db), "--replica", replica.url, "--keywords", "balpres",
                          "--max-pages", "1", "-s", "AUTOTHROTTLE_ENABLED=False",
                          "-s", "DOWNLOAD_DELAY=0", "-s", "THRIFTWATCH_ENRICH=False",
                          "--log", str(log))
    assert printed.returncode == 0, printed.stderr
    line = printed.stdout.splitlines()[-1]
    fields = shlex.split(line)
    assert fields[:5] == ["*", "*", "*", "*", "*"]
    assert "flock" in fields
    assert fields[fields.index("monitor") + 1] == "--once"
    # What cron would run: the line without its five time fields, in a shell.
    cron = subprocess.run(["bash", "-c", line.split(" ", 5)[5]], timeout=90, check=False)
    assert cron.returncode == 0, log.read_text()[-3000:]
    assert "round 1 finished" in log.read_text()

    # A second monitor process picks the schedule up from the DB: round 2 is due one
    # minute after round 1 started, not now; --every 3s here makes it due 3 s after.
    result = run_command("thriftwatch", "monitor", "tokopedia", "--rounds", "1", "--every", "3s",
                         "--db", str(db), "--replica", replica.url, "--keywords", "balpres",
                         "--max-pages", "1", "-s", "AUTOTHROTTLE_ENABLED=False",
                         "-s", "DOWNLOAD_DELAY=0", "-s", "THRIFTWATCH_ENRICH=False", timeout=90)
    assert result.returncode == 0, result.stderr[-3000:]
    conn = sqlite3.connect(db)
    rounds = conn.execute("SELECT id, status, mode, started_at FROM monitor_rounds").fetchall()
    assert [(r[0], r[1], r[2]) for r in rounds] == [(1, "finished", "local"),
                                                    (2, "finished", "local")]
    gap = (datetime.fromisoformat(rounds[1][3].rstrip("Z"))
           - datetime.fromisoformat(rounds[0][3].rstrip("Z"))).total_seconds()
    assert gap >= 3
    assert conn.execute("SELECT platform, state, server FROM monitor_jobs").fetchall() == [
        ("tokopedia", "finished", "local")] * 2
    runs = conn.execute("SELECT platform, status, keywords FROM runs").fetchall()
    assert runs == [("tokopedia", "finished", '["balpres"]')] * 2

    status = run_command("thriftwatch", "monitor", "--status", "--every", "6h", "--db", str(db))
    assert "round 2 (local)" in status.stdout
    assert "tokopedia    finished  local" in status.stdout
    due = status.stdout.split("next round due ")[1].strip()
    # Six hours after round 2 started (the next day when it started after 18:00 UTC).
    expected = datetime.fromisoformat(rounds[1][3].rstrip("Z")) + timedelta(hours=6)
    assert due.startswith(expected.strftime("%Y-%m-%dT%H:%M"))
