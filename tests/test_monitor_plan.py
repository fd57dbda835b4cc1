"""The monitor's plan with a shared frontier: one job per platform per node, each node's own
DB and name, the round's frontier key, pages read from a job's final stats, and when a round
counts as finished. Pure: no scrapyd, no Redis (tests/test_scrapyd.py runs them for real)."""

from __future__ import annotations

import argparse

import pytest

from crawler.commands.monitor import add_monitor_options, build_plan
from crawler.commands.schedule import monitor_command
from crawler.ops.scheduler import MonitorState, Plan, final_pages, frontier_run_key, schedule_form
from crawler.ops.scrapyd import resolve_servers


def plan(db: str = "/srv/case/evidence.db", **changes) -> Plan:
    servers = resolve_servers(["http://10.0.0.1:6800", "http://10.0.0.2:6800"])
    fields = {"platforms": ("tokopedia", "shopee"), "keywords": ("balpres",), "db": db,
              "every": 3600, "servers": servers, "frontier": "redis://10.0.0.9:6379/0"}
    return Plan(**{**fields, **changes})


def test_each_node_writes_its_own_db():
    assert plan().node_db("desk-a") == "/srv/case/evidence-desk-a.db"
    assert plan(db="/srv/{node}/tw.db").node_db("desk-a") == "/srv/desk-a/tw.db"


def test_servers_are_named_by_deploy_target_or_host_and_port(tmp_path):
    config = tmp_path / "scrapy.cfg"
    config.write_text("[deploy:jakarta 1]\nurl = http://10.0.0.1:6800/\n")
    named = resolve_servers(["jakarta 1", "http://10.0.0.2:6800/", "https://n3.example"],
                            project_file=config, environ={})
    assert [server.name for server in named] == ["jakarta-1", "10.0.0.2-6800",
                                                 "n3.example-443"]


def test_a_node_job_shares_the_platforms_frontier_under_the_rounds_key():
    form = dict(schedule_form(plan(), "shopee", "tw-1-shopee-a-1", node="a",
                              frontier_run="round-1-20261203070000"))
    settings = dict(value.split("=", 1) for name, value in schedule_form(
        plan(), "shopee", "job", node="a", frontier_run="round-1-x") if name == "setting")
    assert form["spider"] == "shopee"
    assert settings["THRIFTWATCH_FRONTIER"] == "redis://10.0.0.9:6379/0"
    assert settings["THRIFTWATCH_FRONTIER_RUN"] == "round-1-x"
    assert settings["THRIFTWATCH_NODE"] == "a"
    assert settings["THRIFTWATCH_DB"] == "/srv/case/evidence-a.db"
    without = dict(value.split("=", 1) for name, value in schedule_form(
        plan(frontier=None), "shopee", "job") if name == "setting")
    assert "THRIFTWATCH_FRONTIER" not in without
    assert without["THRIFTWATCH_DB"] == "/srv/case/evidence.db"


def test_the_frontier_key_differs_between_rounds_and_between_monitors():
    first = frontier_run_key({"id": 1, "started_at": "2026-12-03T07:00:00.123456Z"})
    assert first == "round-1-20261203070000"
    assert first != frontier_run_key({"id": 2, "started_at": "2026-12-03T07:00:00Z"})
    assert first != frontier_run_key({"id": 1, "started_at": "2026-12-04T07:00:00Z"})


def test_pages_come_from_the_last_stats_dump_of_the_log():
    tail = ("2026 [tokopedia] INFO: title \"'thriftwatch/pages/tokopedia': 99999\"\n"
            "2026 [scrapy.statscollectors] INFO: Dumping Scrapy stats:\n"
            "{'downloader/response_count': 14,\n 'thriftwatch/pages/tokopedia': 12,\n"
            " 'thriftwatch/pages/shopee': 3}\n2026 [scrapy.core.engine] INFO: Spider closed\n")
    assert final_pages(tail, "tokopedia") == 12
    assert final_pages(tail, "lazada") is None
    assert final_pages("", "tokopedia") is None


