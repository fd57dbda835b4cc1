"""``thriftwatch flag [FILE|-] [--format jsonl|csv] [--lexicon FILE]``: flag listings from a file.

Each input listing is written back as one JSON line with all its fields, plus the
verdict of :func:`crawler.flagging.flagger.flag` (the one the crawl uses): ``flagged``, ``score``,
``level``, ``reasons`` and ``lexicon_version``. A line that cannot be read is reported on
stderr with its number and skipped; the other listings are still written, and the exit
code is then 1.

With ``--jobs N`` (default: one per CPU) the listings are flagged by N worker processes,
in chunks; the output keeps the input's order. The workers receive records this process
decoded and send back the lines to write (plain strings and dicts, never data read from
outside as a pickle).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from crawler.decoding import DecodeError, decode_json
from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import Lexicon, load_lexicon

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable, Iterator

FORMATS = ("jsonl", "csv")
CHUNK = 500  # listings a worker flags at a time
# How a CSV cell may say that the platform marks the item as imported ("ya" = yes).
_TRUE_WORDS = frozenset({"true", "1", "yes", "ya", "y"})

Record = dict[str, Any]


class BadLine(ValueError):
    """One input line (or CSV row) that cannot be flagged."""

    def __init__(self, number: int, problem: str) -> None:
        super().__init__(f"line {number}: {problem}")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "flag", help="flag listings read from JSON Lines or CSV; write JSON Lines"
    )
    parser.add_argument(
        "file", nargs="?", default="-", help="listings to flag (default: - for stdin)"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="jsonl",
        help="input format (output is always JSON Lines)",
    )
    parser.add_argument(
        "--lexicon", type=Path, help="an investigator's lexicon file that extends the shipped one"
    )
    parser.add_argument(
        "--jobs", type=_jobs, default=os.cpu_count() or 1,
        help="worker processes that flag (default: one per CPU; 1 flags in this process)",
    )
    parser.set_defaults(run=run)


def _jobs(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise ValueError(f"--jobs must be a number from 1 to 64, not {text!r}")
    return int(text)


def run(args: argparse.Namespace) -> int:
    lexicon = load_lexicon(extra=args.lexicon)  # a malformed lexicon is refused here, once
    workers = Workers(args.jobs, args.lexicon)
    if args.file == "-":
        return flag_stream(sys.stdin.buffer, sys.stdout, sys.stderr, args.format, lexicon,
                           workers=workers)
    try:
        handle = Path(args.file).open("rb")  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise ValueError(f"cannot read {args.file}: {error.strerror}") from error
    with handle:
        return flag_stream(handle, sys.stdout, sys.stderr, args.format, lexicon,
                           source=args.file, workers=workers)


def flag_stream(
    data: BinaryIO,
    out: TextIO,
    errors: TextIO,
    fmt: str,
    lexicon: Lexicon,
    *,
    source: str = "<stdin>",
    workers: Workers | None = None,
) -> int:
    """Flag every listing of *data* into *out*; return 0, or 1 when some lines were skipped."""
    read = read_jsonl if fmt == "jsonl" else read_csv
    entries = (entry(item) for item in read(_decoded_lines(data)))
    written = flagged = skipped = 0
    if workers is None or workers.jobs == 1:
        chunks: Iterable[list[tuple[str, bool] | str]] = (
            flag_chunk(chunk, lexicon) for chunk in chunked(entries))
    else:
        chunks = workers.flagged(entries)
    for chunk in chunks:
        for result in chunk:
            if isinstance(result, str):
                errors.write(f"thriftwatch flag: {source}, {result}; skipped\n")
                skipped += 1
                continue
            line, was_flagged = result
            out.write(line)
            written += 1
            flagged += was_flagged
    out.flush()
    errors.write(
        f"thriftwatch flag: {written} listings written, {flagged} flagged, {skipped} skipped\n"
    )
    return 1 if skipped else 0


def entry(item: tuple[Record, Record] | BadLine) -> tuple[Record, Record] | str:
    """What a worker gets: a record and its flagger input, or why its line was skipped."""
    return str(item) if isinstance(item, BadLine) else item


def chunked(entries: Iterator[tuple[Record, Record] | str],
            ) -> Iterator[list[tuple[Record, Record] | str]]:
    while chunk := list(islice(entries, CHUNK)):
        yield chunk


def flag_chunk(entries: list[tuple[Record, Record] | str],
               lexicon: Lexicon) -> list[tuple[str, bool] | str]:
    """The output line of each entry (and whether it is flagged), or its reason to be skipped."""
    results: list[tuple[str, bool] | str] = []
    for item in entries:
        if isinstance(item, str):
            results.append(item)
            continue
        record, flag_input = item
        verdict = flag(flag_input, lexicon)
        line = json.dumps({**record, **verdict.as_dict()}, ensure_ascii=False, default=str)
        results.append((line + "\n", verdict.flagged))
    return results


class Workers:
    """Worker processes that flag chunks of entries, a few chunks ahead, in order."""

    def __init__(self, jobs: int, lexicon_file: Path | None) -> None:
        self.jobs, self.lexicon_file = jobs, lexicon_file

    def flagged(self, entries: Iterator[tuple[Record, Record] | str],
                ) -> Iterator[list[tuple[str, bool] | str]]:
        extra = None if self.lexicon_file is None else str(self.lexicon_file)
        with ProcessPoolExecutor(self.jobs, initializer=_load_worker_lexicon,
                                 initargs=(extra,)) as pool:
            ahead: deque[Future[list[tuple[str, bool] | str]]] = deque()
            for chunk in chunked(entries):
                ahead.append(pool.submit(_flag_in_worker, chunk))
                if len(ahead) > 2 * self.jobs:  # bounded: memory stays flat on any file
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()


_worker_lexicon: Lexicon | None = None


def _load_worker_lexicon(extra: str | None) -> None:
    global _worker_lexicon  # noqa: PLW0603 - one lexicon per worker process
    _worker_lexicon = load_lexicon(extra=extra)


def _flag_in_worker(entries: list[tuple[Record, Record] | str]) -> list[tuple[str, bool] | str]:
    assert _worker_lexicon is not None  # set by the pool's initializer
    return flag_chunk(entries, _worker_lexicon)


Line = tuple[int, "str | BadLine"]


def _decoded_lines(data: BinaryIO) -> Iterator[Line]:
    """Number and decode each line; a line that is not UTF-8 becomes a :class:`BadLine`."""
    for number, raw in enumerate(data, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield number, BadLine(number, f"not UTF-8 text (byte {error.start + 1})")
            continue
        yield number, text.lstrip("\ufeff") if number == 1 else text


def read_jsonl(lines: Iterable[Line]) -> Iterator[tuple[Record, Record] | BadLine]:
    """Each JSON object with its flagger input (the object itself), or the reason a line is bad."""
    for number, line in lines:
        if isinstance(line, BadLine):
            yield line
            continue
        if not line.strip():
            continue
        try:
            record = decode_json(line)
        except DecodeError as error:
            yield BadLine(number, f"not valid JSON ({error})")
            continue
        if not isinstance(record, dict):
            yield BadLine(number, f"expected a JSON object, found {type(record).__name__}")
        elif "title" not in record and "description" not in record:
            yield BadLine(number, "no 'title' or 'description'")
        else:
            yield record, record


def read_csv(lines: Iterable[Line]) -> Iterator[tuple[Record, Record] | BadLine]:
    """Each CSV row as a record (first row: field names) with its flagger input, or a bad row.

    Cells stay strings in the output; for the flagger, ``imported`` is read as a yes/no.
    """
    bad: list[BadLine] = []

    def texts() -> Iterator[str]:
        for _, line in lines:
            if isinstance(line, BadLine):
                bad.append(line)
                yield "\n"  # keeps the CSV reader's line count
            else:
                yield line

    reader = csv.reader(texts())
    header: list[str] | None = None
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            yield BadLine(reader.line_num, f"not valid CSV ({error})")
            start = reader.line_num + 1
            continue
        yield from bad
        bad.clear()
        number, start = start, reader.line_num + 1
        if not row or (header is None and not any(cell.strip() for cell in row)):
            continue
        if header is None:
            header = _header(row)
        elif len(row) != len(header):
            yield BadLine(number, f"expected {len(header)} fields, found {len(row)}")
        else:
            record = dict(zip(header, row, strict=False))
            yield (
                record,
                {**record, "imported": record.get("imported", "").strip().lower() in _TRUE_WORDS},
            )
    yield from bad


def _header(row: list[str]) -> list[str]:
    names = [name.strip() for name in row]
    if "title" not in names and "description" not in names:
        raise ValueError(
            f"the CSV header has no 'title' or 'description' column: {', '.join(names)}"
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"the CSV header repeats the column {duplicates[0]!r}")
    return names
