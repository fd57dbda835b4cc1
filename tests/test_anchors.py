"""The flagger's required-literal prefilter (crawler/flagging/_anchors.py) reads literals out
of CPython's parsed regexes. It may only skip text that cannot match, so every literal set
it derives must be necessary: each match holds one of each set's literals, and starts with
one of the derived starts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crawler.flagging._anchors import anchors, case_flag, required_literals
from crawler.flagging.lexicon import load_lexicon
from crawler.flagging.textnorm import fold

LABELLED = Path(__file__).parent / "data" / "labelled.jsonl"

ALPHABET = "abkl 1-"

literal = st.text(ALPHABET, min_size=1, max_size=4).map(re.escape)
atom = literal | st.sampled_from([r"[ab]", r"[a-k]", r"\d", r"\w", r"\s", ".", r"\b", r"[^a]"])


def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map(lambda pair: f"(?:{pair[0]}|{pair[1]})"),
        inner.map(lambda part: f"(?:{part})?"),
        inner.map(lambda part: f"(?:{part})+"),
        inner.map(lambda part: f"(?:{part})*"),
        inner.map(lambda part: f"(?:{part}){{1,2}}"),
        inner.map(lambda part: f"(?:{part}){{0,2}}"),
        inner.map(lambda part: f"({part})"),
        inner.map(lambda part: f"(?>{part})"),
        inner.map(lambda part: f"(?i:{part})"),
        inner.map(lambda part: f"(?={part})"),
        inner.map(lambda part: f"(?!{part})"),
        literal.map(lambda part: f"(?<!{part})"),
    )


patterns = st.recursive(atom, extend, max_leaves=8)
texts = st.text(ALPHABET + "AKc9", max_size=30)


def check_match(pattern: str, flags: int, text: str) -> None:
    compiled = re.compile(pattern, flags)
    required, starts = anchors(pattern, flags)
    for match in compiled.finditer(text):
        found = match.group()
        for literals in required:
            assert any(literal in found for literal in literals), (literals, found)
        if starts is not None:
            assert found.startswith(starts), (starts, found)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(patterns, st.sampled_from([0, re.IGNORECASE]), st.lists(texts, min_size=1, max_size=8))
def test_every_match_holds_the_derived_literals_and_starts(pattern, flags, samples):
    try:
        re.compile(pattern, flags)
    except re.error:
        assume(False)
    for text in samples:
        check_match(pattern, flags, text)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(patterns, st.data())
def test_strings_built_to_match_hold_the_derived_literals(pattern, data):
    """Random text rarely matches a long pattern: also try text made to contain a match."""
    try:
        made = st.from_regex(re.compile(pattern), fullmatch=False)
        text = data.draw(made)
    except (re.error, NotImplementedError, ValueError):
        assume(False)
    check_match(pattern, 0, text)


@pytest.mark.parametrize(("pattern", "expected"), [
    ("balpres", {"balpres"}),
    ("bal(?:pres)?", {"bal", "balpres"}),
    ("karung(?:an)?|bal", {"karung", "karungan", "bal"}),
    (r"\bimpor(?:t)?\b", {"impor", "import"}),
    (r"\d+\s*(?:kg|kilo)", {"kg", "kilo"}),
    (r"(?:ex|eks)\s+(?:korea|jepang)", {"korea", "jepang"}),
])
def test_known_patterns_give_their_literals(pattern, expected):
    required, _ = anchors(pattern, 0)
    assert expected in required


def test_what_cannot_be_known_is_none():
    assert required_literals([r"\w+"]) is None  # any word: no literal is required
    assert required_literals(["(?:bal)?"]) is None  # may match the empty string
    assert required_literals(["bal", r"\d+"]) is None  # one pattern of the two has none


def test_every_shipped_rule_matches_only_where_its_literals_are():
    """The shipped lexicon's patterns on the folded text of the labelled listings."""
    lexicon = load_lexicon()
    records = [json.loads(line) for line in LABELLED.read_text("utf-8").splitlines() if line]
    texts = [fold(f"{r.get('title') or ''} {r.get('description') or ''}") for r in records]
    matched = 0
    for rule in (*lexicon.signals, *lexicon.negatives):
        flags = case_flag(rule.patterns)
        for pattern in rule.patterns:
            for text in texts:
                before = matched
                matched += sum(1 for _ in re.finditer(pattern, text, flags))
                if matched > before:
                    check_match(pattern, flags, text)
    assert matched > 200  # the rules really met text