def test_pages_are_never_read_from_seller_text_outside_the_stats_dump():
    """A job that parsed no page (all unreadable: each a parse_error quoting the platform's
    body) dumps no pages stat, and a killed job dumps none at all: the seller's text in
    an earlier log line is not the job's page count."""
    quoted = ("2026-12-03 07:00:01 [tokopedia] ERROR: parse_error on POST https://gql."
              "tokopedia.com/graphql/SearchProductV5Query: body is not JSON: "
              "b\"<p>'thriftwatch/pages/tokopedia': 900,</p> Dumping Scrapy stats:\"\n")
    dump = ("2026-12-03 07:00:02 [scrapy.statscollectors] INFO: Dumping Scrapy stats:\n"
            "{'downloader/response_count': 1,\n 'log_count/ERROR': 1}\n"
            "2026-12-03 07:00:02 [scrapy.core.engine] INFO: Spider closed (finished)\n")
    assert final_pages(quoted + dump, "tokopedia") is None
    assert final_pages(quoted, "tokopedia") is None  # killed before its stats were dumped


def test_a_frontier_round_is_finished_when_each_platform_has_a_finished_job(tmp_path):
    state = MonitorState(tmp_path / "state.db")
    round_id = state.start_round(plan())
    jobs = state.jobs(round_id)
    assert [(j["platform"], j["server"]) for j in jobs] == [
        ("tokopedia", "http://10.0.0.1:6800"), ("tokopedia", "http://10.0.0.2:6800"),
        ("shopee", "http://10.0.0.1:6800"), ("shopee", "http://10.0.0.2:6800")]
    for job, outcome in zip(jobs, ("finished", "failed", "failed", "finished"), strict=True):
        state.update_job(job["id"], state=outcome)
    assert state.end_round(round_id, any_node=True) == "finished"
    assert state.end_round(round_id) == "failed"  # without a frontier, every job must finish
    state.update_job(jobs[3]["id"], state="failed")
    assert state.end_round(round_id, any_node=True) == "failed"


def test_a_state_db_of_an_earlier_release_gets_the_pages_column(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE monitor_jobs (id INTEGER PRIMARY KEY, round_id INTEGER NOT NULL, "
        "platform TEXT NOT NULL, server TEXT, job_id TEXT, state TEXT NOT NULL, "
        "attempts INTEGER NOT NULL DEFAULT 0, detail TEXT, updated_at TEXT NOT NULL);"
        "INSERT INTO monitor_jobs VALUES (1, 1, 'shopee', NULL, NULL, 'finished', 1, NULL, 'x');")
    conn.commit()
    conn.close()
    state = MonitorState(path)
    assert state.db["monitor_jobs"].get(1)["pages"] is None


def parsed(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("platforms", nargs="*")
    add_monitor_options(parser)
    return parser.parse_args(list(argv))


def test_a_frontier_needs_scrapyd_servers():
    with pytest.raises(ValueError, match="--frontier shares a crawl over scrapyd servers"):
        build_plan(parsed("tokopedia", "--frontier", "redis://127.0.0.1:6379/0"))


def test_a_cron_line_keeps_no_redis_password():
    args = parsed("--scrapyd", "http://10.0.0.1:6800", "--frontier",
                  "redis://:hunter2@10.0.0.9:6379/0")
    with pytest.raises(ValueError, match="Redis password"):
        monitor_command(args)
    args = parsed("--scrapyd", "http://10.0.0.1:6800", "--frontier", "redis://10.0.0.9:6379/0",
                  "--merge-into", "case.db")
    command = monitor_command(args)
    assert command[command.index("--frontier") + 1] == "redis://10.0.0.9:6379/0"
    assert command[command.index("--merge-into") + 1].endswith("case.db")


def test_the_monitors_rounds_stay_out_of_the_node_dbs():
    from crawler.commands.monitor import state_db

    assert str(state_db(parsed("--db", "/srv/tw-{node}.db"))) == "/srv/tw-monitor.db"
    assert str(state_db(parsed("--db", "/srv/tw.db"))) == "/srv/tw.db"
    assert str(state_db(parsed("--db", "/srv/tw.db", "--state-db", "/x.db"))) == "/x.db"
