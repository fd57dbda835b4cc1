"""The labelled set is sound and the flagger meets its precision and recall targets on it."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import pytest

from crawler.commands import eval as eval_command
from crawler.flagging.evaluate import Counts, evaluate, read_labelled
from crawler.flagging.lexicon import load_lexicon

LABELLED = Path(__file__).parent / "data/labelled.jsonl"
ILLEGAL_KINDS = {"plain", "evasive", "description_only"}
LEGAL_KINDS = {"lookalike", "other"}


@pytest.fixture(scope="module")
def labelled() -> list[dict]:
    return read_labelled(LABELLED.read_text(encoding="utf-8").splitlines(), str(LABELLED))


def test_labelled_set_is_large_varied_and_consistent(labelled: list[dict]) -> None:
    assert len(labelled) >= 400
    kinds = Counter(record["kind"] for record in labelled)
    assert set(kinds) == ILLEGAL_KINDS | LEGAL_KINDS
    assert min(kinds.values()) >= 50
    for record in labelled:
        assert record["label"] is (record["kind"] in ILLEGAL_KINDS), record
        assert record["title"].strip()
        assert "description" in record
    titles = [record["title"] for record in labelled]
    assert len(set(titles)) == len(titles)


def test_flagger_meets_the_targets(labelled: list[dict]) -> None:
    result = evaluate(labelled, load_lexicon())
    overall = result.overall
    assert overall.precision >= 0.95, [m.record["title"] for m in result.mistakes]
    assert overall.recall >= 0.92, [m.record["title"] for m in result.mistakes]
    for kind in LEGAL_KINDS:
        assert result.by_kind[kind].false_positive_rate <= 0.05


def test_counts() -> None:
    counts = Counts()
    for label, flagged in [
        (True, True),
        (True, True),
        (True, False),
        (False, True),
        (False, False),
    ]:
        counts = counts.add(label, flagged)
    assert (
        counts.true_positives,
        counts.false_positives,
        counts.false_negatives,
        counts.true_negatives,
    ) == (2, 1, 1, 1)
    assert counts.precision == pytest.approx(2 / 3)
    assert counts.recall == pytest.approx(2 / 3)
    assert counts.f1 == pytest.approx(2 / 3)
    assert counts.false_positive_rate == pytest.approx(0.5)
    assert Counts().precision is None
    assert Counts().f1 is None
    assert Counts().add(False, False).recall is None


def test_bad_labelled_line_is_named() -> None:
    with pytest.raises(ValueError, match=r"set\.jsonl, line 2: not valid JSON"):
        read_labelled(['{"title": "a", "kind": "plain", "label": true}', "{oops"], "set.jsonl")
    with pytest.raises(ValueError, match="line 1: a labelled listing needs 'kind'"):
        read_labelled(['{"title": "a", "kind": "plain", "label": "yes"}'])


def run_eval(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    eval_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["eval", *argv])
    return args.run(args)


def test_eval_command_prints_overall_and_per_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_eval(str(LABELLED)) == 0
    out = capsys.readouterr().out
    assert "precision" in out
    assert "recall" in out
    assert "F1" in out
    assert "FP rate" in out
    for kind in ("overall", *ILLEGAL_KINDS, *LEGAL_KINDS):
        assert any(line.startswith(kind) for line in out.splitlines()), kind


def test_eval_command_json_and_mistakes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = tmp_path / "small.jsonl"
    small.write_text(
        "\n".join(
            json.dumps(record)
            for record in [
                {"title": "Balpres kaos korea", "description": "", "kind": "plain", "label": True},
                {
                    "title": "Kaos polos cotton combed",
                    "description": "",
                    "kind": "evasive",
                    "label": True,
                },
                {
                    "title": "Kemeja sisa ekspor baru",
                    "description": "",
                    "kind": "lookalike",
                    "label": False,
                },
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    assert run_eval(str(small), "--json", "--mistakes") == 0
    out = capsys.readouterr().out
    figures = json.loads(out[: out.rindex("}") + 1])
    assert figures["overall"]["precision"] == 1.0
    assert figures["overall"]["recall"] == 0.5
    assert figures["by_kind"]["lookalike"]["false_positive_rate"] == 0.0
    assert "missed [evasive]" in out
    assert "Kaos polos cotton combed" in out


def test_eval_command_without_a_file_scores_every_shipped_set_by_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_eval() == 0
    out = capsys.readouterr().out
    names = [path.name for path in eval_command.SHIPPED_SETS]
    # every labelled set in tests/data is shipped, none named twice
    assert sorted(names) == sorted(path.name for path in LABELLED.parent.glob("*.jsonl"))
    for name in names:
        assert f"{name}: lexicon" in out
    assert out.count("\noverall ") + out.startswith("overall") == len(names)
    assert out.count("\nevasive ") == len(names)
    assert out.count("\nlookalike ") == len(names)


def test_eval_command_json_for_several_sets(capsys: pytest.CaptureFixture[str]) -> None:
    independent = LABELLED.with_name("independent.jsonl")
    assert run_eval(str(LABELLED), str(independent), "--json") == 0
    figures = json.loads(capsys.readouterr().out)
    assert [entry["file"] for entry in figures["sets"]] == [str(LABELLED), str(independent)]
    assert all("evasive" in entry["by_kind"] for entry in figures["sets"])
