"""scrapyd for real: two scrapyd daemons on free loopback ports, the project deployed to both
with scrapyd-deploy, crawls scheduled through schedule.json against the replica, and the
monitor spreading a round over them (one more server that is down), and resuming a round."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.helpers import REPO, free_port, run_command

pytestmark = [pytest.mark.scrapyd, pytest.mark.crawl]

BIN = Path(sys.executable).parent
PROJECT_FILES = ("pyproject.toml", "README.md", "crawler", "spiders", "pipelines")
# Enrichment off: these tests count search sightings (listing pages are tested elsewhere).
FAST = ("setting=AUTOTHROTTLE_ENABLED=False", "setting=DOWNLOAD_DELAY=0",
        "setting=THRIFTWATCH_ENRICH=False")
# The second server is reachable only with HTTP basic auth, as the docs tell operators to run
# a scrapyd others can reach.
USER, PASSWORD = "desk", "pl4nted-scrapyd-s3cret"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()



def api(url: str, endpoint: str, form: list[tuple[str, str]] | None = None,
        auth: str | None = AUTH) -> dict:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(f"{url}/{endpoint}", data=data,
                                     headers={"Authorization": auth} if auth else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def start_scrapyd(home: Path, auth: bool = False) -> tuple[subprocess.Popen, str]:
    """scrapyd in ``home`` with every directory of its own there, on a free loopback port."""
    port = free_port()
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\neggs_dir = {home}/eggs\nlogs_dir = {home}/logs\n"
        f"dbs_dir = {home}/dbs\nitems_dir =\npoll_interval = 0.2\nmax_proc = 2\n"
        + (f"username = {USER}\npassword = {PASSWORD}\n" if auth else ""))
    process = subprocess.Popen([str(BIN / "scrapyd"), "--pidfile="], cwd=home,
                               stdout=(home / "out.log").open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if api(url, "daemonstatus.json")["status"] == "ok":
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"scrapyd did not start: {(home / 'out.log').read_text()[-2000:]}")


def deploy(source: Path, url: str) -> subprocess.CompletedProcess:
    """``scrapyd-deploy`` with a scrapy.cfg whose [deploy] target is this test's scrapyd."""
    (source / "scrapy.cfg").write_text(
        "[settings]\ndefault = crawler.settings\n\n"
        f"[deploy:test]\nurl = {url}/\nproject = thriftwatch\n"
        f"username = {USER}\npassword = {PASSWORD}\n")
    return subprocess.run([str(BIN / "scrapyd-deploy"), "test", "-v", "1"], cwd=source,
                          capture_output=True, text=True, timeout=120, check=False)


