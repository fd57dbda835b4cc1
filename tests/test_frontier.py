"""The shared frontier's queue on a real redis-server (the ``redis_server`` fixture): a
popped request is leased until acknowledged, a dead process's leases go back, a malformed
entry is dropped without stopping anything, and the connection shows no password."""

from __future__ import annotations

import time

import pytest
from scrapy.settings import Settings

from crawler.config import Config
from crawler.frontier.connection import FrontierUnavailable, connect
from crawler.frontier.keys import FrontierKeys
from crawler.frontier.lease import NodeLease
from crawler.frontier.queue import LeasedQueue
from crawler.frontier.requests import TOKEN_META
from spiders.tokopedia import TokopediaSpider
from tests.redis_server import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
def frontier(redis_server):
    redis_server.flush()
    spider = TokopediaSpider()
    spider.max_pages = 5
    keys = FrontierKeys("tokopedia", "test")
    server = redis_server.client()
    return spider, keys, server


def _queue(frontier, node: str) -> LeasedQueue:
    spider, keys, server = frontier
    return LeasedQueue(server, spider, keys, node)


def test_a_popped_request_is_leased_until_acknowledged(frontier):
    spider, keys, server = frontier
    queue = _queue(frontier, "a")
    for page in (1, 2, 3):
        queue.push(spider.page_request("balpres", page))
    first = queue.pop()
    assert first is not None
    assert first.cb_kwargs == {"keyword": "balpres", "page": 1}
    assert len(queue) == 2
    assert server.hlen(keys.processing("a")) == 1
    queue.ack([first.meta[TOKEN_META]])
    assert server.hlen(keys.processing("a")) == 0
    second = queue.pop()
    assert queue.requeue([second.meta[TOKEN_META]]) == 1
    assert len(queue) == 2  # back, with its priority: popped again first
    assert queue.pop().cb_kwargs == second.cb_kwargs


def test_a_dead_process_leases_go_back_once_its_lease_expires(frontier):
    spider, keys, server = frontier
    dead, alive = _queue(frontier, "dead"), _queue(frontier, "alive")
    dead_lease = NodeLease(server, keys, "dead", ttl=1)
    alive_lease = NodeLease(server, keys, "alive", ttl=30)
    dead_lease.start()
    alive_lease.start()
    for page in (1, 2):
        dead.push(spider.page_request("karungan", page))
    assert dead.pop() is not None
    assert dead.pop() is not None
    assert len(dead) == 0
    assert alive_lease.recover_dead(alive) == 0  # still alive: nothing taken from it
    assert not alive_lease.state().drained
    deadline = time.monotonic() + 10
    while server.exists(keys.lease("dead")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive_lease.recover_dead(alive) == 2
    assert alive_lease.recover_dead(alive) == 0  # once only
    pages = sorted(alive.pop().cb_kwargs["page"] for _ in range(2))
    assert pages == [1, 2]
    assert server.sismember(keys.nodes, "dead") == 0


def test_a_malformed_entry_is_dropped_and_the_next_request_served(frontier, caplog):
    spider, keys, server = frontier
    queue = _queue(frontier, "a")
    server.zadd(keys.queue, {b"\x80\x04\x95 not json": -10, b'{"url": "file:///etc"}': -9,
                             b'{"url": "https://x", "callback": "__init__"}': -8})
    queue.push(spider.page_request("thrift", 1))
    request = queue.pop()
    assert request is not None
    assert request.cb_kwargs == {"keyword": "thrift", "page": 1}
    assert queue.malformed == 3
    assert server.hlen(keys.processing("a")) == 1  # the malformed ones hold no lease
    assert "frontier entry dropped" in caplog.text


def test_a_wrong_password_is_refused_without_showing_it():
    with RedisServer(password="r1ght-pass") as server:
        settings = Settings({"THRIFTWATCH_FRONTIER": server.url.replace(
            "r1ght-pass", "wr0ng-pass")})
        with pytest.raises(FrontierUnavailable) as error:
            connect(Config.from_settings(settings).frontier)
        assert "wr0ng-pass" not in str(error.value)
        assert server.public_url in str(error.value)
        good = Config.from_settings(Settings({"THRIFTWATCH_FRONTIER": server.url})).frontier
        assert connect(good).ping()


def test_the_password_may_come_from_the_environment(monkeypatch):
    with RedisServer(password="env-pass") as server:
        monkeypatch.setenv("THRIFTWATCH_FRONTIER_PASSWORD", "env-pass")
        config = Config.from_settings(Settings({"THRIFTWATCH_FRONTIER": server.public_url})
                                      ).frontier
        assert config.url == server.public_url
        assert connect(config).ping()
