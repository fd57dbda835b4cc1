"""Seller networks under attack: what any seller may write (a courier's number, a platform's
handle, a placeholder e-mail, a competitor's shop, a blank photo) must not join unrelated
sellers, and one operator's accounts must still be found however its contacts are written.
Texts go through the real contacts extraction, photos through the real fingerprinting, and
both through build_networks, as `thriftwatch sellers` does."""

from __future__ import annotations

import hashlib
import io
import random

import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from crawler.sellers import images
from crawler.sellers.contacts import extract, never_own, stoplist
from crawler.sellers.networks import DEFAULT_CONTACT_MAX_ACCOUNTS, build_networks, image_links

PHONE = "+6281234567890"
FIRST_SEEN = "2026-03-01T10:00:00.000Z"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class World:
    """Accounts, each with one listing whose description is read by `extract`."""

    def __init__(self) -> None:
        self.listings: list[dict] = []
        self.contacts: list[dict] = []
        self.images: list[dict] = []
        self.rechecks: list[dict] = []

    def account(self, seller_id: str, text: str = "", *, platform: str = "tokopedia",
                seller_url: str | None = None, first_seen: str = FIRST_SEEN,
                phash: str | None = None) -> str:
        listing_id = f"{platform}-{seller_id}-{len(self.listings)}"
        self.listings.append({
            "platform": platform, "listing_id": listing_id, "seller_id": seller_id,
            "seller_name": "Thrift Murah", "flagged": True, "first_seen": first_seen,
            "seller_url": seller_url or f"https://{platform}.example/{seller_id}",
            "capture_sha256": sha(listing_id)})
        for found in extract(text, "description"):
            self.contacts.append({
                "platform": platform, "listing_id": listing_id, "field": "description",
                "kind": found.kind, "value": found.value, "raw": found.raw,
                "capture_sha256": sha(listing_id), "seen_at": first_seen})
        if phash:
            self.images.append({
                "platform": platform, "listing_id": listing_id, "url": f"https://img/{listing_id}",
                "body_sha256": sha("img" + listing_id), "phash": phash, "fetched_at": first_seen})
        return f"{platform}:{seller_id}"

    def stored(self, seller_id: str, kind: str, value: str | None, **extra: object) -> None:
        """A contact row as a release before the stop-list stored it (or erased)."""
        listing = next(row for row in self.listings if row["seller_id"] == seller_id)
        self.contacts.append({"platform": listing["platform"], "listing_id": listing["listing_id"],
                              "field": "description", "kind": kind, "value": value, "raw": value,
                              "capture_sha256": listing["capture_sha256"], "seen_at": FIRST_SEEN,
                              **extra})

    def networks(self, **options: object) -> list[list[str]]:
        found = build_networks(listings=self.listings, contacts=self.contacts,
                               image_rows=self.images, rechecks=self.rechecks, **options)
        return sorted(sorted(network.keys) for network in found if len(network.keys) > 1)

    def built(self, **options: object):
        return build_networks(listings=self.listings, contacts=self.contacts,
                              image_rows=self.images, rechecks=self.rechecks, **options)


def own_number(index: int) -> str:
    return f"0813 {index // 10000 % 10000:04d} {index % 10000:04d}"


# -- (a) a value many unrelated sellers write: the document-frequency cap -----------------


@pytest.mark.parametrize("shared", [
    "Pengiriman cepat, info resi hub 0811 8888 1111",  # a courier agent's number, no cue
    "komplain ke email tokosemua@gmail.com",  # a shared mailbox
    "Cek katalog IG @gudang.thrift.pusat",  # a big supplier's handle everyone names
    "order lewat wa.me/6281199990000",  # a dropship service's WhatsApp
])
@pytest.mark.parametrize("count", [11, 25])
def test_a_value_on_many_unrelated_accounts_links_none_of_them(shared: str, count: int) -> None:
    world = World()
    for index in range(count):
        world.account(f"s{index}", f"{shared}. Order WA {own_number(index)}")
    assert world.networks() == []


