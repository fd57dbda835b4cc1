"""Contacts read from listing text (crawler/sellers/contacts.py): phone and WhatsApp
numbers as sellers disguise them, handles, LINE ids, e-mails and shop links; and the
numbers that are not contacts (prices, dates, SKUs, weights, sizes...) left alone.

The obfuscations are the ones sellers use to get past the platforms' filters; the
non-contacts are what real listing texts are full of. On the real captures in
``../shared/corpus`` (skipped when absent) nothing is read out of thousands of real
titles and descriptions that hold no contact.
"""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.sellers.contacts import KINDS, MAX_RAW, MAX_TEXT, Contact, extract, shop_link
from tests.helpers import REPO

PHONE = "+6281234567890"
CORPUS = REPO.parent / "shared" / "corpus"


def found(text: str) -> list[tuple[str, str]]:
    return [(contact.kind, contact.value) for contact in extract(text, "description")]


# Each written the way sellers write them (kind, then the E.164 value).
NUMBERS = [
    ("0812-3456-7890", "phone", PHONE),
    ("0812 3456 7890", "phone", PHONE),
    ("0812.3456.7890", "phone", PHONE),
    ("081234567890", "phone", PHONE),
    ("(0812) 3456 7890", "phone", PHONE),
    ("0812 - 3456 - 7890", "phone", PHONE),
    ("0812–3456–7890", "phone", PHONE),  # en dashes
    ("+62 812 3456 7890", "phone", PHONE),
    ("+62-812-3456-7890", "phone", PHONE),
    ("(+62) 812-3456-7890", "phone", PHONE),
    ("+62 (0)812 3456 7890", "phone", PHONE),
    ("+62 0812 3456 7890", "phone", PHONE),
    ("6281234567890", "phone", PHONE),
    ("62 812 3456 7890", "phone", PHONE),
    # letters for digits: o for 0, l and I for 1 ("ll = sebelas": ll is eleven)
    ("o812 3456 789o", "phone", PHONE),
    ("O8l2-3456-7890", "phone", PHONE),
    ("0812-3456-789O", "phone", PHONE),
    ("08ll 2345 6789 (ll = sebelas)", "phone", "+6281123456789"),
    ("08II-2345-6789", "phone", "+6281123456789"),
    # separators sellers put between the digits
    ("0812🔥3456🔥7890", "phone", PHONE),
    ("0812 🔥 3456 🔥 7890", "phone", PHONE),
    ("0️⃣8️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣7️⃣8️⃣9️⃣0️⃣", "phone", PHONE),  # keycap emoji
    ("0.8.1.2.3.4.5.6.7.8.9.0", "phone", PHONE),
    ("0 8 1 2 3 4 5 6 7 8 9 0", "phone", PHONE),
    ("0 8 1 2 - 3 4 5 6 - 7 8 9 0", "phone", PHONE),
    ("0812x3456x7890", "phone", PHONE),
    ("0812\u200b3456\u200b7890", "phone", PHONE),  # zero-width spaces
    ("08*12*34*56*78*90", "phone", PHONE),
    # other digits
    ("０８１２３４５６７８９０", "phone", PHONE),  # full-width
    ("𝟎𝟖𝟏𝟐 𝟑𝟒𝟓𝟔 𝟕𝟖𝟗𝟎", "phone", PHONE),  # mathematical bold
    ("٠٨١٢٣٤٥٦٧٨٩٠", "phone", PHONE),  # Arabic-Indic
    ("о8l2 3456 789о", "phone", PHONE),  # Cyrillic o
    # digits as words: Indonesian, Javanese, Sundanese, English, and mixed
    ("nol delapan satu dua tiga empat lima enam tujuh delapan sembilan nol", "phone", PHONE),
    ("kosong lapan satu dua tiga empat lima enam tujuh lapan sembilan kosong", "phone", PHONE),
    ("nol wolu siji loro telu papat limo enem pitu wolu songo nol", "phone", PHONE),
    ("nol dalapan hiji dua tilu opat lima genep tujuh dalapan salapan nol", "phone", PHONE),
    ("zero eight one two three four five six seven eight nine zero", "phone", PHONE),
    ("Nol-Delapan-Satu-Dua 3456 7890", "phone", PHONE),
    ("0812 tiga empat lima enam 7890", "phone", PHONE),
    ("nol delapan sebelas 2345 6789", "phone", "+6281123456789"),
    # WhatsApp said before or after the number ("w a", "wasap": chat spellings)
    ("WA: 0812-3456-7890", "whatsapp", PHONE),
    ("wa 0812 3456 7890", "whatsapp", PHONE),
    ("WA081234567890", "whatsapp", PHONE),
    ("WA-0812-3456-7890", "whatsapp", PHONE),
    ("w a 0812 3456 7890", "whatsapp", PHONE),
    ("w.a 0812 3456 7890", "whatsapp", PHONE),
    ("Whatsapp ⬇️ 0812 3456 7890", "whatsapp", PHONE),
    ("wasap aja 0812 3456 7890", "whatsapp", PHONE),
    ("0812 3456 7890 (WA)", "whatsapp", PHONE),
    ("Telp/WA 0812-3456-7890", "whatsapp", PHONE),
    ("wa:o8I2.3456.789O", "whatsapp", PHONE),
    ("WA 812 3456 7890", "whatsapp", PHONE),  # no 0, but said to be a number
    ("Hub 0812 3456 7890", "phone", PHONE),
    ("telp. 0812 3456 7890", "phone", PHONE),
    # links to a WhatsApp chat
    ("wa.me/6281234567890", "whatsapp", PHONE),
    ("https://wa.me/6281234567890?text=halo%20kak", "whatsapp", PHONE),
    ("wa.me/+6281234567890", "whatsapp", PHONE),
    ("https://api.whatsapp.com/send?phone=6281234567890&text=mau%20order", "whatsapp", PHONE),
    ("api.whatsapp.com/send/?phone=%2B6281234567890", "whatsapp", PHONE),
    ("https://web.whatsapp.com/send?phone=6281234567890", "whatsapp", PHONE),
    # lengths and operators
    ("0857 1234 5678", "phone", "+6285712345678"),
    ("0812 3456 78901", "phone", "+62812345678901"),
    ("0812 3456 789", "phone", "+628123456789"),
    ("0896-7788-1100", "phone", "+6289677881100"),
    # Malaysian numbers, written with +60 by sellers near the border
    ("+60 12-345 6789", "phone", "+60123456789"),
    ("WA +6011-2345 6789", "whatsapp", "+601123456789"),
    ("wa.me/60123456789", "whatsapp", "+60123456789"),
]


