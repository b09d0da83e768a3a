"""A course from announcement to rating, through the fake Telegram with a controlled clock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.courses import create_course
from bot.simulator import FakeTelegram
from db import training
from db.base import utcnow
from db.engine import create_db_engine, session_factory
from db.models import Broadcast, RegistrationStatus, Subscriber, TrainingRegistration
from db.training import registration
from tests.bot.test_cli import run
from tests.chat import Chat
from tests.factories import FakeClock, add_subscribers, commune_id, course_draft, wait_done

A, B, C, LATE = 7001, 7002, 7003, 7004
TITLE = "Kế toán HTX <cơ bản> {{ 7*7 }}"  # hostile on purpose: shown as written, never run


def course_now(sessions: sessionmaker[Session], clock: FakeClock) -> tuple[int, int]:
    """Register four members and create a two-seat course a week ahead, announced now."""
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        add_subscribers(session, [A, B, C, LATE], area_id=area)
        draft = course_draft(clock() + timedelta(days=7), title=TITLE)
        course, made = create_course(
            session, draft, created_by="test", now=clock(), announce_at=clock()
        )
        return course.id, made[0].id


def sent_by_kind(sessions: sessionmaker[Session], course_id: int, kind: str) -> list[int]:
    with sessions() as session:
        query = select(Broadcast.id).where(Broadcast.course_id == course_id, Broadcast.kind == kind)
        return list(session.scalars(query.order_by(Broadcast.send_at)))


async def test_announce_register_wait_remind_rate(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    for chat in (A, B, C, LATE):
        telegram.add_chat(chat)
    course_id, announcement = course_now(sessions, clock)
    await wait_done(sessions, announcement, clock=clock)
    a, b, c, late = (Chat(telegram, n) for n in (A, B, C, LATE))
    for chat in (a, b, c, late):
        shown = await chat.expect("Lớp tập huấn")
        assert TITLE in shown["text"] and "49" not in shown["text"]
    await a.tap("Đăng ký", "Anh/chị đã đăng ký lớp")
    await b.tap("Đăng ký", "Anh/chị đã đăng ký lớp")
    await c.tap("Đăng ký", "đứng thứ 1")

    # A gives up the seat from /trainings: C moves up and is told in their own chat.
    await a.say("/trainings", "Các lớp tập huấn sắp tới")
    details = await a.tap_edit("Kế toán HTX", "Đơn vị tổ chức")
    assert "👥 2 chỗ, đã đủ chỗ" in details["text"]
    await a.tap("Hủy đăng ký", "chắc chắn muốn hủy")
    await a.tap_edit("Đồng ý hủy", "Đã hủy đăng ký")
    (notice,) = sent_by_kind(sessions, course_id, "training_notice")
    await wait_done(sessions, notice, clock=clock)
    await c.expect("Đã có chỗ cho anh/chị")

    # Reminders reach those seated at the time, three days, one day and two hours before.
    reminders = sent_by_kind(sessions, course_id, "training_reminder")
    steps = (timedelta(days=4), timedelta(days=2), timedelta(hours=22))
    for reminder, words, step in zip(
        reminders, ("3 ngày", "ngày mai", "2 giờ"), steps, strict=True
    ):
        clock.advance(seconds=step.total_seconds())
        await wait_done(sessions, reminder, clock=clock)
        for chat in (b, c):
            reminder_text = (await chat.expect(words))["text"]
            assert "gõ /taphuan để hủy đăng ký" in reminder_text
    reminded = {m["chat"]["id"] for m in telegram.messages() if "Nhắc lịch" in m.get("text", "")}
    assert reminded == {B, C}

    # Registration closed two days before: a late member is told so.
    late.send("/dangky " + str(course_id))
    await late.expect("hết hạn đăng ký")

    # After the course, a one-tap rating.
    clock.advance(hours=7)
    (rating,) = sent_by_kind(sessions, course_id, "training_rating")
    await wait_done(sessions, rating, clock=clock)
    await b.expect("thấy lớp")
    await b.tap("Rất tốt", "Cảm ơn anh/chị đã đánh giá ★★★★★")
    await c.expect("thấy lớp")
    c.send(f"/danhgia {course_id} 3")
    await c.expect("★★★☆☆")
    with sessions() as session:
        ratings = {
            chat: getattr(registration(session, course_id, _id(session, chat)), "rating", None)
            for chat in (A, B, C)
        }
        seated = registration(session, course_id, _id(session, C))
        assert seated is not None and seated.status == RegistrationStatus.REGISTERED
    assert ratings == {A: None, B: 5, C: 3}


def _id(session: Session, chat: int) -> int:
    found = session.scalar(select(Subscriber.id).where(Subscriber.chat_id == str(chat)))
    assert found is not None
    return found


def test_create_and_export_from_the_cli(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    course = [
        "training", "create", "--title", "VietGAP cho rau an toàn", "--topic", "vietgap",
        "--organiser", "Liên minh HTX tỉnh Khánh Hòa", "--place", "Hội trường xã",
        "--capacity", "30", "--province", "Khánh Hòa",
    ]  # fmt: skip
    created = run(
        *course, "--start", "2099-03-10 07:30", "--end", "11:30",
        "--deadline", "2099-03-08 17:00", env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "course 1: VietGAP" in created.stdout
    assert created.stdout.count("training_reminder") == 3
    past = run(
        *course, "--start", "2001-01-01 07:00", "--end", "09:00",
        "--deadline", "2000-12-30 07:00", env=env,
    )  # fmt: skip
    assert past.returncode == 2 and "the start is in the past" in past.stderr
    with session_on(database_url) as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        (member,) = add_subscribers(session, [1], area_id=area, name="=HYPERLINK(1)")
        training.register(session, 1, session.get_one(Subscriber, member), utcnow())
    for suffix in ("csv", "xlsx"):
        done = run("training", "export", "1", "--out", str(tmp_path / f"list.{suffix}"), env=env)
        assert done.returncode == 0, done.stderr
    book = load_workbook(tmp_path / "list.xlsx")
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("STT", "Mã đăng ký", "Họ tên", "Kênh") and rows[0][-1] == "Có mặt"
    assert rows[1][2] == "'=HYPERLINK(1) 1" and rows[1][8] == "Đã đăng ký"
    assert rows[1][-1] is None
    text = (tmp_path / "list.csv").read_text(encoding="utf-8-sig")
    assert text.startswith("STT,Mã đăng ký,Họ tên") and "'=HYPERLINK(1) 1" in text

    # The officer ticks who came and loads the sheet back: attendance for the reports.
    sheet.cell(row=2, column=len(rows[0]), value="x")
    sheet.append([None] * (len(rows[0]) - 1))  # a blank line is fine
    book.save(tmp_path / "back.xlsx")
    marked = run("training", "attendance", "1", str(tmp_path / "back.xlsx"), env=env)
    assert marked.returncode == 0, marked.stderr
    assert "marked 1 present on course 1 (1 seated)" in marked.stdout
    with session_on(database_url) as session:
        (entry,) = session.scalars(select(TrainingRegistration))
        assert entry.attended_at is not None
    sheet.cell(row=2, column=2, value=99)
    book.save(tmp_path / "wrong.xlsx")
    wrong = run("training", "attendance", "1", str(tmp_path / "wrong.xlsx"), env=env)
    assert wrong.returncode == 2 and "registrations 99 are not on course 1" in wrong.stderr
    sheet.cell(row=2, column=2, value=rows[1][1])
    sheet.cell(row=2, column=len(rows[0]), value="maybe")
    book.save(tmp_path / "odd.xlsx")
    odd = run("training", "attendance", "1", str(tmp_path / "odd.xlsx"), env=env)
    assert odd.returncode == 2 and "back.xlsx" not in odd.stderr
    assert "odd.xlsx:2: 'Có mặt' must be x or empty, not 'maybe'" in odd.stderr


@contextlib.contextmanager
def session_on(url: str) -> Iterator[Session]:
    engine = create_db_engine(url)
    try:
        with session_factory(engine).begin() as session:
            yield session
    finally:
        engine.dispose()
