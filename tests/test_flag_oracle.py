"""The fast path gives the reference's verdicts, and the lexicon's literals hold.

``flag(record, lexicon)`` reads the fields joined and tries a rule only where its literals
are; ``flag(record, lexicon, prefilter=False)`` tries every rule on every field alone. The
reference is the specification: the two must agree on every record, those of the
regression corpus (tests/flag_corpus.py) and those hypothesis makes up.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import _letter_first, load_lexicon
from crawler.flagging.texts import FieldTexts
from tests.flag_corpus import TRICKS, WORDS, records

if TYPE_CHECKING:
    from crawler.flagging.rules import Lexicon


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, object]]:
    return records()


def test_the_fast_path_gives_the_reference_verdicts_on_the_regression_corpus(
    lexicon: Lexicon, corpus: list[dict[str, object]],
) -> None:
    assert len(corpus) > 10_000
    differing = [record for record in corpus
                 if flag(record, lexicon) != flag(record, lexicon, prefilter=False)]
    assert differing == []


words = st.sampled_from(WORDS)
tricks = st.sampled_from(TRICKS)
seller_text = st.lists(
    st.one_of(st.builds(lambda trick, word: trick(word), tricks, words),
              st.text(max_size=8), st.sampled_from(["\n", "\x00", " ", "|", "#", "🔥", "-"])),
    max_size=30,
).map(" ".join)
record = st.fixed_dictionaries(
    {"title": seller_text, "description": seller_text},
    optional={"category": seller_text, "location": seller_text,
              "condition": st.sampled_from(["Baru", "Bekas", "used", ""]),
              "imported": st.booleans()},
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=record)
def test_the_fast_path_gives_the_reference_verdicts_on_any_record(
    lexicon: Lexicon, record: dict[str, object],
) -> None:
    assert flag(record, lexicon) == flag(record, lexicon, prefilter=False)


def test_a_match_across_two_fields_is_not_taken(tmp_path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(
        '[meta]\nversion = "t"\n'
        '[[signal]]\nkind = "used"\nweight = 0.5\npatterns = [\'zqx[\\W_]*wvy\']\n'
        'literals = ["zqx"]\n', encoding="utf-8")
    lexicon = load_lexicon(extra=extra)
    across = {"title": "baju zqx", "description": "wvy"}
    within = {"title": "baju", "description": "zqx wvy"}
    for prefilter in (True, False):
        assert "signal:used" not in {r.rule for r in flag(across, lexicon, prefilter=prefilter)
                                     .reasons}
        assert "signal:used" in {r.rule for r in flag(within, lexicon, prefilter=prefilter)
                                 .reasons}


def every_rule(lexicon: Lexicon) -> list[tuple[str, re.Pattern[str],
                                               tuple[frozenset[str], ...] | None]]:
    return [
        *((f"term:{rule.term}", rule.matcher, rule.literals) for rule in lexicon.terms),
        *((f"signal:{rule.kind}", rule.matcher, rule.literals) for rule in lexicon.signals),
        *((f"negative:{rule.rule}", rule.matcher, rule.literals) for rule in lexicon.negatives),
        *((f"context:{rule.group}", rule.matcher, rule.literals) for rule in lexicon.context),
    ]


def test_every_match_holds_the_literals_its_rule_declares(
    lexicon: Lexicon, corpus: list[dict[str, object]],
) -> None:
    """What makes the prefilter exact: a rule whose literals are absent cannot match."""
    rules = every_rule(lexicon)
    assert all(literals for _, _, literals in rules)  # the shipped lexicon declares them all
    broken = set()
    texts = {text for record in corpus for text in FieldTexts(record, lexicon).fields if text}
    for text in texts:
        for name, matcher, literals in rules:
            for match in matcher.finditer(text):
                if not any(all(literal in match.group() for literal in alternative)
                           for alternative in literals or ()):
                    broken.add((name, match.group()))
    assert broken == set()


@settings(max_examples=300, deadline=None)
@given(text=seller_text)
def test_letter_first_patterns_match_as_the_patterns_written(
    lexicon: Lexicon, text: str,
) -> None:
    """The faster form of a pattern that opens with a word boundary finds the same."""
    patterns = [pattern for rule in (*lexicon.signals, *lexicon.negatives)
                for pattern in rule.patterns]
    assert any(_letter_first(pattern) != pattern for pattern in patterns)
    for pattern in patterns:
        written = re.compile(pattern, re.MULTILINE)
        faster = re.compile(_letter_first(pattern), re.MULTILINE)
        assert [m.span() for m in written.finditer(text)] == \
            [m.span() for m in faster.finditer(text)], pattern