@pytest.mark.parametrize(("text", "kind", "value"), NUMBERS)
def test_a_number_is_read_however_it_is_written(text: str, kind: str, value: str) -> None:
    assert found(f"Ready kak, stok banyak. {text}\nBisa COD Bandung.") == [(kind, value)]


# Numbers that are not contacts, as they are written in listings.
NOT_CONTACTS = [
    "Harga Rp 150.000 nett",
    "harga 150rb, grosir 1,5jt, 2 jt dapat 3",
    "Rp1.250.000 / bal, Rp. 3.500.000,-",
    "IDR 850000",
    "Tanggal 08/12/2023 jam 08.30, ready 08-12-2023",
    "dikirim 12.08.2024 pukul 19:00 WIB",
    "tahun 2023, produksi 1998",
    "SKU: 081234567890",
    "SKU TW-081234567890",
    "kode barang BJ-0812-3456-7890",
    "No. pesanan 230812ABCD1234",
    "INV/20230812/MPL/3456789012",
    "Resi JP0812345678901",
    "no resi 081234567890",
    "berat 100 kg, isi 250 pcs, 1 bal 45kg",
    "LD 108 cm, PJ 70 cm, ukuran 62 x 81 cm",
    "Size XL, lingkar dada 62-64",
    "sold 1.234 pcs rating 4.9",
    "kode pos 40294, Bandung 40111",
    "Jl. Merdeka No. 081, RT 08 RW 12",
    "rek BCA 0812345678 a/n Budi",
    "transfer ke BRI 0812-01-000123-50-8",
    "NIK 3273012345678901",
    "NPWP 08.123.456.7-890.000",
    "IMEI 081234567890123",
    "diskon 50%, 3 pcs @50rb, @ 25rb, @Rp20.000",
    "Jual 3 kaos @ Rp 25.000",
    "Call us +62 21 5555 1234",  # a landline
    "0212345678",
    "012-345 6789",  # Malaysian, but without +60
    "+1 415 555 0100",
    "0812345678901234567",  # too long for any number
    "08123",
    "https://example.com/p/081234567890",
    "bit.ly/0812345678901",
    "https://images.tokopedia.net/img/cache/700/product-1/2023/8/12/081234567890.jpg",
    "https://shopee.co.id/search?keyword=081234567890",
    "tokopedia.com/search?q=0812-3456-7890",
    "email me",
    "the line is long",
    "line up kaos oversize",
    "big sale, cek ig aja",
    "IG: cek bio",
    "Balpres b@lpres B@LL PR3$$",
    "thrift@ home",
    "sms: nanti",
    "Motor bekas Honda Beat 2019, 12,5jt nego",
]


