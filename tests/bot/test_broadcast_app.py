"""Broadcasts in the running product: members answered first, /stop honoured, crash safety."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.simulator import FakeTelegram
from db.audience import Audience
from db.base import utcnow
from db.broadcasts import create_broadcast
from db.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Subscriber
from tests.chat import Chat
from tests.conftest import make_app
from tests.factories import add_subscribers, commune_id, wait_done

OUTREACH = str(Path(sys.executable).parent / "outreach")
TEXT = "Thông báo: lớp tập huấn kế toán HTX ngày 15/12"


def schedule(sessions: sessionmaker[Session], chats: range, telegram: FakeTelegram) -> int:
    """Register subscribers for these chats and schedule a broadcast to all, due now."""
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        add_subscribers(session, chats, area_id=area)
        for chat in chats:
            telegram.add_chat(chat)
        now = utcnow()
        return create_broadcast(
            session, text=TEXT, audience=Audience(), send_at=now, created_by="test", now=now
        ).id


def received(telegram: FakeTelegram) -> Counter[int]:
    """Count the broadcast's accepted sends per chat."""
    return Counter(
        int(c.params["chat_id"])
        for c in telegram.calls
        if c.method == "sendMessage" and c.status == 200 and c.params.get("text") == TEXT
    )


async def test_member_is_answered_first_and_stop_holds(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    async with FakeTelegram(rate_limit=30, per_chat_limit=1) as telegram:
        broadcast_id = schedule(sessions, range(1000, 1120), telegram)
        with sessions.begin() as session:  # the member we talk to is sent to last
            area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
            add_subscribers(session, [5000], area_id=area)
        app = make_app(database_url, telegram)
        await app.start()
        try:
            await telegram.wait_for(lambda: len(received(telegram)) >= 20, timeout=10)
            asked = time.monotonic()
            chat = Chat(telegram, 5000)
            await chat.say("/stop", "Đã dừng")
            answered_in = time.monotonic() - asked
            await wait_done(sessions, broadcast_id, 30)
        finally:
            await app.stop()
    assert answered_in < 2.0, f"the member waited {answered_in:.1f} s behind the broadcast"
    counts = received(telegram)
    assert counts == Counter({chat: 1 for chat in range(1000, 1120)})
    assert 5000 not in counts and telegram.http_429 == 0
    with sessions() as session:
        status = session.scalar(
            select(Delivery.status)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Subscriber.chat_id == "5000")
        )
    assert status == DeliveryStatus.SKIPPED


async def test_kill_9_mid_broadcast_then_restart_reaches_everyone(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    async with FakeTelegram(rate_limit=30, per_chat_limit=1) as telegram:
        chats = range(2000, 2090)
        broadcast_id = schedule(sessions, chats, telegram)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_API_URL": telegram.base_url,
        }
        first = await asyncio.create_subprocess_exec(
            OUTREACH, "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.DEVNULL
        )
        await telegram.wait_for(lambda: len(received(telegram)) >= 30, timeout=30)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        sent_before = len(received(telegram))
        second = await asyncio.create_subprocess_exec(
            OUTREACH, "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            await wait_done(sessions, broadcast_id, 60)
        finally:
            second.send_signal(signal.SIGTERM)
            await second.wait()
    counts = received(telegram)
    assert set(counts) == set(chats), "every recipient got the message"
    doubled = [chat for chat, n in counts.items() if n > 1]
    assert sent_before < len(chats)
    # Only sends whose outcome was not yet written can come twice: at most a tenth of a
    # second of them (3 at 30/s) plus one burst of tokens taken together (7).
    assert len(doubled) <= 10, doubled
    with sessions() as session:
        statuses = dict(
            session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.broadcast_id == broadcast_id)
                .group_by(Delivery.status)
            ).all()
        )
    assert statuses == {DeliveryStatus.SENT: len(chats)}


async def test_a_long_message_arrives_whole_in_parts_with_buttons_last(
    app: object, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    paragraphs = [
        f"<b>Điều {n}</b>\n" + "Hợp tác xã hoạt động theo Luật 2023. " * 80 for n in range(4)
    ]
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        add_subscribers(session, [5001], area_id=area)
        telegram.add_chat(5001)
        now = utcnow()
        broadcast_id = create_broadcast(
            session,
            text="\n\n".join(paragraphs),
            audience=Audience(),
            send_at=now,
            created_by="test",
            now=now,
            buttons=[{"label": "Xem toàn văn", "url": "https://example.vn/luat"}],
        ).id
    await wait_done(sessions, broadcast_id, 20)
    sent = [c for c in telegram.calls if c.method == "sendMessage" and c.status == 200]
    texts = [c.params["text"] for c in sent]
    assert len(texts) == 4 and all(len(t) <= 4096 for t in texts)
    assert "\n\n".join(texts) == "\n\n".join(paragraphs).strip()  # nothing lost, in order
    assert [("reply_markup" in c.params) for c in sent] == [False, False, False, True]
    with sessions() as session:
        assert session.get(Broadcast, broadcast_id).status == BroadcastStatus.DONE
