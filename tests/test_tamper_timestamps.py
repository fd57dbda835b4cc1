"""RFC 3161 time-stamps against a DB's holder who rewrites it: a token only protects when it
is required or kept outside the DB, and its time is shown and checked against the captures
its head covers (a rewrite anchored again later shows its lag; a token older than what it
covers cannot be)."""

from __future__ import annotations

import re
import subprocess
from typing import TYPE_CHECKING

import pytest

from crawler.evidence.capture import Capture, utc_now
from crawler.evidence.store import EvidenceStore
from crawler.evidence.timestamping import load_certificates, request_token
from crawler.evidence.verify import verify_db
from tests.helpers import run_command
from tests.test_heads import rebuild_listings, rechain, without_triggers
from tests.tsa import LocalTSA

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path
    from sqlite3 import Connection

SELLER = "13019455"


@pytest.fixture
def tsa() -> Iterator[LocalTSA]:
    with LocalTSA() as authority:
        yield authority


def crawl_like(db: Path, runs: int = 2) -> None:
    """Runs with a captured page each and listings read from it, one seller's among them."""
    store = EvidenceStore(db)
    for run in range(runs):
        run_id = store.start_run(platform="tokopedia", keywords=["balpres"])
        page = Capture(url=f"https://gql.tokopedia.com/graphql/SearchProductV5Query?r={run}",
                       method="POST", status=200, request_headers={}, response_headers={},
                       request_body=None, body=f"page {run}".encode(), fetched_at=utc_now())
        capture_id, digest = store.add_capture(run_id, page, None)
        store.add_observations(run_id, [
            {"platform": "tokopedia", "listing_id": f"{run}-{n}", "url": f"https://t/{n}",
             "title": f"balpres {run} {n}", "keyword": "balpres",
             "seller_id": SELLER if n == 0 else str(n), "capture_id": capture_id,
             "capture_sha256": digest, "level": "strong", "flagged": True, "score": 0.9,
             "reasons": []} for n in range(4)])
        store.end_run(run_id, status="finished", stats={})
    store.close()


def anchor(db: Path, tsa: LocalTSA) -> None:
    """What a crawl's end does with THRIFTWATCH_TSA_URL set: a token on each run's head."""
    store = EvidenceStore(db)
    for run_id, head in store.runs_to_timestamp(limit=50):
        token, failures = request_token(head, [tsa.url], 10)
        assert token is not None, failures
        store.add_timestamp(run_id, head, token.tsa_url, token.response, token.gen_time)
    store.close()


def rewrite(db: Path, change: Callable[[Connection], None]) -> None:
    """The holder's rewrite: change rows, delete the tokens, recompute every chain, every
    recorded head and the derived tables, so the DB is consistent with itself again."""
    conn = without_triggers(db)
    change(conn)
    conn.execute("DELETE FROM timestamps")
    conn.commit()
    rechain(conn)
    conn.close()
    rebuild_listings(db)


def erase_seller(conn: Connection) -> None:
    conn.execute("DELETE FROM flags WHERE observation_id IN "
                 "(SELECT id FROM observations WHERE seller_id = ?)", [SELLER])
    conn.execute("DELETE FROM observations WHERE seller_id = ?", [SELLER])


def shift_capture_times(days: int) -> Callable[[Connection], None]:
    """Capture times moved by ``days``: a rewrite made ``-days`` after the crawl looks the
    same to the token (its time is the rewrite's), so this stands in for one."""
    def change(conn: Connection) -> None:
        erase_seller(conn)
        shift = f"{days:+d} days"
        for table, column in (("captures", "fetched_at"), ("observations", "seen_at"),
                              ("run_starts", "started_at")):
            conn.execute(f"UPDATE {table} SET {column} = "
                         f"strftime('%Y-%m-%dT%H:%M:%fZ', {column}, ?)", [shift])
    return change


def verify(db: Path, *args: str) -> subprocess.CompletedProcess:
    return run_command("thriftwatch", "verify", "--db", str(db), *args)


# -- the token's time, shown and checked -----------------------------------------------------

