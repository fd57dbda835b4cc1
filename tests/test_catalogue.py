import re
import time
from collections import Counter

import pytest

from crawler.replica.catalogue import (
    ILLEGAL_KINDS,
    KINDS,
    MAX_RESULTS,
    MIN_RESULTS,
    build_catalogue,
    fold_text,
    search,
    truth,
)

EXPECTED_SHARES = {
    "plain": 0.30, "evasive": 0.20, "description_only": 0.10, "lookalike": 0.20, "ordinary": 0.20,
}
GIVEAWAY_WORDS = re.compile(
    r"\b(bal|ball|balpres|ballpress|karung\w*|bekas|impor|import|thrift\w*)\b"
)
KEYWORDS = [
    "balpres", "kaos", "xyz'; DROP TABLE--", "🤔", "b4lpres", 'kemeja "flanel"',
    "$(rm -rf /)", "  ",
]


@pytest.fixture(scope="module")
def catalogue():
    return build_catalogue()


def test_build_is_deterministic():
    uncached = build_catalogue.__wrapped__
    assert uncached(2026, 3000) == uncached(2026, 3000)
    assert uncached(2027, 3000) != uncached(2026, 3000)


def test_build_is_cached(catalogue):
    assert build_catalogue() is catalogue


def test_build_is_fast():
    started = time.perf_counter()
    build_catalogue.__wrapped__(7, 3000)
    assert time.perf_counter() - started < 1.0


def test_kind_mix(catalogue):
    counts = Counter(offer.kind for offer in catalogue)
    assert set(counts) == set(KINDS)
    for kind, share in EXPECTED_SHARES.items():
        assert abs(counts[kind] / len(catalogue) - share) <= 0.05, kind


def test_small_catalogue_keeps_its_size():
    assert len(build_catalogue(seed=1, size=7)) == 7


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_realistic_fields(catalogue, kind):
    offers = [offer for offer in catalogue if offer.kind == kind]
    assert offers
    for offer in offers:
        assert offer.illegal == (kind in ILLEGAL_KINDS)
        assert offer.title.strip()
        assert offer.description.strip()
        assert offer.price_idr > 0
        assert offer.city
        assert offer.seller_name
        assert offer.seller_slug
        assert re.fullmatch(r"[a-z0-9]+", offer.seller_slug)
        assert offer.sold_count >= 0
        assert offer.rating == 0.0 or 3.0 <= offer.rating <= 5.0
        assert offer.condition in {"Baru", "Bekas"}
        assert offer.category_breadcrumb.count("/") == 2
        assert offer.category_name
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", offer.posted_at)
        assert re.fullmatch(r"[0-9a-f]{32}", offer.image_key)


def test_bale_prices_are_in_millions(catalogue):
    bales = [
        offer
        for offer in catalogue
        if offer.kind == "plain" and fold_text(offer.title).startswith("balpres")
    ]
    assert bales
    assert all(3_000_000 - 100 <= offer.price_idr <= 14_000_000 for offer in bales)


def test_offer_ids_are_unique_and_follow_posting_time(catalogue):
    ids = [offer.offer_id for offer in catalogue]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert [offer.posted_at for offer in catalogue] == sorted(
        offer.posted_at for offer in catalogue
    )


def test_sellers_are_reused_and_specialised(catalogue):
    kinds_by_seller: dict[int, set[str]] = {}
    for offer in catalogue:
        kinds_by_seller.setdefault(offer.seller_id, set()).add(offer.kind)
    assert 250 <= len(kinds_by_seller) <= 350
    assert all(len(kinds) == 1 for kinds in kinds_by_seller.values())
    assert len({offer.seller_slug for offer in catalogue}) == len(kinds_by_seller)


def test_sold_counts_have_a_long_tail(catalogue):
    sold = sorted(offer.sold_count for offer in catalogue)
    assert sold[len(sold) // 2] < 100
    assert sold[-1] > 5_000


def test_some_evasive_titles_use_unicode_tricks(catalogue):
    evasive_titles = [offer.title for offer in catalogue if offer.kind == "evasive"]
    tricked = [title for title in evasive_titles if not title.isascii()]
    assert len(tricked) >= 20
    assert any(fold_text(title) != title.casefold() for title in tricked)


def test_description_only_titles_hide_the_trade(catalogue):
    offers = [offer for offer in catalogue if offer.kind == "description_only"]
    for offer in offers:
        assert not GIVEAWAY_WORDS.search(fold_text(offer.title)), offer.title
        assert GIVEAWAY_WORDS.search(fold_text(offer.description)), offer.description


@pytest.mark.parametrize("keyword", KEYWORDS)
def test_search_returns_unique_results_matches_first(catalogue, keyword):
    results = search(catalogue, keyword)
    assert MIN_RESULTS <= len(results) <= MAX_RESULTS
    assert len({offer.offer_id for offer in results}) == len(results)
    tokens = [token.strip("'\"$()-;/") for token in fold_text(keyword).split()]
    tokens = [token for token in tokens if token]

    def matches(offer):
        text = fold_text(offer.title) + " " + fold_text(offer.description)
        return bool(tokens) and all(token in text for token in tokens)

    flags = [matches(offer) for offer in results]
    assert flags == sorted(flags, reverse=True)
    assert search(catalogue, keyword) == results


def test_search_finds_balpres_with_title_matches_before_description_matches(catalogue):
    results = search(catalogue, "balpres")
    in_title = ["balpres" in fold_text(offer.title) for offer in results]
    assert in_title[0]
    assert in_title == sorted(in_title, reverse=True)


def test_search_folds_case_and_spacing(catalogue):
    assert search(catalogue, "  BALPRES ") == search(catalogue, "balpres")


def test_truth_maps_every_offer_to_its_kind(catalogue):
    kinds = truth(catalogue)
    assert len(kinds) == len(catalogue)
    assert all(kinds[offer.offer_id] == offer.kind for offer in catalogue)
