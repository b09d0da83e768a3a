"""Members on the Zalo Bot Platform: the same conversation as numbered lists, and broadcasts."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.channels.zalo_bot import render, to_inbound
from bot.conversation.events import EventKind, Option, Reply
from bot.courses import create_course
from bot.simulator import FakeTelegram
from bot.simulator.zalo_bot_api import FakeZaloBot
from db.audience import Audience
from db.base import utcnow
from db.broadcasts import create_broadcast
from db.models import Channel, Delivery, Subscriber, SubscriberStatus, Topic, TrainingTopic
from tests.conftest import make_app
from tests.factories import add_subscribers, commune_id, course_draft, wait_done


class ZaloChat:
    """One member's chat with the bot on Zalo: type, read."""

    def __init__(self, zalo: FakeZaloBot, user_id: str) -> None:
        self.zalo, self.user_id = zalo, user_id

    async def say(self, text: str, expect: str) -> str:
        """Type a message and read replies until one contains `expect`."""
        self.zalo.send_text(self.user_id, text)
        while True:
            reply = (await self.zalo.next_message(self.user_id))["text"]
            if expect in reply:
                return reply


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


async def test_registration_on_zalo_by_numbers_and_words(
    both: OutreachApp, zalo: FakeZaloBot, sessions: sessionmaker[Session]
) -> None:
    chat = ZaloChat(zalo, "zl-1001")
    consent = await chat.say("/start", "Anh/chị có đồng ý không?")
    assert "1. ✅ Tôi đồng ý\n2. Không đồng ý" in consent
    assert "Gõ 1 hoặc 2 để chọn." in consent
    await chat.say("1", "tỉnh, thành phố nào")
    await chat.say("khanh hoa", "xã, phường nào của tỉnh Khánh Hòa")
    roles = await chat.say("my son", "Anh/chị thuộc nhóm nào dưới đây?")
    assert "3. Nông dân" in roles
    await chat.say("nong dan", "hợp tác xã")  # the words, without accents, pick the option
    topics = await chat.say("bo qua", "chủ đề nào")
    assert "2. ✅ Sản phẩm OCOP" in topics
    toggled = await chat.say("2", "chủ đề nào")  # no edits on Zalo: the list comes again
    assert "2. ⬜ Sản phẩm OCOP" in toggled
    await chat.say("6", "Đăng ký xong")
    await chat.say("/stop", "Đã dừng")
    with sessions() as session:
        member = session.scalars(select(Subscriber).where(Subscriber.chat_id == "zl-1001")).one()
    assert member.channel == Channel.ZALO_BOT and member.status == SubscriberStatus.STOPPED
    assert member.topic_set == set(Topic) - {Topic.OCOP}
    assert member.display_name == "Trần Thị Bình"


