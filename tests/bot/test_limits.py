"""Nothing lost to the platforms' limits: even sends under the cap, replies that arrive.

Every test talks to fake platforms that count the way Telegram states its limits: at most N
sends in any sliding second for the bot and one a second in a chat (bot.simulator.limits).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.channels.telegram_sender import TelegramSender
from bot.channels.zalo_bot import ZaloBotClient, ZaloBotSender
from bot.dispatcher import Dispatcher, DispatchPolicy, Route
from bot.ratelimit import ChannelLimiter
from bot.simulator import FakeTelegram
from bot.simulator.zalo_bot_api import FakeZaloBot
from db.audience import Audience
from db.broadcasts import create_broadcast
from db.models import Broadcast, Channel, Delivery, DeliveryStatus, Subscriber
from messages import member as say
from tests.bot.test_member_conversation import register
from tests.bot.test_staff import EDITOR, MY_SON, set_up
from tests.bot.test_zalo_bot import ZaloChat
from tests.chat import Chat
from tests.conftest import make_app
from tests.factories import FakeClock, add_subscribers, commune_id, wait_done

TEXT = "Thông báo: tập huấn VietGAP tại xã Mỹ Sơn, Thứ Ba 15/12/2026 07:30."


def busiest_second(times: list[float]) -> int:
    """Return the most of these times that fall within any one second."""
    times, most, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def broadcast_to_all(sessions: sessionmaker[Session], clock: FakeClock, text: str = TEXT) -> int:
    with sessions.begin() as session:
        now = clock()
        return create_broadcast(
            session, text=text, audience=Audience(), send_at=now, created_by="t", now=now
        ).id


def members(sessions: sessionmaker[Session], chats: range, channel: Channel) -> None:
    with sessions.begin() as session:
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        ids = add_subscribers(session, chats, area_id=area)
        if channel is not Channel.TELEGRAM:
            session.execute(
                update(Subscriber).where(Subscriber.id.in_(ids)).values(channel=channel)
            )


def statuses(sessions: sessionmaker[Session], broadcast: int) -> Counter[DeliveryStatus]:
    with sessions() as session:
        rows = session.scalars(select(Delivery.status).where(Delivery.broadcast_id == broadcast))
        return Counter(rows)


async def drain(dispatcher: Dispatcher) -> None:
    while await dispatcher.tick():
        pass


@pytest.mark.parametrize(("cap", "audience"), [(30, 90), (200, 500)])
async def test_a_broadcast_never_goes_over_the_cap_in_any_second(
    sessions: sessionmaker[Session], cap: int, audience: int
) -> None:
    clock = FakeClock()
    chats = range(1000, 1000 + audience)
    members(sessions, chats, Channel.TELEGRAM)
    async with FakeTelegram(rate_limit=cap, per_chat_limit=1) as telegram:
        for chat in chats:
            telegram.add_chat(chat)
        sender = TelegramSender(telegram.token, telegram.base_url, paid_broadcast=cap > 30)
        route = Route(sender, ChannelLimiter(cap))
        dispatcher = Dispatcher(sessions, {Channel.TELEGRAM: route}, clock=clock)
        broadcast = broadcast_to_all(sessions, clock)
        await drain(dispatcher)
        await sender.close()
        sent = [c for c in telegram.calls if c.method == "sendMessage" and c.status == 200]
        assert telegram.http_429 == 0
        assert Counter(int(c.params["chat_id"]) for c in sent) == Counter(chats)
        assert busiest_second([c.at for c in sent]) <= cap
        assert telegram.stats()["busiest_second"] <= cap
    assert statuses(sessions, broadcast) == Counter({DeliveryStatus.SENT: audience})


async def test_a_429_pauses_the_channel_for_its_wait_and_costs_no_attempt(
    sessions: sessionmaker[Session],
) -> None:
    clock = FakeClock()
    members(sessions, range(2000, 2060), Channel.TELEGRAM)
    async with FakeTelegram(rate_limit=30, per_chat_limit=1) as telegram:
        for chat in range(2000, 2060):
            telegram.add_chat(chat)
        telegram.fail_chat(2010, 429, "Too Many Requests: retry after 1", retry_after=1, times=1)
        sender = TelegramSender(telegram.token, telegram.base_url)
        dispatcher = Dispatcher(
            sessions, {Channel.TELEGRAM: Route(sender, ChannelLimiter(30))}, clock=clock
        )
        broadcast = broadcast_to_all(sessions, clock)
        while await dispatcher.tick() or statuses(sessions, broadcast)[DeliveryStatus.QUEUED]:
            clock.advance(seconds=1)  # the 429'd delivery is due again a second on
        await sender.close()
        sent = [c.at for c in telegram.calls if c.method == "sendMessage" and c.status == 200]
        refused = [c.at for c in telegram.calls if c.status == 429]
    assert len(refused) == 1  # and nothing else: the pause held every send, then the pace
    after = [at for at in sent if at > refused[0]]
    assert min(after) - refused[0] >= 0.95  # nothing went during the retry_after
    assert busiest_second(after) <= 30
    with sessions() as session:
        again = session.scalar(
            select(Delivery)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Subscriber.chat_id == "2010")
        )
        assert again is not None and again.status is DeliveryStatus.SENT
        assert again.attempts == 1  # the 429 was handed back, not counted


@pytest.fixture
async def strict() -> AsyncIterator[FakeTelegram]:
    """The fake Telegram with its limits on: 30 a second, one a second in a chat."""
    async with FakeTelegram(rate_limit=30, per_chat_limit=1) as fake:
        yield fake


@pytest.fixture
async def paced(database_url: str, strict: FakeTelegram) -> AsyncIterator[OutreachApp]:
    """The bot polling the strict fake, pacing each chat as it does in production."""
    app = make_app(database_url, strict, outreach_chat_interval=1.05)
    await app.start()
    yield app
    await app.stop()


async def test_members_registering_quickly_get_every_reply(
    paced: OutreachApp, strict: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chats = [Chat(strict, chat) for chat in (3001, 3002, 3003)]
    await asyncio.wait_for(asyncio.gather(*(register(chat) for chat in chats)), 60)
    assert strict.http_429 == 0
    with sessions() as session:
        done = session.scalars(
            select(Subscriber.chat_id).where(Subscriber.conv_state == "idle")
        ).all()
    assert sorted(done) == ["3001", "3002", "3003"]


async def test_a_reply_refused_with_429_is_sent_after_its_wait(
    paced: OutreachApp, strict: FakeTelegram
) -> None:
    chat = Chat(strict, 3101)
    strict.fail_chat(3101, 429, "Too Many Requests: retry after 1", retry_after=1, times=1)
    started = time.monotonic()
    await chat.say("/start", "Anh/chị có đồng ý không?")
    assert time.monotonic() - started >= 0.9  # it waited, then came
    assert strict.http_429 == 1


async def test_a_question_that_never_arrived_is_asked_again(
    paced: OutreachApp, strict: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    chat = Chat(strict, 3201)
    await chat.say("/start", "Anh/chị có đồng ý không?")
    strict.fail_chat(3201, 400, "Bad Request: message is too long", times=1)
    chat.press("Tôi đồng ý")  # consent is kept, but the province question is refused
    await strict.wait_for(lambda: strict.http_429 == 0 and failed_sends(strict, 3201) == 1)
    missed = await chat.say("khanh hoa", say.MISSED)  # not taken for an answer unseen
    assert missed["text"] == say.MISSED
    await chat.expect("tỉnh, thành phố nào")
    await chat.say("khanh hoa", "xã, phường nào của tỉnh Khánh Hòa")


def failed_sends(telegram: FakeTelegram, chat: int) -> int:
    return sum(
        1 for c in telegram.calls if c.status == 400 and str(c.params.get("chat_id")) == str(chat)
    )


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_a_slow_chat_holds_up_no_other(
    database_url: str, telegram: FakeTelegram, webhook: bool
) -> None:
    overrides = {"telegram_webhook_url": "https://bot.example.org/hook"} if webhook else {}
    app = make_app(database_url, telegram, **overrides)
    await app.start()
    try:
        if webhook:
            assert app.web is not None
            telegram.webhook_origin = f"http://127.0.0.1:{app.web.port}"
        slow, quick = Chat(telegram, 3301), Chat(telegram, 3302)
        telegram.hang_chat(3301, 3.0, times=1)  # Telegram takes 3 s to answer this chat
        slow.send("/help")
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await quick.say("/help", "/start")
        assert time.monotonic() - started < 1.5  # not behind the slow chat's 3 s
        await slow.expect("/start")
    finally:
        await app.stop()


async def test_a_broken_broadcast_fails_alone_and_its_author_is_told(
    sessions: sessionmaker[Session], telegram: FakeTelegram
) -> None:
    clock = FakeClock()
    members(sessions, range(4000, 4005), Channel.TELEGRAM)
    for chat in range(4000, 4005):
        telegram.add_chat(chat)
    broken = broadcast_to_all(sessions, clock, "Kính gửi {{ subscriber.name }}")
    with sessions.begin() as session:  # written by an older version that did not check it
        session.execute(
            update(Broadcast)
            .where(Broadcast.id == broken)
            .values(text="Kính gửi {{ subscriber.nme }}", templated=True)
        )
    fine = broadcast_to_all(sessions, clock, "Họp HTX lúc 8 giờ")
    told: list[tuple[str | None, str]] = []

    async def tell(chat: str | None, text: str) -> None:
        told.append((chat, text))

    sender = TelegramSender(telegram.token, telegram.base_url)
    dispatcher = Dispatcher(
        sessions,
        {Channel.TELEGRAM: Route(sender, ChannelLimiter(30))},
        clock=clock,
        tell=tell,
        policy=DispatchPolicy(idle_seconds=0.01),
    )
    await drain(dispatcher)
    await asyncio.sleep(0.05)  # the notice goes beside the sending
    await sender.close()
    assert statuses(sessions, fine) == Counter({DeliveryStatus.SENT: 5})
    assert statuses(sessions, broken) == Counter({DeliveryStatus.FAILED: 5})
    with sessions() as session:
        errors = set(session.scalars(select(Delivery.error).where(Delivery.broadcast_id == broken)))
    assert len(errors) == 1 and "nme" in next(iter(errors))
    assert len(told) == 1 and told[0][0] is None  # no officer wrote it: the admins are told
    assert f"Tin #{broken} không gửi được" in told[0][1]


async def test_a_refused_zalo_token_pauses_the_channel_and_the_admins_are_told(
    sessions: sessionmaker[Session],
) -> None:
    clock = FakeClock()
    members(sessions, range(5000, 5004), Channel.ZALO_BOT)
    told: list[str] = []

    async def tell(chat: str | None, text: str) -> None:
        told.append(text)

    async with FakeZaloBot(clock=clock.monotonic) as zalo:
        for user in range(5000, 5004):
            zalo.add_chat(str(user))
        token = zalo.token
        zalo.token = "111:REVOKED"  # the operator's token is no longer the bot's
        client = ZaloBotClient(token, zalo.base_url)
        dispatcher = Dispatcher(
            sessions,
            {Channel.ZALO_BOT: Route(ZaloBotSender(client), ChannelLimiter(20))},
            clock=clock,
            tell=tell,
            monotonic=clock.monotonic,
            policy=DispatchPolicy(idle_seconds=0.01),
        )
        broadcast = broadcast_to_all(sessions, clock)
        await dispatcher.tick()
        await asyncio.sleep(0.05)
        with sessions() as session:
            waiting = session.scalars(
                select(Delivery).where(Delivery.broadcast_id == broadcast)
            ).all()
            assert {d.status for d in waiting} == {DeliveryStatus.QUEUED}
            assert {d.attempts for d in waiting} == {0}  # waiting costs no attempt
        assert len(told) == 1 and "Zalo Bot từ chối mã truy cập" in told[0]

        zalo.token = token  # fixed; a minute later the channel sends again
        clock.advance(seconds=61)
        await drain(dispatcher)
        await client.close()
    assert statuses(sessions, broadcast) == Counter({DeliveryStatus.SENT: 4})
    assert len(told) == 1  # told once, not per delivery


@pytest.fixture
async def zalo_paced(
    database_url: str, telegram: FakeTelegram
) -> AsyncIterator[tuple[OutreachApp, FakeZaloBot]]:
    async with FakeZaloBot() as zalo:
        app = make_app(
            database_url, telegram, zalo_bot_token=zalo.token, zalo_bot_api_url=zalo.base_url
        )
        await app.start()
        yield app, zalo
        await app.stop()


@pytest.mark.parametrize(
    ("code", "description"), [(429, "Too Many Requests: quota exceeded"), (500, "Server Error")]
)
async def test_a_zalo_reply_refused_for_now_still_arrives(
    zalo_paced: tuple[OutreachApp, FakeZaloBot], code: int, description: str
) -> None:
    _, zalo = zalo_paced
    zalo.fail_chat("zl-7001", code, description, times=1)
    consent = await ZaloChat(zalo, "zl-7001").say("/start", "Anh/chị có đồng ý không?")
    assert "1. ✅ Tôi đồng ý" in consent


async def test_a_zalo_reply_refused_for_good_does_not_silence_the_member(
    zalo_paced: tuple[OutreachApp, FakeZaloBot],
) -> None:
    _, zalo = zalo_paced
    chat = ZaloChat(zalo, "zl-7101")
    zalo.fail_chat("zl-7101", 400, "Bad Request", times=1)
    zalo.send_text("zl-7101", "/start")  # the consent question is refused
    await zalo.wait_for(lambda: any(c.status == 400 for c in zalo.calls))
    await chat.say("xin chào", say.MISSED)  # not filed as feedback: the question comes again
    await chat.say("1", "tỉnh, thành phố nào")  # and the member goes on


HEAVY = "{% for a in range(1000) %}{% for b in range(1000) %}{{ a * b }}{% endfor %}{% endfor %}"


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_an_officers_heavy_template_holds_up_no_member(
    database_url: str,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    webhook: bool,
) -> None:
    clock = FakeClock()
    overrides = {"telegram_webhook_url": "https://bot.example.org/hook"} if webhook else {}
    app = make_app(database_url, telegram, clock, **overrides)
    set_up(sessions, telegram, clock)
    await app.start()
    try:
        if webhook:  # by webhook on SQLite, the officer's transaction held the write lock
            assert app.web is not None
            telegram.webhook_origin = f"http://127.0.0.1:{app.web.port}"
        editor, member = Chat(telegram, EDITOR), Chat(telegram, MY_SON[0])
        await editor.say("/new", "loại tin nào")
        await editor.tap("Thông báo chung", "Gửi nội dung tin")
        editor.send(HEAVY)
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await member.say("/help", "/start")
        assert time.monotonic() - started < 2.0  # seconds at most, not the template's minutes
        await editor.expect("Nội dung có chỗ viết chưa đúng", timeout=5)
    finally:
        await app.stop()


async def test_outreach_run_without_network_says_so_in_one_line_and_keeps_trying(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'o.db'}"
    env = {**os.environ, "DATABASE_URL": db}
    outreach = str(Path(sys.executable).parent / "outreach")
    subprocess.run([outreach, "db", "upgrade"], env=env, check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env |= {
        "TELEGRAM_BOT_TOKEN": "123456:ABCdefGHIjklMNOpqr",
        "TELEGRAM_API_URL": "http://127.0.0.1:9/bot",  # nothing listens there
        "OUTREACH_WEB_PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        outreach, "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        health = None
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                await asyncio.sleep(0.1)
                try:
                    health = await client.get(f"http://127.0.0.1:{port}/healthz")
                    break
                except httpx.TransportError:
                    continue
        assert health is not None and health.status_code == 503
        assert "unreachable" in health.json()["checks"]["telegram"]
        await asyncio.sleep(2.5)  # and a second try
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 20)
    log = err.decode()
    assert "Traceback" not in log
    assert "Telegram at http://127.0.0.1:9/bot (TELEGRAM_API_URL) is unreachable" in log
    assert "still unreachable" in log
    assert process.returncode == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_members_writing_during_a_1000_a_second_broadcast_are_all_answered(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    clock = FakeClock()
    chats = range(60_000, 63_000)
    members(sessions, chats, Channel.TELEGRAM)
    async with FakeTelegram(rate_limit=1000, per_chat_limit=1) as telegram:
        for chat in [*chats, *range(64_000, 64_010)]:
            telegram.add_chat(chat)
        app = make_app(
            database_url,
            telegram,
            clock,
            telegram_rate_limit=1000,
            telegram_paid_broadcast=True,
            outreach_chat_interval=1.05,
        )
        await app.start()
        try:
            broadcast = broadcast_to_all(sessions, clock)
            await telegram.wait_for(lambda: telegram.stats()["messages"] >= 500, timeout=20)
            # Ten members who get the broadcast and ten who do not write while it sends.
            writers = [Chat(telegram, c) for c in [*range(62_990, 63_000), *range(64_000, 64_010)]]
            for writer in writers:
                writer.send("/help")
            await asyncio.wait_for(asyncio.gather(*(w.expect("/start") for w in writers)), 15)
            await wait_done(sessions, broadcast, 30)
        finally:
            await app.stop()
        assert telegram.http_429 == 0
        assert telegram.stats()["busiest_second"] <= 1000


async def test_an_officers_report_holds_up_no_member(
    database_url: str, telegram: FakeTelegram, sessions: sessionmaker[Session]
) -> None:
    clock = FakeClock()
    app = make_app(database_url, telegram, clock, telegram_webhook_url="https://bot.example.org/h")
    set_up(sessions, telegram, clock)
    await app.start()
    try:
        assert app.web is not None
        telegram.webhook_origin = f"http://127.0.0.1:{app.web.port}"
        editor, member = Chat(telegram, EDITOR), Chat(telegram, MY_SON[0])
        started = time.monotonic()
        editor.send("/report")
        await asyncio.sleep(0.05)
        await member.say("/help", "/start")
        answered = time.monotonic() - started
        await editor.expect_caption("Báo cáo", timeout=30)
        reported = time.monotonic() - started
    finally:
        await app.stop()
    assert answered < reported / 2, (answered, reported)  # not behind the report's writing
