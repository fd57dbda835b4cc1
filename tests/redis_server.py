"""A throwaway redis-server on a free loopback port, for tests and benches.

``RedisServer`` starts Debian's ``redis-server`` in a temporary folder with no persistence
(``--save ''``, ``--appendonly no``), bound to 127.0.0.1 only, optionally with a password,
and stops it (SIGTERM, then SIGKILL) on leaving the ``with`` block. The pytest fixture is
``redis_server`` in conftest.py (skips the test, with the reason, where redis-server is
not installed)::

    @pytest.mark.redis
    def test_something(redis_server):
        url = redis_server.url          # redis://127.0.0.1:PORT/0 (with the password if set)
        redis_server.client().ping()
        redis_server.flush()            # empty every DB between uses
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Self
from urllib.parse import quote

if TYPE_CHECKING:
    from types import TracebackType

REDIS_SERVER = "/usr/bin/redis-server"
START_TIMEOUT = 10.0  # seconds for the server to answer


def redis_server_path() -> str | None:
    """Where redis-server is, or None."""
    if Path(REDIS_SERVER).is_file():
        return REDIS_SERVER
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    def __init__(self, password: str | None = None, maxmemory: str | None = None):
        self.password = password
        self.maxmemory = maxmemory
        self.port = 0
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        login = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{login}127.0.0.1:{self.port}/0"

    @property
    def public_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password,
                           socket_timeout=10)

    def flush(self) -> None:
        self.client().flushall()

    def start(self) -> RedisServer:
        binary = redis_server_path()
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (apt-get install redis-server)")
        self.folder = Path(tempfile.mkdtemp(prefix="thriftwatch-redis-"))
        for _ in range(5):  # bounded: another process may take the free port first
            self.port = _free_port()
            args = [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--dir", str(self.folder), "--save", "", "--appendonly", "no",
                    "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning",
                    "--logfile", str(self.folder / "redis.log")]
            if self.password:
                args += ["--requirepass", self.password]
            if self.maxmemory:
                args += ["--maxmemory", self.maxmemory]
            self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
            if self._wait_ready():
                return self
            self._stop_process()
        raise RuntimeError(f"redis-server did not start: {self._log_tail()}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                if self.client().ping():
                    return True
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        return False

    def _log_tail(self) -> str:
        log = self.folder / "redis.log" if self.folder else None
        return log.read_text(errors="replace")[-500:] if log and log.exists() else ""

    def _stop_process(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        self._stop_process()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
