"""Misspelt and shortened words: typos of strong terms, vowel-dropped short forms, words
written backwards."""

from __future__ import annotations

from crawler.flagging.flagger import flag
from crawler.flagging.lexicon import load_lexicon
from crawler.flagging.spelling import Abbreviations, Typos, vowel_dropped
from crawler.flagging.texts import prepared
from crawler.flagging.words import reversed_spellings


def test_short_forms_drop_one_inner_vowel_or_all_of_them() -> None:
    assert vowel_dropped("bekas") == ["bkas", "beks", "bks"]
    assert vowel_dropped("import") == ["imprt"]
    assert "krea" in vowel_dropped("korea")
    # dropping only some of several vowels makes ordinary words: "pakan" (feed)
    assert "pakan" not in vowel_dropped("pakaian")
    # too short to be told apart: two letters, or three with a vowel
    assert all(len(form) >= 3 for form in vowel_dropped("baju"))
    assert vowel_dropped("sepatu") == ["spatu", "septu", "sptu"]


def test_abbreviations_are_written_out_as_whole_words_only() -> None:
    short = Abbreviations(["bekas", "import", "karung"], ordinary_words=["krng"])
    assert short.expand("kemeja bks imprt") == "kemeja bekas import"
    assert short.expand("bksx xbks bks-an") == "bksx xbks bekas-an"
    assert short.expand("1 krng") == "1 krng"  # listed as ordinary: left alone
    assert short.expand("") == ""


def test_typos_are_remembered_but_found_the_same() -> None:
    typos = Typos([("balpres", 0)], min_length=5, max_distance=1, long_length=8,
                  long_max_distance=2, ordinary_words=["balpen"])
    assert typos.in_texts("jual ballpers", "blapres kaos") == [(0, "ballpers"), (0, "blapres")]
    assert typos.in_texts("jual ballpers", "blapres kaos") == [(0, "ballpers"), (0, "blapres")]
    assert typos.in_texts("balpen kaos express") == []


def test_strong_terms_are_also_matched_backwards() -> None:
    assert reversed_spellings(["balpres", "bal segel", "bal"]) == ("serplab",)
    lexicon = load_lexicon()
    assert flag({"title": "SERPLAB Korea isi 300 (baca dr belakang)"}, lexicon).flagged


def test_the_shipped_short_forms_flag_what_the_words_would() -> None:
    lexicon = load_lexicon()
    short = flag({"title": "Kemeja Bkas Imprt 30pcs dr krng"}, lexicon)
    full = flag({"title": "Kemeja bekas import 30pcs dr karung"}, lexicon)
    assert short.flagged
    assert short.score == full.score
    assert not flag({"title": "Jalan-jalan ke Jkt"}, lexicon).reasons


def test_a_symbol_or_a_space_inside_a_word_still_matches_it() -> None:
    from crawler.flagging.words import split_spellings

    assert split_spellings(["karung", "bal"]) == ("ka rung", "kar ung", "karu ng")
    lexicon = load_lexicon()
    for title in ("kar.ungan baju bekas", "ba-lpres kaos", "kemeja thr🔥ift ex korea 100 pcs",
                  "se karung baju bekas"):
        assert flag({"title": title}, lexicon).flagged, title
    # a weak term is not split: "vin tage" stays two words
    assert "term:vintage" not in {r.rule for r in flag({"title": "vin tage kaos"}, lexicon).reasons}


def test_words_written_backwards_or_scrambled_are_read_as_the_words() -> None:
    lexicon = load_lexicon()
    words = lexicon.abbreviations
    assert words.expand("sakeb ropmi") == "bekas impor"  # read from the back
    assert words.expand("kraung japeng kmejea,") == "karung jepang kemeja,"  # inner letters
    assert words.expand("kurang sekurang-kurangnya") == "kurang sekurang-kurangnya"  # words
    assert words.expand("brg lr ngr") == "barang luar negeri"  # listed short forms
    assert flag({"title": "tekaj sakeb ropmi 1 krg isi 100 pcs"}, lexicon).flagged


