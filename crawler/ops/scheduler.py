"""Recurring crawls: every ``every`` seconds, crawl the chosen platforms with the search terms.

A round crawls each platform once, either here (one ``thriftwatch crawl`` subprocess, since
a Scrapy reactor cannot restart in one process) or as jobs on scrapyd servers: platforms
are spread over the servers in turn, and a job whose server is down, or goes away while the
job runs, is scheduled on the next server. Rounds and jobs are kept in the tables
``monitor_rounds`` and ``monitor_jobs`` of the state DB (monitor state, not evidence: these
rows change). A restarted monitor first finishes a round it left unfinished, then waits until
the next round is due, so a restart neither skips nor doubles a round.

With a shared frontier (``--frontier redis://...``, crawler.frontier), a round runs one job
per platform *per server*, all of a platform's jobs popping from that platform's queue for
the round, so one platform's crawl is split over the nodes. Each job writes its node's own
DB (:meth:`Plan.node_db`) and records its node's name; a job is never moved to another
server (the other nodes' jobs drain the frontier, and take back a dead node's in-flight
requests once its lease expires), and a round is finished when each platform has at least
one finished job. Each finished job's pages (from the stats Scrapy dumps in its log) go in
``monitor_jobs.pages``; ``--merge-into`` merges the node DBs after the round.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import sqlite_utils

from crawler.evidence.capture import utc_now
from crawler.flagging.lexicon import default_search_terms, load_lexicon, search_terms
from crawler.keys import Stats
from crawler.ops import scrapyd
from crawler.ops.scrapyd import Server, ServerDown

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

logger = logging.getLogger(__name__)

STATE_SQL = """
CREATE TABLE IF NOT EXISTS monitor_rounds (
    id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT,
    status TEXT NOT NULL,           -- running, finished, failed
    mode TEXT NOT NULL,             -- local or scrapyd
    platforms TEXT NOT NULL, keywords TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS monitor_jobs (
    id INTEGER PRIMARY KEY, round_id INTEGER NOT NULL REFERENCES monitor_rounds(id),
    platform TEXT NOT NULL, server TEXT, job_id TEXT,
    state TEXT NOT NULL,            -- waiting, scheduled, finished, failed
    attempts INTEGER NOT NULL DEFAULT 0, detail TEXT, updated_at TEXT NOT NULL,
    pages INTEGER);                 -- pages the finished job parsed (from its final stats)
CREATE INDEX IF NOT EXISTS monitor_jobs_round ON monitor_jobs (round_id);
"""

MAX_ATTEMPTS = 3  # servers a job is tried on before it counts as failed
POLL_INTERVAL = 2.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> int:
    """``"6h"``, ``"30m"``, ``"1d"``, ``"90s"`` → seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"--every takes a number and a unit (s, m, h, d), like 6h, not {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def monitor_keywords(lexicon_file: Path | None) -> list[str]:
    """The shipped search terms and the terms accepted into the investigator's lexicon."""
    accepted = search_terms(load_lexicon(extra=lexicon_file)) if lexicon_file else []
    return list(dict.fromkeys([*default_search_terms(), *accepted]))


@dataclass(frozen=True)
class Plan:
    """What every round does."""

    platforms: tuple[str, ...]
    keywords: tuple[str, ...]
    db: str  # evidence DB path, as the crawl (here or on the scrapyd host) sees it
    every: int  # seconds from the start of one round to the start of the next
    servers: tuple[Server, ...] = ()  # scrapyd servers; none: crawl here
    max_pages: int | None = None
    replica: str | None = None
    lexicon: str | None = None
    settings: Mapping[str, str] = field(default_factory=dict)
    round_timeout: float | None = None  # seconds; default: ``every``
    frontier: str | None = None  # redis://... shared by every node's job of a platform
    merge_into: str | None = None  # case DB the node DBs are merged into after each round

    @property
    def mode(self) -> str:
        return "frontier" if self.frontier else "scrapyd" if self.servers else "local"

    def node_db(self, node: str) -> str:
        """The DB a node's crawls write: ``{node}`` in ``db`` replaced by the node's name,
        else the name put before the suffix (``evidence.db`` → ``evidence-NODE.db``)."""
        if "{node}" in self.db:
            return self.db.replace("{node}", node)
        path = PurePath(self.db)
        return str(path.with_name(f"{path.stem}-{node}{path.suffix}"))

    def crawl_settings(self, node: str | None = None,
                       frontier_run: str | None = None) -> dict[str, str]:
        """The settings of a crawl; with a frontier, those of ``node``'s job in a round."""
        settings = {"THRIFTWATCH_DB": self.db, **self.settings}
        if self.replica:
            settings["THRIFTWATCH_REPLICA"] = self.replica
        if self.lexicon:
            settings["THRIFTWATCH_LEXICON"] = self.lexicon
        if self.frontier and node and frontier_run:
            settings.update(THRIFTWATCH_DB=self.node_db(node), THRIFTWATCH_NODE=node,
                            THRIFTWATCH_FRONTIER=self.frontier,
                            THRIFTWATCH_FRONTIER_RUN=frontier_run)
        return settings


class MonitorState:
    """The monitor's rounds and jobs in ``path`` (usually the evidence DB itself)."""

    def __init__(self, path: str | Path):
        self.db = sqlite_utils.Database(path)
        self.db.conn.execute("PRAGMA busy_timeout = 60000")
        self.db.executescript(STATE_SQL)
        if "pages" not in self.db["monitor_jobs"].columns_dict:  # kept by an earlier release
            self.db["monitor_jobs"].add_column("pages", int)

    def close(self) -> None:
        self.db.close()

    def last_round(self) -> dict[str, Any] | None:
        return next(self.db.query("SELECT * FROM monitor_rounds ORDER BY id DESC LIMIT 1"), None)

    def next_due(self, every: int) -> datetime:
        last = self.last_round()
        if last is None:
            return datetime.now(UTC)
        return _parse_time(last["started_at"]) + timedelta(seconds=every)

    def start_round(self, plan: Plan) -> int:
        """A new round and its jobs: one per platform, or with a frontier one per platform
        on each server."""
        nodes = [server.url for server in plan.servers] if plan.frontier else [None]
        with self.db.conn:
            round_id = self.db["monitor_rounds"].insert({
                "started_at": utc_now(), "status": "running", "mode": plan.mode,
                "platforms": json.dumps(plan.platforms), "keywords": json.dumps(plan.keywords),
            }).last_pk
            for platform in plan.platforms:
                for node in nodes:
                    self.db["monitor_jobs"].insert({
                        "round_id": round_id, "platform": platform, "server": node,
                        "state": "waiting", "updated_at": utc_now()})
        return round_id

    def get_round(self, round_id: int) -> dict[str, Any]:
        return self.db["monitor_rounds"].get(round_id)

    def jobs(self, round_id: int) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM monitor_jobs WHERE round_id = ? ORDER BY id",
                                  [round_id]))

    def update_job(self, row_id: int, **changes: Any) -> None:
        with self.db.conn:
            self.db["monitor_jobs"].update(row_id, {**changes, "updated_at": utc_now()})

    def end_round(self, round_id: int, any_node: bool = False) -> str:
        """Finished when every job finished (``any_node``: when every platform has a
        finished job, the frontier's other jobs having done a failed job's share)."""
        jobs = self.jobs(round_id)
        if any_node:
            done = {job["platform"] for job in jobs if job["state"] == "finished"}
            status = "finished" if done == {job["platform"] for job in jobs} else "failed"
        else:
            states = {job["state"] for job in jobs}
            status = "finished" if states == {"finished"} else "failed"
        with self.db.conn:
            self.db["monitor_rounds"].update(round_id, {"status": status, "ended_at": utc_now()})
        return status


