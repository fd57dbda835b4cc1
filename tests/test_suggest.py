"""``thriftwatch suggest-terms`` finds words flagged listings over-use, and accepted ones join
the lexicon."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

import pytest

from crawler.commands import suggest_terms
from crawler.evidence.store import EvidenceStore
from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import load_lexicon, search_terms
from crawler.flagging.suggest import candidates, covered_by_lexicon, log_odds_z, rank

if TYPE_CHECKING:
    from pathlib import Path

# "sortiran" = hand-sorted picks: a word the shipped lexicon does not know.
FLAGGED = [
    ("Balpres kaos sortiran korea", "isi 300 pcs, barang sortiran"),
    ("Bal jaket sortiran jepang", "sortiran grade A, per bal 100 kg"),
    ("Kemeja sortiran bekas impor", "sortiran pilihan, bekas impor"),
    ("Hoodie sortiran ex korea bekas", "kondisi 90%"),
    ("Balpres celana jeans", "isi 150 pcs per bal"),
]
OTHER = [
    ("Kaos polos cotton combed", "bahan adem, baru"),
    ("Kemeja flanel pria", "baru, ukuran M L XL"),
    ("Jaket bomber pria", "baru dengan tag"),
    ("Celana chino slim fit", "baru"),
    ("Hoodie polos fleece", "baru, sortir warna sendiri"),
]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "evidence.db"
    lexicon = load_lexicon()
    store = EvidenceStore(path)
    run_id = store.start_run(platform="tokopedia", keywords="balpres")
    for number, (title, description) in enumerate(FLAGGED + OTHER):
        listing = {
            "platform": "tokopedia",
            "listing_id": str(number),
            "title": title,
            "description": description,
        }
        store.add_observation(run_id, {**listing, **flag(listing, lexicon).as_dict()})
    store.close()
    return path


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    suggest_terms.add_parser(parser.add_subparsers())
    args = parser.parse_args(["suggest-terms", *argv])
    return args.run(args)


def test_candidates_are_folded_words_and_pairs() -> None:
    assert candidates("B4lpres Kaos, 100 kg!") == {"balpres", "kaos", "kg", "balpres kaos"}


def test_log_odds_z_sign() -> None:
    assert log_odds_z(20, 1, 1000, 1000, 21, 2000) > 2
    assert log_odds_z(1, 20, 1000, 1000, 21, 2000) < -2
    assert log_odds_z(10, 10, 1000, 1000, 20, 2000) == pytest.approx(0)


def test_lexicon_words_are_not_suggested() -> None:
    lexicon = load_lexicon()
    assert covered_by_lexicon("balpres", lexicon)
    assert covered_by_lexicon("balpres kaos", lexicon)  # a term and a clothing word
    assert covered_by_lexicon("ex korea", lexicon)  # an origin signal
    assert not covered_by_lexicon("sortiran", lexicon)
    assert covered_by_lexicon("bal vietnam", lexicon)  # a bale named by its country
    assert not covered_by_lexicon("bal sortiran", lexicon)


def test_rank_puts_the_new_word_first(db: Path) -> None:
    store = EvidenceStore(db)
    suggestions = rank(store.export_records(), load_lexicon())
    store.close()
    top = suggestions[0]
    assert top.term == "sortiran"
    assert (top.flagged, top.other) == (4, 0)
    assert len(top.examples) == 3
    assert all("sortiran" in title.lower() for title in top.examples)
    assert all(not covered_by_lexicon(s.term, load_lexicon()) for s in suggestions)


def test_command_prints_text_and_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--db", str(db), "--top", "3") == 0
    out = capsys.readouterr().out
    assert "z-score" in out
    assert "sortiran" in out
    assert "- Balpres kaos sortiran korea" in out
    assert run("--db", str(db), "--top", "2", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["suggestions"]) == 2
    assert data["suggestions"][0]["term"] == "sortiran"
    assert set(data["suggestions"][0]) == {"term", "z", "flagged", "other", "examples"}


def test_accepted_terms_join_the_user_lexicon_and_the_search(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = tmp_path / "user.toml"
    assert (
        run(
            "--db",
            str(db),
            "--accept",
            "sortiran",
            "--accept",
            "balpres",
            "--lexicon-file",
            str(user),
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "'balpres' is already in the lexicon" in err
    lexicon = load_lexicon(extra=user)
    assert search_terms(lexicon) == ["sortiran"]
    assert search_terms(load_lexicon()) == []
    term = next(term for term in lexicon.terms if term.term == "sortiran")
    assert term.strength == "medium"
    assert term.search
    assert "in 4 flagged, 0 other listings" in term.meaning
    # Accepted terms are no longer suggested, and a second accept adds to the same file.
    assert run("--db", str(db), "--json", "--lexicon-file", str(user)) == 0
    assert "sortiran" not in {s["term"] for s in json.loads(capsys.readouterr().out)["suggestions"]}
    assert (
        run(
            "--db",
            str(db),
            "--accept",
            "pilihan",
            "--accept",
            "sortiran",
            "--lexicon-file",
            str(user),
        )
        == 0
    )
    assert search_terms(load_lexicon(extra=user)) == ["sortiran", "pilihan"]
    assert user.read_text(encoding="utf-8").count("[[term]]") == 2


def test_accept_needs_a_lexicon_file_and_a_db(db: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--accept needs --lexicon-file"):
        run("--db", str(db), "--accept", "sortiran")
    with pytest.raises(ValueError, match="no evidence DB"):
        run("--db", str(tmp_path / "absent.db"))


def test_no_suggestion_without_unflagged_listings_to_compare_with() -> None:
    lexicon = load_lexicon()
    flagged = [{"title": "sortiran", "flagged": True}] * 5  # one word: its whole corpus
    assert rank(flagged, lexicon) == []
    assert rank([], lexicon) == []
