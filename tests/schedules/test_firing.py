"""Firing campaigns from the database: who gets what, the cap, missed sends, lease, calendar.

These call the scheduler's tick directly with a fake clock, on SQLite and on PostgreSQL; the
tests in tests/bot/test_campaigns.py run the same through APScheduler and the fake Telegram.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import load_campaign, pause, resume
from db import campaigns as store
from db.base import utcnow
from db.content import load_items
from db.models import (
    Broadcast,
    Campaign,
    CampaignFiring,
    CampaignStatus,
    ContentItem,
    Delivery,
    SchedulerLease,
)
from messages.packs import read_packs
from schedules import calendar
from schedules.files import parse_campaign
from schedules.scheduler import Scheduler, SchedulerPolicy
from tests.factories import FakeClock, add_subscribers, commune_id

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # Tuesday 24/11/2026, 07:30 in Hà Nội


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def campaign_yaml(
    slug: str = "dot-thi-dua",
    *,
    first: date = date(2026, 11, 24),
    last: date = date(2026, 12, 31),
    times: str = '["07:30"]',
    pool: str = "{tags: [khau-hieu], except_tags: [ky-niem-30-nam-lmhtx]}",
    extra: str = "",
) -> str:
    return f"""
id: {slug}
name: Đợt thi đua {slug}
window: {{from: {first.isoformat()}, to: {last.isoformat()}}}
cadence: {{times: {times}}}
pool: {pool}
{extra}
"""


def load(sessions: sessionmaker[Session], text: str, now: datetime, name: str = "test.yaml") -> int:
    with sessions.begin() as session:
        saved = load_campaign(session, parse_campaign(text, name), now=now, created_by="test")
        return saved.campaign.id


def members(sessions: sessionmaker[Session], chats: list[int]) -> list[int]:
    with sessions.begin() as session:
        if session.scalar(select(ContentItem.id).limit(1)) is None:
            load_items(session, read_packs(), utcnow())
        area = commune_id(session, "Xã Mỹ Sơn", "Tỉnh Khánh Hòa")
        return add_subscribers(session, chats, area_id=area)


def received(sessions: sessionmaker[Session], campaign_id: int) -> dict[int, list[str]]:
    """Return, per subscriber, the content slugs the campaign gave them, in order."""
    with sessions() as session:
        query = (
            select(Delivery.subscriber_id, ContentItem.slug)
            .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
            .join(ContentItem, ContentItem.id == Broadcast.content_id)
            .where(Broadcast.campaign_id == campaign_id)
            .order_by(Broadcast.started_at, Broadcast.id)
        )
        got: dict[int, list[str]] = {}
        for sid, slug in session.execute(query):
            got.setdefault(sid, []).append(slug)
        return got


def firings(sessions: sessionmaker[Session], campaign_id: int) -> list[tuple[datetime, str]]:
    with sessions() as session:
        query = (
            select(CampaignFiring.planned_at, CampaignFiring.outcome)
            .where(CampaignFiring.campaign_id == campaign_id)
            .order_by(CampaignFiring.planned_at)
        )
        return [(at.astimezone(TZ), outcome.value) for at, outcome in session.execute(query)]


def next_fire(sessions: sessionmaker[Session], campaign_id: int) -> datetime | None:
    with sessions() as session:
        row = session.get(Campaign, campaign_id)
        assert row is not None
        return row.next_fire_at.astimezone(TZ) if row.next_fire_at else None


def test_each_planned_send_fires_once_and_moves_on(sessions: sessionmaker[Session]) -> None:
    clock = FakeClock(T0 - timedelta(hours=1))
    ids = members(sessions, [1, 2, 3])
    campaign = load(sessions, campaign_yaml(), clock())
    assert next_fire(sessions, campaign) == local(2026, 11, 24, 7, 30)
    scheduler = Scheduler(sessions, clock=clock)
    assert scheduler.tick().fired == []  # not yet

    clock.now = T0
    (fired,) = scheduler.tick().fired
    assert (fired.outcome, fired.recipients, len(fired.broadcasts)) == ("sent", 3, 1)
    assert scheduler.tick().fired == []  # the same moment again fires nothing
    assert next_fire(sessions, campaign) == local(2026, 11, 25, 7, 30)
    clock.advance(days=1)
    scheduler.tick()
    got = received(sessions, campaign)
    assert got == {sid: ["khau-hieu-03", "khau-hieu-04"] for sid in ids}
    with sessions() as session:
        broadcast = session.scalars(select(Broadcast).order_by(Broadcast.id)).first()
        assert broadcast is not None and not broadcast.templated
        assert "HỢP TÁC, ĐỔI MỚI, PHÁT TRIỂN, HIỆU QUẢ" in broadcast.text
        # What is not sent by 21:00 is not sent at night.
        assert broadcast.expires_at == local(2026, 11, 24, 21, 0)


def test_no_member_gets_an_item_twice_before_the_whole_pool(
    sessions: sessionmaker[Session],
) -> None:
    """A member left out one day for the cap catches up on what they missed, not a repeat."""
    clock = FakeClock(T0)
    pool = "{items: [khau-hieu-03, khau-hieu-04, khau-hieu-05]}"
    early, capped = members(sessions, [1, 2])
    main = load(sessions, campaign_yaml(pool=pool), clock())
    other = load(  # fills `capped`'s day on the 25th, so that main leaves them out that day
        sessions,
        campaign_yaml(
            "mot-ngay",
            first=date(2026, 11, 25),
            last=date(2026, 11, 25),
            times='["06:30", "07:00"]',
        ),
        clock(),
    )
    with sessions.begin() as session:
        row = session.get(Campaign, other)
        assert row is not None
        row.audience = {"subscriber_ids": [capped]}
    scheduler = Scheduler(sessions, clock=clock)
    scheduler.tick()  # 24th: early and capped get 03
    late = members(sessions, [3])[0]  # joins on the 24th after the send
    clock.now = local(2026, 11, 25, 6, 30)
    scheduler.tick()
    clock.now = local(2026, 11, 25, 7, 0)
    scheduler.tick()  # capped now has 2 today
    clock.now = local(2026, 11, 25, 7, 30)
    scheduler.tick()  # main's 04: capped is left out
    for day in (26, 27, 28):
        clock.now = local(2026, 11, day, 7, 30)
        scheduler.tick()
    got = received(sessions, main)
    three, four, five = "khau-hieu-03", "khau-hieu-04", "khau-hieu-05"
    assert got[early] == [three, four, five, three, four]  # the plan's own round
    assert got[capped] == [three, five, four, three]  # 04 missed on the 25th comes on the 27th
    assert got[late] == [four, five, three, four]  # joined late: a full round before a repeat
    with sessions() as session:
        note = session.scalar(
            select(CampaignFiring.note).where(
                CampaignFiring.campaign_id == main,
                CampaignFiring.planned_at == local(2026, 11, 25, 7, 30),
            )
        )
    assert note == "1 left out for the daily cap of 2"


def test_a_member_at_the_cap_is_left_out_and_an_empty_firing_is_recorded(
    sessions: sessionmaker[Session],
) -> None:
    clock = FakeClock(T0)
    members(sessions, [1])
    first = load(sessions, campaign_yaml("sang", extra="daily_cap: 1"), clock())
    second = load(
        sessions, campaign_yaml("chieu", times='["08:00"]', extra="daily_cap: 1"), clock()
    )
    scheduler = Scheduler(sessions, clock=clock)
    scheduler.tick()
    clock.now = local(2026, 11, 24, 8, 0)
    (fired,) = scheduler.tick().fired
    assert (fired.outcome, fired.recipients) == ("empty", 0)
    assert list(received(sessions, first).values()) == [["khau-hieu-03"]]
    assert received(sessions, second) == {}


def test_missed_sends_collapse_into_one_sent_late_or_skipped(
    sessions: sessionmaker[Session],
) -> None:
    clock = FakeClock(T0)
    (member,) = members(sessions, [1])
    campaign = load(sessions, campaign_yaml(), clock())
    scheduler = Scheduler(sessions, clock=clock)
    scheduler.tick()
    # Down from the 24th to the 27th at 08:00: the 27th's send is 30 minutes late, within the
    # grace of 2 hours; the 25th's and 26th's collapse into it.
    clock.now = local(2026, 11, 27, 8, 0)
    (fired,) = Scheduler(sessions, clock=clock).tick().fired
    assert (fired.outcome, fired.missed) == ("late", 2)
    # Down again until the 30th at 13:00: 5.5 hours late is past the grace: skipped.
    clock.now = local(2026, 11, 30, 13, 0)
    (fired,) = Scheduler(sessions, clock=clock).tick().fired
    assert (fired.outcome, fired.missed, fired.broadcasts) == ("skipped", 2, ())
    assert [outcome for _, outcome in firings(sessions, campaign)] == [
        "sent",
        "collapsed",
        "collapsed",
        "late",
        "collapsed",
        "collapsed",
        "skipped",
    ]
    # The late send carries the 27th's item; the member is owed 04 and 05, which come later.
    assert received(sessions, campaign)[member] == ["khau-hieu-03", "khau-hieu-06"]
    assert next_fire(sessions, campaign) == local(2026, 12, 1, 7, 30)


def test_a_late_send_does_not_go_in_quiet_hours(sessions: sessionmaker[Session]) -> None:
    clock = FakeClock(local(2026, 11, 24, 19, 30))
    members(sessions, [1])
    campaign = load(sessions, campaign_yaml(times='["19:30"]', extra="late_grace: 12h"), clock())
    clock.now = local(2026, 11, 24, 21, 15)  # 1h45 late, within the grace, but quiet
    (fired,) = Scheduler(sessions, clock=clock).tick().fired
    assert fired.outcome == "skipped"
    with sessions() as session:
        note = session.scalar(select(CampaignFiring.note))
    assert note == "1h45m late, and it is now quiet hours"
    assert received(sessions, campaign) == {}


def test_pause_skips_and_records_what_falls_in_the_pause(sessions: sessionmaker[Session]) -> None:
    clock = FakeClock(T0)
    members(sessions, [1])
    campaign = load(sessions, campaign_yaml(), clock())
    scheduler = Scheduler(sessions, clock=clock)
    scheduler.tick()
    with sessions.begin() as session:
        row = session.get(Campaign, campaign)
        assert row is not None
        pause(session, row, clock())
    clock.now = local(2026, 11, 26, 12, 0)
    assert scheduler.tick().fired == []
    with sessions.begin() as session:
        row = session.get(Campaign, campaign)
        assert row is not None
        assert resume(session, row, clock()) == 2
        assert row.status is CampaignStatus.ACTIVE
    assert next_fire(sessions, campaign) == local(2026, 11, 27, 7, 30)
    assert [o for _, o in firings(sessions, campaign)] == ["sent", "skipped", "skipped"]


def test_the_campaign_finishes_after_its_last_send(sessions: sessionmaker[Session]) -> None:
    clock = FakeClock(T0)
    members(sessions, [1])
    campaign = load(sessions, campaign_yaml(last=date(2026, 11, 24)), clock())
    Scheduler(sessions, clock=clock).tick()
    with sessions() as session:
        row = session.get(Campaign, campaign)
        assert row is not None
        assert (row.status, row.next_fire_at) == (CampaignStatus.FINISHED, None)


def test_a_window_in_the_past_is_refused(sessions: sessionmaker[Session]) -> None:
    members(sessions, [1])
    text = campaign_yaml(first=date(2023, 4, 1), last=date(2023, 11, 30))
    try:
        load(sessions, text, T0)
    except store.CampaignRefused as refused:
        assert "ended on 30/11/2023" in str(refused)
    else:
        raise AssertionError("a campaign that ended was saved")


def test_one_lease_holder_and_a_takeover_when_it_stops(sessions: sessionmaker[Session]) -> None:
    clock = FakeClock(T0)
    policy = SchedulerPolicy(lease=timedelta(seconds=45))
    first = Scheduler(sessions, clock=clock, policy=policy, holder="a")
    second = Scheduler(sessions, clock=clock, policy=policy, holder="b")
    assert first.tick().leader and not second.tick().leader
    clock.advance(seconds=30)
    assert first.tick().leader and not second.tick().leader  # renewed
    clock.advance(seconds=44)  # the first stops ticking: its lease runs out 45 s on
    assert not second.tick().leader
    clock.advance(seconds=2)
    assert second.tick().leader and not first.tick().leader
    with sessions.begin() as session:
        store.release_lease(session, "campaigns", "b")
        assert session.scalar(select(SchedulerLease)) is None
    assert first.tick().leader  # a clean stop hands over at once


def test_the_calendar_marks_round_years_and_can_be_changed(
    sessions: sessionmaker[Session],
) -> None:
    clock = FakeClock(local(2036, 4, 1, 9, 0))
    (member,) = members(sessions, [1])
    with sessions.begin() as session:
        row = calendar.ensure_calendar(session, clock(), TZ)
        assert row.next_fire_at == local(2036, 4, 11, 7, 30)
        first = calendar.days(session, row, date(2036, 4, 1))[0]
        assert (first.slug, first.years, first.round) == ("ngay-hop-tac-xa-viet-nam", 90, True)
        calendar_id = row.id
    clock.now = local(2036, 4, 11, 7, 30)
    (fired,) = Scheduler(sessions, clock=clock).tick().fired
    with sessions() as session:
        (text,) = session.scalars(select(Broadcast.text).where(Broadcast.id.in_(fired.broadcasts)))
    assert "Ngày Hợp tác xã Việt Nam (90 năm)" in text and "Kỷ niệm tròn 90 năm" in text
    assert fired.recipients == 1 and member

    with sessions.begin() as session:
        row = session.get(Campaign, calendar_id)
        assert row is not None
        # The next is the International Day, the first Saturday of July: 5/7/2036.
        assert row.next_fire_at == local(2036, 7, 5, 7, 30)
        day = calendar.change(session, row, "ngay-hop-tac-xa-quoc-te", clock(), off=True)
        assert day.off and row.next_fire_at == local(2036, 10, 13, 7, 30)
        own = "Chúc mừng {{ subscriber.name }} nhân Ngày Doanh nhân Việt Nam!"
        calendar.change(session, row, "ngay-doanh-nhan-viet-nam", clock(), text=own)
    clock.now = local(2036, 10, 13, 7, 30)
    (fired,) = Scheduler(sessions, clock=clock).tick().fired
    with sessions() as session:
        (sent,) = session.scalars(select(Broadcast).where(Broadcast.id.in_(fired.broadcasts)))
        assert sent.templated and sent.text.startswith("Chúc mừng {{ subscriber.name }}")
    counts = Counter(o for _, o in firings(sessions, calendar_id))
    assert counts == {"sent": 2}


def test_a_commemoration_can_only_be_an_occasion_on_its_own_day(
    sessions: sessionmaker[Session],
) -> None:
    members(sessions, [1])
    wrong = "occasions: [{date: 2026-12-03, time: '07:30', content: ngay-doanh-nhan-viet-nam}]"
    try:
        load(sessions, campaign_yaml(extra=wrong), T0)
    except store.CampaignRefused as refused:
        assert "falls on 13/10/2026 in 2026" in str(refused)
    else:
        raise AssertionError("a commemoration was planned on the wrong day")
