"""Two `outreach run` processes on one PostgreSQL: one killed mid-broadcast, nothing doubled.

The instances are real processes taking Telegram updates by webhook from the fake Telegram
(which stands in for the load balancer too). Halfway through a broadcast the network between
them and Telegram is cut (sends are held before they take effect), the first instance is
killed with SIGKILL, and the network comes back: the second takes over the dead one's claims
and the scheduler, every member gets the message exactly once, and the two together never
went over Telegram's rate.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.simulator import FakeTelegram
from bot.simulator.instances import OutreachProcess, busiest_second
from db.audience import Audience
from db.broadcasts import create_broadcast
from db.models import Delivery, DeliveryStatus, SchedulerLease
from tests.chat import Chat
from tests.factories import add_subscribers, commune_id, wait_done

URL = "https://bot.example.org/webhooks/telegram"
TEXT = "Thông báo: hỗ trợ lãi suất vay vốn cho HTX nông nghiệp năm 2027"
RATE = 30


def sent_texts(telegram: FakeTelegram) -> list[tuple[int, float]]:
    """Return (chat, when) of every broadcast message Telegram accepted."""
    return [
        (int(c.params["chat_id"]), c.at)
        for c in telegram.calls
        if c.method == "sendMessage" and c.status == 200 and c.params.get("text") == TEXT
    ]


def lease_holder(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        lease = session.scalar(select(SchedulerLease))
        return lease.holder if lease is not None else ""


async def eventually(check: object, seconds: float = 15.0) -> None:
    for _ in range(int(seconds * 10)):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_instances_one_killed_every_member_once_rate_kept(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    chats = range(30_000, 30_300)
    async with FakeTelegram(rate_limit=RATE) as telegram:
        with sessions.begin() as session:
            area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
            add_subscribers(session, chats, area_id=area)
        for chat in [*chats, 40_001, 40_002]:
            telegram.add_chat(chat)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_API_URL": telegram.base_url,
            "TELEGRAM_RATE_LIMIT": str(RATE),
            "OUTREACH_TAKEOVER_SECONDS": "5",
            "OUTREACH_SCHEDULER_TICK": "1",
        }
        first, second = OutreachProcess(env, tmp_path, URL), OutreachProcess(env, tmp_path, URL)
        try:
            await first.start()
            await eventually(lambda: f":{first.pid}:" in lease_holder(sessions))
            await second.start()
            telegram.webhook_origin = first.origin  # the load balancer's choice
            with sessions.begin() as session:
                now = session.scalar(select(func.now()))
                broadcast = create_broadcast(
                    session, text=TEXT, audience=Audience(), send_at=now, created_by="t", now=now
                ).id
            await telegram.wait_for(lambda: len(sent_texts(telegram)) >= 60, timeout=20)
            await Chat(telegram, 40_001).say("/start", "đồng ý")  # answered mid-broadcast

            telegram.hold()  # the network to Telegram is cut: sends hang before arriving
            await eventually(lambda: recorded(sessions, broadcast) == len(sent_texts(telegram)))
            await first.stop(signal.SIGKILL)  # and the first machine dies
            await asyncio.sleep(0.5)  # its connections close: what it held never arrives
            telegram.webhook_origin = second.origin
            telegram.release()

            await eventually(lambda: f":{second.pid}:" in lease_holder(sessions), 10)
            await Chat(telegram, 40_002).say("/start", "đồng ý")
            await wait_done(sessions, broadcast, 60)
        finally:
            await first.stop(signal.SIGKILL)
            await second.stop()

    sent = sent_texts(telegram)
    counts = Counter(chat for chat, _ in sent)
    assert counts == Counter({chat: 1 for chat in chats}), "every member got it exactly once"
    assert telegram.http_429 == 0
    times = [at for _, at in sent]  # when each left the instances (held ones too)
    assert busiest_second(times) <= RATE  # in any one second, as Telegram counts
    assert len(times) / (max(times) - min(times)) <= RATE * 1.05
    with sessions() as session:
        workers = Counter(
            (w or "").rsplit(":", 1)[-1]
            for w in session.scalars(
                select(Delivery.claimed_by).where(Delivery.broadcast_id == broadcast)
            )
        )
        statuses = set(
            session.scalars(select(Delivery.status).where(Delivery.broadcast_id == broadcast))
        )
    assert {str(first.pid), str(second.pid)} <= set(workers), "both instances sent"
    assert statuses == {DeliveryStatus.SENT}


def recorded(sessions: sessionmaker[Session], broadcast: int) -> int:
    with sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.broadcast_id == broadcast, Delivery.status == DeliveryStatus.SENT)
            )
            or 0
        )
