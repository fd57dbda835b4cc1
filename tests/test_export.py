"""Exports from a real crawled DB: filters, WARC 1.1 (warcio check), and case bundles."""

import csv
import io
import json
import zipfile

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.helpers import run_command

pytestmark = pytest.mark.crawl


@pytest.fixture(scope="module")
def db(replica, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "evidence.db"
    result = run_command(
        "thriftwatch", "crawl", "tokopedia", "tiktokshop", "--keywords", "balpres,kemeja",
        "--max-pages", "1", "--db", str(path), "--replica", replica.url,
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "--log-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    return path


def _jsonl(db, *options):
    result = run_command("thriftwatch", "export", "--db", str(db), *options)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_filters_narrow_the_listings(db):
    everything = _jsonl(db)
    tokopedia = _jsonl(db, "--platform", "tokopedia")
    strong = _jsonl(db, "--level", "strong")
    assert {r["platform"] for r in everything} == {"tokopedia", "tiktokshop"}
    assert tokopedia
    assert {r["platform"] for r in tokopedia} == {"tokopedia"}
    assert strong
    assert all(r["level"] == "strong" for r in strong)
    assert len(strong) < len(everything)
    assert len(_jsonl(db, "--since", "1d")) == len(everything)
    assert _jsonl(db, "--since", "2999-01-01") == []
    bad = run_command("thriftwatch", "export", "--db", str(db), "--since", "last tuesday")
    assert bad.returncode == 2
    assert "--since takes" in bad.stderr


def test_warc_export_passes_warcio_check_and_holds_every_capture(db, tmp_path):
    out = tmp_path / "evidence.warc.gz"
    result = run_command("thriftwatch", "export", "--db", str(db), "--format", "warc",
                         "-o", str(out))
    assert result.returncode == 0, result.stderr
    check = run_command("warcio", "check", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
    with out.open("rb") as stream:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"),
                    r.rec_headers.get_header("WARC-Payload-Digest"),
                    r.rec_headers.get_header("X-Thriftwatch-Kind"), r.content_stream().read())
                   for r in ArchiveIterator(stream)]
    assert records[0][0] == "warcinfo"
    kinds = [r[0] for r in records[1:]]
    assert kinds.count("request") == kinds.count("response") > 0
    assert all(r[2] for r in records[1:])  # WARC-Payload-Digest on every capture
    searches = [r for r in records if r[0] == "request"
                and r[1] == "https://gql.tokopedia.com/graphql/SearchProductV5Query"]
    assert searches
    assert b"SearchProductV5Query" in searches[0][4]
    screenshots = [r for r in records if r[3] == "screenshot"]
    assert screenshots
    assert all(r[4].startswith(b"\x89PNG") for r in screenshots)


def test_bundle_round_trip_and_tampering(db, tmp_path):
    bundle = tmp_path / "case.zip"
    made = run_command("thriftwatch", "export", "--db", str(db), "--format", "bundle",
                       "--flagged-only", "--platform", "tiktokshop", "-o", str(bundle))
    assert made.returncode == 0, made.stderr
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        rows = list(csv.DictReader(io.StringIO(archive.read("listings.csv").decode())))
    assert {"listings.csv", "evidence.warc.gz", "manifest.json"} <= names
    assert any(name.startswith("screenshots/") for name in names)
    assert rows
    assert all(r["platform"] == "tiktokshop" and r["flagged"] == "true" for r in rows)
    assert set(manifest["files"]) == names - {"manifest.json"}
    ok = run_command("thriftwatch", "verify", "--bundle", str(bundle))
    assert ok.returncode == 0
    assert manifest["listings"] == len(rows)

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(tampered, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, data.replace(b"tiktokshop", b"tokopedia")
                            if name == "listings.csv" else data)
    broken = run_command("thriftwatch", "verify", "--bundle", str(tampered))
    assert broken.returncode == 1
    assert "listings.csv: does not match its SHA-256" in broken.stderr