def test_a_shared_value_still_links_within_the_cap_and_the_cap_is_a_keyword() -> None:
    world = World()
    keys = [world.account(f"op{index}", "Balpres korea. WA 0812 3456 7890")
            for index in range(8)]  # one operator, eight accounts, one number and nothing else
    assert world.networks() == [sorted(keys)]
    assert DEFAULT_CONTACT_MAX_ACCOUNTS >= 8
    assert world.networks(contact_max_accounts=5) == []


def test_an_operator_larger_than_the_cap_counts_once_when_its_accounts_share_more() -> None:
    world = World()
    keys = []
    for index in range(14):  # two halves, each sharing a handle; all share the number
        handle = "gudangbal.a" if index % 2 else "gudangbal.b"
        keys.append(world.account(f"op{index}", f"WA 0812 3456 7890, IG @{handle}"))
    for index in range(12):  # and unrelated sellers who write the courier's number
        world.account(f"other{index}", f"kirim cepat hub 0811 8888 1111. WA {own_number(index)}")
    assert world.networks() == [sorted(keys)]


def test_erased_contacts_are_capped_like_any_other() -> None:
    world = World()
    for index in range(12):
        world.account(f"s{index}")
        world.stored(f"s{index}", "phone", None, value_sha256=sha("+6281188881111"))
    assert world.networks() == []
    world = World()
    for index in range(3):
        world.account(f"s{index}")
        world.stored(f"s{index}", "phone", None, value_sha256=sha("+6281188881111"))
    assert world.networks() == [["tokopedia:s0", "tokopedia:s1", "tokopedia:s2"]]


# -- (b) the stop-list: values that are never a seller's own ------------------------------

NEVER_OWN = [
    "follow IG @tokopedia ya", "promo di IG @shopee_id", "live di tiktok @tiktokshop_id",
    "#balpres @ootd", "cek ig @thrift @preloved @balpres", "IG: @JNE_ID",
    "email: email@gmail.com", "contoh@gmail.com", "test@test.com", "noreply@shopee.co.id",
    "no-reply@tokopedia.com", "support@shopee.co.id", "customercare@jne.co.id",
    "kirim ke nama@example.com", "test123@gmail.com", "noreply.toko@gmail.com",
    "xxxxxx@yahoo.com", "gabung https://chat.whatsapp.com/ThriftIndoGrup1",
    "info restock chat.whatsapp.com/ABCDEFGH12345", "t.me/joinchat/AAAAbbbb",
    "grup t.me/+AbCdEf123", "https://www.lazada.co.id/shop/lazmall",
]


@pytest.mark.parametrize("text", NEVER_OWN)
def test_values_that_are_never_a_sellers_own_are_not_read(text: str) -> None:
    assert extract(text, "description") == []


@pytest.mark.parametrize(("kind", "value"), [
    ("instagram", "tokopedia"), ("instagram", "ootd"), ("tiktok", "tiktokshop.id"),
    ("email", "email@gmail.com"), ("email", "noreply@tokopedia.com"),
    ("email", "halo@seller.tokopedia.com"), ("whatsapp", "chat.whatsapp.com/Grup1"),
    ("telegram", "joinchat/abc"), ("shop", "lazada:lazmall"),
])
def test_stored_stop_listed_values_link_nobody(kind: str, value: str) -> None:
    assert never_own(kind, value)
    world = World()
    for index in range(3):
        world.account(f"s{index}")
        world.stored(f"s{index}", kind, value)
    assert world.networks() == []
    world = World()  # erased: the digest of a stop-listed value links nobody either
    for index in range(3):
        world.account(f"s{index}")
        world.stored(f"s{index}", kind, None, value_sha256=sha(value))
    if kind != "email" and not value.startswith(("chat.", "joinchat")):
        assert world.networks() == []


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("IG @thrift.bdg", "instagram", "thrift.bdg"),
    ("ig: thrift_korea88", "instagram", "thrift_korea88"),
    ("email thrift.bdg@gmail.com", "email", "thrift.bdg@gmail.com"),
    ("cs@tokoku.id", "email", "cs@tokoku.id"),
    ("email.toko@gmail.com", "email", "email.toko@gmail.com"),
    ("thrift.test@gmail.com", "email", "thrift.test@gmail.com"),
    ("Telegram: @gudang_bal_bdg", "telegram", "gudang_bal_bdg"),
    ("tokopedia.com/promothrift", "shop", "tokopedia:promothrift"),
])
def test_a_sellers_own_contacts_stay(text: str, kind: str, value: str) -> None:
    assert [(c.kind, c.value) for c in extract(text, "description")] == [(kind, value)]


