"""Members are heard through the fake Telegram: replies linked to broadcasts, reactions, polls,
"Báo khó khăn" with a photo, flagged texts told to officers, the inbox answer, flooding."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.polls import create_poll
from bot.simulator import FakeTelegram
from db import audit
from db import staff as people
from db.audience import Audience
from db.broadcasts import create_broadcast
from db.feedback import reaction_counts
from db.models import (
    Area,
    AreaLevel,
    Broadcast,
    Channel,
    Feedback,
    FeedbackKind,
    FeedbackStatus,
    Poll,
    PollStatus,
    ReactionValue,
    StaffRole,
)
from db.polls import results
from tests.bot.test_cli import run
from tests.chat import Chat
from tests.factories import FakeClock, add_subscribers, commune_id, wait_done

KH = "Tỉnh Khánh Hòa"
OFFICER, OTHER_OFFICER = 9401, 9402
MY_SON, CA_NA, ELSEWHERE = [9411, 9412], [9421], [9431, 9432]


def set_up(sessions: sessionmaker[Session], telegram: FakeTelegram, clock: FakeClock) -> int:
    """An officer for Xã Mỹ Sơn and one for Xã Cà Ná; members there and in another province."""
    with sessions.begin() as session:
        my_son = session.get(Area, commune_id(session, "Xã Mỹ Sơn", KH))
        ca_na = session.get(Area, commune_id(session, "Xã Cà Ná", KH))
        assert my_son is not None and ca_na is not None
        for user_id, area, name in ((OFFICER, my_son, "Chị Lan"), (OTHER_OFFICER, ca_na, "Anh Tú")):
            people.add_staff(
                session,
                channel=Channel.TELEGRAM,
                user_id=str(user_id),
                role=StaffRole.EDITOR,
                area=area,
                name=name,
                actor="cli:test",
                now=clock(),
            )
        add_subscribers(session, MY_SON, area_id=my_son.id)
        add_subscribers(session, CA_NA, area_id=ca_na.id)
        far = session.scalar(
            select(Area)
            .where(Area.level == AreaLevel.COMMUNE, Area.parent_id != my_son.parent_id)
            .limit(1)
        )
        assert far is not None
        add_subscribers(session, ELSEWHERE, area_id=far.id)
        province_id = my_son.parent_id
        assert province_id is not None
    for chat in (OFFICER, OTHER_OFFICER, *MY_SON, *CA_NA, *ELSEWHERE):
        telegram.add_chat(chat)
    return province_id


def announce(sessions: sessionmaker[Session], clock: FakeClock, area_id: int, text: str) -> int:
    with sessions.begin() as session:
        broadcast = create_broadcast(
            session,
            text=text,
            audience=Audience(area_ids=(area_id,)),
            send_at=clock(),
            created_by="cli:test",
            now=clock(),
        )
        return broadcast.id


async def test_replies_are_linked_and_reactions_counted(
    running: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    province = set_up(sessions, telegram, clock)
    broadcast_id = announce(sessions, clock, province, "Hỗ trợ lãi suất vay vốn cho HTX năm 2027")
    await wait_done(sessions, broadcast_id, clock=clock)
    first, second = Chat(telegram, MY_SON[0]), Chat(telegram, MY_SON[1])
    got = await first.expect("Hỗ trợ lãi suất")
    rows = got["reply_markup"]["inline_keyboard"]
    assert [b["text"] for b in rows[-1]] == ["👍 Hữu ích", "🤔 Chưa rõ"]  # side by side

    # A swipe-reply links to the broadcast; a message soon after, without a reply, too.
    telegram.send_text(MY_SON[0], "XIN HOI THU TUC VAY VON O DAU", reply_to=got["message_id"])
    await first.expect("phản hồi về tin “Hỗ trợ lãi suất vay vốn")
    clock.advance(hours=3)
    await second.say("lai suat bao nhieu vay", "phản hồi về tin")
    clock.advance(hours=22)  # a day after the broadcast: a new message answers nothing
    await second.say("Cho hỏi giá phân bón", "Cảm ơn anh/chị đã gửi ý kiến")

    await first.tap("Hữu ích", "tin này hữu ích")
    await first.tap("Chưa rõ", "chưa rõ điều gì")
    assert first.buttons(got)[-2:] == [  # the broadcast keeps its buttons
        ("👍 Hữu ích", f"fb|{broadcast_id}.u"),
        ("🤔 Chưa rõ", f"fb|{broadcast_id}.c"),
    ]
    await first.say("Hồ sơ cần những giấy tờ gì?", "phản hồi về tin")
    await second.tap("Hữu ích", "tin này hữu ích")
    second.telegram.send_text(MY_SON[1], f"/chuaro {broadcast_id}")  # typed, as on Zalo
    await second.expect("chưa rõ điều gì")
    await second.say("Điều kiện là gì ạ", "phản hồi về tin")

    with sessions() as session:
        found = list(session.scalars(select(Feedback).order_by(Feedback.id)))
        assert [f.broadcast_id for f in found] == [broadcast_id] * 2 + [None] + [broadcast_id] * 2
        assert found[0].topic == "von" and found[1].topic == "von"
        assert reaction_counts(session, broadcast_id) == {
            ReactionValue.USEFUL: 0,
            ReactionValue.UNCLEAR: 2,
        }


async def test_a_poll_end_to_end(
    running: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    set_up(sessions, telegram, clock)
    with sessions.begin() as session:
        poll = create_poll(
            session,
            "Hợp tác xã nên mở lớp tập huấn vào tháng nào?",
            ["Tháng 12", "Tháng 1", "Sau Tết"],
            Audience(),
            created_by="cli:test",
            now=clock(),
            tz=running.settings.tz,
            closes_at=clock() + timedelta(days=2),
        )
        poll_id, broadcast_id = poll.id, poll.broadcast_id
    assert broadcast_id is not None
    await wait_done(sessions, broadcast_id, clock=clock)
    voters = {chat: Chat(telegram, chat) for chat in (*MY_SON, *CA_NA, *ELSEWHERE)}
    for chat in voters.values():
        message = await chat.expect("Hợp tác xã nên mở lớp tập huấn vào tháng nào?")
        assert [label for label, _ in chat.buttons(message)] == [
            "1. Tháng 12",
            "2. Tháng 1",
            "3. Sau Tết",
        ]  # no reactions under a poll
    await voters[MY_SON[0]].tap("Tháng 12", "Đã ghi nhận lựa chọn “Tháng 12”")
    await voters[MY_SON[1]].tap("Sau Tết", "Đã ghi nhận lựa chọn “Sau Tết”")
    await voters[CA_NA[0]].tap("Tháng 12", "Đã ghi nhận")
    await voters[ELSEWHERE[0]].tap("2. Tháng 1", "Đã ghi nhận")
    await voters[ELSEWHERE[0]].tap("Sau Tết", "từ “Tháng 1” thành “Sau Tết”")  # changed
    await voters[ELSEWHERE[1]].say(f"/binhchon {poll_id} 3", "Đã ghi nhận lựa chọn “Sau Tết”")
    await voters[ELSEWHERE[1]].say(f"/binhchon {poll_id} 3", "đã chọn “Sau Tết” rồi")

    with sessions() as session:
        counted = results(session, session.get_one(Poll, poll_id))
        assert counted.totals == [2, 0, 3]  # one answer a member, the changed one counted once
        kh = counted.by_province.pop(KH)
        assert kh == [2, 0, 1]
        assert list(counted.by_province.values()) == [[0, 0, 2]]

    clock.advance(days=2)  # closed by its time: a late tap changes nothing
    await voters[MY_SON[0]].tap("Sau Tết", "Bình chọn này đã kết thúc")
    with sessions() as session:
        assert results(session, session.get_one(Poll, poll_id)).totals == [2, 0, 3]
    await asyncio.to_thread(running.scheduler.tick)  # the scheduler closes it for good
    with sessions() as session:
        assert session.get_one(Poll, poll_id).status is PollStatus.CLOSED


async def test_difficulty_with_photo_flags_and_tells_the_area_officer(
    running: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    set_up(sessions, telegram, clock)
    member, officer = Chat(telegram, MY_SON[0]), Chat(telegram, OFFICER)
    await member.say("/khokhan", "gặp khó khăn về việc gì")
    await member.tap("Đất đai", "kể rõ khó khăn về “Đất đai”")
    telegram.send_photo(MY_SON[0])
    await member.expect("Đã nhận ảnh. Xin anh/chị viết thêm")
    await member.say(
        "Nghe noi nha nuoc se thu hoi het dat cua HTX, chia se gap cho moi nguoi",
        "Đã ghi nhận khó khăn #",
    )
    notice = await officer.expect("cần chú ý ngay")
    assert "Từ: Nguyễn Văn An, Xã Mỹ Sơn, Tỉnh Khánh Hòa" in notice["text"]
    assert "thu hoi het dat" in notice["text"]
    assert telegram.messages(OTHER_OFFICER) == []  # another commune's officer is not told

    await member.say("/khokhan", "việc gì")
    await member.tap("Vốn", "kể rõ khó khăn về")
    await member.say("Thiếu vốn mua máy gặt", "Nếu có ảnh minh họa")
    telegram.send_photo(MY_SON[0], caption="ảnh máy cũ")
    await member.expect("Đã nhận ảnh cho khó khăn #")
    with sessions() as session:
        land, money = session.scalars(select(Feedback).order_by(Feedback.id))
        assert (land.kind, land.category, land.topic) == (
            FeedbackKind.DIFFICULTY,
            "dat_dai",
            "dat_dai",
        )
        assert land.flagged and "sensitive" in land.flags and land.photo is not None
        assert (money.category, money.flagged, money.photo is not None) == ("von", False, True)


async def test_the_inbox_answer_reaches_the_member(
    running: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    set_up(sessions, telegram, clock)
    member, officer, other = (
        Chat(telegram, MY_SON[0]),
        Chat(telegram, OFFICER),
        Chat(telegram, OTHER_OFFICER),
    )
    await member.say("Giá lúa vụ này bán được bao nhiêu?", "Cảm ơn anh/chị")
    await Chat(telegram, CA_NA[0]).say("Khi nào có lớp tập huấn?", "Cảm ơn anh/chị")
    with sessions() as session:
        mine = session.scalar(select(Feedback).where(Feedback.text.startswith("Giá lúa")))
        theirs = session.scalar(select(Feedback).where(Feedback.text.startswith("Khi nào")))
        assert mine is not None and theirs is not None
        mine_id, theirs_id = mine.id, theirs.id

    listed = await officer.say("/inbox", "Phản ánh đang chờ (1)")
    assert "Giá lúa vụ này" in listed["text"] and "Khi nào" not in listed["text"]
    await officer.say(f"/inbox {theirs_id}", "không thuộc phạm vi")
    await officer.tap(f"#{mine_id}", "Trạng thái: chờ xử lý")
    await officer.tap("Trả lời", "Gõ câu trả lời")
    await officer.say(
        "Giá lúa tuần này 7.200 đồng/kg <tại kho>", f"Đã gửi trả lời cho phản ánh #{mine_id}"
    )
    with sessions() as session:
        reply_id = session.scalar(select(Broadcast.id).where(Broadcast.kind == "reply"))
    assert reply_id is not None
    await wait_done(sessions, reply_id, clock=clock)
    answer = await member.expect("Liên minh Hợp tác xã trả lời")
    assert "Giá lúa tuần này 7.200 đồng/kg <tại kho>" in answer["text"]
    assert "Về ý kiến anh/chị gửi" in answer["text"]
    assert not (answer.get("reply_markup") or {}).get("inline_keyboard")  # no reactions

    await officer.say(f"/inbox {mine_id}", "đã trả lời")
    await officer.tap("nhận xử lý", "đã nhận xử lý")
    await officer.say(f"/inbox {mine_id}", "Người xử lý: Chị Lan")
    await officer.tap("Đóng", f"Đã đóng phản ánh #{mine_id}")
    await officer.say("/inbox", "Không có phản ánh nào")
    await other.say("/inbox", "Khi nào có lớp tập huấn")
    with sessions() as session:
        done = session.get_one(Feedback, mine_id)
        assert done.status is FeedbackStatus.CLOSED and done.answered_at is not None
        actions = [e.action for e in audit.entries(session, action="feedback.")]
        assert sorted(actions) == ["feedback.assign", "feedback.close", "feedback.reply"]
        reply = session.scalar(select(Broadcast).where(Broadcast.kind == "reply"))
        assert reply is not None and reply.reactions is False


async def test_flooding_is_slowed_and_long_texts_capped(
    running: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    set_up(sessions, telegram, clock)
    member = Chat(telegram, MY_SON[0])
    for number in range(12):
        telegram.send_text(MY_SON[0], f"tin số {number}")
    await member.expect("gửi nhiều tin liên tiếp")
    await telegram.wait_for(lambda: len(_stored(sessions)) == 12)
    thanks = [m for m in telegram.messages(MY_SON[0]) if "Cảm ơn" in (m.get("text") or "")]
    assert len(thanks) == 8  # each answered up to the limit, then one word, then quiet

    clock.advance(minutes=2)
    long = "Kiến nghị " + "về giá vật tư nông nghiệp tăng cao " * 80
    await member.say(long, "chỉ lưu 2.000 ký tự đầu")
    with sessions() as session:
        last = session.scalars(select(Feedback).order_by(Feedback.id.desc())).first()
        assert last is not None and len(last.text) == 2000 and long.startswith(last.text)


def _stored(sessions: sessionmaker[Session]) -> list[Feedback]:
    with sessions() as session:
        return list(session.scalars(select(Feedback)))


async def test_report_in_the_chat(
    running: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    set_up(sessions, telegram, clock)
    await Chat(telegram, MY_SON[0]).say("Xin hỏi về vốn vay ưu đãi", "Cảm ơn anh/chị")
    await Chat(telegram, MY_SON[0]).say("/report", "chỉ dành cho cán bộ")  # members cannot
    officer = Chat(telegram, OFFICER)
    officer.send("/report")
    got = await officer.expect_caption("📊 Báo cáo Xã Mỹ Sơn, Tỉnh Khánh Hòa, từ 01/11/2026")
    caption = got["caption"]
    assert "đến 24/11/2026: 0 tin đã gửi, 0 người nhận, 1 phản ánh (0 cần chú ý)" in caption
    assert got["document"]["file_name"] == "bao-cao-20261101-20261124.xlsx"
    assert got["document"]["file_size"] > 10_000  # a workbook with its charts
    officer.send("/report 2026")
    await officer.expect_caption("từ 01/11/2025 đến 31/10/2026")
    await officer.say("/report hôm qua", "Gõ /report để lấy báo cáo")


async def test_a_members_own_words_reach_officers_exactly_as_typed(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
    database_url: str,
    tmp_path: Path,
) -> None:
    set_up(sessions, telegram, clock)
    member, officer = Chat(telegram, MY_SON[0]), Chat(telegram, OFFICER)
    words = "lãi suất <5% hay >7%? giá 5 &lt; 7"
    await member.say(f"Nghe đồn {words}", "Cảm ơn anh/chị")  # "nghe đồn": flagged
    notice = await officer.expect("cần chú ý ngay")
    assert f"“Nghe đồn {words}”" in notice["text"]
    with sessions() as session:
        (item,) = session.scalars(select(Feedback))
        assert item.flagged and item.text == f"Nghe đồn {words}"
    listed = await officer.say("/inbox", "Phản ánh đang chờ (1)")
    assert f"“Nghe đồn {words}”" in listed["text"]
    shown = await officer.say(f"/inbox {item.id}", "Trạng thái: chờ xử lý")
    assert f"“Nghe đồn {words}”" in shown["text"]
    await officer.tap("Trả lời", "Gõ câu trả lời")
    await officer.say("Lãi suất vẫn 6% <không đổi> & không phí", "Đã gửi trả lời")
    with sessions() as session:
        reply_id = session.scalar(select(Broadcast.id).where(Broadcast.kind == "reply"))
    assert reply_id is not None
    await wait_done(sessions, reply_id, clock=clock)
    answer = await member.expect("Liên minh Hợp tác xã trả lời")  # HTML: escaped, as typed
    assert "Lãi suất vẫn 6% <không đổi> & không phí" in answer["text"]
    assert f"“Nghe đồn {words}”" in answer["text"]

    listed_cli = run("feedback", "list", env={"DATABASE_URL": database_url}, cwd=tmp_path)
    assert listed_cli.returncode == 0, listed_cli.stderr
    assert f"Nghe đồn {words}" in listed_cli.stdout
    shown_cli = run(
        "feedback", "show", str(item.id), env={"DATABASE_URL": database_url}, cwd=tmp_path
    )
    assert f"text:\nNghe đồn {words}\n" in shown_cli.stdout
    assert f"“Nghe đồn {words}”" in shown_cli.stdout  # in the reply's line too
