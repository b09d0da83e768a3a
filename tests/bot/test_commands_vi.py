"""Members' commands by their Vietnamese names: /trogiup lists them all, every one is handled
on Telegram and on the Zalo Bot, and Telegram's menu shows them in Vietnamese."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.channels import telegram as telegram_channel
from bot.conversation import member, staff
from bot.simulator import FakeTelegram
from bot.simulator.zalo_bot_api import FakeZaloBot
from db.models import Channel, Subscriber, SubscriberStatus
from messages import member as say
from tests.bot.test_zalo_bot import ZaloChat
from tests.chat import Chat
from tests.conftest import make_app
from tests.factories import add_subscribers, commune_id

UNKNOWN = "Bot chưa hiểu lệnh"
IN_HELP = sorted(set(re.findall(r"(?<!\w)/([a-z]+)\b", say.HELP)))  # not "anh/chị"
VIETNAMESE = {"batdau", "hoso", "chude", "dung", "xoa", "trogiup"}
ENGLISH = {"start", "profile", "topics", "stop", "forget", "help", "trainings", "link", "phone"}


def test_help_lists_every_member_command_vietnamese_first() -> None:
    assert set(IN_HELP) == set(member.COMMANDS)
    for vietnamese, english in (
        ("batdau", "start"),
        ("hoso", "profile"),
        ("chude", "topics"),
        ("taphuan", "trainings"),
        ("lienket", "link"),
        ("sdt", "phone"),
        ("dung", "stop"),
        ("xoa", "forget"),
        ("trogiup", "help"),
    ):
        assert f"/{vietnamese} (/{english}) – " in say.HELP
        assert member.COMMANDS[vietnamese] is member.COMMANDS[english]


def test_the_new_names_shadow_no_staff_command() -> None:
    # /huy is shared on purpose: it drops what either is writing (a draft, a difficulty).
    assert set(member.COMMANDS) & staff.COMMANDS == {"huy"}
    assert not VIETNAMESE & staff.COMMANDS


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


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZaloBot]:
    async with FakeZaloBot() as fake:
        yield fake


def registered(sessions: sessionmaker[Session], chats: list[int], channel: Channel) -> None:
    """Add registered members with these chat ids, on Zalo as "<id>z"."""
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        ids = add_subscribers(session, chats, area_id=area)
        if channel is Channel.ZALO_BOT:
            session.execute(
                update(Subscriber)
                .where(Subscriber.id.in_(ids))
                .values(channel=Channel.ZALO_BOT, chat_id=Subscriber.chat_id + "z")
            )


async def test_every_command_in_help_is_handled_on_telegram(
    both: OutreachApp, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chats = list(range(9100, 9100 + len(IN_HELP)))  # one member each: no command undoes another
    registered(sessions, chats, Channel.TELEGRAM)
    for chat_id, command in zip(chats, IN_HELP, strict=True):
        telegram.add_chat(chat_id)
        telegram.send_text(chat_id, f"/{command}")
    for chat_id, command in zip(chats, IN_HELP, strict=True):
        answer = (await telegram.next_message(chat_id))["text"]
        assert UNKNOWN not in answer, (command, answer)


async def test_every_command_in_help_is_handled_on_the_zalo_bot(
    both: OutreachApp, zalo: FakeZaloBot, sessions: sessionmaker[Session]
) -> None:
    chats = list(range(9200, 9200 + len(IN_HELP)))
    registered(sessions, chats, Channel.ZALO_BOT)
    for chat_id, command in zip(chats, IN_HELP, strict=True):
        zalo.send_text(f"{chat_id}z", f"/{command}")
    for chat_id, command in zip(chats, IN_HELP, strict=True):
        answer = (await zalo.next_message(f"{chat_id}z"))["text"]
        assert UNKNOWN not in answer, (command, answer)


async def test_commands_typed_with_capitals_or_accents(
    both: OutreachApp,
    telegram: FakeTelegram,
    zalo: FakeZaloBot,
    sessions: sessionmaker[Session],
) -> None:
    registered(sessions, [9301, 9302], Channel.TELEGRAM)
    registered(sessions, [9303], Channel.ZALO_BOT)
    await Chat(telegram, 9301).say("/Dung", "Đã dừng")
    await Chat(telegram, 9302).say("/dừng", "Đã dừng")
    on_zalo = ZaloChat(zalo, "9303z")
    await on_zalo.say("/TroGiup", "/batdau (/start)")
    await on_zalo.say("/xyz", "Bot chưa hiểu lệnh /xyz")
    await on_zalo.say("/DỪNG", "Đã dừng")
    with sessions() as session:
        statuses = session.scalars(
            select(Subscriber.status).where(Subscriber.chat_id.in_(["9301", "9302", "9303z"]))
        )
        assert set(statuses) == {SubscriberStatus.STOPPED}


async def call(fake: FakeTelegram, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """Call the fake Telegram's Bot API over HTTP, as a bot does."""
    async with httpx.AsyncClient(base_url=f"{fake.base_url}{fake.token}/") as http:
        response = await http.post(method, json=params)
    return response.status_code, response.json()


async def test_the_telegram_menu_is_vietnamese(both: OutreachApp, telegram: FakeTelegram) -> None:
    status, answer = await call(telegram, "getMyCommands")
    menu = answer["result"]
    assert status == 200 and menu == [
        {"command": c.command, "description": c.description} for c in telegram_channel.COMMANDS
    ]
    names = {entry["command"] for entry in menu}
    assert names >= VIETNAMESE and not names & ENGLISH
    assert names <= set(member.COMMANDS)
    for entry in menu:  # each description is Vietnamese: it has letters with diacritics
        assert re.search(r"[à-ỹđ]", entry["description"].lower()), entry


@pytest.mark.parametrize(
    ("commands", "reason"),
    [
        ([{"command": f"lenh{n}", "description": "Lệnh"} for n in range(101)], "TOO_MUCH"),
        ([{"command": "dừng", "description": "Dừng nhận tin"}], "INVALID"),
        ([{"command": "Dung", "description": "Dừng nhận tin"}], "INVALID"),
        ([{"command": "tro-giup", "description": "Trợ giúp"}], "INVALID"),
        ([{"command": "a" * 33, "description": "Dài quá"}], "INVALID"),
        ([{"command": "dung", "description": ""}], "DESCRIPTION_INVALID"),
        ([{"command": "dung", "description": "x" * 257}], "DESCRIPTION_INVALID"),
    ],
)
async def test_the_fake_refuses_a_menu_telegram_refuses(
    telegram: FakeTelegram, commands: list[dict[str, str]], reason: str
) -> None:
    code = {
        "TOO_MUCH": "BOT_COMMANDS_TOO_MUCH",
        "INVALID": "BOT_COMMAND_INVALID",
        "DESCRIPTION_INVALID": "BOT_COMMAND_DESCRIPTION_INVALID",
    }[reason]
    assert await call(telegram, "setMyCommands", commands=commands) == (
        400,
        {"ok": False, "error_code": 400, "description": f"Bad Request: {code}"},
    )
    assert (await call(telegram, "getMyCommands"))[1]["result"] == []  # nothing was kept


async def test_the_fake_takes_a_full_menu(telegram: FakeTelegram) -> None:
    commands = [{"command": f"lenh_{n}", "description": "Ý" * 256} for n in range(100)]
    assert await call(telegram, "setMyCommands", commands=commands) == (
        200,
        {"ok": True, "result": True},
    )
    assert (await call(telegram, "getMyCommands"))[1]["result"] == commands
