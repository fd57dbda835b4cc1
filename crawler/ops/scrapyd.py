"""scrapyd's JSON API, with the HTTP basic auth a scrapyd reachable by others needs.

A server is named on the command line (``--scrapyd``) by a deploy target of ``scrapy.cfg``
(``[deploy:NAME]`` with ``url``, ``username`` and ``password``, as scrapyd-client reads
them) or by its URL. Credentials come from that target, else from the environment
(``THRIFTWATCH_SCRAPYD_USERNAME`` / ``THRIFTWATCH_SCRAPYD_PASSWORD``), else from a
``user:password@`` in the URL (kept out of logs and the monitor's state: only the URL
without them is ever shown or stored).
"""

from __future__ import annotations

import base64
import configparser
import json
import logging
import os
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

logger = logging.getLogger(__name__)

PROJECT = "thriftwatch"  # the scrapyd project name, as in scrapy.cfg's [deploy] sections
HTTP_TIMEOUT = 30.0  # a scrapyd starting crawls on a busy machine answers slowly
LOG_TAIL = 65536  # bytes of a job's log read back for its final stats
USERNAME_ENV = "THRIFTWATCH_SCRAPYD_USERNAME"
PASSWORD_ENV = "THRIFTWATCH_SCRAPYD_PASSWORD"  # noqa: S105 - the variable's name


class ServerDown(Exception):
    """A scrapyd server did not answer, or answered with an error."""


@dataclass(frozen=True)
class Server:
    """A scrapyd server: its URL (never with credentials), how to log in to it, and the node
    name its crawls record (its deploy target's name, else its host and port)."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    name: str = ""

    def __str__(self) -> str:
        return self.url

    @property
    def authorization(self) -> str | None:
        if self.username is None:
            return None
        pair = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


def resolve_servers(specs: Sequence[str], project_file: Path = Path("scrapy.cfg"),
                    environ: Mapping[str, str] | None = None) -> tuple[Server, ...]:
    """The servers ``--scrapyd`` names: deploy targets of ``project_file``, or URLs."""
    environ = os.environ if environ is None else environ
    targets = _deploy_targets(project_file)
    servers = []
    for spec in specs:
        name = spec if spec in targets else ""
        if spec in targets:
            url, user, password = targets[spec]
        else:
            url, user, password = _split_credentials(spec)
            by_url = {_plain(target[0]): target for target in targets.values()}
            if user is None and _plain(url) in by_url:
                _, user, password = by_url[_plain(url)]
        if user is None and environ.get(USERNAME_ENV):
            user, password = environ[USERNAME_ENV], environ.get(PASSWORD_ENV)
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--scrapyd takes an http(s) URL or a [deploy:NAME] of "
                             f"{project_file}, not {_shown(spec)!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", name or f"{parts.hostname}-{port}")
        servers.append(Server(url.rstrip("/"), user, password, name))
    return tuple(servers)


def call(server: Server, endpoint: str, form: Sequence[tuple[str, str]] | None = None,
         query: Mapping[str, str] | None = None) -> dict[str, Any]:
    """GET (or POST ``form`` to) ``server/endpoint``; its JSON, or :class:`ServerDown`."""
    url = urllib.parse.urljoin(server.url + "/", endpoint)
    if query:
        url += "?" + urllib.parse.urlencode(query)
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    headers = {"Authorization": server.authorization} if server.authorization else {}
    try:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"not an http:// or https:// URL: {url!r}")
        request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
        with urllib.request.urlopen(  # noqa: S310 - scheme checked above
                request, timeout=HTTP_TIMEOUT) as response:
            answer = json.load(response)
    except (OSError, ValueError) as error:
        raise ServerDown(f"{server}: {error}") from error
    if answer.get("status") != "ok":
        raise ServerDown(f"{server}: {answer.get('message', answer)}")
    return answer


def job_states(server: Server) -> dict[str, str]:
    """Job id → ``pending``, ``running`` or ``finished`` on one server."""
    answer = call(server, "listjobs.json", query={"project": PROJECT})
    return {job["id"]: state for state in ("pending", "running", "finished")
            for job in answer.get(state, [])}


def job_log_tail(server: Server, spider: str, job_id: str, size: int = LOG_TAIL) -> str:
    """The last ``size`` bytes of a job's log, as scrapyd serves it (``/logs/...``), where
    Scrapy dumps the crawl's stats when it closes; empty when the server keeps no logs.

    The log's length comes first (HEAD), then the range from that offset: twisted's file
    server fails a suffix range (``bytes=-N``) longer than the file."""
    path = "/".join(urllib.parse.quote(part) for part in (PROJECT, spider, f"{job_id}.log"))
    url = f"{server.url}/logs/{path}"
    headers = {"Authorization": server.authorization} if server.authorization else {}
    try:
        head = urllib.request.Request(url, headers=headers, method="HEAD")  # noqa: S310
        with urllib.request.urlopen(head, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
            length = int(response.headers.get("Content-Length") or 0)
        ranged = {**headers, "Range": f"bytes={max(length - size, 0)}-"}
        request = urllib.request.Request(url, headers=ranged)  # noqa: S310 - the server's URL
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
            return response.read(size).decode("utf-8", "replace")
    except (OSError, ValueError) as error:
        logger.warning("no log of job %s on %s: %s", job_id, server, error)
        return ""


def has_credentials(spec: str) -> bool:
    """Does a ``--scrapyd`` URL carry a ``user:password@``?"""
    return _split_credentials(spec)[1] is not None


def _deploy_targets(path: Path) -> dict[str, tuple[str, str | None, str | None]]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as error:
        raise ValueError(f"{path}: {error}") from None
    return {section.split(":", 1)[1]: (parser[section].get("url", ""),
                                       parser[section].get("username"),
                                       parser[section].get("password"))
            for section in parser.sections() if section.startswith("deploy:")}


def _split_credentials(url: str) -> tuple[str, str | None, str | None]:
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url, None, None
    host = parts.netloc.rsplit("@", 1)[1]
    return (urllib.parse.urlunsplit(parts._replace(netloc=host)),
            urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or ""))


def _plain(url: str) -> str:
    return url.rstrip("/")


def _shown(spec: str) -> str:
    return _split_credentials(spec)[0]
