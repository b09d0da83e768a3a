"""The shipped packs are valid and read well; a broken pack names its file and line."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest

from messages.channels import TEXT_LIMIT, plain, split_text, units
from messages.kinds import Kind
from messages.packs import (
    PackItem,
    PackProblem,
    next_occurrence,
    occurrence,
    read_pack,
    read_packs,
    render_content,
)

TODAY = date(2026, 3, 1)
SLOGANS = [
    "NHIỆT LIỆT KỶ NIỆM CHÀO MỪNG 30 NĂM THÀNH LẬP LIÊN MINH HỢP TÁC XÃ VIỆT NAM "
    "(29/10/1993 - 29/10/2023).",
    "CÁN BỘ, THÀNH VIÊN VÀ NGƯỜI LAO ĐỘNG KHU VỰC KINH TẾ TẬP THỂ, HỢP TÁC XÃ VÀ HỆ THỐNG "
    "LIÊN MINH HỢP TÁC XÃ VIỆT NAM RA SỨC THI ĐUA LẬP THÀNH TÍCH CHÀO MỪNG KỶ NIỆM 30 NĂM "
    "NGÀY THÀNH LẬP LIÊN MINH HỢP TÁC XÃ VIỆT NAM (29/10/1993 - 29/10/2023).",
    "HỢP TÁC, ĐỔI MỚI, PHÁT TRIỂN, HIỆU QUẢ.",
    "ĐỔI MỚI, PHÁT TRIỂN, NÂNG CAO HIỆU QUẢ HOẠT ĐỘNG KINH TẾ TẬP THỂ, HỢP TÁC XÃ.",
    "ĐẨY MẠNH XÂY DỰNG HỆ THỐNG LIÊN MINH HỢP TÁC XÃ VIỆT NAM VỮNG MẠNH.",
    "HỢP TÁC, LIÊN KẾT TẠO SỨC MẠNH ĐỂ KHÔNG AI BỊ BỎ LẠI PHÍA SAU.",
    "PHÁT HUY VAI TRÒ NÒNG CỐT CỦA HỆ THỐNG LIÊN MINH HỢP TÁC XÃ VIỆT NAM TRONG PHÁT TRIỂN "
    "KINH TẾ TẬP THỂ, HỢP TÁC XÃ.",
    # The seed prints "THỨC ĐÁY", a typing slip for "THÚC ĐẨY".
    "THÚC ĐẨY KINH TẾ TẬP THỂ, HỢP TÁC XÃ PHÁT TRIỂN NHANH, BỀN VỮNG, TỪNG BƯỚC ĐÓNG VAI TRÒ "
    "NỀN TẢNG TRONG NỀN KINH TẾ QUỐC DÂN.",
]


@pytest.fixture(scope="module")
def shipped() -> dict[str, PackItem]:
    return {item.slug: item for item in read_packs()}


def test_every_shipped_item_renders_on_every_channel(shipped: dict[str, PackItem]) -> None:
    assert {item.kind for item in shipped.values()} == {
        Kind.SLOGAN,
        Kind.COMMEMORATION,
        Kind.POLICY,
    }
    for item in shipped.values():
        html = render_content(item.kind, item.data, today=TODAY)
        assert len(split_text(html)) == 1 and units(html) < TEXT_LIMIT, item.slug  # one message
        assert len(plain(html)) <= 2000, item.slug  # one Zalo message
        assert unicodedata.is_normalized("NFC", html)
        assert "<b>" in html and "<b>" not in plain(html)


def test_the_eight_slogans_of_the_plan(shipped: dict[str, PackItem]) -> None:
    slogans = sorted(
        (i for i in shipped.values() if i.kind is Kind.SLOGAN), key=lambda item: item.slug
    )
    assert [s.data["text"] for s in slogans] == SLOGANS
    assert all("khau-hieu" in s.tags and s.pack == "slogans" for s in slogans)
    three = shipped["khau-hieu-03"]
    assert render_content(three.kind, three.data, today=TODAY) == (
        "🇻🇳 <b>HỢP TÁC, ĐỔI MỚI, PHÁT TRIỂN, HIỆU QUẢ.</b>"
    )
    one = shipped["khau-hieu-01"]
    assert render_content(one.kind, one.data, today=TODAY) == (
        f"🇻🇳 <b>{SLOGANS[0]}</b>\n"
        "\n"
        "<i>Kỷ niệm 30 năm ngày thành lập Liên minh Hợp tác xã Việt Nam "
        "(29/10/1993 - 29/10/2023)</i>"
    )


def test_commemoration_golden_on_its_next_day(shipped: dict[str, PackItem]) -> None:
    day = shipped["ngay-hop-tac-xa-viet-nam"]
    assert day.data["when"] == {"month": 4, "day": 11} and day.data["since"] == 1946
    assert render_content(day.kind, day.data, today=TODAY) == (
        "🎉 <b>Ngày Hợp tác xã Việt Nam (80 năm)</b>\n"
        "🎊 Kỷ niệm tròn 80 năm\n"  # a round anniversary is marked
        "📅 Thứ Bảy, 11/04/2026\n"
        "\n"
        "Năm 1946, Chủ tịch Hồ Chí Minh viết thư kêu gọi điền chủ, nông gia Việt Nam tham gia "
        "hợp tác xã nông nghiệp. Trong thư, Người viết: “Nông dân muốn giàu, nông nghiệp muốn "
        "thịnh thì cần phải có hợp tác xã”. Ngày Người viết thư, 11/4, được lấy làm Ngày Hợp "
        "tác xã Việt Nam.\n"
        "\n"
        "Hợp tác xã là nơi bà con hợp vốn, hợp sức, cùng sản xuất, cùng tiêu thụ và cùng hưởng "
        "lợi. Kinh tế tập thể cùng với kinh tế nhà nước cần được củng cố và phát triển thành "
        "nền tảng vững chắc của nền kinh tế quốc dân.\n"
        "\n"
        "Nhân Ngày Hợp tác xã Việt Nam, mời bà con tìm hiểu Luật Hợp tác xã, tham gia hợp tác "
        "xã, tổ hợp tác ở địa phương. Muốn góp ý hay hỏi điều gì, bà con cứ nhắn tin trả lời, "
        "cán bộ sẽ đọc."
    )
    later = render_content(day.kind, day.data, today=date(2026, 4, 12))
    assert later.startswith("🎉 <b>Ngày Hợp tác xã Việt Nam (81 năm)</b>\n📅 Chủ Nhật, 11/04/2027")
    whens = {i.slug: i.data["when"] for i in shipped.values() if i.kind is Kind.COMMEMORATION}
    assert whens == {
        "ngay-hop-tac-xa-viet-nam": {"month": 4, "day": 11},
        "ngay-hop-tac-xa-quoc-te": {"month": 7, "weekday": 5, "nth": 1},
        "ngay-doanh-nhan-viet-nam": {"month": 10, "day": 13},
        "ngay-thanh-lap-lien-minh-htx-viet-nam": {"month": 10, "day": 29},
    }


def test_yearly_rules() -> None:
    first_saturday = {"month": 7, "weekday": 5, "nth": 1}
    assert occurrence(first_saturday, 2026) == date(2026, 7, 4)
    assert occurrence(first_saturday, 2027) == date(2027, 7, 3)
    assert next_occurrence(first_saturday, date(2026, 7, 4)) == date(2026, 7, 4)
    assert next_occurrence(first_saturday, date(2026, 7, 5)) == date(2027, 7, 3)
    assert occurrence({"month": 5, "weekday": 0, "nth": -1}, 2026) == date(2026, 5, 25)
    assert occurrence({"month": 3, "weekday": 6, "nth": 2}, 2026) == date(2026, 3, 8)


def test_founding_guide_in_order_and_policy_topics(shipped: dict[str, PackItem]) -> None:
    guide = sorted(
        (i for i in shipped.values() if "huong-dan-thanh-lap" in i.tags), key=lambda i: i.slug
    )
    assert [i.title.split(":")[0] for i in guide] == [
        f"Thành lập hợp tác xã ({n}/6)" for n in range(1, 7)
    ]
    assert all(i.kind is Kind.POLICY and i.data["source"] for i in guide)
    for slug in ("luat-hop-tac-xa-2023", "nghi-quyet-20-nq-tw", "chuong-trinh-ocop"):
        assert shipped[slug].data["body"] and shipped[slug].data["source"]
    assert shipped["chuong-trinh-ocop"].topic == "ocop"
    assert shipped["tap-huan-tu-van-hop-tac-xa"].topic == "training"


def test_checksum_follows_content(tmp_path: Path) -> None:
    pack = tmp_path / "p.yaml"
    pack.write_text("kind: slogan\ntopic: policy\nitems:\n  - {id: a, title: A, text: X}\n")
    (first,), _ = read_pack(pack)
    (same,), _ = read_pack(pack)
    pack.write_text("kind: slogan\ntopic: policy\nitems:\n  - {id: a, title: A, text: Y}\n")
    (changed,), _ = read_pack(pack)
    assert first.checksum == same.checksum != changed.checksum
    assert first.data == {"text": "X", "occasion": None} and first.where == f"{pack}:4"


HEAD = "kind: policy\ntopic: policy\nitems:\n"
GOOD = "  - id: ok\n    title: Tốt\n    body: Nội dung\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("items:\n  - id: a\n    title: [no end\n", 4, "not valid YAML"),
        (HEAD + GOOD + "  - id: b\n    kind: poem\n    title: B\n", 8, "item 'b': kind: Input"),
        (HEAD + GOOD + "  - id: b\n    title: B\n    source: S\n", 7, "missing 'body'"),
        (HEAD + "  - id: b\n    topic: weather\n    title: B\n    body: x\n", 5, "topic: Input"),
        (HEAD + "  - id: Bé\n    title: B\n    body: x\n", 4, "id: String should match"),
        (HEAD + "  - id: b\n    title: B\n    body: x\n    bodi: y\n", 7, "unknown key 'bodi'"),
        (HEAD + "  - id: b\n    title: B\n    body: x\n    body: y\n", 7, "'body' given twice"),
        ("kind: slogan\ncolour: red\nitems: []\n", 2, "colour: unknown key"),
        ("kind: essay\nitems: []\n", 1, "kind: Input should be"),
        (
            "kind: ocop_spotlight\ntopic: ocop\nitems:\n"
            "  - id: b\n    title: B\n    product: {name: Mắm}\n",
            4,
            "item 'b': does not render: ocop_spotlight message: 'dict object' has no attribute",
        ),
        (
            "kind: commemoration\ntopic: policy\nitems:\n"
            "  - id: b\n    title: B\n    text: x\n    when: {month: 2, day: 30}\n",
            7,
            "when: Value error, day is out of range for month",
        ),
        (
            "kind: commemoration\ntopic: policy\nitems:\n"
            "  - id: b\n    title: B\n    text: x\n    when: {month: 7, weekday: 5}\n",
            7,
            "give either day, or weekday and nth",
        ),
        (HEAD + "  - id: b\n    title: B\n    body: x\n    source: 2024-07-01\n", 7, "quoted text"),
    ],
)
def test_a_broken_pack_names_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PackProblem) as caught:
        read_packs(tmp_path)
    assert any(
        e.startswith(f"{tmp_path / 'bad.yaml'}:{line}: ") and message in e
        for e in caught.value.errors
    ), caught.value.errors


def test_duplicate_ids_across_packs_and_every_error_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(HEAD + GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(HEAD + "\n" + GOOD + "  - id: x\n    title: X\n")
    with pytest.raises(PackProblem) as caught:
        read_packs(tmp_path)
    assert caught.value.errors == [
        f"{tmp_path / 'b.yaml'}:8: item 'x': missing 'body', which a policy message needs",
        f"{tmp_path / 'b.yaml'}:5: duplicate id 'ok', first at {tmp_path / 'a.yaml'}:4",
    ]
    with pytest.raises(PackProblem, match="no pack files"):
        read_packs(tmp_path / "a.yaml")  # not a directory of packs
