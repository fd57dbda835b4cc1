"""A case bundle: one zip with the listings, their captures as WARC, their screenshots, and a
manifest that ``thriftwatch verify --bundle`` checks.

The manifest lists every member with its SHA-256 and size, the largest member it allows,
the evidence DB's head (and the RFC 3161 token on it, where one exists), so a bundle can be
tied to the DB it came from. ``--sign KEYFILE`` adds ``manifest.json.sig``, an Ed25519
signature of the manifest: a bundle that only matches its own manifest proves nothing
about who made it; a signature checked with the maker's public key does.

A bundle is read as hostile: duplicate names, members the manifest does not list,
absolute or ``..`` paths, symlinks and members over the stated size are refused, and every
member is hashed as a stream, so memory stays bounded whatever the zip holds.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from crawler import __version__
from crawler.decoding import DecodeError, decode_json
from crawler.evidence.capture import utc_now
from crawler.evidence.export import write_records
from crawler.evidence.signing import fingerprint, sign, signed_by
from crawler.evidence.warc import write_warc

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from crawler.evidence.store import EvidenceStore

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
FORMAT = "thriftwatch-bundle/2"
MAX_MEMBER = 2 * 1024**3  # the largest member a bundle may hold (stated in its manifest)
MAX_MANIFEST = 64 * 1024**2
CHUNK = 1024 * 1024


def write_bundle(store: EvidenceStore, path: Path, filters: Mapping[str, Any], *,
                 signer: Ed25519PrivateKey | None = None) -> str:
    """Write the bundle for the listings ``filters`` select; returns the manifest's SHA-256.
    An unsound DB (see ``EvidenceStore.require_sound``), or a body that does not match its
    SHA-256, is refused before anything is written."""
    store.require_sound()
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
    head = store.head()
    manifest = {
        "format": FORMAT, "tool": f"thriftwatch/{__version__}", "created_at": utc_now(),
        "source_db": store.path.name, "filters": dict(filters), "listings": len(records),
        "captures": len(capture_ids), "db_head": head, "db_chain_heads": store.chain_heads(),
        "db_head_timestamp": _timestamp_of(store, head),
        "max_member_size": MAX_MEMBER,
        "signer": fingerprint(signer.public_key()) if signer else None,
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for name, data in sorted(files.items())},
    }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(MANIFEST, manifest_bytes)
        if signer is not None:
            archive.writestr(SIGNATURE, sign(signer, manifest_bytes))
    return hashlib.sha256(manifest_bytes).hexdigest()


def _timestamp_of(store: EvidenceStore, head: str) -> dict[str, Any] | None:
    """The RFC 3161 token on ``head``, if the DB keeps one (the head of its last run)."""
    row = store.conn.execute("SELECT run_id, tsa_url, token, gen_time FROM timestamps "
                             "WHERE head = ?", [head]).fetchone()
    if row is None:
        return None
    return {"run_id": row[0], "tsa_url": row[1], "gen_time": row[3],
            "token": base64.b64encode(row[2]).decode("ascii")}


@dataclass
class BundleCheck:
    manifest_sha256: str = ""
    files: int = 0
    signed: str = "unsigned"  # "unsigned", "signature not checked", or "signed by <fp>"
    db_head: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(path: Path, key: Ed25519PublicKey | None = None) -> BundleCheck:
    """Check every member against the manifest, and the manifest against ``key``'s signature
    when a key is given (then an unsigned bundle fails)."""
    check = BundleCheck()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{path} is not a thriftwatch bundle: {error}") from error
    with archive:
        members = archive.infolist()
        names = [member.filename for member in members]
        _check_names(members, check)
        if MANIFEST not in names:
            raise ValueError(f"{path} is not a thriftwatch bundle: no {MANIFEST}")
        if check.problems:
            return check
        manifest_bytes = _read_small(archive, MANIFEST)
        check.manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
        manifest = _manifest(manifest_bytes, path)
        check.db_head = manifest.get("db_head")
        _check_signature(archive, names, manifest_bytes, key, check)
        limit = min(int(manifest.get("max_member_size") or MAX_MEMBER), MAX_MEMBER)
        listed = manifest["files"]
        by_name = {member.filename: member for member in members}
        for name, expected in sorted(listed.items()):
            member = by_name.get(name)
            if member is None:
                check.problems.append(f"{name}: listed in the manifest but missing")
                continue
            _check_member(archive, member, expected, limit, check)
        for name in sorted(set(names) - set(listed) - {MANIFEST, SIGNATURE}):
            check.problems.append(f"{name}: in the bundle but not in the manifest")
    return check


def _check_names(members: list[zipfile.ZipInfo], check: BundleCheck) -> None:
    """Refuse names a tool could show, unpack or follow differently from the manifest."""
    seen: set[str] = set()
    for member in members:
        name = member.filename
        if name in seen:
            check.problems.append(f"{name}: appears twice in the zip (tools disagree on which "
                                  "one they show)")
        seen.add(name)
        parts = PurePosixPath(name).parts
        if (not name or name.startswith(("/", "\\")) or "\\" in name or ".." in parts
                or (len(name) > 1 and name[1] == ":")):
            check.problems.append(f"{name!r}: not a plain relative path inside the bundle")
        if stat.S_ISLNK(member.external_attr >> 16):
            check.problems.append(f"{name}: a symbolic link")
        if member.is_dir():
            check.problems.append(f"{name}: a folder entry")


def _read_small(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as handle:
        data = handle.read(MAX_MANIFEST + 1)
    if len(data) > MAX_MANIFEST:
        raise ValueError(f"{name} is larger than any manifest thriftwatch writes")
    return data


def _manifest(data: bytes, path: Path) -> dict[str, Any]:
    try:
        manifest = decode_json(data)
    except DecodeError as error:
        raise ValueError(f"{path}: {MANIFEST} is not JSON ({error})") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(
            isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
            and isinstance(entry.get("size"), int) for entry in files.values()):
        raise ValueError(f"{path}: {MANIFEST} does not list its files with sha256 and size")
    return manifest


def _check_signature(archive: zipfile.ZipFile, names: list[str], manifest_bytes: bytes,
                     key: Ed25519PublicKey | None, check: BundleCheck) -> None:
    signed = SIGNATURE in names
    if key is None:
        check.signed = "signature not checked: give --key" if signed else "unsigned"
        return
    if not signed:
        check.problems.append(f"{SIGNATURE}: missing: the bundle is not signed")
    elif not signed_by(key, manifest_bytes, _read_small(archive, SIGNATURE)):
        check.problems.append(f"{SIGNATURE}: the manifest is not signed by this key "
                              "(re-signed by another key, or the manifest was changed)")
    else:
        check.signed = f"signed by {fingerprint(key)}"


def _check_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo,
                  expected: Mapping[str, Any], limit: int, check: BundleCheck) -> None:
    name = member.filename
    if expected["size"] > limit or member.file_size > limit:
        check.problems.append(f"{name}: larger than the bundle allows ({limit} bytes)")
        return
    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(member) as handle:
            while chunk := handle.read(CHUNK):
                size += len(chunk)
                if size > expected["size"]:
                    break
                digest.update(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        check.problems.append(f"{name}: cannot be read ({error})")
        return
    if size != expected["size"]:
        check.problems.append(f"{name}: does not match its SHA-256 in the manifest (its size "
                              "differs too)")
    elif digest.hexdigest() != expected["sha256"]:
        check.problems.append(f"{name}: does not match its SHA-256 in the manifest")
    else:
        check.files += 1
