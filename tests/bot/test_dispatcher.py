"""The dispatcher against the limit-enforcing fake Telegram, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.telegram_sender import TelegramSender
from bot.dispatcher import Dispatcher, DispatchPolicy, Route
from bot.ratelimit import ChannelLimiter
from bot.simulator import FakeTelegram
from db.audience import Audience
from db.broadcasts import create_broadcast, move
from db.models import (
    Broadcast,
    BroadcastStatus,
    Channel,
    Delivery,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
)
from db.outbox import IN_DOUBT
from tests.factories import FakeClock, add_subscribers, commune_id


@dataclass
class Rig:
    """A dispatcher wired to the fake Telegram, with a hand-moved clock for the database."""

    telegram: FakeTelegram
    sessions: sessionmaker[Session]
    clock: FakeClock
    dispatcher: Dispatcher
    sender: TelegramSender

    def another_dispatcher(self) -> Dispatcher:
        """A second dispatcher on the same database, as after a restart."""
        return Dispatcher(
            self.sessions,
            {Channel.TELEGRAM: Route(self.sender, ChannelLimiter(30))},
            clock=self.clock,
            policy=self.dispatcher.policy,
        )

    def subscribers(
        self, chats: range | list[int], *, known: bool = True, **kwargs: object
    ) -> list[int]:
        """Register subscribers in Xã Mỹ Sơn (chats the fake Telegram knows, unless not)."""
        for chat in chats if known else []:
            self.telegram.add_chat(chat)
        with self.sessions.begin() as session:
            area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
            return add_subscribers(session, chats, area_id=area, **kwargs)  # type: ignore[arg-type]

    def broadcast(self, text: str = "Thông báo lớp tập huấn VietGAP", **kwargs: object) -> int:
        """Schedule a broadcast to everyone, due now."""
        with self.sessions.begin() as session:
            created = create_broadcast(
                session,
                text=text,
                audience=Audience(),
                send_at=self.clock(),
                created_by="test",
                now=self.clock(),
                **kwargs,
            )  # type: ignore[arg-type]
            return created.id

    async def drain(self, dispatcher: Dispatcher | None = None) -> None:
        """Tick until a tick finds nothing to do (and housekeeping has run)."""
        dispatcher = dispatcher or self.dispatcher
        while await dispatcher.tick():
            pass

    def deliveries(self, broadcast_id: int) -> dict[str, Delivery]:
        """Map chat id to its delivery row for a broadcast."""
        with self.sessions() as session:
            rows = session.execute(
                select(Subscriber.chat_id, Delivery)
                .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
                .where(Delivery.broadcast_id == broadcast_id)
            ).all()
            return {chat: delivery for chat, delivery in rows}

    def status(self, broadcast_id: int) -> BroadcastStatus:
        """Read a broadcast's status."""
        with self.sessions() as session:
            found = session.get(Broadcast, broadcast_id)
            assert found is not None
            return found.status

    def received(self, text: str) -> Counter[int]:
        """Count, per chat, the messages the fake Telegram accepted with this text."""
        counts: Counter[int] = Counter()
        for call in self.telegram.calls:
            if call.method == "sendMessage" and call.status == 200 and call.params["text"] == text:
                counts[int(call.params["chat_id"])] += 1
        return counts


@pytest.fixture
async def rig(sessions: sessionmaker[Session]) -> AsyncIterator[Rig]:
    clock = FakeClock()  # Telegram's limits and ours see the same time, jumps included
    async with FakeTelegram(rate_limit=30, per_chat_limit=1, clock=clock.monotonic) as telegram:
        sender = TelegramSender(telegram.token, telegram.base_url, timeout=0.5)
        policy = DispatchPolicy(idle_seconds=0.01)
        dispatcher = Dispatcher(
            sessions,
            {Channel.TELEGRAM: Route(sender, ChannelLimiter(30))},
            clock=clock,
            policy=policy,
            monotonic=clock.monotonic,
        )
        yield Rig(telegram, sessions, clock, dispatcher, sender)
        await sender.close()


async def test_every_recipient_gets_it_once_within_the_limits(rig: Rig) -> None:
    rig.subscribers(range(100, 140))
    rig.subscribers([140], name="Bà <Lan> & chồng")
    broadcast_id = rig.broadcast("Chào {{ subscriber.name }}, mời dự lớp <b>VietGAP</b>.")
    await rig.drain()
    sent = [c for c in rig.telegram.calls if c.method == "sendMessage" and c.status == 200]
    assert Counter(int(c.params["chat_id"]) for c in sent) == Counter(range(100, 141))
    texts = {m["chat"]["id"]: m["text"] for m in rig.telegram.messages() if "VietGAP" in m["text"]}
    assert texts[105] == "Chào Thành viên 105, mời dự lớp VietGAP."
    assert texts[140] == "Chào Bà <Lan> & chồng 140, mời dự lớp VietGAP."  # escaped, then shown
    assert rig.telegram.http_429 == 0
    deliveries = rig.deliveries(broadcast_id)
    assert {d.status for d in deliveries.values()} == {DeliveryStatus.SENT}
    assert all(d.provider_message_id and d.sent_at for d in deliveries.values())
    assert rig.status(broadcast_id) == BroadcastStatus.DONE


