"""The shipped lexicon loads; broken files are refused with file and line; extras extend it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import STRENGTHS, LexiconError, load_lexicon, search_terms

SHIPPED = Path(__file__).resolve().parents[1] / "crawler/data/lexicon.toml"

BASE = """\
[meta]
version = "test.1"

[scoring]
strong = 0.8
medium = 0.5
weak = 0.2
without_context_factor = 0.25
context_window = 6
corroborated_by = ["signal:used"]

[fuzzy]
min_length = 5
max_distance = 1
long_length = 8
long_max_distance = 2
weight_factor = 0.9
ordinary_words = []

[record]
used_conditions = ["bekas"]
used_weight = 0.15
imported_weight = 0.1
used_imported_weight = 0.6

[[term]]
term = "balpres"
strength = "strong"
weight = 0.9

[[context]]
group = "clothing"
words = ["baju"]
"""


def write(tmp_path: Path, text: str, name: str = "lexicon.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_lexicon_loads() -> None:
    lexicon = load_lexicon()
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", lexicon.version)
    again = load_lexicon(SHIPPED)  # a lexicon is compared by identity; its rules by value
    assert (again.terms, again.signals, again.negatives) == (
        lexicon.terms, lexicon.signals, lexicon.negatives)
    names = {term.term for term in lexicon.terms}
    assert {"balpres", "bal", "karungan", "thrift", "preloved", "cakar", "monza"} <= names
    assert all(term.strength in STRENGTHS and 0 <= term.weight <= 1 for term in lexicon.terms)
    assert {"sisa_ekspor", "negation", "baler_machine", "pribadi", "donasi", "kw"} <= {
        n.rule for n in lexicon.negatives
    }
    assert {"quantity", "origin", "used", "contact"} <= {s.kind for s in lexicon.signals}
    assert "baju" in next(group for group in lexicon.context if group.group == "clothing").words
    assert lexicon.sources["36"].startswith("https://")


def test_every_term_source_is_listed() -> None:
    lexicon = load_lexicon()
    for entry in (*lexicon.terms, *lexicon.signals, *lexicon.negatives):
        assert all(str(number) in lexicon.sources for number in entry.source), entry


def test_ambiguous_terms_are_marked() -> None:
    lexicon = load_lexicon()
    ambiguous = {term.term for term in lexicon.terms if term.needs_clothing_context}
    assert {"bal", "cakar", "butik", "bundle", "monza", "lelong", "roma"} <= ambiguous
    assert "balpres" not in ambiguous


def test_lexicon_is_immutable() -> None:
    lexicon = load_lexicon()
    with pytest.raises(AttributeError):
        lexicon.version = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        lexicon.sources["1"] = "x"  # type: ignore[index]


def test_minimal_file_loads(tmp_path: Path) -> None:
    lexicon = load_lexicon(write(tmp_path, BASE))
    assert lexicon.version == "test.1"
    assert flag({"title": "balpres baju"}, lexicon).flagged


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.mark.parametrize(
    ("broken", "fragment", "problem"),
    [
        (
            'term = "bal"\nstrength = "super"\nweight = 0.5',
            'strength = "super"',
            "unknown strength 'super'",
        ),
        ('strength = "medium"\nweight = 0.5', "[[term]]", "missing 'term'"),
        (
            'term = "bal"\nstrength = "medium"\nweight = "heavy"',
            'weight = "heavy"',
            "'weight' must be a number",
        ),
        ('term = "bal"\nstrength = "medium"\nweight = 1.5', "weight = 1.5", "between 0 and 1"),
        (
            'term = "bal"\nstrength = "medium"\nweight = 0.5\ncolour = "red"',
            'colour = "red"',
            "unknown field 'colour'",
        ),
        (
            'term = "bal"\nstrength = "medium"\nweight = 0.5\nvariants = "ball"',
            'variants = "ball"',
            "'variants' must be a list",
        ),
        (
            'term = "balpres"\nstrength = "strong"\nweight = 0.5',
            "[[term]]",
            "duplicate term 'balpres'",
        ),
    ],
)
def test_bad_term_is_refused_with_file_and_line(
    tmp_path: Path, broken: str, fragment: str, problem: str
) -> None:
    text = BASE + "\n[[term]]\n" + broken + "\n"
    path = write(tmp_path, text)
    with pytest.raises(LexiconError) as raised:
        load_lexicon(path)
    message = str(raised.value)
    expected_line = (
        len(text.splitlines()) - broken.count("\n") - 1
        if fragment == "[[term]]"
        else line_of(text, fragment)
    )
    assert message.startswith(f"{path}, line {expected_line}: [[term]] #2"), message
    assert problem in message
    assert isinstance(raised.value, ValueError)


def test_bad_regex_is_refused(tmp_path: Path) -> None:
    text = BASE + "\n[[negative]]\nrule = \"x\"\nweight = 0.1\npatterns = ['ok', '(unclosed']\n"
    with pytest.raises(
        LexiconError,
        match=rf"line {line_of(text, 'patterns =')}: \[\[negative\]\] #1: pattern 2 is not a valid",
    ):
        load_lexicon(write(tmp_path, text))


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = BASE + '\n[[term]]\nterm = "bal\nstrength = "medium"\n'
    path = write(tmp_path, text)
    line = text.splitlines().index('term = "bal') + 1
    with pytest.raises(
        LexiconError, match=rf"^{re.escape(str(path))}, line {line}: not valid TOML"
    ):
        load_lexicon(path)


def test_missing_settings_and_unknown_tables_are_refused(tmp_path: Path) -> None:
    without_scoring = re.sub(r"\[scoring\].*?\n\n", "", BASE, flags=re.DOTALL)
    with pytest.raises(LexiconError, match=r"missing table \[scoring\]"):
        load_lexicon(write(tmp_path, without_scoring))
    with pytest.raises(LexiconError, match=r"line 1: unknown table 'words'"):
        load_lexicon(write(tmp_path, "[words]\nbaju = 1\n" + BASE))
    with pytest.raises(LexiconError, match="cannot read"):
        load_lexicon(tmp_path / "absent.toml")


def test_context_factor_must_keep_unrelated_listings_unflagged(tmp_path: Path) -> None:
    text = BASE.replace("without_context_factor = 0.25", "without_context_factor = 0.9")
    with pytest.raises(
        LexiconError, match=rf"line {line_of(text, 'without_context_factor')}: \[scoring\]"
    ):
        load_lexicon(write(tmp_path, text))


def test_investigator_extra_file_adds_and_overrides(tmp_path: Path) -> None:
    extra = write(
        tmp_path,
        """\