def test_verify_prints_each_tokens_time_beside_its_run_and_the_capture_it_covers(tmp_path,
                                                                                  tsa):
    db = tmp_path / "e.db"
    crawl_like(db)
    anchor(db, tsa)
    printed = verify(db, "--tsa-ca", str(tsa.ca))
    assert printed.returncode == 0, printed.stderr
    assert "anchors: 2 of 2 ended runs have an RFC 3161 token (signature checked)" \
        in printed.stdout
    result = verify_db(db, tsa_roots=load_certificates(tsa.ca))
    for run_id in (1, 2):
        token = result.anchors[run_id]
        assert token.latest_capture is not None
        assert -1 < token.lag < 60  # a TSA may give its time in whole seconds
        line = re.search(rf"^  run {run_id}: token genTime (\S+) \(in the DB\); latest capture "
                         r"it covers (\S+), token \d\.\d s (after it|before it \(within the "
                         r"tolerance for the clocks and a token's whole seconds\))$",
                         printed.stdout, re.MULTILINE)
        assert line, printed.stdout
        assert line[1] == token.gen_time
        assert line[2] == token.latest_capture


def test_a_rewrite_anchored_again_later_shows_how_late_its_tokens_are(tmp_path, tsa):
    """The holder erases a seller two days after the crawl and gets fresh tokens: they
    verify, but each is two days after the captures it covers, and verify says so."""
    db = tmp_path / "e.db"
    crawl_like(db)
    anchor(db, tsa)
    rewrite(db, shift_capture_times(-2))
    anchor(db, tsa)
    printed = verify(db, "--tsa-ca", str(tsa.ca), "--require-timestamps")
    assert printed.returncode == 0, printed.stderr  # every token is genuine ...
    late = re.findall(r"note: run (\d): its token \(the DB\) was made at \S+, (\d+\.\d) h after "
                      r"the latest capture its head covers \((\S+)\)", printed.stdout)
    assert [run for run, _, _ in late] == ["1", "2"], printed.stdout  # ... and 48 h late
    assert all(47.9 <= float(hours) <= 48.1 for _, hours, _ in late)
    assert "token 2.0 d" not in printed.stdout
    assert re.search(r"run 1: token genTime \S+ \(in the DB\); latest capture it covers \S+, "
                     r"token 48\.0 h after it", printed.stdout)


def test_a_token_older_than_the_captures_it_covers_is_broken(tmp_path, tsa):
    """Capture times moved past the token's time: a token cannot predate what it covers."""
    db = tmp_path / "e.db"
    crawl_like(db)
    rewrite(db, shift_capture_times(+1))
    anchor(db, tsa)
    printed = verify(db, "--tsa-ca", str(tsa.ca))
    assert printed.returncode == 1
    assert re.search(r"BROKEN: timestamps run 1: the token's time \S+ is 2\d\.\d h before the "
                     r"latest capture run 1's head covers \(\S+\): a token cannot be older "
                     r"than what it covers", printed.stderr), printed.stderr


# -- required tokens -------------------------------------------------------------------------

def test_required_timestamps_fail_when_the_tokens_were_deleted(tmp_path, tsa):
    db = tmp_path / "e.db"
    crawl_like(db)
    anchor(db, tsa)
    honest = verify(db, "--tsa-ca", str(tsa.ca), "--require-timestamps")
    assert honest.returncode == 0, honest.stderr
    rewrite(db, erase_seller)  # the reviewer's (a): the tokens simply deleted
    assert verify(db, "--tsa-ca", str(tsa.ca)).returncode == 0  # optional tokens: no proof
    required = verify(db, "--tsa-ca", str(tsa.ca), "--require-timestamps")
    assert required.returncode == 1
    assert ("BROKEN: time-stamps required, but 2 of 2 ended runs have no RFC 3161 token "
            "that checks out (runs 1, 2)") in required.stderr
    assert "  run 1: no token" in required.stdout


def test_required_timestamps_fail_for_a_run_never_anchored_or_anchored_elsewhere(tmp_path,
                                                                                 tsa):
    db = tmp_path / "e.db"
    crawl_like(db, runs=1)
    anchor(db, tsa)
    crawl_like(db, runs=1)  # its TSA was down: no token
    required = verify(db, "--tsa-ca", str(tsa.ca), "--require-timestamps")
    assert required.returncode == 1
    assert "1 of 2 ended runs have no RFC 3161 token that checks out (runs 2)" \
        in required.stderr
    with LocalTSA() as impostor:  # a token the investigator's TSA did not sign
        anchor(db, impostor)
    required = verify(db, "--tsa-ca", str(tsa.ca), "--require-timestamps")
    assert required.returncode == 1
    assert "timestamps run 2: the token's signature does not check out" in required.stderr


