"""Shared fixtures: the replica marketplace on loopback and the optional ../shared corpus;
hooks that give tests their tier (see tests/helpers.py)."""

from __future__ import annotations

import pytest

from tests import helpers


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tell the helpers which test runs, before its fixtures (module-scoped crawls too)."""
    helpers.current_test = item


def pytest_runtest_teardown() -> None:
    helpers.current_test = None


@pytest.fixture(scope="session")
def replica():
    """The replica marketplace on a free loopback port, for the whole test session."""
    from crawler.replica.server import ReplicaServer

    with ReplicaServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_server():
    """A redis-server of its own on a free loopback port (tests/redis_server.py), for the whole
    session; tests that use it are marked ``redis`` and empty it (``.flush()``) as they need.
    Skipped, with the reason, where redis-server is not installed."""
    from tests.redis_server import RedisServer, redis_server_path

    if redis_server_path() is None:
        pytest.skip("redis-server is not installed (make test installs Debian's redis-server)")
    with RedisServer() as server:
        yield server


@pytest.fixture
def corpus():
    """Path into ../shared/corpus; the test is skipped where that folder is absent."""
    root = helpers.SHARED / "corpus"
    if not root.is_dir():
        pytest.skip("../shared/corpus is not present")
    return root


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give a test the markers of the crawl fixtures it uses."""
    for item in items:
        module = getattr(item, "module", None)
        for name in getattr(item, "fixturenames", ()):
            fixture = getattr(module, name, None)
            for marker in getattr(fixture, "thriftwatch_markers", ()):
                item.add_marker(marker)