@pytest.mark.parametrize("text", NOT_CONTACTS)
def test_numbers_and_words_that_are_not_contacts_are_left_alone(text: str) -> None:
    assert found(text) == []


def test_a_number_beside_other_numbers_keeps_its_own_digits() -> None:
    assert found("Harga 85.000 WA 0812 3456 7890 jam kerja 08.00-17.00") == [("whatsapp", PHONE)]
    assert found("Ready 08/12/2023, stok 12, hub 0857 1234 5678.") == [
        ("phone", "+6285712345678")]
    assert found("0812 3456 7890 1 pcs") == [("phone", PHONE)]
    assert found("0812 3456 7890 1") == [("phone", PHONE)]
    assert found("0812 3456 7890 2023") == [("phone", PHONE)]
    assert found("Bandung 40111 0812 3456 7890") == [("phone", PHONE)]
    assert found("Rp 150.000 0812-3456-7890") == [("phone", PHONE)]


def test_a_group_that_looks_like_a_number_start_ends_a_number_only_once_it_is_whole() -> None:
    # the last group "0822" opens like a number of its own, but "+62 822 2855" is none yet
    assert found("+62 822 2855 0822. beli") == [("phone", "+6282228550822")]
    assert found("62-812-1203-0811. order") == [("phone", "+6281212030811")]
    assert found("0812 3456 789 0813 1111 2222") == [
        ("phone", "+628123456789"), ("phone", "+6281311112222")]


def test_an_order_number_or_a_sentence_end_never_joins_a_number() -> None:
    assert found("order no 82689410 62-857-1234-5678") == [("phone", "+6285712345678")]
    assert found("Order nomor: 8268941 62-857-1234-5678") == [("phone", "+6285712345678")]
    assert found("order no 82689410. nol delapan lima tujuh satu dua tiga empat lima enam "
                 "tujuh delapan") == [("phone", "+6285712345678")]
    assert found("order 0812-3456-7890") == [("phone", PHONE)]  # "to order:", then a number
    assert found("Order nomor: 0812 3456 7890") == [("phone", PHONE)]
    assert found("order no +62 812 3456 7890") == [("phone", PHONE)]


