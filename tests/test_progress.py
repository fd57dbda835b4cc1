"""Live progress: a board redrawn in place on a terminal (a real pseudo-terminal here), plain
log lines when stderr is not a TTY; both from real crawls through the replica."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.runtime.progress import progress_line
from tests.helpers import REPO, run_command


def crawl_args(replica, db: Path) -> list[str]:
    return ["crawl", "tokopedia", "-a", "keywords=balpres,thrift", "-a", "max_pages=2",
            "-s", f"THRIFTWATCH_DB={db}", "-s", f"THRIFTWATCH_REPLICA={replica.url}",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
            "-s", "THRIFTWATCH_HEALTH_ENABLED=False", "-s", "THRIFTWATCH_ENRICH=False"]


def test_progress_line_counts_every_fault_kind_of_its_platform():
    stats = {"thriftwatch/pages/shopee": 7, "item_scraped_count": 300, "thriftwatch/flagged": 41,
             "thriftwatch/faults/http_error/shopee": 2, "thriftwatch/faults/parse_error/shopee": 1,
             "thriftwatch/faults/http_error/lazada": 9, "thriftwatch/blocks/shopee": 3}
    line = progress_line("shopee", stats, "running")
    assert re.sub(r"\s+", " ", line) == (
        "shopee pages 7 listings 300 flagged 41 errors 3 blocks 3 running")


@pytest.mark.crawl
def test_plain_lines_when_not_on_a_terminal(replica, tmp_path):
    result = run_command("scrapy", *crawl_args(replica, tmp_path / "e.db"),
                         "-s", "THRIFTWATCH_PROGRESS_INTERVAL=0.05", timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines()
             if "[crawler.runtime.progress] INFO: progress:" in line]
    assert len(lines) >= 2  # periodic lines, then the final one
    assert re.search(r"tokopedia +pages +4 +listings +240 +flagged +\d+ +errors +0 +blocks +0 "
                     r"+finished$",
                     lines[-1])
    assert "\x1b[" not in result.stderr


@pytest.mark.crawl
def test_a_live_board_on_a_terminal(replica, tmp_path):
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "scrapy"), *crawl_args(replica, tmp_path / "e.db"),
         "-s", "LOG_LEVEL=WARNING"],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal)
    os.close(terminal)
    screen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the crawl has ended and closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        elif process.poll() is not None:
            break
    os.close(controller)
    assert process.wait(timeout=10) == 0
    text = screen.decode()
    assert "progress:" not in text  # no log lines: the board instead
    assert "running" in text
    assert "\x1b[1F\x1b[J" in text
    final = text.rsplit("\x1b[J", 1)[-1]
    assert re.fullmatch(r"tokopedia +pages +4 +listings +240 +flagged +\d+ +errors +0 +blocks +0 +"
                        r"finished\r?\n", final), repr(final)
