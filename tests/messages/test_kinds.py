"""Each message kind renders to the exact text expected, safely, whatever the data holds."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages.channels import CAPTION_LIMIT, TEXT_LIMIT, caption_and_rest, plain, split_text, units
from messages.filters import clock, count, money, stars, weekday_date
from messages.kinds import Kind, render_kind
from messages.render import TemplateProblem

START = datetime(2024, 10, 15, 0, 30, tzinfo=UTC)  # Thứ Ba 15/10/2024, 07:30 in Hà Nội
PRODUCT = {
    "name": "Nước mắm Cà Ná",
    "stars": 4,
    "year": 2023,
    "group": "Thực phẩm",
    "cooperative": "HTX Thủy sản Cà Ná",
    "place": "Xã Cà Ná, Tỉnh Khánh Hòa",
    "price": 150000,
    "unit": "chai",
    "description": "Ủ chượp 12 tháng theo cách truyền thống.",
    "where_to_buy": "Chợ Cà Ná",
    "contact": "0912 345 678",
}


def test_vietnamese_filters() -> None:
    assert weekday_date(date(2024, 10, 15)) == "Thứ Ba, 15/10/2024"
    assert weekday_date(datetime(2024, 10, 19, 18, 0, tzinfo=UTC)) == "Chủ Nhật, 20/10/2024"
    assert clock(START) == "07:30" and clock(time(19, 5)) == "19:05"
    assert money(150000) == "150.000 đ" and money(25000, "kg") == "25.000 đ/kg"
    assert money(None) == "Liên hệ"
    assert stars(4) == "★★★★☆" and stars(7) == "★★★★★" and stars(-1) == "☆☆☆☆☆"
    assert count(1234567) == "1.234.567"


def test_ocop_spotlight_golden() -> None:
    assert render_kind(Kind.OCOP_SPOTLIGHT, product=PRODUCT) == (
        "⭐ <b>Sản phẩm OCOP: Nước mắm Cà Ná</b>\n"
        "★★★★☆ 4 sao, công nhận năm 2023\n"
        "\n"
        "🏷 Nhóm sản phẩm: Thực phẩm\n"
        "🏡 HTX Thủy sản Cà Ná, Xã Cà Ná, Tỉnh Khánh Hòa\n"
        "💰 Giá: 150.000 đ/chai\n"
        "\n"
        "Ủ chượp 12 tháng theo cách truyền thống.\n"
        "\n"
        "🛒 Nơi bán: Chợ Cà Ná\n"
        "☎️ Liên hệ: 0912 345 678"
    )


def test_training_announcement_golden() -> None:
    course = {
        "title": "VietGAP cho rau an toàn",
        "start": START,
        "end": START.replace(hour=9),
        "place": "Hội trường UBND xã Mỹ Sơn",
        "capacity": 40,
        "seats_left": 12,
        "deadline": datetime(2024, 10, 12, 10, 0, tzinfo=UTC),
        "organiser": "Liên minh HTX tỉnh Khánh Hòa",
        "description": None,
    }
    assert render_kind(Kind.TRAINING_ANNOUNCEMENT, course=course) == (
        "🎓 <b>Lớp tập huấn: VietGAP cho rau an toàn</b>\n"
        "\n"
        "📅 Thứ Ba, 15/10/2024, 07:30–16:30\n"
        "📍 Hội trường UBND xã Mỹ Sơn\n"
        "👥 40 chỗ, còn 12 chỗ\n"
        "⏳ Hạn đăng ký: 17:00 Thứ Bảy, 12/10/2024\n"
        "🏛 Đơn vị tổ chức: Liên minh HTX tỉnh Khánh Hòa\n"
        "\n"
        "Chọn “Đăng ký” để giữ chỗ."
    )


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_escapes_hostile_data(kind: Kind) -> None:
    hostile = '<script>alert(1)</script> {{ 7*7 }} {% raw %} & "quote" 🌾'
    data = {
        "title": hostile,
        "body": hostile,
        "text": hostile,
        "source": hostile,
        "occasion": hostile,
        "name": hostile,
        "place": hostile,
        "story": hostile,
        "results": [hostile],
        "product": {**PRODUCT, "name": hostile, "description": hostile},
        "course": {
            "title": hostile,
            "start": START,
            "end": START,
            "place": hostile,
            "capacity": 10,
            "seats_left": None,
            "deadline": START,
            "organiser": hostile,
            "description": hostile,
        },
        "when": "ngày mai",
        "day": date(2024, 10, 29),
        "years": 30,
        "items": [{"name": hostile, "price": 1000, "unit": "kg", "change": hostile}],
        "note": hostile,
    }
    out = render_kind(kind, **data)
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "{{ 7*7 }}" in out and "49" not in out  # data is never run as a template
    assert "🌾" in out


def test_missing_data_is_a_clear_problem() -> None:
    with pytest.raises(TemplateProblem, match=r"ocop_spotlight message: .*product"):
        render_kind(Kind.OCOP_SPOTLIGHT)


def test_long_text_splits_at_paragraphs_within_the_limit() -> None:
    paragraphs = [f"<b>Mục {n}</b>\n" + "Nội dung chính sách hợp tác xã. " * 40 for n in range(12)]
    markup = "\n\n".join(paragraphs)
    parts = split_text(markup)
    assert len(parts) > 1 and all(units(p) <= TEXT_LIMIT for p in parts)
    assert "\n\n".join(parts) == markup  # nothing lost, nothing reordered, tags intact
    assert all(p.count("<b>") == p.count("</b>") for p in parts)


def test_ten_thousand_characters_without_a_break_and_emoji() -> None:
    markup = "🌾" * 3000 + "a" * 4000  # emoji count twice in Telegram's UTF-16 units
    parts = split_text(markup)
    assert all(units(p) <= TEXT_LIMIT for p in parts)
    assert "".join(plain(p) for p in parts) == markup


@given(st.text(alphabet=st.sampled_from("ab <>&\n🌾ệ"), max_size=12000))
def test_split_never_exceeds_and_keeps_every_character(text: str) -> None:
    from html import escape

    markup = escape(text, quote=False)
    parts = split_text(markup)
    assert all(units(p) <= TEXT_LIMIT for p in parts)
    kept = "".join(plain(p) for p in parts).replace("\n", "").replace(" ", "")
    assert kept == text.replace("\n", "").replace(" ", "")


def test_long_caption_moves_to_a_follow_up() -> None:
    markup = "<b>Nước mắm Cà Ná</b>\n\n" + "Mô tả sản phẩm. " * 100
    caption, rest = caption_and_rest(markup)
    assert caption == "<b>Nước mắm Cà Ná</b>" and units(caption) <= CAPTION_LIMIT
    assert rest and plain(rest[0]).startswith("Mô tả sản phẩm.")
    short = "<b>Ngắn</b>"
    assert caption_and_rest(short) == (short, [])


def test_an_overlong_paragraph_is_cut_at_lines_keeping_its_line_breaks() -> None:
    lines = [f"• Dòng {n}: " + "giá lúa tăng nhẹ " * 10 for n in range(40)]  # one paragraph
    parts = split_text("\n".join(lines))
    assert len(parts) == 2 and all(units(p) <= TEXT_LIMIT for p in parts)
    assert "\n".join(parts) == "\n".join(lines)  # no blank line added inside the paragraph
