"""``thriftwatch serve --db PATH [--port N]``: browse an evidence DB in Datasette, read-only."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.evidence.serve_metadata import metadata

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="browse an evidence DB in Datasette (read-only)")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default loopback)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn
    from datasette.app import Datasette
    from datasette.plugins import pm

    from crawler.evidence import datasette_plugin

    if not args.db.exists():
        raise ValueError(f"no evidence DB at {args.db}")
    # Datasette names the database after its file; a read-only snapshot named "evidence"
    # keeps the URLs stable and guarantees nothing here can write the investigator's DB.
    snapshot_dir = Path(tempfile.mkdtemp(prefix="thriftwatch-serve-"))
    snapshot = snapshot_dir / "evidence.db"
    _snapshot(args.db, snapshot)
    try:
        _require_sound(snapshot)
    except ValueError:
        shutil.rmtree(snapshot_dir, ignore_errors=True)
        raise
    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name="thriftwatch")
    datasette = Datasette(immutables=[str(snapshot)], metadata=metadata(args.db.name),
                          settings={"sql_time_limit_ms": 5000})
    print(f"serving {args.db} read-only on http://{args.host}:{args.port}/evidence", flush=True)
    try:
        uvicorn.run(datasette.app(), host=args.host, port=args.port, log_level="warning")
    finally:
        shutil.rmtree(snapshot_dir, ignore_errors=True)
    return 0


def _require_sound(snapshot: Path) -> None:
    """Refuse to serve a DB whose indexes, views, full-text index or schema are not what
    thriftwatch writes: Datasette reads through them, and the hash chains do not cover them."""
    import sqlite3

    from crawler.evidence.schema import fts_problems, soundness

    with sqlite3.connect(snapshot) as conn:
        problems = soundness(conn).problems + fts_problems(conn, writable=True)
    if problems:
        raise ValueError(f"refusing to serve: {problems[0]}"
                         f"{f' (and {len(problems) - 1} more)' if len(problems) > 1 else ''}; "
                         "`thriftwatch verify --db DB` lists every problem")


def _snapshot(source: Path, target: Path) -> None:
    """A consistent copy of a (possibly live, WAL-mode) DB through SQLite's backup API."""
    import sqlite3

    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as reader, \
            sqlite3.connect(target) as writer:
        reader.backup(writer)
        writer.execute("PRAGMA journal_mode = DELETE")