def test_several_numbers_are_told_apart() -> None:
    assert found("0812-3456-7890 0856-1234-5678") == [
        ("phone", PHONE), ("phone", "+6285612345678")]
    assert found("WA 0812 3456 7890 / telp 0813 1111 2222") == [
        ("whatsapp", PHONE), ("phone", "+6281311112222")]
    assert found("+62 812 3456 7890 +62 813 1111 2222") == [
        ("phone", PHONE), ("phone", "+6281311112222")]


def test_each_contact_is_given_once_per_kind() -> None:
    text = "WA 0812-3456-7890, sekali lagi WA 0812 3456 7890, atau wa.me/6281234567890"
    assert found(text) == [("whatsapp", PHONE)]
    assert found("Telp 0812-3456-7890, WA +62 812 3456 7890") == [
        ("phone", PHONE), ("whatsapp", PHONE)]


HANDLES = [
    ("IG: @thrift.korea_bdg", "instagram", "thrift.korea_bdg"),
    ("ig @Thrift.Korea_BDG", "instagram", "thrift.korea_bdg"),
    ("IG@thriftbdg", "instagram", "thriftbdg"),
    ("follow ig thriftkorea_id ya", "instagram", "thriftkorea_id"),
    ("Instagram kami: thriftbdg", "instagram", "thriftbdg"),
    ("insta : @thriftbdg.", "instagram", "thriftbdg"),
    ("cek @thriftbdg buat katalog", "instagram", "thriftbdg"),
    ("instagram.com/thrift.bdg/", "instagram", "thrift.bdg"),
    ("https://www.instagram.com/thriftbdg?igsh=abc", "instagram", "thriftbdg"),
    ("https://instagram.com/stories/thriftbdg/123", "instagram", "thriftbdg"),
    ("tiktok: @thriftbdg", "tiktok", "thriftbdg"),
    ("TikTok @thrift.bdg", "tiktok", "thrift.bdg"),
    ("tt: thriftbdg", "tiktok", "thriftbdg"),
    ("https://www.tiktok.com/@thrift.bdg/video/7234567890123", "tiktok", "thrift.bdg"),
    ("t.me/thriftbdg", "telegram", "thriftbdg"),
    ("https://telegram.me/thriftbdg", "telegram", "thriftbdg"),
    ("tele: @thrift_bdg", "telegram", "thrift_bdg"),
    ("Telegram thrift_bdg", "telegram", "thrift_bdg"),
    ("id line: thriftbdg", "line", "thriftbdg"),
    ("ID LINE : Thrift.Bdg", "line", "thrift.bdg"),
    ("line: @thriftbdg", "line", "thriftbdg"),
    ("Line ID = thriftbdg", "line", "thriftbdg"),
    ("https://line.me/ti/p/~thriftbdg", "line", "thriftbdg"),
    ("line.me/R/ti/p/@thriftbdg", "line", "thriftbdg"),
    ("wa.me/message/ABCDEF123", "whatsapp", "wa.me/message/ABCDEF123"),
]


@pytest.mark.parametrize(("text", "kind", "value"), HANDLES)
def test_handles_and_their_links(text: str, kind: str, value: str) -> None:
    assert found(f"Jual karungan. {text}\nMakasih.") == [(kind, value)]


EMAILS = [
    ("thrift.bdg@gmail.com", "thrift.bdg@gmail.com"),
    ("Thrift.BDG@Gmail.com", "thrift.bdg@gmail.com"),
    ("email: thriftbdg@yahoo.co.id.", "thriftbdg@yahoo.co.id"),
    ("thriftbdg (at) gmail (dot) com", "thriftbdg@gmail.com"),
    ("thriftbdg[at]yahoo[dot]co[dot]id", "thriftbdg@yahoo.co.id"),
    ("thriftbdg {at} gmail {titik} com", "thriftbdg@gmail.com"),  # titik: dot
    ("email thriftbdg at gmail dot com", "thriftbdg@gmail.com"),
]