@pytest.mark.parametrize("text", [
    "Pengiriman JNE, kurir hub 0811-8888-111",
    "ekspedisi: 0811 8888 1111",
    "komplain hubungi CS Tokopedia 0812-1500-1500",
    "call center 0812 1500 1500",
    "jangan beli di tokopedia.com/xyzshop, penipu!",
    "hati2 penipu shopee.co.id/tokosebelah ya kak",
    "awas akun palsu IG @thrift.bdg.official",
    "waspada penipu 0812 9999 8888",
])
def test_a_contact_the_seller_gives_to_someone_else_is_not_read(text: str) -> None:
    assert extract(text, "description") == []


@pytest.mark.parametrize("text", [
    "Kirim JNE/J&T, WA 0812 3456 7890",
    "kirim via JNE atau J&T WA 0812 3456 7890",
    "bisa kurir instan WA 0812 3456 7890",
    "awas penipu, order hanya di WA 0812 3456 7890",
    "Hati-hati penipuan. Order hanya di WA 0812-3456-7890",
    "Waspada akun palsu, nomor kami 0812 3456 7890",
])
def test_a_sellers_own_number_near_a_courier_or_a_warning_stays(text: str) -> None:
    assert [c.value for c in extract(text, "description")] == [PHONE]


def test_the_stop_list_is_data_and_lower_case() -> None:
    stop = stoplist()
    assert {"tokopedia", "ootd"} <= stop.handles
    assert "shopee.co.id" in stop.email_domains
    assert "email" in stop.email_locals
    for values in (stop.handles, stop.email_domains, stop.email_locals, stop.shops):
        assert all(value == value.lower() and value.strip() == value for value in values)


# -- (c) a shop or handle merely mentioned ---------------------------------------------------


def test_a_one_sided_mention_of_another_accounts_shop_or_handle_links_nothing() -> None:
    world = World()
    world.account("xyz", seller_url="https://www.tokopedia.com/xyzshop")
    world.account("a", "Cek juga tokopedia.com/xyzshop ya", platform="bukalapak")
    world.account("ig", platform="instagram", seller_url="https://www.instagram.com/tokoku.id/")
    world.account("b", "mampir ke @tokoku.id, bagus2", platform="shopee")
    world.account("fb", platform="facebook", seller_url="https://www.facebook.com/tokoku.fb")
    world.account("c", "lihat facebook.com/tokoku.fb", platform="lazada")
    world.account("d", "mampir ke tokopedia.com/xyzshop juga", platform="olx")  # a second one
    assert world.networks() == []


@pytest.mark.parametrize("text", [
    "Cek juga toko kami yang lain: tokopedia.com/xyzshop",
    "akun backup: https://www.tokopedia.com/xyzshop",
    "Toko saya di tokopedia.com/xyzshop ya kak",
])
def test_a_shop_the_writer_claims_as_its_own_links(text: str) -> None:
    world = World()
    owner = world.account("xyz", seller_url="https://www.tokopedia.com/xyzshop")
    writer = world.account("a", text, platform="shopee")
    assert world.networks() == [sorted([owner, writer])]
    [link] = [link for n in world.built() for link in n.links]
    assert any("tokopedia.com/xyzshop" in side["raw"] and side["raw"] != "tokopedia.com/xyzshop"
               for side in link.evidence if side["field"] == "description")


