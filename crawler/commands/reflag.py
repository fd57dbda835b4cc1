"""``thriftwatch reflag --db PATH [--lexicon FILE] [--platform P] [--since DATE]``: judge every
stored listing again with the current lexicon (plus the investigator's file).

Each listing is judged on its latest observation, built back into the record the crawl
flagged (:func:`record_of`: the observed fields, as the flag pipeline handed them to
:func:`crawler.flagging.flagger.flag`). A verdict that differs from the observation's latest
one (flagged, level, score or reasons) is stored as a new ``flags`` row naming this reflag;
an unchanged one is not stored. The reflag itself is chained evidence: ``reflags`` when it
starts (lexicon version, SHA-256 of the lexicon files, filters) and ``reflag_ends`` when it
ends (how many listings, how many verdicts, what changed). Readers show each observation's
latest verdict (the ``latest_flags`` view); the earlier ones stay.

Listings are judged in (platform, listing_id) order, in batches, each batch's verdicts
stored in one transaction. Killed (even by SIGKILL), the same command resumes the reflag
it started after the last listing of the last batch it stored; since unchanged verdicts
are never stored, redoing a listing stores nothing twice. With ``--jobs N`` the listings
are flagged by N worker processes (plain tuples in, plain tuples out).
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TextIO

from crawler import __version__
from crawler.commands.export import parse_since
from crawler.evidence.schema import OBSERVED_FIELDS
from crawler.evidence.store import EvidenceStore
from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import Lexicon, load_lexicon

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator, Mapping, Sequence

BATCH = 5000  # listings read, judged and stored (one transaction) at a time
CHUNK = 500  # listings a worker flags at a time
PROGRESS_EVERY = 2.0  # seconds between progress lines (a terminal redraws in place)
LEVELS = ("strong", "medium", "weak", "none")
TOP_REASONS = 10


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reflag", help="judge every stored listing again with the current lexicon; store "
                       "each verdict that changed")
    parser.add_argument("--db", required=True, type=Path, help="the evidence DB")
    parser.add_argument("--lexicon", type=Path,
                        help="an investigator's lexicon file that extends the shipped one")
    parser.add_argument("--platform", help="only this platform's listings")
    parser.add_argument("--since", type=parse_since,
                        help="only listings last seen since: an ISO date/time (UTC) or 7d, "
                             "24h, 2w")
    parser.add_argument("--jobs", type=_jobs, default=1,
                        help="worker processes that flag (default 1: flag in this process)")
    parser.add_argument("--batch", type=_batch, default=BATCH,
                        help=f"listings judged and stored (one transaction) at a time "
                             f"(default {BATCH})")
    parser.set_defaults(run=run)


def _batch(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise ValueError(f"--batch must be a number from 1 to 100000, not {text!r}")
    return int(text)


def _jobs(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise ValueError(f"--jobs must be a number from 1 to 64, not {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    if not args.db.is_file():
        raise ValueError(f"{args.db}: no such evidence DB")
    lexicon = load_lexicon(extra=args.lexicon)  # a malformed lexicon is refused here
    store = EvidenceStore(args.db, check=True)
    try:
        result = reflag(store, lexicon, lexicon_files(args.lexicon), platform=args.platform,
                        since=args.since, jobs=args.jobs, extra=args.lexicon,
                        progress=sys.stderr, batch=args.batch)
    finally:
        store.close()
    print(describe(result))
    return 0


# -- pure parts -----------------------------------------------------------------------------

def record_of(observation: Mapping[str, Any]) -> dict[str, Any]:
    """The record the crawl flagged, from its stored observation: every observed field as
    the flag pipeline had it (``image_urls`` a list again, ``imported`` a bool again, as the
    store keeps them as JSON text and 0/1)."""
    record = {name: observation.get(name) for name in OBSERVED_FIELDS}
    imported = record["imported"]
    record["imported"] = None if imported is None else bool(imported)
    urls = record["image_urls"]
    record["image_urls"] = json.loads(urls) if isinstance(urls, str) and urls else []
    record["platform"] = observation.get("platform")
    record["listing_id"] = observation.get("listing_id")
    return record


def verdict_of(record: Mapping[str, Any], lexicon: Lexicon) -> tuple[bool, float, str, str]:
    """``flag()``'s verdict as stored: flagged, score, level and the reasons' JSON text."""
    verdict = flag(record, lexicon).as_dict()
    return (verdict["flagged"], verdict["score"], verdict["level"],
            json.dumps(verdict["reasons"], ensure_ascii=False))


def same_verdict(stored: Mapping[str, Any], new: tuple[bool, float, str, str]) -> bool:
    """Is ``new`` what the stored verdict (``flagged``, ``score``, ``level``, ``reasons``; a
    ``level`` of None: no verdict) already says?"""
    if stored.get("level") is None:
        return False
    flagged, score, level, reasons = new
    return (bool(stored["flagged"]) == flagged and stored["level"] == level
            and stored["score"] == score and _decoded(stored["reasons"]) == json.loads(reasons))


def summarise(changes: Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> dict[str, Any]:
    """What the stored verdicts changed, each against the verdict before it: how many are
    newly strong, medium, weak or none (a level they did not have), no longer flagged or
    newly flagged, changed in score or reasons only, and the reasons that are new."""
    newly = dict.fromkeys(LEVELS, 0)
    counts = Counter()
    reasons: Counter[str] = Counter()
    for new, before in changes:
        counts["changed"] += 1
        if new["level"] != before["level"]:
            newly[new["level"]] += 1
        else:
            counts["same_level"] += 1
        if before["flagged"] and not new["flagged"]:
            counts["no_longer_flagged"] += 1
        if new["flagged"] and not before["flagged"]:
            counts["newly_flagged"] += 1
        had = {reason.get("rule") for reason in before["reasons"]}
        reasons.update({reason.get("rule") for reason in new["reasons"]} - had - {None})
    return {"changed": counts["changed"], "newly": newly,
            "no_longer_flagged": counts["no_longer_flagged"],
            "newly_flagged": counts["newly_flagged"], "same_level": counts["same_level"],
            "top_new_reasons": [[rule, count] for rule, count in reasons.most_common(TOP_REASONS)]}


def lexicon_files(extra: Path | None) -> dict[str, str]:
    """The lexicon's files (the shipped one, and the investigator's) and the SHA-256 of each."""
    shipped = resources.files("crawler.data").joinpath("lexicon.toml").read_bytes()
    files = {"lexicon.toml": hashlib.sha256(shipped).hexdigest()}
    if extra is not None:
        files[f"extra:{extra.name}"] = hashlib.sha256(extra.read_bytes()).hexdigest()
    return files


def lexicon_digest(files: Mapping[str, str]) -> str:
    """One SHA-256 over the lexicon's files, in order: the lexicon's content hash."""
    return hashlib.sha256(json.dumps(list(files.items())).encode()).hexdigest()


# -- the work -------------------------------------------------------------------------------

class Result(dict):
    """What a reflag did: its id, lexicon, listings judged, verdicts stored, the summary."""


def reflag(store: EvidenceStore, lexicon: Lexicon, files: Mapping[str, str], *,
           platform: str | None = None, since: str | None = None, jobs: int = 1,
           extra: Path | None = None, progress: TextIO | None = None,
           batch: int = BATCH) -> Result:
    """Judge the listings again and store what changed (see the module docstring)."""
    digest = lexicon_digest(files)
    version = lexicon.version
    reflag_id = store.unfinished_reflag(lexicon_sha256=digest, platform=platform, since=since)
    after = None
    resumed = reflag_id is not None
    if reflag_id is None:
        reflag_id = store.start_reflag(
            lexicon_version=version, lexicon_sha256=digest, lexicon_files=files,
            platform=platform, since=since, tool_version=__version__,
            host=socket.gethostname())
    else:
        after = store.reflag_resume_point(reflag_id)
    total = store.count_listings(platform=platform, since=since)
    done_before = total - store.count_listings(platform=platform, since=since, after=after) \
        if after is not None else 0
    meter = Progress(progress, total, done_before)
    judged = stored = 0
    with Flagger(lexicon, jobs, extra) as flagger:
        rows = store.listings_to_reflag(platform=platform, since=since, after=after,
                                        limit=batch)
        while rows:
            records = [record_of(row) for row in rows]
            verdicts = flagger.flag_all(records)
            changed = [(row["observation_id"], row["flag_id"], {
                "flagged": new[0], "score": new[1], "level": new[2], "reasons": new[3]})
                for row, new in zip(rows, verdicts, strict=True) if not same_verdict(row, new)]
            if changed:
                stored += store.add_reflag_verdicts(reflag_id, version, changed)
            judged += len(rows)
            meter.update(judged, stored)
            last = rows[-1]
            rows = store.listings_to_reflag(platform=platform, since=since,
                                            after=(last["platform"], last["listing_id"]),
                                            limit=batch)
    summary = summarise(store.reflag_changes(reflag_id))
    summary["resumed"] = resumed
    store.end_reflag(reflag_id, listings=done_before + judged, summary=summary)
    meter.finish(judged, stored)
    return Result(reflag_id=reflag_id, lexicon_version=version, lexicon_sha256=digest,
                  listings=done_before + judged, judged_now=judged, stored_now=stored,
                  seconds=meter.elapsed(), summary=summary, resumed=resumed)


def describe(result: Mapping[str, Any]) -> str:
    """The lines ``thriftwatch reflag`` prints: what changed, by level, and the new reasons."""
    summary = result["summary"]
    seconds = result["seconds"]
    rate = result["judged_now"] / seconds if seconds > 0 else 0.0
    lines = [
        (f"reflag {result['reflag_id']}{' (resumed)' if result['resumed'] else ''}: "
        f"{result['listings']:,} listings judged with lexicon {result['lexicon_version']} "
        f"(sha256 {result['lexicon_sha256'][:16]}) in {seconds:.1f} s ({rate:,.0f}/s)"),
        f"verdicts changed and stored: {summary['changed']:,}"
        + ("" if summary["changed"] else " (nothing changed; nothing stored)"),
    ]
    newly = summary["newly"]
    lines += [
        f"  newly strong       {newly['strong']:>8,}",
        f"  newly medium       {newly['medium']:>8,}",
        f"  newly weak         {newly['weak']:>8,}",
        (f"  no longer flagged  {summary['no_longer_flagged']:>8,}"
        f"   (newly flagged {summary['newly_flagged']:,}; same level, new score or reasons "
        f"{summary['same_level']:,})"),
    ]
    if summary["top_new_reasons"]:
        lines.append("top new reasons: " + ", ".join(
            f"{rule} ({count:,})" for rule, count in summary["top_new_reasons"]))
    return "\n".join(lines)


class Progress:
    """Listings judged so far, on stderr: redrawn in place on a terminal, a line every
    :data:`PROGRESS_EVERY` seconds elsewhere."""

    def __init__(self, stream: TextIO | None, total: int, done_before: int) -> None:
        self.stream, self.total, self.before = stream, total, done_before
        self.tty = bool(stream is not None and stream.isatty())
        self.started = self.shown = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def line(self, judged: int, stored: int) -> str:
        done = self.before + judged
        share = 100 * done / self.total if self.total else 100.0
        rate = judged / max(self.elapsed(), 1e-9)
        left = (self.total - done) / rate if rate else 0.0
        return (f"reflag  listings {done:>9,}/{self.total:,} ({share:5.1f}%)  "
                f"{rate:>7,.0f}/s  changed {stored:>7,}  left {left:5.0f} s")

    def update(self, judged: int, stored: int) -> None:
        now = time.monotonic()
        if self.stream is None or now - self.shown < (0.5 if self.tty else PROGRESS_EVERY):
            return
        self.shown = now
        self.stream.write(("\r" + self.line(judged, stored)) if self.tty
                          else self.line(judged, stored) + "\n")
        self.stream.flush()

    def finish(self, judged: int, stored: int) -> None:
        if self.stream is not None and (self.tty or self.elapsed() >= PROGRESS_EVERY):
            self.stream.write(("\r" if self.tty else "") + self.line(judged, stored) + "\n")
            self.stream.flush()


# -- flagging, here or in worker processes --------------------------------------------------

_worker_lexicon: Lexicon | None = None


def _start_worker(extra: str | None) -> None:
    global _worker_lexicon  # noqa: PLW0603 - one lexicon per worker process
    _worker_lexicon = load_lexicon(extra=extra)


def _flag_chunk(records: list[dict[str, Any]]) -> list[tuple[bool, float, str, str]]:
    assert _worker_lexicon is not None
    return [verdict_of(record, _worker_lexicon) for record in records]


class Flagger:
    """Flags records in this process (``jobs`` 1) or in ``jobs`` worker processes, in order."""

    def __init__(self, lexicon: Lexicon, jobs: int, extra: Path | None) -> None:
        self.lexicon, self.jobs = lexicon, jobs
        self.pool = None if jobs <= 1 else ProcessPoolExecutor(
            max_workers=jobs, initializer=_start_worker,
            initargs=(None if extra is None else str(extra),))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    def flag_all(self, records: Sequence[dict[str, Any]]) -> list[tuple[bool, float, str, str]]:
        if self.pool is None:
            return [verdict_of(record, self.lexicon) for record in records]
        chunks = [list(records[at:at + CHUNK]) for at in range(0, len(records), CHUNK)]
        return [verdict for chunk in self.pool.map(_flag_chunk, chunks) for verdict in chunk]


def _decoded(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text