@pytest.mark.parametrize(("text", "value"), EMAILS)
def test_email_addresses_plain_and_spelt_out(text: str, value: str) -> None:
    assert found(text) == [("email", value)]


SHOPS = [
    ("tokopedia.com/thriftbdg", "tokopedia:thriftbdg"),
    ("https://www.tokopedia.com/ThriftBdg/kaos-korea-123", "tokopedia:thriftbdg"),
    ("https://shopee.co.id/shop/123456", "shopee:123456"),
    ("https://shopee.co.id/Kaos-Thrift-Korea-i.123456.789012", "shopee:123456"),
    ("shopee.co.id/thriftbdg", "shopee:thriftbdg"),
    ("bukalapak.com/u/thriftbdg", "bukalapak:thriftbdg"),
    ("https://www.lazada.co.id/shop/thrift-bdg/", "lazada:thrift-bdg"),
    ("https://www.blibli.com/merchant/thrift-bdg/THB-60034", "blibli:thb-60034"),
    ("https://shop-id.tokopedia.com/shop/7890", "tiktokshop:7890"),
    ("facebook.com/thriftbdg", "facebook:thriftbdg"),
    ("https://m.facebook.com/profile.php?id=100012345678", "facebook:100012345678"),
    ("https://www.facebook.com/marketplace/profile/100012345678/", "facebook:100012345678"),
    ("fb.me/thriftbdg", "facebook:thriftbdg"),
    ("https://www.olx.co.id/profile/12345678", "olx:12345678"),
]


@pytest.mark.parametrize(("text", "value"), SHOPS)
def test_links_to_shops_on_other_platforms(text: str, value: str) -> None:
    assert found(f"Cek juga toko kami {text} ya") == [("shop", value)]
    assert shop_link(text if "//" in text else "https://" + text) == value


@pytest.mark.parametrize("link", [
    "https://www.tokopedia.com/search?q=thrift", "https://www.tokopedia.com/discovery/thrift",
    "https://shopee.co.id/search?keyword=thrift", "https://www.facebook.com/groups/thrift",
    "https://www.facebook.com/marketplace/item/123", "https://www.instagram.com/p/Cx123/",
    "https://www.tiktok.com/tag/thrift", "https://example.com/thriftbdg", "not a link",
    "http://[::1", "https://shop-id.tokopedia.com/search?q=x",
])
def test_links_that_name_no_seller(link: str) -> None:
    assert shop_link(link) is None
    assert all(kind != "shop" for kind, _ in found(link))


def test_an_accounts_own_seller_url_gives_the_value_others_link_to() -> None:
    """Each platform's seller URL (as the spiders store it) reads as the same shop value
    as a link to it in another account's description."""
    for seller_url, value in [
        ("https://www.tokopedia.com/thriftbdg", "tokopedia:thriftbdg"),
        ("https://shopee.co.id/shop/123456", "shopee:123456"),
        ("https://www.bukalapak.com/u/thriftbdg", "bukalapak:thriftbdg"),
        ("https://www.facebook.com/marketplace/profile/100012345678/", "facebook:100012345678"),
        ("https://shop-id.tokopedia.com/shop/7890", "tiktokshop:7890"),
    ]:
        assert shop_link(seller_url) == value
        assert found(f"toko lama: {seller_url}") == [("shop", value)]
    assert found("https://www.instagram.com/thriftbdg/") == [("instagram", "thriftbdg")]


def test_a_listing_with_everything() -> None:
    text = (
        "BALPRES KOREA 100kg isi ±300 pcs, harga 3,5jt (Rp 3.500.000) per bal. "
        "Ready 12/08/2024. Order: WA 0812-3456-7890 atau wa.me/6285712345678. "
        "IG @thrift.bdg | tiktok: @thriftbdg.id | tokopedia.com/thriftbdg | "
        "email thriftbdg (at) gmail (dot) com. SKU BP-2024-0812."
    )
    assert found(text) == [
        ("whatsapp", PHONE), ("whatsapp", "+6285712345678"), ("instagram", "thrift.bdg"),
        ("tiktok", "thriftbdg.id"), ("shop", "tokopedia:thriftbdg"),
        ("email", "thriftbdg@gmail.com"),
    ]


