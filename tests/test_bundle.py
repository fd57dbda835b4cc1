"""Case bundles read as hostile, and signed: a zip whose members disagree with what tools
show, or escape the bundle, is refused; a signature proves who made it."""

from __future__ import annotations

import json
import stat
import zipfile
from typing import TYPE_CHECKING

import pytest

from crawler.evidence.bundle import MANIFEST, SIGNATURE, verify_bundle, write_bundle
from crawler.evidence.capture import Capture
from crawler.evidence.signing import generate, load_private, load_public
from crawler.evidence.store import EvidenceStore
from tests.helpers import run_command

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "case.db"
    store = EvidenceStore(path)
    run = store.start_run(platform="tiktokshop", keywords=["balpres"])
    shot = Capture(url="https://shop-id.tokopedia.com/search?q=balpres", method="SCREENSHOT",
                   status=200, request_headers={}, response_headers={},
                   request_body=None, body=b"\x89PNG fake", fetched_at="2026-12-01T00:00:00Z")
    page = Capture(url="https://shop-id.tokopedia.com/search?q=balpres", method="GET",
                   status=200, request_headers={}, response_headers={}, request_body=None,
                   body=b"<html>results</html>", fetched_at="2026-12-01T00:00:00Z")
    capture_id, digest = store.add_capture(run, page, None, kind="rendered")
    _, shot_digest = store.add_capture(run, shot, None, kind="screenshot")
    store.add_observations(run, [{
        "platform": "tiktokshop", "listing_id": "1", "url": "https://x/1", "title": "balpres",
        "keyword": "balpres", "capture_id": capture_id, "capture_sha256": digest,
        "screenshot_sha256": shot_digest, "level": "strong", "flagged": True, "score": 0.9}])
    store.end_run(run, status="finished", stats={})
    store.close()
    return path


def bundle_of(db: Path, path: Path, signer_file: Path | None = None) -> Path:
    store = EvidenceStore(db)
    try:
        write_bundle(store, path, {}, signer=load_private(signer_file) if signer_file else None)
    finally:
        store.close()
    return path


def rewrite(source: Path, target: Path, change) -> Path:
    """Copy a bundle member by member; ``change(archive, name, data)`` writes each."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            change(new, info, old.read(info))
    return target


def test_a_bundle_carries_the_db_head_and_verifies(db, tmp_path):
    bundle = bundle_of(db, tmp_path / "case.zip")
    check = verify_bundle(bundle)
    assert check.ok, check.problems
    assert check.files == 3
    assert check.signed == "unsigned"
    store = EvidenceStore(db)
    assert check.db_head == store.head()
    store.close()


@pytest.mark.parametrize(("attack", "problem"), [
    ("duplicate", "appears twice in the zip"),
    ("unlisted", "in the bundle but not in the manifest"),
    ("absolute", "not a plain relative path"),
    ("dotdot", "not a plain relative path"),
    ("symlink", "a symbolic link"),
    ("oversize", "larger than the bundle allows"),
    ("truncated_size", "its size differs too"),
])
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_malformed_bundles_are_refused(db, tmp_path, attack, problem):
    bundle = bundle_of(db, tmp_path / "case.zip")

    def change(new: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes) -> None:
        name = info.filename
        if attack == "duplicate" and name == "listings.csv":
            new.writestr("listings.csv", data.replace(b"balpres", b"kaos baru"))
        if attack == "oversize" and name == MANIFEST:
            manifest = json.loads(data)
            manifest["max_member_size"] = 10
            data = json.dumps(manifest).encode()
        if attack == "truncated_size" and name == MANIFEST:
            manifest = json.loads(data)
            manifest["files"]["listings.csv"]["size"] -= 1
            data = json.dumps(manifest).encode()
        new.writestr(info, data)
        if name == MANIFEST:
            extra = {"unlisted": "notes.txt", "absolute": "/etc/cron.d/x",
                     "dotdot": "screenshots/../../x.png"}.get(attack)
            if extra:
                new.writestr(extra, b"x")
            if attack == "symlink":
                link = zipfile.ZipInfo("screenshots/link.png")
                link.external_attr = (stat.S_IFLNK | 0o777) << 16
                new.writestr(link, "/etc/passwd")

    bad = rewrite(bundle, tmp_path / "bad.zip", change)
    check = verify_bundle(bad)
    assert not check.ok
    assert any(problem in p for p in check.problems), check.problems


def test_a_signed_bundle_verifies_with_its_key_and_fails_re_signed_or_altered(db, tmp_path):
    desk, other = tmp_path / "desk.key", tmp_path / "other.key"
    generate(desk)
    generate(other)
    assert oct(desk.stat().st_mode & 0o777) == "0o600"
    bundle = bundle_of(db, tmp_path / "case.zip", signer_file=desk)
    desk_pub, other_pub = load_public(tmp_path / "desk.key.pub"), load_public(
        tmp_path / "other.key.pub")
    check = verify_bundle(bundle, desk_pub)
    assert check.ok, check.problems
    assert check.signed.startswith("signed by ")
    assert not verify_bundle(bundle, other_pub).ok  # another key
    resigned = bundle_of(db, tmp_path / "resigned.zip", signer_file=other)
    assert any("not signed by this key" in p for p in verify_bundle(resigned, desk_pub).problems)

    def alter(new: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes) -> None:
        if info.filename == MANIFEST:  # a forger who rewrites the listing and its hash
            data = data.replace(b'"listings": 1', b'"listings": 2')
        new.writestr(info, data)

    altered = rewrite(bundle, tmp_path / "altered.zip", alter)
    assert any("not signed by this key" in p for p in verify_bundle(altered, desk_pub).problems)

    def unsign(new: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes) -> None:
        if info.filename != SIGNATURE:
            new.writestr(info, data)

    unsigned = rewrite(bundle, tmp_path / "unsigned.zip", unsign)
    assert any("not signed" in p for p in verify_bundle(unsigned, desk_pub).problems)
    assert verify_bundle(unsigned).ok  # without a key, only the hashes are checked


def test_the_commands_sign_and_check(db, tmp_path):
    key = tmp_path / "desk.key"
    made = run_command("thriftwatch", "keygen", "-o", str(key))
    assert made.returncode == 0, made.stderr
    assert "fingerprint:" in made.stdout
    again = run_command("thriftwatch", "keygen", "-o", str(key))
    assert again.returncode == 2  # a key is never overwritten
    bundle = tmp_path / "case.zip"
    exported = run_command("thriftwatch", "export", "--db", str(db), "--format", "bundle",
                           "--sign", str(key), "-o", str(bundle))
    assert exported.returncode == 0, exported.stderr
    checked = run_command("thriftwatch", "verify", "--bundle", str(bundle), "--key",
                          f"{key}.pub")
    assert checked.returncode == 0, checked.stderr
    assert "signed by" in checked.stdout
    assert "db head" in checked.stdout
