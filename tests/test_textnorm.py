"""Folding undoes the spelling games sellers play to dodge keyword blocks."""

import re

import pytest

from crawler.flagging.textnorm import fold, tokens


@pytest.mark.parametrize(
    "text",
    [
        "balpres",
        "BALPRES",
        "b4lpres",
        "b@lpres",
        "balpre5",
        "b.a.l.p.r.e.s",
        "b a l p r e s",
        "b-a-l-p-r-e-s",
        "b_a_l_p_r_e_s",
        "b🔥a🔥l🔥p🔥r🔥e🔥s",
        "b❤️a❤️l❤️p❤️r❤️e❤️s",
        "𝐛𝐚𝐥𝐩𝐫𝐞𝐬",
        "𝕓𝕒𝕝𝕡𝕣𝕖𝕤",
        "ＢＡＬＰＲＥＳ",
        "bаlpres",  # Cyrillic а
        "bαlpres",  # Greek alpha
        "bal\u200bpres",
        "bal\u200dpr\ufeffes",
        "bal\u00adpres",
        "bál­prés",
        "baaaalpreeees",
        "#balpres",
        "🅑🅐🅛🅟🅡🅔🅢",  # negative circled letters
        "🅱🅰🅻🅿🆁🅴🆂",  # negative squared letters
        "🇧🇦🇱🇵🇷🇪🇸",  # regional indicators
        "ʙᴀʟᴘʀᴇꜱ",  # small capitals
        "𝒃𝒂𝒍𝒑𝒓𝒆𝒔", "𝖇𝖆𝖑𝖕𝖗𝖊𝖘", "𝚋𝚊𝚕𝚙𝚛𝚎𝚜", "𝗯𝗮𝗹𝗽𝗿𝗲𝘀", "𝘣𝘢𝘭𝘱𝘳𝘦𝘴",  # math alphanumerics
        "bal*pres", "bal|pres", "b*a*l*p*r*e*s", "bal~pres",  # a symbol splits the word
    ],
)
def test_evasive_spellings_fold_to_the_plain_word(text: str) -> None:
    assert fold(text) == "balpres"


def test_numbers_prices_and_quantities_stay_numbers() -> None:
    assert fold("100 kg isi 300pcs Rp150.000 2 bal") == "100 kg isi 300pcs rp150.000 2 bal"
    assert (
        fold("wa.me/6281234567 0812-3456-7890 +62 812") == "wa.me/6281234567 0812-3456-7890 +62 812"
    )


def test_leading_digits_are_not_letters() -> None:
    assert fold("3SECOND") == "3second"
    assert fold("isi100pcs") == "isi100pcs"


def test_leetspeak_inside_words() -> None:
    assert fold("b4lpr3s k4rung4n s3k3n") == "balpres karungan seken"


def test_double_letters_survive_and_long_runs_collapse() -> None:
    assert fold("ballpress") == "ballpress"
    assert fold("kaaarungaaan") == "karungan"


def test_two_single_letters_are_not_joined() -> None:
    assert fold("size m l") == "size m l"


def test_hashtags_and_spacing() -> None:
    assert fold("  #Thrift   #BalPres\n\nbaju ") == "thrift balpres baju"


def test_tokens() -> None:
    assert tokens("Jual #B4LPRES, 100kg! (isi ±300 pcs)") == [
        "jual",
        "balpres",
        "100kg",
        "isi",
        "300",
        "pcs",
    ]


def test_every_letter_of_the_mathematical_alphanumeric_block_folds_to_a_plain_one() -> None:
    import unicodedata

    letters = [chr(code) for code in range(0x1D400, 0x1D800)
               if unicodedata.category(chr(code)) in {"Lu", "Ll"}]
    assert len(letters) > 900
    for letter in letters:
        assert re.fullmatch(r"[a-z]|[^\W\d_]", fold(letter)), (letter, fold(letter))


def test_emoji_and_symbols_separate_words() -> None:
    assert fold("BALPRES🔥KOREA") == "balpres korea"
    assert fold("isi🔥250🔥pcs") == "isi 250 pcs"
    assert fold("kaos✨polos★murah") == "kaos polos murah"
    assert fold("1️⃣ bal") == "1 bal"  # keycap digits are digits


def test_control_characters_separate_words() -> None:
    assert fold("bal\x00pres\x1bkaos") == "bal pres kaos"


def test_doubled_pipes_and_leet_pairs_read_as_letters() -> None:
    assert fold("ba||pres") == "ballpres"
    assert fold("P4k41an") == "pakaian"
    assert fold("100pcs 3second") == "100pcs 3second"