def test_a_handle_written_as_the_sellers_contact_links_its_account() -> None:
    world = World()
    owner = world.account("ig", platform="instagram",
                          seller_url="https://www.instagram.com/tokoku.id/")
    writers = [world.account("a", "IG: @tokoku.id", platform="shopee"),
               world.account("b", "follow ig kami @tokoku.id", platform="lazada")]
    assert world.networks() == [sorted([owner, *writers])]


def test_a_mutual_mention_links_and_a_corroborated_one_adds_no_link() -> None:
    world = World()
    a = world.account("a", "Toko kami yang lain: shopee.co.id/shop/222",
                      seller_url="https://www.tokopedia.com/gudangbal")
    b = world.account("222", "Cek juga tokopedia.com/gudangbal", platform="shopee",
                      seller_url="https://shopee.co.id/shop/222")
    c = world.account("c", "tokopedia.com/gudangbal. WA 0812 3456 7890", platform="lazada")
    d = world.account("d", "WA 0812 3456 7890", seller_url="https://www.tokopedia.com/dtoko")
    assert world.networks() == sorted([sorted([a, b]), sorted([c, d])])
    kinds = {tuple(link.accounts): link.kind for n in world.built() for link in n.links}
    assert kinds == {tuple(sorted([a, b])): "shop", tuple(sorted([c, d])): "whatsapp"}


def test_two_accounts_writing_the_same_handle_are_one_operator() -> None:
    world = World()
    keys = [world.account(f"s{i}", "IG @gudang.bal88 untuk katalog", platform=p)
            for i, p in enumerate(("tokopedia", "shopee", "bukalapak"))]
    assert world.networks() == [sorted(keys)]


def test_a_returning_seller_is_never_proved_by_a_one_sided_mention() -> None:
    world = World()
    old = world.account("old", "Balpres", seller_url="https://www.tokopedia.com/oldshop",
                        first_seen="2026-01-01T00:00:00.000Z")
    world.rechecks.append({"platform": "tokopedia", "listing_id": world.listings[0]["listing_id"],
                           "status": "removed", "checked_at": "2026-02-01T00:00:00.000Z"})
    world.account("new", "jual bal, dulu toko tokopedia.com/oldshop", platform="shopee",
                  first_seen="2026-03-01T00:00:00.000Z")
    assert not any(n.returning for n in world.built())
    world.account("newer", "tokopedia.com/oldshop. WA 0812 3456 7890", platform="lazada",
                  first_seen="2026-03-01T00:00:00.000Z")
    world.stored("old", "phone", PHONE)
    [network] = [n for n in world.built() if len(n.keys) > 1]
    assert sorted(network.keys) == sorted([old, "lazada:newer"])
    [proof] = network.returning_evidence
    assert [link["kind"] for link in proof["links"]] == ["phone"]


# -- (d) platforms' own pages read as a shop or a handle ---------------------------------------

GENERIC_PAGES = [
    "https://shopee.co.id/Pakaian-Wanita-cat.11044945",
    "https://shopee.co.id/Baju-Bekas-cat.11044945.11044971",
    "https://shopee.co.id/shopee-mall", "https://shopee.co.id/shopeepay",
    "https://shopee.co.id/promo", "https://shopee.co.id/campaigns/123",
    "https://shopee.co.id/m/ramadan-sale", "https://shopee.co.id/flash_sale?promotionId=1",
    "https://www.tokopedia.com/tokopedia-care", "https://www.tokopedia.com/now",
    "https://www.tokopedia.com/kategori-produk", "https://www.tokopedia.com/promo-guncang-9-9",
    "https://www.tokopedia.com/help/article/123", "https://www.tokopedia.com/discovery/thrift",
    "https://www.instagram.com/stories/highlights/17890000000000000/",
    "https://www.instagram.com/explore/tags/thrift/", "https://www.instagram.com/reels/Cxyz/",
    "https://www.instagram.com/reel/Cxyz/?igsh=tokoku", "https://fb.me/e/abc",
    "https://www.facebook.com/events/123", "https://www.facebook.com/groups/thriftindonesia",
    "https://www.facebook.com/watch/?v=123", "https://t.me/addstickers/Thrift",
    "https://www.tiktok.com/@tiktokshop.id",
]


