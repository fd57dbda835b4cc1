"""The speed-ups under the flagger keep its meaning: shared word regexes match as the plain
alternation, chunk-by-chunk folding equals folding the whole text, gates never hide a
match, and the scanner's caches stay bounded."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.flagging._index import ALWAYS
from crawler.flagging._scan import Remembered
from crawler.flagging._wordregex import required_parts, words_matcher
from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import load_lexicon
from crawler.flagging.textnorm import fold, fold_together, prepared_chunks

MANY = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
LEXICON = load_lexicon()

# Few letters, so that spellings share starts and overlap; spaces split them into parts.
words = st.lists(st.text("ab ", min_size=1, max_size=6).filter(str.strip), min_size=1, max_size=8)
texts = st.text("ab -_.1", max_size=30)


def plain_matcher(words: list[str]) -> re.Pattern[str]:
    """The regex words_matcher stands for: every spelling, longest first, as alternatives."""
    forms = {fold(word) for word in words}
    alternatives = sorted(
        "[\\W_]*".join(map(re.escape, re.findall(r"[^\W_]+", form))) for form in forms
    )
    return re.compile(
        r"(?<![^\W_])(?:" + "|".join(sorted(alternatives, key=len, reverse=True)) + r")(?![^\W_])"
    )


@MANY
@given(words, texts)
@example(
    ["qqxx ww vv", "qq xx yy", "qqxxyy zz"], "qqxxyy zz"
)  # "qq xx yy" stays ahead of "qqxxyy zz"
def test_shared_word_regex_matches_like_the_plain_alternation(
    spellings: list[str], text: str
) -> None:
    shared, plain = words_matcher(spellings), plain_matcher(spellings)
    assert [m.span() for m in shared.finditer(text)] == [m.span() for m in plain.finditer(text)]
    for start in range(len(text)):
        for end in range(start, len(text) + 1):
            assert bool(shared.search(text, start, end)) == bool(plain.search(text, start, end))


def test_shared_word_regex_prefers_the_longer_spelling() -> None:
    matcher = words_matcher(["bal", "bal segel", "ball"])
    assert [m.group() for m in matcher.finditer("bal-segel, ball, bal, balsegel, bola")] == [
        "bal-segel",
        "ball",
        "bal",
        "balsegel",
    ]
    assert words_matcher(["kaos kaki", "kaos"]).pattern.count("k(?<") == 1  # one branch for "k"


def test_every_match_holds_a_required_part() -> None:
    spellings = ["bal segel", "ball import", "bal thrift"]
    for text in ["bal segel", "ball-import", "balthrift"]:
        match = words_matcher(spellings).search(text)
        assert match
        assert all(
            any(part in match.group() for part in parts) for parts in required_parts(spellings)
        )


@MANY
@given(st.text(st.sampled_from("ab l4$#@.\t\n𝐛а\u200b"), max_size=40))
def test_folding_chunk_by_chunk_equals_folding_the_whole_text(text: str) -> None:
    chunks, apart = prepared_chunks(text)
    whole = " ".join(fold_together(chunks))
    assert fold(text) == whole
    if apart:
        assert " ".join(fold(chunk) for chunk in chunks) == whole


def test_words_split_by_spaces_fold_together() -> None:
    assert prepared_chunks("b a l p r e s murah")[1] is False
    assert fold("b a l p r e s murah") == "balpres murah"
    assert prepared_chunks("kaos ukuran s m l")[1] is False
    assert fold("kaos ukuran s m l") == "kaos ukuran sml"
    assert prepared_chunks("kaos size m l")[1] is True  # two lone letters are no split word
    assert prepared_chunks("kaos t-shirt 4 x 5")[1] is True


def test_remembered_keeps_two_generations_and_forgets_the_rest() -> None:
    calls: list[int] = []
    cache: Remembered[int, int] = Remembered(lambda key: calls.append(key) or key * 10, limit=3)
    assert [cache[key] for key in (1, 2, 3)] == [10, 20, 30]
    assert cache[4] == 40
    assert len(cache) == 1
    assert set(cache.older) == {1, 2, 3}
    assert cache[1] == 10
    assert calls == [1, 2, 3, 4]
    for key in (5, 6, 7):
        cache[key]
    assert 2 not in cache
    assert 2 not in cache.older
    assert cache[2] == 20
    assert calls[-1] == 2


def test_plans_list_only_parts_whose_gates_are_open() -> None:
    index = LEXICON.index
    assert index.plan(ALWAYS).terms == ()
    field = LEXICON.scanner.field("Balpres kaos ex Korea, isi 100 pcs")
    terms = [LEXICON.terms[number].term for number, _ in field.plan.terms]
    assert "balpres" in terms
    assert "thrift" not in terms
    assert all(part.gates & field.gates == part.gates for _, part in field.plan.terms)


def test_scanner_with_small_caches_gives_the_same_verdicts() -> None:
    small, fresh = load_lexicon(), load_lexicon()
    for cache in (
        small.scanner.chunks,
        small.scanner.folded,
        small.scanner.repeated,
        small.scanner.plans,
    ):
        cache.limit = 50
    for number in range(1_500):
        record = {
            "title": f"kaos bekas {number % 7} ex korea kode{number}x",
            "description": f"stok {number * 7919}",
            "category": f"fashion/{number % 90}",
            "location": "Batam",
        }
        assert flag(record, small) == flag(record, fresh)
    for cache in (
        small.scanner.chunks,
        small.scanner.folded,
        small.scanner.repeated,
        small.scanner.plans,
    ):
        assert len(cache) <= 50
        assert len(cache.older) <= 50
