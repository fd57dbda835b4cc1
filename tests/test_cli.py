"""The thriftwatch command: clear errors for bad input (the demo and exports of its DB are
tested in tests/test_demo_sellers.py, on one demo run)."""


import pytest

from tests.helpers import run_command


@pytest.mark.crawl
def test_bad_input_gets_a_clear_error(tmp_path):
    missing = run_command("thriftwatch", "export", "--db", str(tmp_path / "nope.db"))
    assert missing.returncode == 2
    assert "no evidence DB" in missing.stderr
    unknown = run_command("thriftwatch", "crawl", "nosuchsite", "--db", str(tmp_path / "x.db"))
    assert unknown.returncode == 2
    assert "unknown platform nosuchsite" in unknown.stderr
    bad_replica = run_command("thriftwatch", "crawl", "tokopedia", "--replica", "127.0.0.1:1",
                              "--db", str(tmp_path / "y.db"))
    assert bad_replica.returncode == 2
    assert "THRIFTWATCH_REPLICA" in bad_replica.stderr