async def test_each_failure_is_handled_its_own_way(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.subscribers([1, 2, 4, 5, 6, 7])
    rig.subscribers([3], known=False)  # Telegram answers "chat not found"
    rig.telegram.fail_chat(2, 403, "Forbidden: bot was blocked by the user")
    rig.telegram.fail_chat(4, 429, "Too Many Requests: retry after 1", retry_after=1, times=1)
    rig.telegram.add_chat(-1001234)
    rig.telegram.fail_chat(
        5,
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to=-1001234,
        times=1,
    )
    rig.telegram.fail_chat(6, 400, "Bad Request: wrong file identifier")
    rig.telegram.hang_chat(7, 2.0)  # answers after the client's 0.5 s timeout, every time
    broadcast_id = rig.broadcast()
    await rig.drain()
    for _ in range(4):  # each retry of chat 7 waits its backoff
        rig.clock.advance(minutes=20)
        await rig.drain()
    d = rig.deliveries(broadcast_id)
    assert d["1"].status == DeliveryStatus.SENT
    assert d["2"].status == DeliveryStatus.FAILED and d["2"].error.startswith("blocked")
    assert d["3"].status == DeliveryStatus.FAILED and "chat not found" in d["3"].error
    assert d["4"].status == DeliveryStatus.SENT and d["4"].attempts == 1  # 429 is not its fault
    assert d["-1001234"].status == DeliveryStatus.SENT  # followed the migrated chat
    assert d["6"].status == DeliveryStatus.FAILED and "wrong file identifier" in d["6"].error
    assert d["7"].status == DeliveryStatus.FAILED
    assert d["7"].error.startswith("gave up after 5 attempts: timed out")
    with rig.sessions() as session:
        status = dict(session.execute(select(Subscriber.chat_id, Subscriber.status)).all())
    assert status["2"] == SubscriberStatus.BLOCKED and status["3"] == SubscriberStatus.INVALID
    assert status["1"] == SubscriberStatus.ACTIVE
    blocked_sends = [c for c in rig.telegram.calls if c.params.get("chat_id") == 2]
    assert len(blocked_sends) == 1  # a 403 is never retried
    assert rig.status(broadcast_id) == BroadcastStatus.DONE
    # The lines an operator reads name the delivery (LOG_FORMAT=json: as fields).
    named = {
        r.getMessage().split(" ")[0]: (r.broadcast_id, r.delivery_id, r.subscriber_id)  # type: ignore[attr-defined]
        for r in caplog.records
        if hasattr(r, "delivery_id")
    }
    assert set(named) >= {"telegram", "delivery"}  # the 429 and the give-up
    assert all(b == broadcast_id and d and s for b, d, s in named.values())


async def test_errored_delivery_waits_for_its_backoff(rig: Rig) -> None:
    rig.subscribers([1])
    rig.telegram.fail_chat(1, 502, "Bad Gateway", times=1)
    broadcast_id = rig.broadcast()
    await rig.drain()
    first = rig.deliveries(broadcast_id)["1"]
    assert first.status == DeliveryStatus.ERRORED and first.attempts == 1
    assert first.next_attempt_at == rig.clock() + rig.dispatcher.policy.backoff(1)
    await rig.drain()
    assert rig.deliveries(broadcast_id)["1"].status == DeliveryStatus.ERRORED  # not yet due
    rig.clock.advance(seconds=11)
    await rig.drain()
    assert rig.deliveries(broadcast_id)["1"].status == DeliveryStatus.SENT


async def test_stop_after_snapshot_skips_and_expiry_drops(rig: Rig) -> None:
    ids = rig.subscribers(range(1, 4))
    first = rig.broadcast()
    await rig.dispatcher.tick()  # snapshot taken, first batch sent
    rig.telegram.calls.clear()
    later = rig.broadcast("Tin thứ hai", expires_at=rig.clock().replace(year=2030))
    with rig.sessions.begin() as session:  # starts the second broadcast: snapshot of 3
        from db.broadcasts import start_due

        start_due(session, rig.clock(), skip_locked=False)
        session.execute(
            update(Subscriber)
            .where(Subscriber.id == ids[0])
            .values(status=SubscriberStatus.STOPPED)
        )
    expiring = rig.broadcast("Tin hết hạn", expires_at=rig.clock())
    rig.clock.advance(seconds=2)  # past the expiry, and past the one-a-second spacing per chat
    await rig.drain()
    d = rig.deliveries(later)
    assert d["1"].status == DeliveryStatus.SKIPPED
    assert {d["2"].status, d["3"].status} == {DeliveryStatus.SENT}
    assert {x.status for x in rig.deliveries(expiring).values()} == {DeliveryStatus.EXPIRED}
    assert rig.received("Tin hết hạn") == Counter()
    assert rig.status(first) == BroadcastStatus.DONE


async def test_pause_resume_cancel(rig: Rig) -> None:
    rig.subscribers(range(1, 4))
    paused = rig.broadcast("Tạm dừng")
    cancelled = rig.broadcast("Huỷ")
    with rig.sessions.begin() as session:
        move(session, paused, "pause", rig.clock())
        move(session, cancelled, "cancel", rig.clock())
    await rig.drain()
    assert rig.received("Tạm dừng") == Counter() and rig.received("Huỷ") == Counter()
    with rig.sessions.begin() as session:
        assert move(session, paused, "resume", rig.clock()).status == BroadcastStatus.SCHEDULED
    await rig.drain()
    assert rig.received("Tạm dừng") == Counter({1: 1, 2: 1, 3: 1})
    assert rig.status(cancelled) == BroadcastStatus.CANCELLED


async def test_in_doubt_deliveries_are_sent_after_the_lease(rig: Rig) -> None:
    rig.subscribers(range(1, 6))
    broadcast_id = rig.broadcast()
    claimed = await asyncio.to_thread(rig.dispatcher._claim)
    assert len(claimed) == 5  # claimed, then the process "dies" before sending any
    survivor = rig.another_dispatcher()
    await rig.drain(survivor)
    assert rig.received("Thông báo lớp tập huấn VietGAP") == Counter()  # the lease still holds
    rig.clock.advance(seconds=61)
    await rig.drain(survivor)
    assert rig.received("Thông báo lớp tập huấn VietGAP") == Counter({c: 1 for c in range(1, 6)})
    assert {d.error for d in rig.deliveries(broadcast_id).values()} == {IN_DOUBT}
    assert rig.status(broadcast_id) == BroadcastStatus.DONE


async def test_shutdown_during_a_long_pause_hands_rows_back(rig: Rig) -> None:
    rig.subscribers(range(1, 41))
    rig.telegram.fail_chat(1, 429, "Too Many Requests: retry after 30", retry_after=30, times=1)
    broadcast_id = rig.broadcast()
    stopping = asyncio.Event()
    running = asyncio.create_task(rig.dispatcher.run(stopping))
    await rig.telegram.wait_for(lambda: rig.telegram.http_429 == 1)
    await asyncio.sleep(0.1)  # the channel is now paused for 30 s
    stopping.set()
    await asyncio.wait_for(running, 3)  # shutdown does not sit out the pause
    deliveries = rig.deliveries(broadcast_id)
    statuses = Counter(d.status for d in deliveries.values())
    assert DeliveryStatus.WIRED not in statuses  # handed back, not left in doubt
    assert deliveries["1"].status == DeliveryStatus.QUEUED and deliveries["1"].attempts == 0
    assert statuses[DeliveryStatus.QUEUED] >= 30  # the rest of the batch waits its turn


async def test_photo_with_caption_and_link_buttons(rig: Rig) -> None:
    rig.subscribers([1])
    broadcast_id = rig.broadcast(
        "Sản phẩm OCOP 4 sao: <b>Mật ong Mỹ Sơn</b>",
        photo="https://example.org/ocop/mat-ong.jpg",
        buttons=[{"label": "Xem thêm", "url": "https://example.org/ocop"}],
        kind="ocop",
    )
    await rig.drain()
    sent = [c for c in rig.telegram.calls if c.method == "sendPhoto" and c.status == 200]
    assert len(sent) == 1
    assert sent[0].params["caption"] == "Sản phẩm OCOP 4 sao: <b>Mật ong Mỹ Sơn</b>"
    assert sent[0].params["reply_markup"]["inline_keyboard"] == [
        [{"text": "Xem thêm", "url": "https://example.org/ocop"}],
        [  # every announcement carries the one-tap reactions, side by side
            {"text": "👍 Hữu ích", "callback_data": f"fb|{broadcast_id}.u"},
            {"text": "🤔 Chưa rõ", "callback_data": f"fb|{broadcast_id}.c"},
        ],
    ]
    assert "allow_paid_broadcast" not in sent[0].params  # free bots must not set it
    assert rig.deliveries(broadcast_id)["1"].status == DeliveryStatus.SENT


def test_paid_broadcast_sets_the_flag() -> None:
    sender = TelegramSender("1:x", "http://127.0.0.1:9/bot", paid_broadcast=True)
    assert sender.prepare("Tin", None, []).body["allow_paid_broadcast"] is True