def test_doubled_letters_and_words_run_together_are_read_as_the_words() -> None:
    words = Abbreviations(["bekas", "karung", "import"], ordinary_words=["ballpress"],
                          joinable=["baju", "kaos", "jas"])
    assert words.expand("karrung bekass imporrt") == "karung bekas import"
    assert words.expand("karungbajubekas #kaosimport") == "karung baju bekas #kaos import"
    # only runs made wholly of listed or clothing words, three letters or more each, are cut
    assert words.expand("jasmine bajuku bekasnya ballpress") == (
        "jasmine bajuku bekasnya ballpress")
    lexicon = load_lexicon()
    for title in ("Karrung Baju Bekass Jepang isi 300", "#bajubekasimport #karungkorea 100kg"):
        assert flag({"title": title}, lexicon).flagged, title
    clothes = flag({"title": "Kemejaflanel pria", "description": "celanajeans"}, lexicon)
    assert {reason.rule for reason in clothes.reasons} == {"context:clothing"}  # words only
    assert clothes.level == "none"


def test_an_emoji_read_as_a_word_is_dropped_where_it_splits_a_word() -> None:
    lexicon = load_lexicon()
    assert prepared("1 ka🎒\ufe0frung, bal👕pres", lexicon) == "1 karung, balpres"
    split = flag({"title": "Bal👕pres anak", "description": "1 ka🎒rung isi 500 pcs"}, lexicon)
    assert "term:balpres" in {reason.rule for reason in split.reasons}
    # between words, it is still read as its word: a clothing word here
    between = flag({"title": "Karungan 👕👖 ex Korea isi 300 pcs"}, lexicon)
    assert between.flagged
    assert "context:clothing" in {reason.rule for reason in between.reasons}


def test_a_listed_word_opening_with_a_leet_digit_is_read_as_the_word() -> None:
    lexicon = load_lexicon()
    assert prepared("1MP0RT 5econd kemeja", lexicon) == "import second kemeja"
    # a number before a word that is no listed word stays a number and a word
    assert prepared("3kemeja 7hari 1kg", lexicon) == "3kemeja 7hari 1kg"
    assert flag({"title": "S3C0ND 1MP0RT Kemeja Flanel"}, lexicon).flagged


def test_an_emoji_standing_for_a_letter_is_dropped_where_the_word_is_known() -> None:
    lexicon = load_lexicon()
    assert prepared("thr🌸ft bek🔥s imp🅾️r", lexicon) == "thrift bekas impor"
    # elsewhere an emoji still separates words
    assert prepared("bal🔥korea", lexicon) == "bal korea"


def test_chat_misspellings_of_listed_words_are_written_out() -> None:
    lexicon = load_lexicon()
    assert prepared("kmj sekon impot", lexicon) == "kemeja sekon impor"
    assert prepared("trifft tripting", lexicon) == "thrift thrifting"


def test_a_hashtag_ending_in_a_word_of_its_own_is_cut_before_it() -> None:
    lexicon = load_lexicon()
    assert prepared("#bekasimporbatam #balpresmurah", lexicon) == \
        "bekas impor batam balpres murah"
    # Bekasi is a city, not "bekas" and an "i"; "ary" is too short to stand alone
    assert prepared("#kaosbekasimurah #secondary", lexicon) == "kaos bekasi murah secondary"
    assert flag({"title": "Hoodie cakep 60k", "description": "#pakaianbekasimpormurah"},
                lexicon).flagged


def test_a_listed_word_cut_in_syllables_is_joined() -> None:
    lexicon = load_lexicon()
    assert prepared("im-por se-ken ka-rung-an", lexicon) == "impor seken karungan"
    # hyphenated words that are words stay: terms, doubled words
    assert prepared("awul-awul bal-balan anak-anak jual-beli", lexicon) == \
        "awul-awul bal-balan anak-anak jual-beli"
