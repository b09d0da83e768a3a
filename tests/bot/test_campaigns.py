"""Campaigns run by themselves: a whole peak period, a restart, two instances; fake Telegram.

The bot runs for real (APScheduler ticking every 50 ms, the dispatcher, the fake Bot API over
HTTP); only the clock is ours, so a week of campaign passes in seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import OutreachApp
from bot.campaigns import load_campaign
from bot.simulator import FakeTelegram
from db.content import load_items
from db.engine import create_db_engine, session_factory
from db.models import Broadcast, BroadcastStatus, CampaignFiring, ContentItem, Delivery
from messages.packs import read_packs
from schedules.files import parse_campaign
from schedules.planner import plan
from schedules.scheduler import Scheduler, SchedulerPolicy
from tests.chat import Chat
from tests.conftest import make_app
from tests.factories import FakeClock, add_subscribers, commune_id

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
A, B, C, D = 8101, 8102, 8103, 8104

PEAK = """
id: dot-cao-diem-thang-12
name: Đợt cao điểm tuyên truyền tháng 12
window: {from: 2026-11-24, to: 2026-12-06}
audience: {provinces: [Khánh Hòa], topics: [policy]}
pool: {tags: [khau-hieu], except_tags: [ky-niem-30-nam-lmhtx]}
cadence: {days: [thứ ba], times: ["07:30"]}
peaks:
  - name: Cao điểm
    from: 2026-12-01
    to: 2026-12-06
    cadence: {times: ["07:30", "19:30"]}
occasions:
  - {date: 2026-12-03, time: "07:30", content: khau-hieu-01}
"""


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def start_app(database_url: str, telegram: FakeTelegram, clock: FakeClock) -> OutreachApp:
    return make_app(database_url, telegram, clock, outreach_scheduler_tick=0.05)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(local(2026, 11, 24, 6, 0))


@pytest.fixture
async def running(
    database_url: str, telegram: FakeTelegram, clock: FakeClock
) -> AsyncIterator[OutreachApp]:
    app = start_app(database_url, telegram, clock)
    await app.start()
    yield app
    await app.stop()


def join(sessions: sessionmaker[Session], telegram: FakeTelegram, chats: list[int]) -> None:
    """Members of a commune in Khánh Hòa, following every topic, with the content loaded."""
    with sessions.begin() as session:
        if session.scalar(select(ContentItem.id).limit(1)) is None:
            load_items(session, read_packs(), datetime.now(TZ))
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        add_subscribers(session, chats, area_id=area)
    for chat in chats:
        telegram.add_chat(chat)


def load_file(sessions: sessionmaker[Session], text: str, clock: FakeClock) -> None:
    """Load a campaign as `outreach campaign load` does, at the fake clock's time."""
    with sessions.begin() as session:
        file = parse_campaign(text, "campaign.yaml")
        load_campaign(session, file, now=clock(), created_by="test")