def test_required_timestamps_need_the_tsa_certificate(tmp_path, tsa):
    db = tmp_path / "e.db"
    crawl_like(db, runs=1)
    anchor(db, tsa)
    refused = verify(db, "--require-timestamps")
    assert refused.returncode == 2
    assert "--require-timestamps needs --tsa-ca" in refused.stderr


# -- tokens kept outside the DB --------------------------------------------------------------

def test_tokens_kept_outside_the_db_catch_a_rewrite_anchored_again(tmp_path, tsa):
    """The reviewer's (b): erase, recompute, anchor again at the same TSA right away. The
    fresh tokens check out; the ones exported after the crawl and kept elsewhere do not
    cover the rewritten history."""
    db = tmp_path / "e.db"
    kept = tmp_path / "kept"
    crawl_like(db)
    anchor(db, tsa)
    exported = run_command("thriftwatch", "export", "--db", str(db), "--format", "timestamps",
                           "-o", str(kept))
    assert exported.returncode == 0, exported.stderr
    assert sorted(p.name for p in kept.iterdir()) == ["run-1.head", "run-1.tsr", "run-2.head",
                                                      "run-2.tsr"]
    checked = subprocess.run(["openssl", "ts", "-verify", "-data", str(kept / "run-2.head"),
                              "-in", str(kept / "run-2.tsr"), "-CAfile", str(tsa.ca)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr  # checkable without thriftwatch
    honest = verify(db, "--tsa-ca", str(tsa.ca), "--timestamps", str(kept))
    assert honest.returncode == 0, honest.stderr
    assert "run 2: token genTime" in honest.stdout
    rewrite(db, erase_seller)
    anchor(db, tsa)
    fooled = verify(db, "--tsa-ca", str(tsa.ca), "--require-timestamps")
    assert fooled.returncode == 0  # the DB's own tokens are all fresh and genuine
    caught = verify(db, "--tsa-ca", str(tsa.ca), "--timestamps", str(kept))
    assert caught.returncode == 1
    assert re.search(rf"BROKEN: {re.escape(str(kept / 'run-1.tsr'))}: the RFC 3161 token "
                     r"covers a head that is not in this DB's history .*; run 1's head here "
                     r"is [0-9a-f]{64}: the DB was rewritten at or before run 1",
                     caught.stderr), caught.stderr


def test_tokens_kept_outside_count_for_required_timestamps(tmp_path, tsa):
    """Tokens deleted from the DB but kept outside it: the DB is the one they anchor."""
    db = tmp_path / "e.db"
    kept = tmp_path / "kept"
    crawl_like(db)
    anchor(db, tsa)
    run_command("thriftwatch", "export", "--db", str(db), "--format", "timestamps",
                "-o", str(kept))
    conn = without_triggers(db)
    conn.execute("DELETE FROM timestamps")
    conn.commit()
    conn.close()
    assert verify(db, "--tsa-ca", str(tsa.ca), "--require-timestamps").returncode == 1
    printed = verify(db, "--tsa-ca", str(tsa.ca), "--require-timestamps",
                     "--timestamps", str(kept))
    assert printed.returncode == 0, printed.stderr
    assert "run 1: token genTime" in printed.stdout
    assert f"(from {kept / 'run-1.tsr'})" in printed.stdout


def test_a_timestamps_folder_must_hold_tokens(tmp_path):
    db = tmp_path / "e.db"
    crawl_like(db, runs=1)
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "absent"):
        refused = verify(db, "--timestamps", str(folder))
        assert refused.returncode == 2
        assert "--timestamps" in refused.stderr or "no .tsr files" in refused.stderr


def test_a_token_older_than_its_runs_recorded_end_is_broken(tmp_path, tsa):
    db = tmp_path / "e.db"
    crawl_like(db, runs=1)
    rewrite(db, lambda conn: conn.execute(
        "UPDATE run_ends SET ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', ended_at, '+1 day')"))
    anchor(db, tsa)
    printed = verify(db, "--tsa-ca", str(tsa.ca))
    assert printed.returncode == 1
    assert re.search(r"BROKEN: timestamps run 1: the token's time \S+ is before run 1 ended "
                     r"\(\S+\): the run's end time was edited", printed.stderr), printed.stderr