@pytest.mark.parametrize("url", GENERIC_PAGES)
def test_a_platforms_own_page_is_no_shop_or_handle(url: str) -> None:
    assert extract(url, "description") == []


@pytest.mark.parametrize(("url", "value"), [
    ("https://shopee.co.id/thriftbdg", "shopee:thriftbdg"),
    ("https://shopee.co.id/shop/123456", "shopee:123456"),
    ("https://shopee.co.id/Kaos-Thrift-Korea-i.123456.789012", "shopee:123456"),
    ("https://www.tokopedia.com/gudangbal/kaos-korea-123", "tokopedia:gudangbal"),
    ("https://www.facebook.com/thrift.bdg", "facebook:thrift.bdg"),
    ("https://www.instagram.com/stories/thriftbdg/123", "thriftbdg"),
])
def test_a_sellers_own_page_is_still_read(url: str, value: str) -> None:
    assert [c.value for c in extract(url, "description")] == [value]


# -- (e) numbers that are order, invoice or article numbers ----------------------------------


@pytest.mark.parametrize("text", [
    "order 0812345678901 sudah dikirim", "No. Order: 0812345678901",
    "transaksi 08123456789012 retur", "pembayaran #0812345678901",
    "INV/20240812/MPL/0812345678", "art no 0812 3456 7890", "SKU: 0812-3456-7890",
    "kode 081234567890 ukuran L", "no resi JP0812345678 cek", "harga Rp 0812.000 aja",
    "ready tgl 08/12/2024 sd 08-12-2025 jam 08.12", "berat 0,812 kg isi 081234 pcs",
])
def test_order_invoice_and_article_numbers_prices_and_dates_are_no_phone(text: str) -> None:
    assert extract(text, "description") == []


@pytest.mark.parametrize("text", [
    "order WA 0812 3456 7890", "Order: 0812-3456-7890", "order 081234567890",
    "Info & order 0812.3456.7890",
])
def test_a_number_after_the_word_order_is_still_the_sellers(text: str) -> None:
    assert [c.value for c in extract(text, "description")] == [PHONE]


# -- 2. photos with too little in them ------------------------------------------------------


def encoded(picture: Image.Image, kind: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, kind, **options)
    return out.getvalue()


def photo(seed: int = 1, side: int = 480) -> Image.Image:
    """A photo-like picture (shapes of many colours, blurred), the same for the same seed."""
    rng = random.Random(seed)
    picture = Image.new("RGB", (side, side), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(picture)
    for _ in range(40):
        x, y = rng.randrange(side), rng.randrange(side)
        size = rng.randrange(20, side // 3)
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + size, y + size), fill=tuple(rng.randrange(256) for _ in range(3)))
    return picture.filter(ImageFilter.GaussianBlur(3))


FLAT = {
    "red square": encoded(Image.new("RGB", (600, 600), "red")),
    "navy png": encoded(Image.new("RGB", (600, 600), "navy"), "PNG"),
    "white": encoded(Image.new("RGB", (800, 800), "white")),
    "1x1 pixel": encoded(Image.new("RGB", (1, 1), "black"), "PNG"),
    "2x2": encoded(Image.new("RGB", (2, 2), "white"), "PNG"),
    "thin strip": encoded(photo().resize((400, 16))),
    "grey gradient": encoded(Image.linear_gradient("L").resize((800, 800)).convert("RGB")),
    "colour gradient": encoded(ImageOps.colorize(
        Image.linear_gradient("L").resize((800, 800)), "navy", "yellow")),
    "vertical gradient": encoded(Image.linear_gradient("L").rotate(90).resize((500, 700))),
    "gif one colour": encoded(Image.new("P", (300, 300), 3), "GIF"),
}