async def until(
    check: Callable[[], bool], what: str, seconds: float = 20.0, clock: FakeClock | None = None
) -> None:
    """Wait for a condition; a clock, if given, moves on a second each look (as time does)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        if clock is not None:  # a chat that just had a message gets the next a moment later
            clock.advance(seconds=1)
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


def firing_of(sessions: sessionmaker[Session], at: datetime) -> CampaignFiring | None:
    with sessions() as session:
        return session.scalar(select(CampaignFiring).where(CampaignFiring.planned_at == at))


def all_done(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        busy = select(Broadcast.id).where(Broadcast.status != BroadcastStatus.DONE)
        return session.scalar(busy.limit(1)) is None


async def fire_at(sessions: sessionmaker[Session], clock: FakeClock, at: datetime) -> None:
    """Move the clock to a planned send and wait until it fired and everything was sent."""
    clock.now = at
    await until(lambda: firing_of(sessions, at) is not None, f"the send of {at} fired")
    await until(lambda: all_done(sessions), f"the broadcasts of {at} sent", clock=clock)


def slogans(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        items = session.scalars(select(ContentItem).where(ContentItem.kind == "slogan"))
        return {item.data["text"]: item.slug for item in items}


def received(telegram: FakeTelegram, chat: int, texts: dict[str, str]) -> list[str]:
    """Return the slogans a chat received, in order, read from what Telegram holds."""
    found = []
    for message in telegram.messages(chat):
        slugs = [slug for text, slug in texts.items() if text in (message.get("text") or "")]
        found += slugs
    return found


async def test_a_whole_peak_period_reaches_each_member_as_planned(
    running: OutreachApp,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    database_url: str,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    join(sessions, telegram, [A, B, C])
    load_file(sessions, PEAK, clock)
    planned = [s.at for s in plan_of(PEAK)]
    assert len(planned) == 1 + 6 * 2  # a Tuesday, then six peak days of two
    for at in planned:
        if at == local(2026, 12, 2, 7, 30):  # mid-peak: C stops, D joins
            await Chat(telegram, C).say("/stop", "Đã dừng")
            join(sessions, telegram, [D])
        await fire_at(sessions, clock, at)

    texts = slogans(sessions)
    s3, s4, s5, s6, s7, s8 = (f"khau-hieu-0{n}" for n in range(3, 9))
    got = {chat: received(telegram, chat, texts) for chat in (A, B, C, D)}
    # A and B: every send, round the pool in order, the occasion's slogan on 3/12 07:30.
    assert got[A] == got[B] == [s3, s4, s5, s6, s7, "khau-hieu-01", s8, s3, s4, s5, s6, s7, s8]
    # C stopped on 2/12 before 07:30: nothing after their first three.
    assert got[C] == [s3, s4, s5]
    # D joined on 2/12: the whole pool before any repeat.
    assert got[D] == [s6, s7, "khau-hieu-01", s8, s3, s4, s5, s6, s7, s8]
    with sessions() as session:
        outcomes = Counter(session.scalars(select(CampaignFiring.outcome)))
        per_day = Counter(
            (sid, started.astimezone(TZ).date())
            for sid, started in session.execute(
                select(Delivery.subscriber_id, Broadcast.started_at).join(
                    Broadcast, Broadcast.id == Delivery.broadcast_id
                )
            )
        )
    assert outcomes == {"sent": 13}
    assert max(per_day.values()) == 2  # the cap, never more


def plan_of(text: str) -> list[object]:
    file = parse_campaign(text, "peak.yaml")
    pool = tuple(f"khau-hieu-0{n}" for n in range(3, 9))
    return list(plan(file.campaign(pool), file.starts_at, file.ends_at))


DAILY = """
id: moi-ngay
name: Tin mỗi ngày
window: {from: 2026-11-24, to: 2026-11-30}
pool: {items: [khau-hieu-03, khau-hieu-04, khau-hieu-05, khau-hieu-06, khau-hieu-07]}
cadence: {times: ["07:30", "19:30"]}
"""


async def test_a_restart_mid_campaign_loses_no_send_and_repeats_none(
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    database_url: str,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    join(sessions, telegram, [A])
    load_file(sessions, DAILY, clock)
    app = start_app(database_url, telegram, clock)
    await app.start()
    await fire_at(sessions, clock, local(2026, 11, 24, 7, 30))
    await fire_at(sessions, clock, local(2026, 11, 24, 19, 30))
    await app.stop()
    # A restart at once repeats nothing.
    app = start_app(database_url, telegram, clock)
    await app.start()
    await asyncio.sleep(0.3)
    await app.stop()
    assert len(telegram.messages(A)) == 2

    # Down until 26/11 08:00: three sends missed; the latest (30 minutes late) goes.
    clock.now = local(2026, 11, 26, 8, 0)
    app = start_app(database_url, telegram, clock)
    await app.start()
    try:
        late = local(2026, 11, 26, 7, 30)
        await until(lambda: firing_of(sessions, late) is not None, "the late send fired")
        await until(lambda: all_done(sessions), "the late send went", clock=clock)
        await fire_at(sessions, clock, local(2026, 11, 26, 19, 30))
    finally:
        await app.stop()
    with sessions() as session:
        query = select(CampaignFiring.outcome).order_by(CampaignFiring.planned_at)
        outcomes = [o.value for o in session.scalars(query)]
    assert outcomes == ["sent", "sent", "collapsed", "collapsed", "late", "sent"]
    texts = slogans(sessions)
    got = received(telegram, A, texts)
    assert got == ["khau-hieu-03", "khau-hieu-04", "khau-hieu-07", "khau-hieu-05"]


async def test_two_instances_fire_once_and_one_takes_over(
    database_url: str,
    telegram: FakeTelegram,
    sessions: sessionmaker[Session],
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances share one PostgreSQL")
    join(sessions, telegram, [A, B])
    load_file(sessions, DAILY, clock)
    engines = [create_db_engine(database_url) for _ in range(2)]
    policy = SchedulerPolicy(tick_seconds=0.05, lease=timedelta(seconds=45))
    instances = [
        Scheduler(session_factory(e), clock=clock, policy=policy, holder=f"instance-{n}")
        for n, e in enumerate(engines)
    ]
    try:
        for instance in instances:
            await instance.start()
        for day, hour in ((24, 7), (24, 19), (25, 7)):
            at = local(2026, 11, day, hour, 30)
            clock.now = at
            await until(lambda at=at: firing_of(sessions, at) is not None, f"{at} fired")
            await asyncio.sleep(0.3)  # both instances tick several times meanwhile
        leaders = [i for i in instances if i.leader]
        assert len(leaders) == 1
        (survivor,) = [i for i in instances if not i.leader]
        await leaders[0].stop(release=False)  # dies without a word: the lease must lapse
        clock.advance(seconds=30)
        await asyncio.sleep(0.3)
        assert not survivor.leader  # the dead instance's lease still runs
        clock.advance(seconds=16)
        await until(lambda: survivor.leader, "the survivor took over")
        at = local(2026, 11, 25, 19, 30)
        clock.now = at
        await until(lambda: firing_of(sessions, at) is not None, "the survivor fired")
    finally:
        for instance in instances:
            await instance.stop()
        for engine in engines:
            engine.dispose()
    with sessions() as session:
        firings = list(session.scalars(select(CampaignFiring).order_by(CampaignFiring.planned_at)))
        broadcasts = list(session.scalars(select(Broadcast.firing_id)))
    assert [f.outcome.value for f in firings] == ["sent"] * 4
    assert sorted(broadcasts) == [f.id for f in firings]  # one broadcast per send, made once
    assert date(2026, 11, 25) == firings[-1].planned_at.astimezone(TZ).date()
