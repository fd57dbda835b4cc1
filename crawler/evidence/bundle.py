"""A case bundle: one zip with the listings, their captures as WARC, their screenshots, and a
manifest of SHA-256 hashes that ``thriftwatch verify --bundle`` checks."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crawler import __version__
from crawler.evidence.capture import utc_now
from crawler.evidence.export import write_records
from crawler.evidence.warc import write_warc

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from crawler.evidence.store import EvidenceStore

MANIFEST = "manifest.json"


def write_bundle(store: EvidenceStore, path: Path, filters: Mapping[str, Any]) -> str:
    """Write the bundle for the listings ``filters`` select; returns the manifest's SHA-256."""
    records = list(store.export_records(**filters))
    capture_ids = store.evidence_of(records)
    files: dict[str, bytes] = {}
    listings_csv = io.StringIO()
    write_records(records, listings_csv, "csv")
    files["listings.csv"] = listings_csv.getvalue().encode("utf-8")
    warc = io.BytesIO()
    write_warc(store, warc, "evidence.warc.gz", capture_ids)
    files["evidence.warc.gz"] = warc.getvalue()
    marks = ",".join("?" * len(capture_ids))
    for (digest,) in store.conn.execute(
            f"SELECT DISTINCT body_sha256 FROM captures WHERE kind = 'screenshot' "
            f"AND id IN ({marks})", capture_ids):
        files[f"screenshots/{digest}.png"] = store.capture_body(digest)
    manifest = {
        "tool": f"thriftwatch/{__version__}", "created_at": utc_now(),
        "source_db": store.path.name, "filters": dict(filters), "listings": len(records),
        "captures": len(capture_ids), "db_chain_heads": store.chain_heads(),
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for name, data in sorted(files.items())},
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(MANIFEST, manifest_bytes)
    return hashlib.sha256(manifest_bytes).hexdigest()


@dataclass
class BundleCheck:
    manifest_sha256: str = ""
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(path: Path) -> BundleCheck:
    """Recompute every file's SHA-256 against the manifest; extra or missing files fail."""
    check = BundleCheck()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{path} is not a thriftwatch bundle: {error}") from error
    with archive:
        names = set(archive.namelist())
        if MANIFEST not in names:
            raise ValueError(f"{path} is not a thriftwatch bundle: no {MANIFEST}")
        manifest_bytes = archive.read(MANIFEST)
        check.manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
        listed = json.loads(manifest_bytes)["files"]
        for name, expected in sorted(listed.items()):
            if name not in names:
                check.problems.append(f"{name}: listed in the manifest but missing")
                continue
            if hashlib.sha256(archive.read(name)).hexdigest() != expected["sha256"]:
                check.problems.append(f"{name}: does not match its SHA-256 in the manifest")
            check.files += 1
        for name in sorted(names - set(listed) - {MANIFEST}):
            check.problems.append(f"{name}: in the bundle but not in the manifest")
    return check