def wait_for(url: str, job: str, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        finished = {j["id"]: j for j in api(url, "listjobs.json?project=thriftwatch")["finished"]}
        if job in finished:
            return finished[job]
        time.sleep(0.3)
    raise AssertionError(f"job {job} did not finish in {seconds}s")


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Two scrapyd daemons with the project deployed; stopped at the end."""
    root = tmp_path_factory.mktemp("scrapyd")
    source = root / "project"  # a copy, so building the egg leaves no build/ in the repo
    source.mkdir()
    for name in PROJECT_FILES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / name, source / name)
    started = []
    try:
        started.extend(start_scrapyd(root / name, auth=name == "two")
                       for name in ("one", "two"))
        deployed = [deploy(source, url) for _, url in started]
        yield [url for _, url in started], deployed, root
    finally:
        for process, _ in started:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def test_deploy_builds_an_egg_with_every_data_file(servers):
    urls, deployed, root = servers
    for result in deployed:
        assert result.returncode == 0, result.stderr[-3000:]
        assert '"status": "ok"' in result.stdout
    egg = next((root / "one" / "eggs" / "thriftwatch").glob("*.egg"))
    names = set(zipfile.ZipFile(egg).namelist())
    data_files = {str(p.relative_to(REPO)) for package in ("crawler", "spiders")
                  for pattern in ("*.toml", "*.graphql") for p in (REPO / package).rglob(pattern)}
    assert data_files, sorted(data_files - names)
    assert not data_files - names, sorted(data_files - names)
    spiders = api(urls[0], "listspiders.json?project=thriftwatch")["spiders"]
    assert {"tokopedia", "lazada", "shopee"} <= set(spiders)


def test_a_job_scheduled_through_schedule_json_crawls_the_replica(servers, replica, tmp_path):
    urls, _, root = servers
    db = tmp_path / "evidence.db"
    answer = api(urls[0], "schedule.json", [
        ("project", "thriftwatch"), ("spider", "tokopedia"), ("keywords", "balpres"),
        ("max_pages", "1"), ("setting", f"THRIFTWATCH_DB={db}"),
        ("setting", f"THRIFTWATCH_REPLICA={replica.url}"),
        *(tuple(s.split("=", 1)) for s in FAST)])
    assert answer["status"] == "ok"
    wait_for(urls[0], answer["jobid"])
    conn = sqlite3.connect(db)
    run = conn.execute("SELECT platform, status, replica, keywords FROM runs").fetchall()
    assert run == [("tokopedia", "finished", replica.url, '["balpres"]')]
    assert conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0] == 60
    log = next((root / "one" / "logs" / "thriftwatch" / "tokopedia").glob(f"{answer['jobid']}.log"))
    assert "'item_scraped_count': 60" in log.read_text()


def test_the_run_records_its_scrapyd_job(servers, replica, tmp_path):
    urls, _, _ = servers
    db = tmp_path / "evidence.db"
    answer = api(urls[1], "schedule.json", [
        ("project", "thriftwatch"), ("spider", "tokopedia"), ("keywords", "balpres"),
        ("max_pages", "1"), ("jobid", "case-42"), ("setting", f"THRIFTWATCH_DB={db}"),
        ("setting", f"THRIFTWATCH_REPLICA={replica.url}"),
        *(tuple(s.split("=", 1)) for s in FAST)])
    wait_for(urls[1], answer["jobid"])
    job = sqlite3.connect(db).execute("SELECT scrapyd_job FROM runs").fetchone()[0]
    assert job == "case-42"


def monitor_args(db: Path, replica, *urls: str) -> list[str]:
    args = ["thriftwatch", "monitor", "tokopedia", "lazada", "shopee", "--once", "--every", "1h",
            "--db", str(db), "--replica", replica.url, "--keywords", "balpres",
            "--max-pages", "1", "--round-timeout", "90s"]
    for url in urls:
        args += ["--scrapyd", url]
    return args + [arg for s in FAST for arg in ("-s", s.removeprefix("setting="))]


def test_scrapyd_two_refuses_a_caller_without_credentials(servers):
    urls, _, _ = servers
    with pytest.raises(urllib.error.HTTPError) as refused:
        api(urls[1], "listjobs.json?project=thriftwatch", auth=None)
    assert refused.value.code == 401
    assert api(urls[1], "listjobs.json?project=thriftwatch")["status"] == "ok"


def test_monitor_spreads_a_round_over_servers_and_skips_one_that_is_down(
        servers, replica, tmp_path):
    """Server two is named by a scrapy.cfg deploy target that holds its credentials."""
    urls, _, _ = servers
    down = f"http://127.0.0.1:{free_port()}"
    db = tmp_path / "evidence.db"
    desk = tmp_path / "desk"
    desk.mkdir()
    (desk / "scrapy.cfg").write_text(f"[deploy:two]\nurl = {urls[1]}/\nusername = {USER}\n"
                                     f"password = {PASSWORD}\n")
    result = run_command(*monitor_args(db, replica, urls[0], down, "two"), timeout=120,
                         cwd=desk)
    assert result.returncode == 0, result.stderr[-3000:]
    assert PASSWORD not in result.stdout + result.stderr
    conn = sqlite3.connect(db)
    jobs = conn.execute(
        "SELECT platform, server, state, attempts FROM monitor_jobs ORDER BY id").fetchall()
    assert [(p, s) for p, _, s, _ in jobs] == [("tokopedia", "finished"), ("lazada", "finished"),
                                               ("shopee", "finished")]
    used = {server for _, server, _, _ in jobs}
    assert used == set(urls)  # both live servers took jobs; the dead one took none
    assert any(attempts == 2 for *_, attempts in jobs)  # one job was first offered to `down`
    assert "cannot schedule" in result.stderr
    assert down in result.stderr
    runs = dict(conn.execute("SELECT platform, status FROM runs"))
    assert runs == {"tokopedia": "finished", "lazada": "finished", "shopee": "finished"}
    assert conn.execute("SELECT status FROM monitor_rounds").fetchall() == [("finished",)]
    assert PASSWORD not in "\n".join(conn.iterdump())


def test_a_restarted_monitor_finishes_its_round_without_scheduling_it_again(servers, replica,
                                                                            tmp_path):
    urls, _, _ = servers
    db = tmp_path / "evidence.db"
    credentials = {"THRIFTWATCH_SCRAPYD_USERNAME": USER, "THRIFTWATCH_SCRAPYD_PASSWORD": PASSWORD}
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **credentials}
    args = monitor_args(db, replica, urls[1])
    log = tmp_path / "first.log"
    first = subprocess.Popen([str(BIN / args[0]), *args[1:]], cwd=REPO, env=env,
                             stdout=subprocess.DEVNULL, stderr=log.open("w"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "scheduled shopee" not in log.read_text():
        time.sleep(0.05)
    first.kill()  # the monitor dies mid-round, its jobs scheduled; they run on in scrapyd
    first.wait(timeout=10)
    assert "scheduled shopee" in log.read_text()
    assert "round 1 finished" not in log.read_text()
    result = run_command(*args, timeout=120, env=credentials)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resuming unfinished round 1" in result.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT id, status FROM monitor_rounds").fetchall() == [(1, "finished")]
    assert {r[0] for r in conn.execute("SELECT attempts FROM monitor_jobs")} == {1}
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 3  # not crawled twice
    status = run_command("thriftwatch", "monitor", "--status", "--every", "1h", "--db", str(db))
    assert "round 1 (scrapyd)" in status.stdout
    assert "next round due" in status.stdout


@pytest.mark.redis
def test_monitor_shares_a_platform_over_two_nodes_through_a_frontier_and_merges_them(
        servers, redis_server, tmp_path):
    """One platform, two scrapyd nodes, one Redis frontier: both nodes crawl, no page twice,
    each writes its own node DB, and --merge-into brings them into one case DB that verifies."""
    from crawler.replica.server import ReplicaServer

    urls, _, _ = servers
    redis_server.flush()
    db, case = tmp_path / "evidence-{node}.db", tmp_path / "case.db"
    desk = tmp_path / "desk"
    desk.mkdir()
    (desk / "scrapy.cfg").write_text(f"[deploy:node-a]\nurl = {urls[0]}/\n\n"
                                     f"[deploy:node-b]\nurl = {urls[1]}/\nusername = {USER}\n"
                                     f"password = {PASSWORD}\n")
    keywords = ("balpres,karungan,bal korea,sepatu bekas,jaket preloved,cakar,monza,"
                "thrift import,kaos second,hoodie bekas")
    # Slow pages, two at a time per process: the crawl outlasts a node's slower start, so
    # both nodes get work.
    with ReplicaServer(latency=0.5) as replica:
        result = run_command(
            "thriftwatch", "monitor", "tokopedia", "--once", "--every", "1h", "--db", str(db),
            "--replica", replica.url, "--keywords", keywords, "--max-pages", "3",
            "--round-timeout", "150s", "--scrapyd", "node-a", "--scrapyd", "node-b",
            "--frontier", redis_server.url, "--merge-into", str(case),
            "-s", "THRIFTWATCH_FRONTIER_IDLE=3", "-s", "THRIFTWATCH_FRONTIER_LEASE=10",
            "-s", "CONCURRENT_REQUESTS=2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2",
            *(arg for s in FAST for arg in ("-s", s.removeprefix("setting="))),
            timeout=200, cwd=desk)
    assert result.returncode == 0, result.stderr[-3000:]
    state = sqlite3.connect(tmp_path / "evidence-monitor.db")  # --db with {node} = monitor
    jobs = state.execute("SELECT platform, server, state, pages FROM monitor_jobs "
                         "ORDER BY id").fetchall()
    details = state.execute("SELECT detail FROM monitor_jobs").fetchall()
    assert [(p, s, st) for p, s, st, _ in jobs] == [("tokopedia", urls[0], "finished"),
                                                    ("tokopedia", urls[1], "finished")], details
    pages = {server: count for _, server, _, count in jobs}
    assert all(count and count > 0 for count in pages.values()), pages  # both did work
    fetched = []
    for node in ("node-a", "node-b"):
        conn = sqlite3.connect(tmp_path / f"evidence-{node}.db")
        assert conn.execute("SELECT node FROM run_nodes").fetchall() == [(node,)]
        fetched += conn.execute("SELECT url, request_body_sha256 FROM captures "
                                "WHERE url NOT LIKE '%/robots.txt'").fetchall()
    assert len(fetched) == len(set(fetched)), sorted(fetched)  # no page fetched twice
    assert sum(pages.values()) == len(fetched) > 10  # every page a node parsed, once in all
    assert "round 1 merged into" in result.stderr
    verified = run_command("thriftwatch", "verify", "--db", str(case))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    merged = sqlite3.connect(case)
    assert merged.execute("SELECT COUNT(*) FROM merges").fetchone()[0] == 2
    status = run_command("thriftwatch", "monitor", "--status", "--every", "1h", "--db", str(db))
    assert "round 1 (frontier)" in status.stdout
    for server, count in pages.items():
        assert f"{server} tw-1-tokopedia-" in status.stdout
        assert f" {count} pages" in status.stdout
    assert PASSWORD not in result.stdout + result.stderr