# -- scrapyd's JSON API ----------------------------------------------------------------------

def schedule_form(plan: Plan, platform: str, job_id: str, node: str | None = None,
                  frontier_run: str | None = None) -> list[tuple[str, str]]:
    """``schedule.json``'s form: spider arguments, and each setting as ``setting=NAME=VALUE``."""
    form = [("project", scrapyd.PROJECT), ("spider", platform), ("jobid", job_id),
            ("keywords", ",".join(plan.keywords))]
    if plan.max_pages:
        form.append(("max_pages", str(plan.max_pages)))
    settings = plan.crawl_settings(node, frontier_run)
    form += [("setting", f"{name}={value}") for name, value in settings.items()]
    return form


def frontier_run_key(round_row: Mapping[str, Any]) -> str:
    """What every node's job of a round shares its frontier under: the round and its start
    (so two monitors' rounds, or a reused state DB, never share a queue)."""
    started = re.sub(r"[^0-9]", "", round_row["started_at"])[:14]
    return f"round-{round_row['id']}-{started}"


# The line Scrapy's stats collector logs before a closing crawl's stats: a record of its own,
# whose start (the time) holds no "[", unlike a line quoting seller text; then the stats
# as a Python dict, each line of it starting with "{" or a space.
_STATS_DUMP = re.compile(r"^[^\[\n]* \[scrapy\.statscollectors\] INFO: Dumping Scrapy stats:\n"
                         r"((?:[{ ][^\n]*(?:\n|$))+)", re.MULTILINE)


