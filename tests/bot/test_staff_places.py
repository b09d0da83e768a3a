"""Officers name places in the bot as everyone does: former communes and provinces, typos.

Through the fake Telegram, on both databases: the staff conversation resolves a typed place
with db/places, like the member's registration and the CLI.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.simulator import FakeTelegram
from db import staff as people
from db.models import Area, AreaLevel, Channel, StaffRole
from tests.chat import Chat
from tests.factories import FakeClock, add_subscribers, commune_id

ADMIN, EDITOR = 9500, 9501
GIA_LAI = "Tỉnh Gia Lai"


def set_up(sessions: sessionmaker[Session], telegram: FakeTelegram, clock: FakeClock) -> None:
    """An admin, an editor for the province of Gia Lai, two members in Xã Vĩnh Sơn."""
    with sessions.begin() as session:
        gia_lai = session.scalar(
            select(Area).where(Area.name == GIA_LAI, Area.level == AreaLevel.PROVINCE)
        )
        for user_id, role, area in (
            (ADMIN, StaffRole.ADMIN, None),
            (EDITOR, StaffRole.EDITOR, gia_lai),
        ):
            people.add_staff(
                session,
                channel=Channel.TELEGRAM,
                user_id=str(user_id),
                role=role,
                area=area,
                name=None,
                actor="cli:test",
                now=clock(),
            )
        add_subscribers(session, [9511, 9512], area_id=commune_id(session, "Xã Vĩnh Sơn", GIA_LAI))
    for chat in (ADMIN, EDITOR):
        telegram.add_chat(chat)


async def _compose(officer: Chat, asked: str) -> None:
    await officer.say("/new", "loại tin nào")
    await officer.tap("Chủ trương", "Gửi nội dung tin")
    await officer.say("Họp bàn kế hoạch vụ đông", asked)


async def test_a_former_commune_with_its_province_targets_what_it_became(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    set_up(sessions, telegram, clock)
    admin, editor = Chat(telegram, ADMIN), Chat(telegram, EDITOR)
    await _compose(admin, "Gửi đến đâu?")
    await admin.say("Xã Vĩnh Kim", "Có nhiều nơi tên “Xã Vĩnh Kim”")  # three before 2025
    await admin.say("Vĩnh Kim, Gia Lai", "Gửi cho ai?")
    admin.press("Tất cả")
    await admin.expect("📍 Xã Vĩnh Sơn · Tất cả · 2")

    await _compose(editor, "gõ tên một xã trong Tỉnh Gia Lai")
    await editor.say("vinh kimm", "Gửi cho ai?")  # a former commune, mistyped, in their province
    editor.press("Tất cả")
    await editor.expect("📍 Xã Vĩnh Sơn · Tất cả · 2")


async def test_an_admin_scopes_an_officer_by_a_former_name(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
) -> None:
    set_up(sessions, telegram, clock)
    admin = Chat(telegram, ADMIN)
    added = await admin.say("/staff them 9599 bientap Vĩnh Kim, Bình Định", "Đã thêm cán bộ")
    assert "biên tập · Xã Vĩnh Sơn · telegram:9599" in added["text"]
    await admin.say("/staff them 9598 duyet Phường Vĩnh Niệm, Hải Phòng", "Không tìm thấy nơi")
    await admin.say("/staff them 9597 duyet TP HCM", "duyệt tin · Thành phố Hồ Chí Minh")
