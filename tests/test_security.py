"""Security: what thriftwatch listens on, and that secrets never reach evidence, logs or exports.

Every server binds to loopback unless told otherwise; no crawl opens a listening port
(Scrapy's remote-control server stays off); credentials planted where a careless tool would
leak them are found nowhere afterwards; a crawl never leaves its platform's hosts.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sqlite3
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from aiohttp import web

from crawler.evidence.store import EvidenceStore
from crawler.replica.server import ReplicaServer, build_app
from crawler.runtime.process import project_settings
from spiders.tokopedia import TokopediaSpider
from tests.helpers import REPO, run_command

BIN = Path(sys.executable).parent
SECRET = "PLANTED-SECRET-5e1b"  # every planted credential contains it
COOKIE_HEADER = f"sid=cookie-{SECRET}"
BEARER = f"Bearer bearer-{SECRET}"
TOKEN_SETTING = f"setting-{SECRET}"
URL_TOKEN = f"url-{SECRET}"
SESSION_COOKIE = f"ig-{SECRET}"
FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0")


# -- listening sockets -----------------------------------------------------------------------

def _descendants(pid: int) -> set[int]:
    """``pid`` and every process below it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found.update(children)
        frontier.extend(children)
    return found


def listening(pids: set[int]) -> set[str]:
    """The TCP addresses (``host:port``) that processes ``pids`` listen on, per ``ss``."""
    lines = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    return {line.split()[3] for line in lines
            if {int(pid) for pid in re.findall(r"pid=(\d+)", line)} & pids}


def _serving(process: subprocess.Popen, deadline: float = 30) -> set[str]:
    """Wait (bounded) until ``process`` listens somewhere; its listening addresses."""
    end = time.monotonic() + deadline
    while time.monotonic() < end and process.poll() is None:
        addresses = listening(_descendants(process.pid))
        if addresses:
            return addresses
        time.sleep(0.1)
    process.kill()
    pytest.fail(f"{process.args} did not start listening: "
                f"{process.communicate(timeout=10)[1][-2000:]!r}")