async def test_broadcast_reaches_zalo_and_telegram_members(
    both: OutreachApp,
    zalo: FakeZaloBot,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        add_subscribers(session, [7001, 7002], area_id=area)
        zalo_ids = add_subscribers(session, [8001, 8002, 8003], area_id=area)
        session.execute(
            Subscriber.__table__.update()
            .where(Subscriber.id.in_(zalo_ids))
            .values(channel=Channel.ZALO_BOT.value, chat_id=Subscriber.chat_id + "z")
        )
        for user in ("8001z", "8002z", "8003z"):
            zalo.add_chat(user)
        for chat in (7001, 7002):
            telegram.add_chat(chat)
        zalo.fail_chat("8003z", 403, "Forbidden: user has blocked the bot")
        broadcast_id = create_broadcast(
            session,
            text="Chào {{ subscriber.name }}: lớp <b>VietGAP</b> ngày 15/12",
            audience=Audience(),
            send_at=utcnow(),
            created_by="test",
            now=utcnow(),
        ).id
    await wait_done(sessions, broadcast_id, 15)
    zalo_texts = {m["chat_id"]: m["text"] for m in zalo.messages()}
    assert zalo_texts["8001z"] == (  # no HTML; no buttons here, so what to type for a reaction
        "Chào Thành viên 8001: lớp VietGAP ngày 15/12\n\n"
        f"👉 👍 Hữu ích: gõ /huuich {broadcast_id}\n"
        f"👉 🤔 Chưa rõ: gõ /chuaro {broadcast_id}"
    )
    assert "8003z" not in zalo_texts
    telegram_texts = [m["text"] for m in telegram.messages() if "VietGAP" in m["text"]]
    assert len(telegram_texts) == 2
    with sessions() as session:
        blocked = session.scalars(select(Subscriber).where(Subscriber.chat_id == "8003z")).one()
    assert blocked.status == SubscriberStatus.BLOCKED


async def test_a_telegram_photo_reaches_zalo_members_as_its_text(
    both: OutreachApp,
    zalo: FakeZaloBot,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    file_id = "AgACAgUAAxkBAAIBZ2ZlYWZ1bGx5X2FfZmlsZV9pZA"  # an officer's photo in Telegram
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        add_subscribers(session, [7101], area_id=area)
        zalo_ids = add_subscribers(session, [8101], area_id=area)
        session.execute(
            Subscriber.__table__.update()
            .where(Subscriber.id.in_(zalo_ids))
            .values(channel=Channel.ZALO_BOT.value, chat_id="8101z")
        )
        zalo.add_chat("8101z")
        telegram.add_chat(7101)
        broadcast_id = create_broadcast(
            session,
            text="Giá lúa tuần này tăng 200 đồng/kg",
            photo=file_id,
            audience=Audience(),
            send_at=utcnow(),
            created_by="test",
            now=utcnow(),
        ).id
    with caplog.at_level(logging.WARNING, logger="bot.channels.zalo_bot"):
        await wait_done(sessions, broadcast_id, 15)
    (on_telegram,) = telegram.messages(7101)
    assert on_telegram["photo"][-1]["file_id"] == file_id  # Telegram takes its own file id
    assert on_telegram["caption"].startswith("Giá lúa tuần này tăng 200 đồng/kg")
    (on_zalo,) = zalo.messages("8101z")
    assert "photo" not in on_zalo  # Zalo takes photos by URL only: the caption as a text
    assert on_zalo["text"].startswith("Giá lúa tuần này tăng 200 đồng/kg\n\n👉 👍 Hữu ích")
    with sessions() as session:
        statuses = session.scalars(
            select(Delivery.status).where(Delivery.broadcast_id == broadcast_id)
        )
        assert sorted(s.value for s in statuses) == ["sent", "sent"]
    assert "cannot go to Zalo: the text goes alone" in caplog.text


async def test_a_replayed_update_is_answered_once(both: OutreachApp, zalo: FakeZaloBot) -> None:
    assert both.zalo_bot is not None
    update = zalo.send_text("zl-2002", "/help")
    await zalo.next_message("zl-2002")
    await both.zalo_bot.process(update)  # the same message id again, e.g. a webhook retry
    await asyncio.sleep(0.3)
    assert len(zalo.messages("zl-2002")) == 1


def test_rendering_and_parsing() -> None:
    reply = Reply("Anh/chị thuộc nhóm nào?", (Option("Nông dân", "r|f"), Option("Khác", "x|y")))
    assert render(reply) == (
        "Anh/chị thuộc nhóm nào?\n\n1. Nông dân\n2. Khác\n\nGõ 1 hoặc 2 để chọn."
    )
    assert len(render(Reply("a" * 5000))) == 2000
    decomposed = "Xa\u0303 My\u0303 So\u031bn"  # typed on a phone that sends combining marks
    event = to_inbound(
        {
            "event_name": "message.text.received",
            "message": {
                "message_id": "m1",
                "from": {"id": "u1", "display_name": "An"},
                "chat": {"id": "u1", "chat_type": "PRIVATE"},
                "date": 0,
                "text": decomposed,
            },
        }
    )
    assert event is not None and event.text == "Xã Mỹ Sơn" and event.kind == EventKind.TEXT
    group = {
        "event_name": "message.text.received",
        "message": {
            "message_id": "m2",
            "from": {"id": "u1"},
            "chat": {"id": "g1", "chat_type": "GROUP"},
            "text": "hi",
        },
    }
    assert to_inbound(group) is None


def free_port() -> int:
    """Ask the system for a port nobody listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_verifies_answers_and_ignores_replays(
    database_url: str, telegram: FakeTelegram, zalo: FakeZaloBot
) -> None:
    port = free_port()
    app = make_app(
        database_url,
        telegram,
        zalo_bot_token=zalo.token,
        zalo_bot_api_url=zalo.base_url,
        outreach_public_url=f"https://127.0.0.1:{port}",
        outreach_web_port=port,
    )
    await app.start()
    try:
        hook = zalo.webhook()
        assert hook["url"] == f"https://127.0.0.1:{port}/webhooks/zalo-bot"
        assert len(hook["secret_token"]) >= 32
        update = zalo.send_text("zl-3003", "/start")
        assert await zalo.deliver_webhook(update, secret="forged-secret") == 403
        await asyncio.sleep(0.3)
        assert zalo.messages("zl-3003") == []  # a forged update is not acted on
        assert await zalo.deliver_webhook(update) == 200
        welcome = await zalo.next_message("zl-3003")
        assert "Chào anh/chị" in welcome["text"]
        await zalo.next_message("zl-3003")  # the consent notice
        assert await zalo.deliver_webhook(update) == 200  # Zalo retries the same message
        await asyncio.sleep(0.3)
        assert len(zalo.messages("zl-3003")) == 2  # the replay was ignored
    finally:
        await app.stop()


async def test_webhook_refuses_oversized_and_non_json_bodies_unhandled(
    database_url: str, telegram: FakeTelegram, zalo: FakeZaloBot
) -> None:
    port = free_port()
    app = make_app(
        database_url,
        telegram,
        zalo_bot_token=zalo.token,
        zalo_bot_api_url=zalo.base_url,
        outreach_public_url=f"https://127.0.0.1:{port}",
        outreach_web_port=port,
    )
    await app.start()
    try:
        secret = {"X-Bot-Api-Secret-Token": zalo.webhook()["secret_token"]}
        url = f"http://127.0.0.1:{port}/webhooks/zalo-bot"
        update = zalo.send_text("zl-5005", "/start")
        body = json.dumps({"ok": True, "result": update}, ensure_ascii=False).encode()
        padded = body + b" " * (10 * 1024 * 1024)  # still valid JSON, the same update
        as_json = {**secret, "Content-Type": "application/json"}

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length to refuse it by
            for start in range(0, len(padded), 64 * 1024):
                yield padded[start : start + 64 * 1024]

        async with httpx.AsyncClient(timeout=10) as http:
            declared = await http.post(url, content=padded, headers=as_json)
            chunked = await http.post(url, content=chunks(), headers=as_json)
            plain = await http.post(
                url, content=body, headers={**secret, "Content-Type": "text/plain"}
            )
        assert [declared.status_code, chunked.status_code, plain.status_code] == [413, 413, 415]
        await asyncio.sleep(0.3)
        assert zalo.messages("zl-5005") == []  # none of them was acted on
        assert await zalo.deliver_webhook(update) == 200  # the same update, as Zalo sends it
        assert "Chào anh/chị" in (await zalo.next_message("zl-5005"))["text"]
    finally:
        await app.stop()


def test_an_update_without_message_id_has_no_replay_key() -> None:
    update = {
        "event_name": "message.text.received",
        "message": {
            "from": {"id": "u9"},
            "chat": {"id": "u9", "chat_type": "PRIVATE"},
            "text": "xin chào",
        },
    }
    event = to_inbound(update)
    assert event is not None and event.ref is None  # not "zalo:None", shared by all such


async def test_updates_without_message_id_are_all_answered(
    both: OutreachApp, zalo: FakeZaloBot
) -> None:
    assert both.zalo_bot is not None
    zalo.add_chat("zl-4004")
    for text in ("/help", "/help"):
        await both.zalo_bot.process(
            {
                "event_name": "message.text.received",
                "message": {
                    "from": {"id": "zl-4004"},
                    "chat": {"id": "zl-4004", "chat_type": "PRIVATE"},
                    "text": text,
                },
            }
        )
    assert len(zalo.messages("zl-4004")) == 2  # nothing to tell them apart: answer both


async def test_a_course_on_zalo_by_typed_commands(
    both: OutreachApp, zalo: FakeZaloBot, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        (member,) = add_subscribers(session, [9001], area_id=area)
        session.execute(
            Subscriber.__table__.update()
            .where(Subscriber.id == member)
            .values(channel=Channel.ZALO_BOT.value, chat_id="9001z")
        )
        zalo.add_chat("9001z")
        start = utcnow() + timedelta(days=5)
        draft = course_draft(
            start,
            title="Tiếp cận vốn vay",
            topic=TrainingTopic.CREDIT,
            capacity=10,
            deadline_at=start - timedelta(days=1),
            place=None,
            online_url="https://meet.example.vn/von-vay",
        )
        course, made = create_course(
            session, draft, created_by="test", now=utcnow(), announce_at=utcnow()
        )
    await wait_done(sessions, made[0].id, 15)
    (announcement,) = [m["text"] for m in zalo.messages() if "Tiếp cận vốn vay" in m["text"]]
    assert f"👉 ✍️ Đăng ký: gõ /dangky {course.id}" in announcement  # no buttons on Zalo Bot
    assert "Trực tuyến: https://meet.example.vn/von-vay" in announcement
    chat = ZaloChat(zalo, "9001z")
    await chat.say(f"/dangky {course.id}", "Anh/chị đã đăng ký lớp")
    listed = await chat.say("/taphuan", "Các lớp tập huấn sắp tới")
    assert "✅ Anh/chị đã đăng ký lớp này." in listed and "Gõ 1 để chọn" in listed
    details = await chat.say("1", "Đơn vị tổ chức")
    assert "1. Hủy đăng ký" in details
