"""Wording that reads right on each channel: choices typed on Zalo, place names mid-sentence,
one tone-mark style, a course card without repeats, names in Vietnamese order."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.channels import zalo_bot, zalo_oa
from bot.channels.telegram import vietnamese_name
from bot.conversation.events import Option, Reply
from bot.simulator import FakeTelegram
from bot.simulator.zalo_bot_api import FakeZaloBot
from db.models import (
    RegistrationStatus,
    Subscriber,
    TrainingCourse,
    TrainingRegistration,
    TrainingTopic,
)
from messages import member as say
from messages import training
from messages.channels import plain
from messages.render import numbered_choices
from tests.bot.test_zalo_bot import ZaloChat
from tests.chat import Chat
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]

# --- one tone-mark style ------------------------------------------------------------------

# The mark on the main vowel ("hòa", "thủy", "khỏe"), as the official place names write it,
# not on the second vowel of an open syllable ("hoà", "thuỷ", "khoẻ"). After q the u belongs
# to the consonant, so "quý" is right; "toán", "huýt" close the syllable, which moves the mark.
OLD_STYLE = re.compile(r"(?<![qQ])([oO][áàảãạÁÀẢÃẠ]|[oO][éèẻẽẹÉÈẺẼẸ]|[uU][ýỳỷỹỵÝỲỶỸỴ])(?![^\W\d_])")
SOURCES = ("messages/**/*.py", "messages/**/*.j2", "messages/**/*.yaml", "bot/**/*.py")
ALLOWED = {
    # The operators' CLI, kept by its own maintainers: these two are theirs to change.
    "bot/cli/training.py": {"Huỷ", "huỷ"},
}


def old_style(text: str) -> list[str]:
    """Return the words of a text that put a tone mark the old way."""
    words = re.findall(r"[^\W\d_]+", text)
    return [w for w in words if OLD_STYLE.search(w)]


def test_the_old_style_is_recognised() -> None:
    old = ["Xoá", "huỷ", "hoà", "khoẻ", "thuỷ", "Uỷ", "HOÀ"]
    assert old_style(", ".join(old)) == old
    assert old_style("xóa, hủy, hòa, khỏe, thủy, quý, quỷ, toán, huýt, Ủy ban, /xoa") == []


def test_texts_use_one_tone_mark_style() -> None:
    found = []
    for pattern in SOURCES:
        for path in sorted(ROOT.glob(pattern)):
            name = path.relative_to(ROOT).as_posix()
            allowed = ALLOWED.get(name, set())
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found += [f"{name}:{number}: {w}" for w in old_style(line) if w not in allowed]
    assert found == []


# --- no buttons on the Zalo Bot -------------------------------------------------------------

# What members read, whatever the channel: a button is "chosen", never "pressed" or "tapped".
MEMBER_TEXTS = (
    "messages/member.py",
    "messages/training.py",
    "messages/feedback.py",
    "messages/linking.py",
    "messages/ocop_texts.py",
    "messages/understand.py",
    "messages/templates/*.j2",
    "messages/packs/*.yaml",
)
BUTTON_WORDS = re.compile(r"\b(bấm|nhấn|chạm|nút)\b", re.IGNORECASE)


def test_member_texts_speak_of_no_buttons() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for pattern in MEMBER_TEXTS
        for path in sorted(ROOT.glob(pattern))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BUTTON_WORDS.search(line)
    ]
    assert found == []


def test_choices_typed_as_numbers_read_naturally() -> None:
    assert numbered_choices("Hỏi?", ["Có"]) == "Hỏi?\n\n1. Có\n\nGõ 1 để chọn."
    assert numbered_choices("Hỏi?", ["Có", "Không"]) == (
        "Hỏi?\n\n1. Có\n2. Không\n\nGõ 1 hoặc 2 để chọn."
    )
    five = numbered_choices("Hỏi?", ["A", "B", "C", "D", "E"])
    assert five.endswith("\n5. E\n\nGõ số từ 1 đến 5 hoặc gõ tên để chọn.")
    assert numbered_choices("Hỏi?", []) == "Hỏi?"


def test_a_question_answered_by_typing_does_not_invite_a_number() -> None:
    question = say.ask_commune("Tỉnh Khánh Hòa", "Mỹ Sơn")
    back = Option(say.BACK_TO_PROVINCE, "back|province", aside=True)
    expected = f"{question}\n\n(Gõ 1 nếu muốn chọn lại tỉnh.)"
    assert zalo_bot.render(Reply(question, (back,))) == expected
    skip = Option(say.SKIP, "coop|skip", aside=True)
    assert zalo_bot.render(Reply(say.ASK_COOP, (skip,))).endswith("(Gõ 1 nếu muốn bỏ qua.)")
    both = zalo_bot.render(Reply("Hỏi?", (skip, back)))
    assert both == "Hỏi?\n\n(Gõ 1 nếu muốn bỏ qua, 2 nếu muốn chọn lại tỉnh.)"
    # Beside real choices, a way back is one more line of the list.
    communes = (Option("Xã Mỹ Sơn", "comm|1"), Option("Xã Lâm Sơn", "comm|2"), back)
    listed = zalo_bot.render(Reply("Xã nào?", communes))
    assert listed.endswith("3. Chọn lại tỉnh\n\nGõ số từ 1 đến 3 hoặc gõ tên để chọn.")
    # The Zalo OA writes the same list when it cannot show buttons (more than five).
    many = tuple(Option(f"Xã {n}", f"comm|{n}") for n in range(6))
    assert zalo_oa.render(Reply("Xã nào?", many))["text"].endswith(
        "Gõ số từ 1 đến 6 hoặc gõ tên để chọn."
    )
    assert zalo_oa.render(Reply(question, (back,)))["attachment"]  # a button it can show


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot() as fake:
        yield fake


@pytest.fixture
async def both(
    database_url: str, telegram: FakeTelegram, zalo: FakeZaloBot
) -> AsyncIterator[OutreachApp]:
    app = make_app(
        database_url, telegram, zalo_bot_token=zalo.token, zalo_bot_api_url=zalo.base_url
    )
    await app.start()
    yield app
    await app.stop()


async def test_a_zalo_member_reads_no_buttons(both: OutreachApp, zalo: FakeZaloBot) -> None:
    chat = ZaloChat(zalo, "zl-7007")
    consent = await chat.say("/batdau", "Anh/chị có đồng ý không?")
    assert consent.endswith("Gõ 1 hoặc 2 để chọn.")
    await chat.say("1", "tỉnh, thành phố nào")
    await chat.say("khanh hoa", "Anh/chị ở xã, phường nào của tỉnh Khánh Hòa?")
    roles = await chat.say("my son", "Anh/chị thuộc nhóm nào dưới đây?")
    assert "Anh/chị là ai" not in roles and roles.endswith("Gõ số từ 1 đến 5 hoặc gõ tên để chọn.")
    await chat.say("nong dan", "hợp tác xã")
    await chat.say("bo qua", "chủ đề nào")
    done = await chat.say("6", "Đăng ký xong")
    assert "cho xã Mỹ Sơn, tỉnh Khánh Hòa." in done
    await chat.say("/hoso", "Thông tin chúng tôi đang lưu")
    await chat.say("/khokhan", "Báo khó khăn")
    await chat.say("1", "kể rõ khó khăn")
    await chat.say("Thiếu nước tưới", "không có thì chọn “Xong”")
    await chat.say("/taphuan", "lớp tập huấn")
    await chat.say("/xoa", "muốn xóa toàn bộ dữ liệu")
    await chat.say("Không xóa", "Chưa xóa gì")
    read = "\n".join(m["text"] for m in zalo.messages("zl-7007"))
    assert not BUTTON_WORDS.search(read)
    assert "Gõ số từ 1 đến 2" not in read


# --- place names mid-sentence ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "written"),
    [
        ("Tỉnh Khánh Hòa", "tỉnh Khánh Hòa"),
        ("Thành phố Huế", "thành phố Huế"),
        ("Thành phố Hà Nội", "thành phố Hà Nội"),
        ("Xã Mỹ Sơn", "xã Mỹ Sơn"),
        ("Phường 1", "phường 1"),
        ("Đặc khu Phú Quốc", "đặc khu Phú Quốc"),
        ("Huyện Ninh Sơn", "huyện Ninh Sơn"),
        ("Thị trấn Tân Sơn", "thị trấn Tân Sơn"),
        ("Xã Mỹ Sơn, Tỉnh Khánh Hòa", "xã Mỹ Sơn, tỉnh Khánh Hòa"),
        ("Khánh Hòa", "Khánh Hòa"),
        ("tỉnh của anh/chị", "tỉnh của anh/chị"),
        ("Xã Tỉnh Túc", "xã Tỉnh Túc"),  # only the division word
    ],
)
def test_a_place_name_mid_sentence(name: str, written: str) -> None:
    assert say.mid_sentence(name) == written


def test_place_names_in_member_texts() -> None:
    assert say.ask_commune("Tỉnh Khánh Hòa", "Mỹ Sơn") == (
        "Anh/chị ở xã, phường nào của tỉnh Khánh Hòa? Gõ tên, ví dụ: Mỹ Sơn"
    )
    assert "của thành phố Hà Nội?" in say.ask_commune("Thành phố Hà Nội", "Ba Đình")
    assert "ở tỉnh Khánh Hòa." in say.commune_not_found("xyz", "Tỉnh Khánh Hòa", "Mỹ Sơn")
    assert say.former_province("Tỉnh Ninh Thuận", "Tỉnh Khánh Hòa") == (
        "Tỉnh Ninh Thuận cũ nay thuộc tỉnh Khánh Hòa."  # the start of a sentence keeps it
    )
    district = say.former_district("Huyện Ninh Sơn", "Tỉnh Ninh Thuận", 5)
    assert district.startswith("Huyện Ninh Sơn (tỉnh Ninh Thuận cũ) đã giải thể")
    assert "ở tỉnh Khánh Hòa." in say.coop_not_found("abc", "Tỉnh Khánh Hòa")
    assert "(xã Mỹ Sơn, tỉnh Khánh Hòa)" in say.invited("HTX A", "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
    assert "cho xã Mỹ Sơn, tỉnh Khánh Hòa." in say.registered("Xã Mỹ Sơn, Tỉnh Khánh Hòa", ["A"])
    assert say.chosen("Tỉnh Khánh Hòa") == "Đã chọn: Tỉnh Khánh Hòa."


def test_softer_questions() -> None:
    assert say.ASK_ROLE == "Anh/chị thuộc nhóm nào dưới đây?"


# --- a course card without repeats ----------------------------------------------------------

START = datetime(2099, 3, 10, 0, 30, tzinfo=UTC)  # 07:30 in Việt Nam


def course(capacity: int = 30) -> TrainingCourse:
    """A course as staff create it, not stored."""
    return TrainingCourse(
        id=12,
        title="Kế toán HTX cơ bản",
        topic=TrainingTopic.ACCOUNTING,
        organiser="Liên minh HTX tỉnh Khánh Hòa",
        starts_at=START,
        ends_at=START + timedelta(hours=4),
        capacity=capacity,
        deadline_at=START - timedelta(days=2),
        place="Hội trường UBND xã Mỹ Sơn",
    )


def card(shown: TrainingCourse, seats_left: int, entry: TrainingRegistration | None = None) -> str:
    """The course as a member sees it when they open it from /taphuan."""
    now = START - timedelta(days=5)
    state = training.state_line(shown, entry, seats_left, 1, now, on_card=True)
    return training.details(shown, seats_left, state)


def about_seats_and_deadline(text: str) -> tuple[list[str], list[str]]:
    lines = text.splitlines()
    seats = [line for line in lines if re.search(r"\d+ chỗ|đủ chỗ", line)]
    deadline = [line for line in lines if "hạn đăng ký" in line.lower()]
    return seats, deadline


@pytest.mark.parametrize(
    ("seats_left", "entry", "last"),
    [
        (7, None, "Chọn “Đăng ký” để giữ chỗ."),
        (30, None, "Chọn “Đăng ký” để giữ chỗ."),
        (0, None, "Anh/chị vẫn có thể đăng ký vào danh sách chờ."),
        (6, RegistrationStatus.REGISTERED, "✅ Anh/chị đã đăng ký lớp này."),
        (0, RegistrationStatus.WAITING, "⏳ Anh/chị đang ở danh sách chờ, thứ 1."),
    ],
)
def test_a_course_card_says_each_thing_once(
    seats_left: int, entry: RegistrationStatus | None, last: str
) -> None:
    registration = TrainingRegistration(status=entry) if entry is not None else None
    text = card(course(), seats_left, registration)
    lines = [line for line in text.splitlines() if line]
    assert len(lines) == len(set(lines)), text
    seats, deadline = about_seats_and_deadline(text)
    assert len(seats) == 1 and len(deadline) == 1, text
    assert lines[-1] == last
    assert "còn 30 chỗ" not in text  # "30 chỗ, còn 30 chỗ" says the same twice


def test_the_course_list_still_says_seats_and_deadline() -> None:
    now = START - timedelta(days=5)
    state = training.state_line(course(), None, 7, 0, now)
    assert state == "Còn 7/30 chỗ, hạn đăng ký 07:30 Chủ Nhật, 08/03/2099."
    listed = training.list_text([(course(), state)])
    assert "1. Kế toán HTX cơ bản (lớp số 12)" in listed
    announcement = plain(training.announcement(course(), None))
    assert announcement.endswith("Chọn “Đăng ký” để giữ chỗ.")


# --- names in Vietnamese order --------------------------------------------------------------


def test_a_name_is_written_family_first() -> None:
    assert vietnamese_name("Bình", "Trần Thị") == "Trần Thị Bình"
    assert vietnamese_name("Nguyễn Văn An", None) == "Nguyễn Văn An"
    assert vietnamese_name("An", "") == "An"


async def test_a_telegram_member_is_named_family_first(
    app: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat_id = 9401
    telegram.add_chat(chat_id, first_name="Bình")
    person = {"first_name": "Bình", "last_name": "Trần Thị"}

    def send(text: str) -> None:  # as Telegram sends it from someone with both names set
        message = {
            "message_id": telegram.next_message_id(chat_id),
            "from": {"id": chat_id, "is_bot": False, **person, "language_code": "vi"},
            "chat": {"id": chat_id, **person, "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        telegram.inject({"message": message})

    chat = Chat(telegram, chat_id)
    send("/batdau")
    await chat.expect("Anh/chị có đồng ý không?")
    send("1")
    await chat.expect("tỉnh, thành phố nào")
    with sessions() as session:
        stored = session.scalars(select(Subscriber).where(Subscriber.chat_id == str(chat_id)))
        assert stored.one().display_name == "Trần Thị Bình"