@pytest.mark.parametrize("name", FLAT)
def test_a_picture_with_too_little_in_it_has_no_fingerprint(name: str) -> None:
    assert images.fingerprint(FLAT[name]) is None


def test_real_pictures_keep_their_fingerprint() -> None:
    box = Image.new("RGB", (800, 800), "white")
    ImageDraw.Draw(box).rectangle((300, 300, 500, 500), fill="gray")
    for picture in (photo(1), photo(2), box):
        found = images.fingerprint(encoded(picture))
        assert found is not None
        assert not images.low_information(found.phash)


@pytest.mark.parametrize("phash", ["8000000000000000", "8000800000008000", "0000000000000000",
                                   "ffffffffffffffff", "c000000000000001"])
def test_a_flat_pictures_hash_stored_before_never_links(phash: str) -> None:
    assert images.low_information(phash)
    world = World()
    world.account("a", phash=phash)
    world.account("b", phash=phash, platform="shopee")
    assert world.networks() == []


# -- 3. one operator written two ways -------------------------------------------------------


@pytest.mark.parametrize("text", [
    "https://api.whatsapp.com/send?phone=081234567890",
    "https://api.whatsapp.com/send?phone=81234567890&text=halo", "wa.me/081234567890",
    "WA 0812/3456/7890", "WA 0812\n3456 7890", "WA 0812\n3456\n7890", "Hub:\n0812-3456\n-7890",
    "WA：０８１２－３４５６－７８９０", "whatsapp://send?phone=081234567890",
])
def test_numbers_written_in_local_links_with_slashes_or_over_lines_are_read(text: str) -> None:
    assert [c.value for c in extract(text, "description")] == [PHONE]


@pytest.mark.parametrize("text", [
    "IG @ｔｏｋｏｋｕ．ｉｄ", "ＩＧ: @tokoku.id", "IG @𝐭𝐨𝐤𝐨𝐤𝐮.id", "instagram.com/ｔｏｋｏｋｕ.id",
    "IG ＠tokoku.id",
])
def test_handles_in_styled_letters_are_read_as_plain_ones(text: str) -> None:
    assert [(c.kind, c.value) for c in extract(text, "description")] == [
        ("instagram", "tokoku.id")]


def test_one_operator_written_two_ways_is_one_network() -> None:
    world = World()
    keys = [world.account("a", "wa.me/081234567890"),
            world.account("b", "WA 0812/3456/7890", platform="shopee"),
            world.account("c", "WA 0812\n3456 7890", platform="lazada")]
    ig = [world.account("d", "IG @ｇｕｄａｎｇ.bal", platform="bukalapak"),
          world.account("e", "ig: @gudang.bal", platform="blibli")]
    assert world.networks() == [sorted(ig), sorted(keys)]


def test_most_mirrored_photos_link_and_different_photos_never_do() -> None:
    rows, owner = [], {}
    for seed in range(1, 16):  # each photo on one account, mirrored (and resized) on another
        for name, picture in ((f"p{seed}", photo(seed)),
                              (f"m{seed}", ImageOps.mirror(photo(seed)).resize((360, 360)))):
            phash = images.fingerprint(encoded(picture)).phash
            owner[("tokopedia", name)] = f"tokopedia:{name}"
            rows.append({"platform": "tokopedia", "listing_id": name, "phash": phash,
                         "url": name, "body_sha256": sha(name), "fetched_at": FIRST_SEEN})
    hashes = {row["listing_id"]: row["phash"] for row in rows}
    assert all(images.distance(hashes[f"p{s}"], hashes[f"m{s}"]) > 6 for s in range(1, 16))
    links = image_links(rows, owner)
    pairs = {tuple(sorted(key.split(":")[1][1:] for key in link.accounts)) for link in links}
    assert all(a == b for a, b in pairs)  # only a photo and its own mirrored copy
    assert all(link.as_dict()["mirrored"] for link in links)
    assert len(links) >= 10  # of 15: a mirrored hash is only about the mirror's
