"""Memory of long crawls on the replica: flat RSS or not.

    python bench/memory.py listings [--listings 100000]   # full pipeline, JSON API platform
    python bench/memory.py rendered [--pages 1000]         # rendered pages in Chromium

Samples the memory (PSS) of the crawl's whole process tree (Scrapy, and for rendered
pages the Playwright driver and Chromium) every half second, and prints it at each
quarter of the crawl. Targets: listings crawl flat and <= 400 MB RSS; rendered pages: no growth.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crawler.replica.server import ReplicaServer

PAGE_SIZE = {"tokopedia": 60, "tiktokshop": 20}


def tree_rss_mb(pid: int) -> float:
    """Memory of ``pid`` and all its descendants, in MB: their proportional set size (PSS,
    from /proc), so pages Chromium's processes share are counted once, not once each."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def crawl(
    spider: str, keywords: list[str], pages: int, db: Path, replica: str
) -> list[tuple[float, int, float]]:
    """Run the crawl; return samples of (seconds, observations so far, RSS MB)."""
    command = [str(Path(sys.executable).parent / "scrapy"), "crawl", spider,
               "-a", "keywords=" + ",".join(keywords), "-a", f"max_pages={pages}",
               "-s", f"THRIFTWATCH_DB={db}", "-s", f"THRIFTWATCH_REPLICA={replica}",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
               "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "LOG_LEVEL=WARNING"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               cwd=Path(__file__).resolve().parents[1])
    samples, started = [], time.monotonic()
    while process.poll() is None and time.monotonic() - started < 3600:
        time.sleep(0.5)
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                done = conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
        except sqlite3.Error:
            done = 0
        rss = tree_rss_mb(process.pid)
        if rss:  # 0 once the process has exited between the checks
            samples.append((time.monotonic() - started, done, rss))
    if process.poll() is None:
        process.kill()
        raise SystemExit("the crawl ran over an hour: stopped")
    return samples


def report(samples: list[tuple[float, int, float]], unit: str, per_unit: int) -> None:
    final = samples[-1][1]
    print(f"{'progress':>9} {'seconds':>8} {unit:>12} {'PSS MB':>8}")
    for quarter in (0.1, 0.25, 0.5, 0.75, 1.0):
        sample = next((s for s in samples if s[1] >= quarter * final), samples[-1])
        print(f"{quarter:>8.0%} {sample[0]:>8.1f} {sample[1] // per_unit:>12,} {sample[2]:>8.0f}")
    # Up to 95%: the very end also holds the shutdown (browser closing, DB closing).
    steady = [s[2] for s in samples if 0.25 * final <= s[1] <= 0.95 * final]
    print(f"max {max(s[2] for s in samples):.0f} MB; from 25% to 95% of the crawl memory moved "
          f"{steady[-1] - steady[0]:+.0f} MB (min {min(steady):.0f}, max {max(steady):.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("listings", "rendered"))
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=1000)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    with ReplicaServer() as replica, tempfile.TemporaryDirectory() as tmp:
        if args.kind == "listings":
            # 150-420 results a keyword: 2 pages of 60 are always full, so 120 per keyword.
            keywords = [f"stok {n:05d}" for n in range(-(-args.listings // 120))]
            samples = crawl("tokopedia", keywords, 2, Path(tmp) / "m.db", replica.url)
            print(f"tokopedia, full pipeline, {len(keywords)} keywords x 2 pages")
            report(samples, "listings", 1)
        else:
            pages_per_keyword = 5  # 100 results, always there
            keywords = [f"stok {n:05d}" for n in range(-(-args.pages // pages_per_keyword))]
            samples = crawl("tiktokshop", keywords, pages_per_keyword, Path(tmp) / "m.db",
                            replica.url)
            print(f"tiktokshop in Chromium, {len(keywords)} keywords x {pages_per_keyword} pages")
            report(samples, "pages", PAGE_SIZE["tiktokshop"])


if __name__ == "__main__":
    main()
