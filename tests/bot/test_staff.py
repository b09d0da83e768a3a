"""Officers in the bot, through the fake Telegram: compose, scope, approve, reject, follow."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.simulator import FakeTelegram
from db import audit
from db import staff as people
from db.cooperatives import create_cooperative
from db.models import (
    Area,
    AreaLevel,
    Broadcast,
    BroadcastStatus,
    Channel,
    Delivery,
    StaffRole,
    Subscriber,
)
from tests.chat import Chat
from tests.factories import FakeClock, add_subscribers, commune_id, wait_done

KH = "Tỉnh Khánh Hòa"
EDITOR, APPROVER, STRANGER = 9301, 9302, 9309
MY_SON, CA_NA = [9311, 9312], [9321]


def set_up(sessions: sessionmaker[Session], telegram: FakeTelegram, clock: FakeClock) -> None:
    """An editor for Xã Mỹ Sơn, an approver for the province, members in two communes."""
    with sessions.begin() as session:
        my_son = session.get(Area, commune_id(session, "Xã Mỹ Sơn", KH))
        province = session.scalar(
            select(Area).where(Area.name == KH, Area.level == AreaLevel.PROVINCE)
        )
        for user_id, role, area, name in (
            (EDITOR, StaffRole.EDITOR, my_son, "Chị Lan"),
            (APPROVER, StaffRole.APPROVER, province, "Anh Hùng"),
        ):
            people.add_staff(
                session,
                channel=Channel.TELEGRAM,
                user_id=str(user_id),
                role=role,
                area=area,
                name=name,
                actor="cli:test",
                now=clock(),
            )
        add_subscribers(session, MY_SON, area_id=commune_id(session, "Xã Mỹ Sơn", KH))
        add_subscribers(session, CA_NA, area_id=commune_id(session, "Xã Cà Ná", KH))
    for chat in (EDITOR, APPROVER, STRANGER, *MY_SON, *CA_NA):
        telegram.add_chat(chat)


async def compose(editor: Chat, text: str, entities: list[dict[str, object]] | None = None) -> None:
    await editor.say("/new", "loại tin nào")
    await editor.tap("Chủ trương", "Gửi nội dung tin")
    editor.telegram.send_text(editor.chat_id, text, entities=entities)
    await editor.expect("Tin sẽ gửi đến bà con Xã Mỹ Sơn")


async def test_compose_schedule_approve_and_deliver(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    set_up(sessions, telegram, clock)
    editor, approver = Chat(telegram, EDITOR), Chat(telegram, APPROVER)
    bold = [{"type": "bold", "offset": 0, "length": 7}]
    await compose(editor, "Họp bàn kế hoạch vụ đông, {{ subscriber.name }} nhớ đến nhé", bold)
    await editor.tap("Cả Xã Mỹ Sơn", "Gửi cho ai?")
    editor.press("Tất cả")
    preview = await editor.expect("Họp bàn kế hoạch vụ đông, Nguyễn Văn An nhớ đến nhé")
    assert {"type": "bold", "offset": 0, "length": 7} in preview.get("entities", [])
    await editor.expect("Xem trước: bà con sẽ nhận đúng như trên.\n📍 Xã Mỹ Sơn · Tất cả · 2")

    await editor.tap("Hẹn giờ", "Gửi lúc nào?")
    await editor.say("1/1/2026 7:00", "đã qua")
    await editor.say("mai 7h", "đã gửi để duyệt")
    with sessions() as session:
        (draft,) = session.scalars(select(Broadcast))
        assert draft.status is BroadcastStatus.AWAITING_APPROVAL
    await approver.expect("Họp bàn kế hoạch vụ đông")  # the preview, as members will see it
    await approver.expect(f"Tin #{draft.id} của Chị Lan chờ duyệt")
    await approver.tap("Duyệt", f"Đã duyệt tin #{draft.id}")
    await editor.expect(f"Tin #{draft.id} đã được Anh Hùng duyệt")

    clock.advance(hours=23, minutes=30)  # Wednesday 07:00
    await wait_done(sessions, draft.id, clock=clock)
    for member in MY_SON:
        got = await Chat(telegram, member).expect("Họp bàn kế hoạch vụ đông")
        assert f"Thành viên {member} nhớ đến nhé" in got["text"]
        assert {"type": "bold", "offset": 0, "length": 7} in got.get("entities", [])
    assert telegram.messages(CA_NA[0]) == []  # outside the chosen commune

    listed = await editor.say("/broadcasts", f"#{draft.id} · đã gửi xong · 2/2 đã gửi")
    assert "Họp bàn kế hoạch vụ đông, Nguyễn Văn An nhớ" in listed["text"]  # as members read it
    with sessions() as session:
        actions = [(e.action, e.actor) for e in audit.entries(session, action="broadcast.")]
    assert [a for a, _ in actions] == ["broadcast.approve", "broadcast.create"]


async def test_scope_rejection_and_strangers(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    set_up(sessions, telegram, clock)
    editor, approver = Chat(telegram, EDITOR), Chat(telegram, APPROVER)
    with caplog.at_level(logging.WARNING):
        await Chat(telegram, STRANGER).say("/new", "chỉ dành cho cán bộ")
    assert f"staff command /new from telegram:{STRANGER}, who is not staff" in caplog.text

    await compose(editor, "Thông báo lịch tiêm phòng cho đàn gia súc")
    await editor.say("Cà Ná, Khánh Hòa", "chỉ được gửi tin trong phạm vi Xã Mỹ Sơn")
    await editor.tap("Cả Xã Mỹ Sơn", "Gửi cho ai?")
    await editor.tap("Nông dân", "Chưa có ai nhận tin")  # nobody there is a farmer
    with sessions.begin() as session:
        ca_na = session.get(Area, commune_id(session, "Xã Cà Ná", KH))
        assert ca_na is not None
        create_cooperative(
            session, name="HTX Cà Ná", commune=ca_na, now=clock(), public_code="cana01"
        )
        my_son = session.get(Area, commune_id(session, "Xã Mỹ Sơn", KH))
        assert my_son is not None
        create_cooperative(
            session, name="HTX Mỹ Sơn", commune=my_son, now=clock(), public_code="myson01"
        )
    await editor.say("CANA01", "chỉ được gửi tin trong phạm vi Xã Mỹ Sơn")  # a coop elsewhere
    await editor.say("myson01", "Gửi cho ai?")  # one of theirs, but no member has joined it
    await editor.tap("Tất cả", "Chưa có ai nhận tin")
    await editor.tap("Cả Xã Mỹ Sơn", "Gửi cho ai?")
    await editor.tap("Tất cả", "Xem trước")
    await editor.tap("Gửi ngay", "đã gửi để duyệt")
    await approver.expect("chờ duyệt")
    await approver.tap("Từ chối", "Vì sao từ chối")
    await approver.say("Sai ngày tiêm, xem lại với thú y xã", "Đã từ chối")
    await editor.expect("bị Anh Hùng từ chối. Lý do: Sai ngày tiêm, xem lại với thú y xã")
    with sessions() as session:
        (rejected,) = session.scalars(select(Broadcast))
        assert rejected.status is BroadcastStatus.REJECTED
        assert session.scalar(select(Delivery.id)) is None  # nothing was sent
    await editor.say("/stats", "Thống kê 30 ngày")


async def test_an_admin_manages_staff_in_the_bot(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    set_up(sessions, telegram, clock)
    admin_id = 9300
    telegram.add_chat(admin_id)
    with sessions.begin() as session:
        admin = people.add_staff(
            session,
            channel=Channel.TELEGRAM,
            user_id=str(admin_id),
            role=StaffRole.ADMIN,
            area=None,
            name="Quản trị",
            actor="cli:test",
            now=clock(),
        )
        admin_number = admin.id
    admin_chat, editor = Chat(telegram, admin_id), Chat(telegram, EDITOR)
    await editor.say("/staff", "Chỉ quản trị viên")
    listed = await admin_chat.say("/staff", "Chị Lan · biên tập · Xã Mỹ Sơn")
    assert "Anh Hùng · duyệt tin · Tỉnh Khánh Hòa" in listed["text"]
    await admin_chat.say("/staff them 9399 bientap", "Biên tập viên cần một phạm vi")
    added = await admin_chat.say("/staff them 9399 Bien tap Ca Na, Khanh Hoa", "Đã thêm cán bộ")
    assert "biên tập · Xã Cà Ná · telegram:9399" in added["text"]
    number = int(added["text"].split("\n")[1].split(".")[0])
    await admin_chat.say(f"/staff doi {number} duyet Khánh Hòa", "duyệt tin · Tỉnh Khánh Hòa")
    await admin_chat.say(f"/staff xoa {number}", "Đã xóa cán bộ")
    await admin_chat.say(f"/staff xoa {admin_number}", "quản trị viên cuối cùng")
    with sessions() as session:
        log = audit.entries(session, actor=f"staff:{admin_number}")
    assert [e.action for e in log] == ["staff.remove", "staff.change", "staff.add"]


async def test_a_photo_without_approval_and_cancelling_from_broadcasts(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    set_up(sessions, telegram, clock)
    editor = Chat(telegram, EDITOR)
    await editor.say("/new", "loại tin nào")
    await editor.tap("thị trường", "Gửi nội dung tin")
    editor.send("Giá lúa hôm nay. " + "Rất dài. " * 3000)  # over five Telegram messages
    await editor.expect("Tin dài quá")
    telegram.send_photo(EDITOR, caption="Giá lúa tuần này tăng 200 đồng/kg")
    await editor.expect("Tin sẽ gửi đến bà con Xã Mỹ Sơn")
    await editor.tap("Cả Xã Mỹ Sơn", "Gửi cho ai?")
    editor.press("Tất cả")
    preview = await editor.expect("", timeout=5)
    assert preview.get("photo") and "Giá lúa tuần này" in preview.get("caption", "")
    await editor.expect("Xem trước")
    await editor.tap("Hẹn giờ", "Gửi lúc nào?")
    done = await editor.say("thứ năm 7h", "Đã lên lịch tin #")  # market news: no approval
    number = done["text"].split("#")[1].split(":")[0]
    assert "07:00 thứ Năm, 26/11/2026" in done["text"]
    await editor.say("/broadcasts", f"#{number} · đã lên lịch")
    await editor.tap(f"Hủy #{number}", f"Đã hủy tin #{number}")
    with sessions() as session:
        (cancelled,) = session.scalars(select(Broadcast))
        assert cancelled.status is BroadcastStatus.CANCELLED and cancelled.photo
        log = [e.action for e in audit.entries(session, action="broadcast.")]
    assert log == ["broadcast.cancel", "broadcast.create"]


async def test_the_preview_of_a_photo_says_zalo_members_get_the_text_alone(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    set_up(sessions, telegram, clock)
    with sessions.begin() as session:  # Zalo members: two in Mỹ Sơn (Bot, OA), one elsewhere
        my_son, ca_na = commune_id(session, "Xã Mỹ Sơn", KH), commune_id(session, "Xã Cà Ná", KH)
        on_zalo = [
            *add_subscribers(session, [9331, 9332], area_id=my_son),
            *add_subscribers(session, [9341], area_id=ca_na),
        ]
        for number, channel in zip(on_zalo, ("zalo_bot", "zalo_oa", "zalo_bot"), strict=True):
            session.execute(
                Subscriber.__table__.update()
                .where(Subscriber.id == number)
                .values(channel=channel, chat_id=Subscriber.chat_id + "z")
            )
    editor = Chat(telegram, EDITOR)
    await editor.say("/new", "loại tin nào")
    await editor.tap("thị trường", "Gửi nội dung tin")
    telegram.send_photo(EDITOR, caption="Giá lúa tuần này tăng 200 đồng/kg")
    await editor.expect("Tin sẽ gửi đến bà con Xã Mỹ Sơn")
    await editor.tap("Cả Xã Mỹ Sơn", "Gửi cho ai?")
    editor.press("Tất cả")
    preview = await editor.expect("Xem trước")
    assert "📍 Xã Mỹ Sơn · Tất cả · 4 người nhận." in preview["text"]
    assert (
        "Lưu ý: 2 thành viên trên Zalo sẽ nhận nội dung chữ, không kèm ảnh "
        "(Zalo chỉ nhận ảnh có địa chỉ web)." in preview["text"]
    )
    await editor.tap("Sửa nội dung", "Gửi nội dung tin")
    text_only = await editor.say("Giá lúa tuần này tăng 200 đồng/kg", "Xem trước")
    assert "Zalo" not in text_only["text"]  # no photo, nothing to say


async def test_an_approver_who_never_opened_the_bot_does_not_stop_the_others(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    with sessions.begin() as session:
        people.add_staff(  # added by id, but never wrote to the bot: Telegram refuses
            session,
            channel=Channel.TELEGRAM,
            user_id="9399",
            role=StaffRole.ADMIN,
            area=None,
            name="Chưa mở bot",
            actor="cli:test",
            now=clock(),
        )
    set_up(sessions, telegram, clock)  # after: the silent admin is the first approver asked
    telegram.fail_chat(9399, 403, "Forbidden: bot can't initiate conversation with a user")
    editor, approver = Chat(telegram, EDITOR), Chat(telegram, APPROVER)
    await compose(editor, "Lịch họp thành viên tháng 12")
    await editor.tap("Cả Xã Mỹ Sơn", "Gửi cho ai?")
    await editor.tap("Tất cả", "Xem trước")
    await editor.tap("Gửi ngay", "đã gửi để duyệt")
    await approver.expect("chờ duyệt")
    assert not any("hệ thống đang bận" in (m.get("text") or "") for m in telegram.messages(EDITOR))


async def test_hostile_templates_are_refused_in_vietnamese_at_once_and_poison_nothing(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    set_up(sessions, telegram, clock)
    editor = Chat(telegram, EDITOR)
    await editor.say("/new", "loại tin nào")
    await editor.tap("Thông báo chung", "Gửi nội dung tin")
    nested = "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"
    for text, said in [
        ("{% set _ = subscriber.clear() %}Họp HTX", "không có trường “clear”; dùng được: name"),
        ("{% set s = subscriber %}{% set _ = s.clear() %}Họp HTX", "mẫu tin không điền được"),
        (nested, "range() quá 1.000 phần tử"),
        ("{{ 9 ** (9 ** 9) }}", "phép tính cho ra số quá lớn (quá 4.000 chữ số)"),
        ("{{ 'x' * 200000000 }}", "dài quá 50.000 ký tự"),
        ("Họp {{ subscriber.nme }}", "không có trường “nme”; dùng được: name, commune"),
    ]:
        started = time.monotonic()
        answer = await editor.say(text, "Nội dung có chỗ viết chưa đúng")
        assert said in answer["text"], answer["text"]
        assert time.monotonic() - started < 3
    # What the officer typed is plain text, "<span>" too; their bold stays bold.
    typed = "Họp HTX, {{ subscriber.name }} nhé: <span>lãi suất</span> < 7% & phí > 0"
    editor.telegram.send_text(EDITOR, typed, entities=[{"type": "bold", "offset": 0, "length": 7}])
    await editor.expect("Tin sẽ gửi đến bà con Xã Mỹ Sơn")
    await editor.tap("Cả Xã Mỹ Sơn", "Gửi cho ai?")
    editor.press("Tất cả")
    preview = await editor.expect("Họp HTX, Nguyễn Văn An nhé: <span>lãi suất</span> < 7% & phí")
    assert {"type": "bold", "offset": 0, "length": 7} in preview.get("entities", [])
    await editor.expect("Xem trước")
    await editor.tap("Gửi ngay", "Đã lên lịch tin #")
    with sessions() as session:
        (sent,) = session.scalars(select(Broadcast))
    await wait_done(sessions, sent.id, clock=clock)
    for member in MY_SON:  # the previews emptied nobody: each is named
        got = await Chat(telegram, member).expect("Họp HTX, ")
        shown = f"Họp HTX, Thành viên {member} nhé: <span>lãi suất</span> < 7% & phí > 0"
        assert got["text"] == shown
    with sessions() as session:
        outcomes = [d.status.value for d in session.scalars(select(Delivery))]
    assert outcomes == ["sent", "sent"]