def test_each_contact_says_where_it_was_written() -> None:
    text = "Chat dulu ya 👉 WA: o812-3456-789o, IG @thrift.bdg"
    contacts = extract(text, "description")
    number, handle = text.index("o812"), text.index("IG @")
    assert contacts == [
        Contact("whatsapp", PHONE, "o812-3456-789o", number, number + 14, "description"),
        Contact("instagram", "thrift.bdg", "IG @thrift.bdg", handle, handle + 14, "description"),
    ]
    assert extract("0812 3456 7890", "seller_name")[0].field == "seller_name"


def test_raw_text_is_kept_short() -> None:
    link = "https://api.whatsapp.com/send?phone=6281234567890&text=" + "halo%20" * 60
    (contact,) = extract(link, "description")
    assert contact.value == PHONE
    assert contact.raw == link[:MAX_RAW]
    assert contact.end - contact.start == len(link)


def test_a_long_link_is_read_to_its_end() -> None:
    link = "https://example.com/" + "a" * 5000 + "/081234567890"
    assert found(link) == []
    assert found("wa.me/6281234567890?text=" + "halo%20" * 1000 + "0812-3456-7890") == [
        ("whatsapp", PHONE)]


def test_text_past_the_length_cap_is_not_read() -> None:
    assert extract("", "title") == []
    assert found("x" * (MAX_TEXT - 20) + " WA 0812-3456-7890") == [("whatsapp", PHONE)]
    assert found("x" * MAX_TEXT + " WA 0812-3456-7890") == []


HOSTILE = {
    "spaced digits": "0 8 " * 10_000,
    "letters for digits": "o8 " * 10_000,
    "digit words": "nol " * 10_000,
    "at signs": "@" * 30_000,
    "an e-mail without end": "a" * 30_000 + "@",
    "spelt-out ats": "x (at) " * 5_000,
    "links": "wa.me/" * 5_000,
    "one long link": "http://" + "a" * 30_000,
    "plus signs": "+62 " * 8_000,
    "handle cues": "ig: " * 8_000,
    "emoji digits": "0🔥" * 10_000,
    "keycaps": "0️⃣8️⃣" * 5_000,
    "dates": "08-12-" * 5_000,
    "labels": "sku " * 8_000,
    "contacts": "WA 0812-3456-7890 IG @thrift_bdg tokopedia.com/thrift " * 500,
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_text_is_read_in_bounded_time(name: str) -> None:
    started = time.perf_counter()
    contacts = extract(HOSTILE[name], "description")
    assert time.perf_counter() - started < 2.0  # about 0.2 s on the development machine
    assert len(contacts) <= 50


def check_contacts(text: str, contacts: list[Contact]) -> None:
    """What every answer of extract() must be, whatever the text."""
    assert len({(contact.kind, contact.value) for contact in contacts}) == len(contacts)
    for contact in contacts:
        assert contact.kind in KINDS
        assert contact.field == "description"
        assert 0 <= contact.start < contact.end <= len(text)
        assert contact.raw == text[contact.start:contact.end][:MAX_RAW]
        assert contact.value
        if contact.kind in ("phone", "whatsapp") and contact.value.startswith("+"):
            number = phonenumbers.parse(contact.value)
            assert phonenumbers.is_valid_number(number)
            assert phonenumbers.format_number(
                number, phonenumbers.PhoneNumberFormat.E164) == contact.value
            assert phonenumbers.region_code_for_number(number) in ("ID", "MY")
        elif contact.kind == "phone":
            pytest.fail(f"a phone that is not E.164: {contact}")
        if contact.kind in ("instagram", "tiktok", "line"):
            assert contact.value == contact.value.lower()
            assert "@" not in contact.value
        if contact.kind == "shop":
            platform, _, slug = contact.value.partition(":")
            assert platform
            assert slug == slug.lower()


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3000))
@example("WA 0812-3456-7890 o8l2 nol delapan @x.y t.me/abc tokopedia.com/x a (at) b (dot) c")
def test_any_text_gives_well_formed_contacts(text: str) -> None:
    check_contacts(text, extract(text, "description"))