@pytest.mark.parametrize("command", ["serve", "replica"])
def test_servers_bind_to_loopback_by_default(command, tmp_path):
    db = tmp_path / "evidence.db"
    EvidenceStore(db).close()
    args = {"serve": ["serve", "--db", str(db), "--port", "0"],
            "replica": ["replica", "--port", "0", "--size", "200"]}[command]
    process = subprocess.Popen([str(BIN / "thriftwatch"), *args], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        addresses = _serving(process)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert addresses, addresses
    assert all(address.startswith("127.0.0.1:") for address in addresses), addresses


def _crawl_listening(*extra: str, replica_url: str, db: Path) -> tuple[set[str], str]:
    """Run a crawl; every address its processes (Chromium too) listened on while it ran."""
    process = subprocess.Popen(
        [str(BIN / "thriftwatch"), "crawl", *extra, "--keywords", "balpres", "--max-pages", "2",
         "--db", str(db), "--replica", replica_url, *FAST],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: set[str] = set()
    while process.poll() is None:
        seen |= listening(_descendants(process.pid))
        time.sleep(0.05)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr[-3000:]
    return seen, stderr


@pytest.mark.crawl
def test_no_crawl_opens_a_listening_port(replica, tmp_path):
    """Scrapy 2.19 turns its remote-control (code execution) server on by default."""
    assert project_settings().getbool("REMOTE_CONTROL_ENABLED") is False
    assert project_settings().getbool("TELNETCONSOLE_ENABLED") is False
    seen, log = _crawl_listening("tokopedia", "tiktokshop", replica_url=replica.url,
                                 db=tmp_path / "evidence.db")
    assert seen == set()
    assert "RemoteControl" not in log
    assert "TelnetConsole" not in log
    # The same watch sees the server when it is switched on: the check above can fail.
    seen, log = _crawl_listening("tokopedia", "-s", "REMOTE_CONTROL_ENABLED=True",
                                 "-s", f"REMOTE_CONTROL_JOBS_DIR={tmp_path / 'jobs'}",
                                 replica_url=replica.url, db=tmp_path / "control.db")
    assert seen
    assert "RemoteControl" in log


# -- planted secrets --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def leaky(replica, tmp_path_factory):
    """Three DEBUG-logged crawls into one DB, each with credentials planted where a careless
    tool would leak them, and every export of the result."""
    folder = tmp_path_factory.mktemp("secrets")
    db = folder / "evidence.db"
    headers = json.dumps({"Cookie": COOKIE_HEADER, "Authorization": BEARER})
    planted = ("-s", f"DEFAULT_REQUEST_HEADERS={headers}",
               "-s", f"THRIFTWATCH_API_TOKEN={TOKEN_SETTING}",
               "-s", f"THRIFTWATCH_DB={db}", "-s", f"THRIFTWATCH_REPLICA={replica.url}",
               "-s", "LOG_LEVEL=DEBUG", *FAST)
    profile = folder / "olx-with-token.toml"
    profile.write_text((REPO / "spiders/profiles/olx.toml").read_text("utf-8").replace(
        "?page={page}", f"?page={{page}}&access_token={URL_TOKEN}"), "utf-8")
    assert URL_TOKEN in profile.read_text("utf-8")
    cookies = folder / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n"
                       f".instagram.com\tTRUE\t/\tTRUE\t1893456000\tsessionid\t{SESSION_COOKIE}\n")
    logs = []
    for spider_args in (["tokopedia"], ["profile", "-a", f"profile={profile}"],
                        ["instagram", "-a", f"cookies={cookies}"]):
        result = run_command("scrapy", "crawl", *spider_args, "-a", "keywords=balpres",
                             "-a", "max_pages=1", *planted)
        assert result.returncode == 0, result.stderr[-3000:]
        logs.append(result.stdout + result.stderr)
    exports = {}
    for fmt in ("jsonl", "csv"):
        result = run_command("thriftwatch", "export", "--db", str(db), "--format", fmt)
        assert result.returncode == 0, result.stderr
        exports[fmt] = (result.stdout + result.stderr).encode()
    for fmt, name in (("warc", "evidence.warc.gz"), ("bundle", "case.zip")):
        result = run_command("thriftwatch", "export", "--db", str(db), "--format", fmt,
                             "-o", str(folder / name))
        assert result.returncode == 0, result.stderr
        exports[fmt] = (folder / name).read_bytes()
    return db, logs, exports


def _leaks(data: bytes) -> list[str]:
    """Which planted secrets ``data`` holds (an empty list: none)."""
    found = re.findall(rb"[\w=-]*" + SECRET.encode(), data)
    return sorted({match.decode() for match in found})


@pytest.mark.crawl
def test_the_crawls_really_carried_the_planted_secrets(leaky):
    """Otherwise finding them nowhere would prove nothing."""
    db, logs, _ = leaky
    conn = sqlite3.connect(db)
    try:
        platforms = {p for (p,) in conn.execute("SELECT DISTINCT platform FROM observations")}
        urls = [u for (u,) in conn.execute("SELECT url FROM captures")]
        [instagram] = [json.loads(zlib.decompress(b)) for (b,) in conn.execute(
            "SELECT b.body FROM captures c JOIN capture_bodies b ON b.sha256 = c.body_sha256 "
            "WHERE c.kind = 'data'")]
    finally:
        conn.close()
    assert platforms == {"tokopedia", "olx", "instagram"}
    assert "https://www.olx.co.id/items/q-balpres?page=1&access_token=REDACTED" in urls
    assert instagram["data"]["viewer_is_logged_in"] is True  # the session cookie was sent
    assert "Using 1 instagram.com session cookies" in logs[2]


@pytest.mark.crawl
def test_no_secret_in_any_column_of_any_table_or_any_capture_body(leaky):
    db, _, _ = leaky
    conn = sqlite3.connect(db)
    leaks, bodies = [], 0
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    data = value if isinstance(value, bytes) else str(value).encode()
                    if isinstance(value, bytes) and value[:1] == b"x":  # zlib-compressed
                        data += zlib.decompress(value)
                        bodies += 1
                    leaks += [(table, leak) for leak in _leaks(data)]
    finally:
        conn.close()
    assert bodies >= 5  # the capture bodies were really looked into
    assert leaks == []
    raw = b"".join(path.read_bytes() for path in db.parent.glob("evidence.db*"))
    assert _leaks(raw) == []


@pytest.mark.crawl
def test_no_secret_in_the_debug_logs(leaky):
    _, logs, _ = leaky
    assert all("DEBUG" in log and "Crawled (200)" in log for log in logs)
    assert [_leaks(log.encode()) for log in logs] == [[], [], []]


@pytest.mark.crawl
def test_no_secret_in_any_export(leaky):
    _, _, exports = leaky
    warc = gzip.decompress(exports["warc"])
    assert b"WARC-Type: request" in warc
    assert b"WARC-Type: response" in warc
    with zipfile.ZipFile(io.BytesIO(exports["bundle"])) as bundle:
        members = {name: bundle.read(name) for name in bundle.namelist()}
    members["evidence.warc.gz"] = gzip.decompress(members["evidence.warc.gz"])
    assert b"balpres" in exports["jsonl"]
    assert b"balpres" in exports["csv"]
    assert {fmt: _leaks(data) for fmt, data in exports.items() if fmt != "warc"} == {
        "jsonl": [], "csv": [], "bundle": []}
    assert _leaks(warc) == []
    assert {name: _leaks(data) for name, data in members.items() if _leaks(data)} == {}


# -- offsite ----------------------------------------------------------------------------------

class HostCountingReplica(ReplicaServer):
    """The replica, noting the real host of every request it answers."""

    def __init__(self) -> None:
        super().__init__(size=400)
        self.hosts: list[str] = []

    async def _start(self) -> None:
        app = build_app(self.seed, self.size)

        async def note_host(request: web.Request, response: web.StreamResponse) -> None:
            self.hosts.append(request.match_info.get("host", ""))

        app.on_response_prepare.append(note_host)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]


@pytest.mark.crawl
def test_a_redirect_off_the_platform_is_recorded_not_followed(tmp_path):
    db = tmp_path / "evidence.db"
    with HostCountingReplica() as replica:
        replica.set_fault("gql.tokopedia.com", "offsite", count=-1)
        result = run_command("scrapy", "crawl", "tokopedia", "-a", "keywords=balpres,thrift",
                             "-a", "max_pages=2", "-s", f"THRIFTWATCH_DB={db}",
                             "-s", f"THRIFTWATCH_REPLICA={replica.url}", *FAST)
        hosts = list(replica.hosts)
    assert result.returncode == 0, result.stderr[-3000:]
    allowed = TokopediaSpider.allowed_domains
    assert hosts, hosts
    assert all(any(host == d or host.endswith("." + d) for d in allowed)
               for host in hosts), hosts
    assert "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware" in result.stderr
    conn = sqlite3.connect(db)
    try:
        faults = conn.execute("SELECT kind, detail FROM faults").fetchall()
        captured = {u for (u,) in conn.execute("SELECT url FROM captures")}
    finally:
        conn.close()
    assert len(faults) == 2
    assert all(
        kind == "blocked" and "https://offsite.example.com/landing" in detail
        for kind, detail in faults)
    assert not any("offsite.example.com" in url for url in captured)