[meta]
version = "kalbar-2026"

[[term]]
term = "baju gudang"
meaning = "local slang seen in Kalimantan Barat listings"
strength = "strong"
weight = 0.85

[[term]]
term = "Thrift"
strength = "weak"
weight = 0.1

[[negative]]
rule = "seragam_sekolah"
weight = 0.5
patterns = ['seragam\\s+sekolah']

[[context]]
group = "clothing"
words = ["singlet"]
""",
        "kalbar.toml",
    )
    base = load_lexicon()
    lexicon = load_lexicon(extra=extra)
    assert lexicon.version == f"{base.version}+kalbar-2026"
    assert len(lexicon.terms) == len(base.terms) + 1
    assert next(term for term in lexicon.terms if term.term.lower() == "thrift").weight == 0.1
    assert flag({"title": "baju gudang murah"}, lexicon).flagged
    assert not flag({"title": "baju gudang murah"}, base).flagged
    assert not flag({"title": "kaos thrift"}, lexicon).flagged
    assert flag({"title": "kaos thrift"}, base).flagged
    assert flag({"title": "balpres singlet"}, lexicon).flagged
    assert "negative:seragam_sekolah" in {
        r.rule for r in flag({"title": "seragam sekolah"}, lexicon).reasons
    }


def test_extra_file_without_version_uses_its_name(tmp_path: Path) -> None:
    extra = write(
        tmp_path, '[[term]]\nterm = "x-bal"\nstrength = "medium"\nweight = 0.4\n', "local.toml"
    )
    assert load_lexicon(extra=extra).version.endswith("+local")


def test_bad_extra_file_is_named(tmp_path: Path) -> None:
    extra = write(
        tmp_path,
        '[[term]]\nterm = "x"\nstrength = "strong"\nweight = 0.5\n\n[scoring]\nstrong = 0.1\n',
        "extra.toml",
    )
    with pytest.raises(
        LexiconError, match=rf"^{re.escape(str(extra))}, line 6: unknown table 'scoring'"
    ):
        load_lexicon(extra=extra)


def test_variant_without_letters_is_refused(tmp_path: Path) -> None:
    text = (
        BASE
        + '\n[[term]]\nterm = "bal"\nvariants = ["ball", "--"]\nstrength = "medium"\nweight = 0.5\n'
    )
    with pytest.raises(
        LexiconError,
        match=(
            rf"line {line_of(text, 'variants =')}: \[\[term\]\] #2: "
            r"'--' in 'variants' has no letters"
        ),
    ):
        load_lexicon(write(tmp_path, text))


def test_combination_rules_are_checked(tmp_path: Path) -> None:
    good = (
        BASE
        + '\n[[combination]]\nrule = "both"\nweight = 0.3\n'
        'all_of = [["signal:used"], ["term:balpres"]]\n'
    )
    assert load_lexicon(write(tmp_path, good)).combinations[0].all_of == (
        ("signal:used",),
        ("term:balpres",),
    )
    twice = (
        BASE
        + '\n[[combination]]\nrule = "both"\nweight = 0.3\n'
        'all_of = [["signal:used"], ["signal:used"]]\n'
    )
    with pytest.raises(
        LexiconError, match=r"\[\[combination\]\] #1: a rule may appear in only one 'all_of' group"
    ):
        load_lexicon(write(tmp_path, twice))
    unknown = BASE + '\n[[combination]]\nrule = "both"\nweight = 0.3\nall_of = [["used"]]\n'
    with pytest.raises(LexiconError, match="starting with 'term:' or 'signal:'"):
        load_lexicon(write(tmp_path, unknown))


def test_used_and_foreign_said_apart_is_the_banned_combination() -> None:
    result = flag(
        {"title": "Jaket kulit wanita", "description": "bekas, ex italia"}, load_lexicon()
    )
    assert result.flagged
    assert "combination:used_foreign" in {reason.rule for reason in result.reasons}


def test_search_marks_terms_for_the_crawl(tmp_path: Path) -> None:
    extra = write(
        tmp_path,
        '[[term]]\nterm = "sortiran"\nstrength = "medium"\nweight = 0.45\nsearch = true\n',
        "user.toml",
    )
    assert search_terms(load_lexicon(extra=extra)) == ["sortiran"]
    assert search_terms(load_lexicon()) == []


def test_new_rule_attributes_load_and_old_files_keep_their_meaning(tmp_path: Path) -> None:
    text = BASE + (
        '\n[[term]]\nterm = "bal"\nstrength = "medium"\nweight = 0.5\n'
        'needs_clothing_context = true\n'
        '\n[[term]]\nterm = "cakar"\nstrength = "strong"\nweight = 0.75\n'
        'needs_clothing_context = true\nneeds_corroboration = false\n'
        '\n[[term]]\nterm = "karungan"\nstrength = "medium"\nweight = 0.45\n'
        'needs_clothing_context = true\ncorroborated_by = ["signal:used"]\nclothing = true\n'
        '\n[[negative]]\nrule = "buku"\nweight = 0.8\ndecisive = true\n'
        "patterns = ['\\bbuku\\b']\n"
    )
    lexicon = load_lexicon(write(tmp_path, text))
    bal, cakar, karungan = lexicon.terms[1:]
    # an old file's "needs_clothing_context" still means both: a clothing word and a cue
    assert (bal.needs_clothing_context, bal.needs_corroboration, bal.clothing) == (
        True, True, False)
    assert (cakar.needs_clothing_context, cakar.needs_corroboration) == (True, False)
    assert karungan.corroborated_by == frozenset({"signal:used"})
    assert karungan.clothing
    assert lexicon.negatives[0].decisive
    assert lexicon.clothing_rules == frozenset({"term:karungan"})
    assert lexicon.scoring.negatives_cap == 1.0  # not capped unless the file says so


def test_short_forms_and_emoji_tables_are_checked(tmp_path: Path) -> None:
    good = (BASE + '\n[abbreviations]\nwords = ["bekas"]\nordinary_words = ["bks"]\n'
            '\n[emoji]\n"👕" = "kaos"\n')
    lexicon = load_lexicon(write(tmp_path, good))
    assert lexicon.abbreviations.expand("bkas bks") == "bekas bks"
    assert lexicon.emoji[ord("👕")] == " kaos "
    two = BASE + '\n[emoji]\n"👕👖" = "kaos"\n'
    with pytest.raises(LexiconError, match="one emoji character to a word"):
        load_lexicon(write(tmp_path, two))
    not_words = BASE + '\n[abbreviations]\nwords = "bekas"\n'
    with pytest.raises(LexiconError, match=r"\[abbreviations\]"):
        load_lexicon(write(tmp_path, not_words))


def test_a_look_alike_contradicted_by_other_rules_must_not_mask(tmp_path: Path) -> None:
    negative = ('\n[[negative]]\nrule = "x"\nweight = 0.1\nmask = true\n'
                "contradicted_by = [\"signal:used\"]\npatterns = ['ok']\n")
    with pytest.raises(LexiconError, match="cannot be contradicted"):
        load_lexicon(write(tmp_path, BASE + negative))
    wrong = negative.replace("mask = true", "mask = false").replace("signal:used", "used")
    with pytest.raises(LexiconError, match="must start with 'term:'"):
        load_lexicon(write(tmp_path, BASE + wrong))


def test_literals_may_be_texts_a_match_holds_all_of(tmp_path: Path) -> None:
    signal = ('\n[[signal]]\nkind = "stock"\nweight = 0.1\n'
              "patterns = ['ready \\d+ pcs']\nliterals = [[\"ready\", \"pcs\"]]\n")
    lexicon = load_lexicon(extra=write(tmp_path, '[meta]\nversion = "t"\n' + signal))
    stock = next(rule for rule in lexicon.signals if rule.kind == "stock"
                 and rule.literals == (frozenset({"ready", "pcs"}),))
    assert stock.matcher.search("ready 300 pcs")
    opened = lexicon.prefilter.candidates("kaos ready stock")["signal"]
    assert lexicon.signals.index(stock) not in opened
    assert lexicon.signals.index(stock) in lexicon.prefilter.candidates("ready 300 pcs")["signal"]
    for broken in ('[["ready", 1]]', "[[]]", '"ready"', "[]"):
        with pytest.raises(LexiconError, match="'literals' must list text"):
            load_lexicon(write(tmp_path, BASE + signal.replace('[["ready", "pcs"]]', broken)))