def final_pages(log_tail: str, platform: str) -> int | None:
    """Pages a crawl parsed, from the stats Scrapy dumps in its log when it closes: read only
    in the last dump. Seller text quoted in a log line cannot pose as a stat: not in a job
    that dumped no stats (killed) nor in one whose dump has no pages (none parsed)."""
    dumps = _STATS_DUMP.findall(log_tail)
    if not dumps:
        return None
    stat = re.search(rf"(?:^[{{ ]|, )'{re.escape(Stats.pages(platform))}': (\d+)[,}}]",
                     dumps[-1], re.MULTILINE)
    return int(stat[1]) if stat else None


# -- running rounds --------------------------------------------------------------------------

class Monitor:
    def __init__(self, plan: Plan, state: MonitorState,
                 sleep: Callable[[float], None] = time.sleep):
        self.plan = plan
        self.state = state
        self.sleep = sleep

    def run(self, rounds: int | None = None) -> None:
        """Carry out ``rounds`` rounds (forever when None), resuming an unfinished one first."""
        done = 0
        while rounds is None or done < rounds:
            last = self.state.last_round()
            if last is not None and last["status"] == "running":
                round_id = last["id"]
                logger.info("resuming unfinished round %s", round_id)
            else:
                self.wait_until(self.state.next_due(self.plan.every))
                round_id = self.state.start_round(self.plan)
                logger.info("round %s: %s on %s", round_id, ", ".join(self.plan.platforms),
                            ", ".join(map(str, self.plan.servers)) or "this machine")
            status = self.carry_out(round_id)
            logger.info("round %s %s", round_id, status)
            done += 1

    def wait_until(self, due: datetime) -> None:
        wait = (due - datetime.now(UTC)).total_seconds()
        if wait > 0:
            logger.info("next round at %s", due.isoformat(timespec="seconds"))
            self.sleep(wait)

    def carry_out(self, round_id: int) -> str:
        if self.plan.servers:
            self.run_on_scrapyd(round_id)
        else:
            self.run_here(round_id)
        status = self.state.end_round(round_id, any_node=bool(self.plan.frontier))
        if self.plan.merge_into:
            self.merge_nodes(round_id)
        return status

    def merge_nodes(self, round_id: int) -> None:
        """``thriftwatch merge`` of the node DBs this monitor can reach into the case DB
        (a shared path, or DBs the operator copied back); a node DB it cannot see is named."""
        nodes = sorted({job["server"] for job in self.state.jobs(round_id)
                        if job["state"] == "finished"})
        names = {server.url: server.name for server in self.plan.servers}
        paths = [self.plan.node_db(names[url]) if self.plan.frontier else self.plan.db
                 for url in nodes if url in names]
        reachable = [path for path in dict.fromkeys(paths) if Path(path).exists()]
        for path in sorted(set(paths) - set(reachable)):
            logger.warning("node DB %s is not reachable here: copy it back, then run "
                           "thriftwatch merge --into %s %s", path, self.plan.merge_into, path)
        if not reachable:
            return
        command = [sys.executable, "-m", "crawler.cli", "merge", "--into",
                   self.plan.merge_into, *reachable]
        result = subprocess.run(  # noqa: S603 - our own interpreter running our own CLI
            command, check=False, timeout=self.timeout, capture_output=True, text=True)
        logger.info("round %s merged into %s: %s", round_id, self.plan.merge_into,
                    "ok" if result.returncode == 0 else result.stderr.strip()[-500:])

    def run_here(self, round_id: int) -> None:
        """One ``thriftwatch crawl`` subprocess for the platforms this round has not done."""
        jobs = [job for job in self.state.jobs(round_id) if job["state"] != "finished"]
        if not jobs:
            return
        command = [sys.executable, "-m", "crawler.cli", "crawl",
                   *(job["platform"] for job in jobs),
                   "--keywords", ",".join(self.plan.keywords)]
        if self.plan.max_pages:
            command += ["--max-pages", str(self.plan.max_pages)]
        for name, value in self.plan.crawl_settings().items():
            command += ["-s", f"{name}={value}"]
        for job in jobs:
            self.state.update_job(job["id"], server="local", job_id=f"round-{round_id}",
                                  state="scheduled", attempts=job["attempts"] + 1)
        try:
            code = subprocess.run(  # noqa: S603 - our own interpreter running our own CLI
                command, check=False, timeout=self.timeout).returncode
            detail = f"exit code {code}"
        except subprocess.TimeoutExpired:
            code, detail = None, f"stopped after {self.timeout:.0f}s"
        for job in jobs:
            self.state.update_job(job["id"], state="finished" if code == 0 else "failed",
                                  detail=detail)

    @property
    def timeout(self) -> float:
        return self.plan.round_timeout or float(self.plan.every)

    def run_on_scrapyd(self, round_id: int) -> None:
        """Schedule every waiting job, then poll until each has finished or failed."""
        deadline = time.monotonic() + self.timeout
        for index, job in enumerate(self.state.jobs(round_id)):
            if job["state"] == "waiting" and self.plan.frontier:
                self.schedule_on_node(job)
            elif job["state"] == "waiting":
                self.schedule(job, first_server=round_id + index)
        while time.monotonic() < deadline:
            open_jobs = [j for j in self.state.jobs(round_id) if j["state"] == "scheduled"]
            if not open_jobs:
                return
            self.poll(open_jobs)
            self.sleep(min(POLL_INTERVAL, max(deadline - time.monotonic(), 0)))
        for job in self.state.jobs(round_id):
            if job["state"] == "scheduled":
                self.state.update_job(job["id"], state="failed",
                                      detail=f"not finished after {self.timeout:.0f}s")

    def schedule(self, job: Mapping[str, Any], first_server: int) -> None:
        """Try the servers in turn from ``first_server`` until one takes the job."""
        servers = self.plan.servers
        attempts, problems = job["attempts"], []
        for offset in range(len(servers)):
            if attempts >= MAX_ATTEMPTS:
                break
            server = servers[(first_server + offset) % len(servers)]
            attempts += 1
            job_id = f"tw-{job['round_id']}-{job['platform']}-{attempts}"
            try:
                scrapyd.call(server, "schedule.json",
                             form=schedule_form(self.plan, job["platform"], job_id))
            except ServerDown as error:
                logger.warning("cannot schedule %s: %s", job["platform"], error)
                problems.append(str(error))
                continue
            self.state.update_job(job["id"], server=server.url, job_id=job_id,
                                  state="scheduled", attempts=attempts, detail=None)
            logger.info("scheduled %s on %s as %s", job["platform"], server, job_id)
            return
        self.state.update_job(job["id"], state="failed", attempts=attempts,
                              detail="; ".join(problems) or "no server left to try")

    def schedule_on_node(self, job: Mapping[str, Any]) -> None:
        """A frontier job on its own server, which it shares the platform's queue from.

        A server that does not answer is asked again (up to :data:`MAX_ATTEMPTS` in all),
        after checking that it did not take the job anyway: two jobs of one node would write
        one node DB at once."""
        server, attempts = self.server(job["server"]), job["attempts"]
        run_key = frontier_run_key(self.state.get_round(job["round_id"]))
        problem = f"{job['server']} is no longer among --scrapyd"
        while server is not None and attempts < MAX_ATTEMPTS:
            attempts += 1
            job_id = f"tw-{job['round_id']}-{job['platform']}-{server.name}-{attempts}"
            try:
                scrapyd.call(server, "schedule.json", form=schedule_form(
                    self.plan, job["platform"], job_id, server.name, run_key))
            except ServerDown as error:
                problem = str(error)
                logger.warning("cannot schedule %s: %s", job["platform"], error)
                if not self.took(server, job_id):
                    self.sleep(POLL_INTERVAL)
                    continue
            self.state.update_job(job["id"], job_id=job_id, state="scheduled",
                                  attempts=attempts, detail=None)
            logger.info("scheduled %s on %s as %s (frontier %s)", job["platform"], server,
                        job_id, run_key)
            return
        logger.warning("%s not scheduled on %s: the other nodes share its frontier",
                       job["platform"], job["server"])
        self.state.update_job(job["id"], state="failed", attempts=attempts, detail=problem)

    @staticmethod
    def took(server: Server, job_id: str) -> bool:
        """Did ``server`` take the job after all (its answer lost, say)?"""
        try:
            return job_id in scrapyd.job_states(server)
        except ServerDown:
            return False

    def server(self, url: str | None) -> Server | None:
        return next((server for server in self.plan.servers if server.url == url), None)

    def poll(self, jobs: Sequence[Mapping[str, Any]]) -> None:
        """Mark finished jobs; reschedule elsewhere those whose server went away (with a
        frontier: mark them failed, the other nodes' jobs doing their share)."""
        by_server: dict[str, list[Mapping[str, Any]]] = {}
        for job in jobs:
            by_server.setdefault(job["server"], []).append(job)
        urls = [server.url for server in self.plan.servers]
        for url, server_jobs in by_server.items():
            states = None
            if url in urls:  # a restarted monitor may have been given other servers
                try:
                    states = scrapyd.job_states(self.plan.servers[urls.index(url)])
                except ServerDown as error:
                    logger.warning("lost contact: %s", error)
            for job in server_jobs:
                if (states is None or job["job_id"] not in states) and self.plan.frontier:
                    self.state.update_job(job["id"], state="failed",
                                          detail=f"{url} lost the job")
                elif states is None or job["job_id"] not in states:
                    self.schedule(job, first_server=urls.index(url) + 1 if url in urls else 0)
                elif states[job["job_id"]] == "finished":
                    self.finish(job)

    def finish(self, job: Mapping[str, Any]) -> None:
        """A finished job, with the pages its crawl parsed (from its log's final stats)."""
        server = self.server(job["server"])
        tail = scrapyd.job_log_tail(server, job["platform"], job["job_id"]) if server else ""
        self.state.update_job(job["id"], state="finished",
                              pages=final_pages(tail, job["platform"]))


def _pages(pages: int | None) -> str:
    return "" if pages is None else f"{pages} pages "


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def search_platforms() -> list[str]:
    """Every spider that searches (not ``recheck``, which revisits known listings)."""
    from crawler.runtime.process import available_platforms, project_settings

    return available_platforms(project_settings())


def status_lines(state: MonitorState, every: int) -> list[str]:
    """What ``thriftwatch monitor --status`` prints: the last round, its jobs, the next due."""
    last = state.last_round()
    if last is None:
        return ["no round yet: the first starts as soon as the monitor runs"]
    lines = [f"round {last['id']} ({last['mode']}) started {last['started_at']}: {last['status']}"]
    lines += [f"  {job['platform']:<12} {job['state']:<9} {job['server'] or '-'} "
              f"{job['job_id'] or ''} {_pages(job['pages'])}{job['detail'] or ''}".rstrip()
              for job in state.jobs(last["id"])]
    lines.append(f"next round due {state.next_due(every).isoformat(timespec='seconds')}")
    return lines


