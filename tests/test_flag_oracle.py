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
from crawler.flagging.lexicon import _alternation, _letter_first, _spread, load_lexicon
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
    """The faster forms of a pattern that opens with a word boundary find the same: the
    pattern opening with a letter, and its alternatives each opening with one; and so does
    each rule's one regex for all its patterns."""
    rules = (*lexicon.signals, *lexicon.negatives)
    patterns = [pattern for rule in rules for pattern in rule.patterns]
    assert any(_letter_first(pattern) != pattern for pattern in patterns)
    assert any(len(_spread(pattern)) > 1 for pattern in patterns)
    for pattern in patterns:
        written = spans(re.compile(pattern, re.MULTILINE), text)
        assert written == spans(re.compile(_letter_first(pattern), re.MULTILINE), text), pattern
        assert written == spans(re.compile("|".join(_spread(pattern)), re.MULTILINE), text), \
            pattern
    assert any(_alternation(rule.patterns) != "|".join(rule.patterns) for rule in rules)
    for rule in rules:
        written = "|".join(f"(?:{pattern})" for pattern in rule.patterns)
        assert spans(re.compile(written, re.MULTILINE), text) == spans(rule.matcher, text), \
            rule.name


def test_a_spread_pattern_keeps_the_order_of_its_alternatives() -> None:
    """Leftmost first: at one position the first alternative that matches wins, so the
    spread alternatives keep the order in which the pattern tries them."""
    assert _spread(r"\b(?:di)?jual|\bbal(?:pres)?") == [
        r"dijual(?<!\w.{6})", r"jual(?<!\w.{4})", r"bal(?<!\w.{3})(?:pres)?"]
    assert _spread(r"(?<!x)\b(?:ab|a)c") == [r"abc(?<!\w.{3})(?<!(?:x).{3})",
                                             r"ac(?<!\w.{2})(?<!(?:x).{2})"]
    # a repeated group, a lazy or possessive optional one, and groups that capture stay whole
    assert _spread(r"\b(?:ab)+c") == [r"\b(?:ab)+c"]
    assert _spread(r"\b(?:ab)??c") == [r"\b(?:ab)??c"]
    assert _spread(r"\b(ab)\1") == [r"(?:\b(ab)\1)"]
    # a look-behind holding alternatives stays one look-behind when moved
    moved = _spread(r"(?<!ab |cd )\bxy")
    assert moved == [r"xy(?<!\w.{2})(?<!(?:ab |cd ).{2})"]
    assert spans(re.compile(moved[0]), "ab xy cd xy ef xy") == [(15, 17)]
    # a '|' inside a class or escaped does not cut the pattern
    assert _spread(r"\b[|]x|\by\|z") == [r"\b[|]x", r"y(?<!\w.{1})\|z"]


def spans(matcher: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [match.span() for match in matcher.finditer(text)]
