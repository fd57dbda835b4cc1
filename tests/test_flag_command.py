"""``thriftwatch flag`` keeps every input field, adds the verdict, and survives bad lines."""

from __future__ import annotations

import argparse
import io
import json
import sys
from typing import TYPE_CHECKING

import pytest

from crawler.commands import flag as flag_command
from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import LexiconError, load_lexicon

if TYPE_CHECKING:
    from pathlib import Path

VERDICT_FIELDS = {"flagged", "score", "level", "reasons", "lexicon_version"}


def run_flag(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    flag_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["flag", *argv])
    return args.run(args)


def output(capsys: pytest.CaptureFixture[str]) -> tuple[list[dict], str]:
    captured = capsys.readouterr()
    return [json.loads(line) for line in captured.out.splitlines()], captured.err


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


LISTINGS = [
    {
        "title": "Balpres kaos korea",
        "description": "isi 300 pcs",
        "price_idr": 4500000,
        "platform": "shopee",
        "seller": {"id": 7, "name": "Gudang"},
        "image_urls": ["a.jpg"],
    },
    {
        "title": "Kaos polos cotton combed",
        "description": "baru",
        "category": "fashion-pria/atasan-pria/kaos-pria",
    },
    {
        "title": "Kemeja flanel",
        "description": "",
        "condition": "Bekas",
        "imported": True,
        "location": "Batam",
    },
]


def test_every_field_is_kept_and_the_verdict_is_the_flaggers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write(tmp_path, "in.jsonl", "".join(json.dumps(record) + "\n" for record in LISTINGS))
    assert run_flag(str(source)) == 0
    records, err = output(capsys)
    lexicon = load_lexicon()
    assert len(records) == len(LISTINGS)
    for record, listing in zip(records, LISTINGS, strict=False):
        assert set(record) == set(listing) | VERDICT_FIELDS
        assert {key: record[key] for key in listing} == listing
        assert {key: record[key] for key in VERDICT_FIELDS} == flag(listing, lexicon).as_dict()
    assert [record["flagged"] for record in records] == [True, False, True]
    assert "3 listings written, 2 flagged, 0 skipped" in err


def test_malformed_lines_are_named_skipped_and_nothing_is_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        json.dumps(LISTINGS[0]),
        "{not json",
        "",
        "[1, 2]",
        '{"price_idr": 5}',
        json.dumps(LISTINGS[1]),
    ]
    source = write(tmp_path, "in.jsonl", "\n".join(lines) + "\n")
    source.write_bytes(
        source.read_bytes() + b"\xff\xfe broken\n" + json.dumps(LISTINGS[2]).encode() + b"\n"
    )
    assert run_flag(str(source)) == 1
    records, err = output(capsys)
    assert [record["title"] for record in records] == [
        LISTINGS[0]["title"],
        LISTINGS[1]["title"],
        LISTINGS[2]["title"],
    ]
    assert f"{source}, line 2: not valid JSON" in err
    assert "line 4: expected a JSON object, found list" in err
    assert "line 5: no 'title' or 'description'" in err
    assert "line 7: not UTF-8 text" in err
    assert "3 listings written, 2 flagged, 4 skipped" in err


def test_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = io.TextIOWrapper(
        io.BytesIO(("\ufeff" + json.dumps(LISTINGS[0]) + "\n").encode()), encoding="utf-8"
    )
    monkeypatch.setattr(sys, "stdin", data)
    assert run_flag("-") == 0
    records, _ = output(capsys)
    assert records[0]["level"] == "strong"


def test_csv_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(
        tmp_path,
        "in.csv",
        "title,description,condition,imported,price_idr\n"
        'Kemeja flanel,"kondisi 90%, bekas",Bekas,ya,35000\n'
        "Too,few\n"
        '"Jaket ""bomber""","baru\nbahan tebal",Baru,,150000\n',
    )
    assert run_flag("--format", "csv", str(source)) == 1
    records, err = output(capsys)
    assert [record["title"] for record in records] == ["Kemeja flanel", 'Jaket "bomber"']
    assert records[0]["imported"] == "ya"
    assert records[0]["price_idr"] == "35000"
    assert records[0]["flagged"] is True
    assert "signal:platform_used_imported" in {reason["rule"] for reason in records[0]["reasons"]}
    assert records[1]["description"] == "baru\nbahan tebal"
    assert records[1]["flagged"] is False
    assert "line 3: expected 5 fields, found 2" in err


def test_csv_without_text_columns_is_refused(tmp_path: Path) -> None:
    source = write(tmp_path, "in.csv", "name,price\nx,1\n")
    with pytest.raises(ValueError, match="no 'title' or 'description' column"):
        run_flag("--format", "csv", str(source))


def test_lexicon_option_extends_the_shipped_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = write(
        tmp_path,
        "kalbar.toml",
        '[[term]]\nterm = "baju gudang"\nstrength = "strong"\nweight = 0.85\n',
    )
    source = write(
        tmp_path, "in.jsonl", json.dumps({"title": "Baju gudang murah", "description": ""}) + "\n"
    )
    assert run_flag(str(source)) == 0
    assert output(capsys)[0][0]["flagged"] is False
    assert run_flag("--lexicon", str(extra), str(source)) == 0
    record = output(capsys)[0][0]
    assert record["flagged"] is True
    assert record["lexicon_version"].endswith("+kalbar")
    with pytest.raises(LexiconError):
        run_flag("--lexicon", str(write(tmp_path, "bad.toml", "[[term]]\n")), str(source))


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        run_flag(str(tmp_path / "absent.jsonl"))


def test_worker_processes_give_the_same_lines_in_the_same_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    lines = []
    for number in range(2 * flag_command.CHUNK + 7):  # several chunks, the last one short
        if number % 97 == 5:
            lines.append("{not json")
        else:
            listing = LISTINGS[number % len(LISTINGS)]
            lines.append(json.dumps({**listing, "n": number}))
    source = write(tmp_path, "many.jsonl", "\n".join(lines) + "\n")
    assert run_flag(str(source), "--jobs", "1") == 1
    one = capsys.readouterr()
    assert run_flag(str(source), "--jobs", "2") == 1
    two = capsys.readouterr()
    assert two.out == one.out
    assert two.err == one.err
    numbers = [json.loads(line)["n"] for line in two.out.splitlines()]
    assert numbers == sorted(numbers)
    assert len(numbers) == len(lines) - sum(line == "{not json" for line in lines)


def test_jobs_must_be_a_small_positive_number() -> None:
    with pytest.raises(SystemExit):
        run_flag("x.jsonl", "--jobs", "0")