# Pieces sellers' texts are made of, so that generated texts reach the number reader.
PIECES = st.sampled_from([
    "0", "8", "1", "2", "62", "+62", "+60", "08", "o", "O", "l", "I", "ll", " ", "  ", "-",
    ".", "(", ")", "🔥", "\u200b", "\ufe0f\u20e3", "\n", ",", "/", ":", "nol", "delapan",
    "satu", "wolu", "sebelas", "WA", "wa", "w a", "hp", "Rp", "rb", "jt", "kg", "pcs", "cm",
    "sku", "rek", "bca", "@", "ig", "line", "tele", "tiktok", "x", "jam", "08.00", "2023",
    "12/08/2023", "wa.me/", "t.me/", "api.whatsapp.com/send?phone=", "(at)", "(dot)",
    "gmail", "com", "tokopedia.com/", "shopee.co.id/shop/", "3456", "7890", "0812", "a",
])


@settings(max_examples=500, deadline=2000)
@given(st.lists(PIECES, max_size=60).map("".join))
def test_sellers_pieces_in_any_order_give_well_formed_contacts(text: str) -> None:
    check_contacts(text, extract(text, "description"))


@settings(max_examples=200, deadline=2000)
@given(st.text(max_size=300), st.text(max_size=300))
def test_a_number_on_its_own_line_is_read_whatever_surrounds_it(before: str, after: str) -> None:
    text = f"{before}\nWA 0812-3456-7890\n{after}"
    assert ("whatsapp", PHONE) in found(text)


def corpus_texts() -> list[str]:
    """Real titles and descriptions from the captures in ../shared/corpus."""
    texts = []
    for path in sorted((CORPUS / "tokopedia-fashion-csv-2025").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as rows:
            texts += [row["name"] for row in csv.DictReader(rows)]
    products = json.loads((CORPUS / "bukalapak-products-2020" / "products.json").read_text())
    for product in products["data"]:
        texts += [product["name"], product.get("description") or ""]
    return texts


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
def test_real_listings_without_contacts_give_none() -> None:
    """Three thousand real Tokopedia titles (sizes, prices, model numbers, years) and
    Bukalapak descriptions (HTML with specifications) hold no contact."""
    texts = corpus_texts()
    assert len(texts) > 3000
    assert [(text[:80], found(text)) for text in texts if found(text)] == []


def test_labelled_listings_give_their_numbers() -> None:
    """The hand-written listings of tests/data name their sellers' numbers in many ways;
    every number read from them is one the text holds as digits or words."""
    numbers = {}
    for path in sorted((REPO / "tests" / "data").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            record = json.loads(line)
            for field in ("title", "description"):
                for contact in extract(record.get(field) or "", field):
                    numbers[contact.raw] = contact.value
    assert numbers["08ll-5678-2020"] == "+6281156782020"
    assert numbers["nol wolu siji telu - 2468 - 1357"] == "+6281324681357"
    assert numbers["0 8 5 7 - 1 1 2 2 - 3 3 4 4"] == "+6285711223344"
    assert len(numbers) >= 50


def test_the_module_logs_nothing() -> None:
    """Contacts are personal data: the extractor has no logger at all."""
    source = (REPO / "crawler" / "sellers" / "contacts.py").read_text("utf-8")
    assert "logging" not in source
    assert "print(" not in source
    assert Path(REPO / "crawler" / "sellers" / "images.py").is_file()
