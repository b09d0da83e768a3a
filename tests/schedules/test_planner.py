"""The campaign planner: a pure function, checked on examples and on properties."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from schedules.planner import Cadence, Campaign, Occasion, Peak, QuietHours, plan

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
POOL = tuple(f"khau-hieu-0{n}" for n in range(1, 9))
DAYS = ("ngay-hop-tac-xa-viet-nam", "ngay-doanh-nhan-viet-nam")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


THAI_BINH = Campaign(  # seed 001: April to November 2023, a peak from 15/10 to 15/11
    starts_at=local(2023, 4, 1),
    ends_at=local(2023, 11, 30, 23, 59),
    cadence=Cadence((time(7, 30),), frozenset({1})),  # every Tuesday 07:30
    peaks=(Peak(date(2023, 10, 15), date(2023, 11, 15), Cadence((time(7, 30), time(19, 30)))),),
    pool=POOL,
    tz=TZ,
)


def test_the_thai_binh_plan() -> None:
    sends = plan(THAI_BINH, THAI_BINH.starts_at, THAI_BINH.ends_at)
    before_peak = [s for s in sends if s.at < local(2023, 10, 15)]
    assert {s.at.astimezone(TZ).strftime("%a %H:%M") for s in before_peak} == {"Tue 07:30"}
    assert len(before_peak) == 28  # the Tuesdays from 4/4 to 10/10
    peak = [s for s in sends if local(2023, 10, 15) <= s.at < local(2023, 11, 16)]
    assert len(peak) == 32 * 2 and all(s.peak for s in peak)
    assert [s.content for s in sends[:9]] == [*POOL, POOL[0]]  # round the pool in order


def test_quiet_hours_move_a_send_to_their_end() -> None:
    late = Campaign(
        starts_at=local(2026, 1, 1),
        ends_at=local(2026, 1, 3),
        cadence=Cadence((time(22, 15), time(5, 0))),
        pool=("a",),
        tz=TZ,
        daily_cap=5,
    )
    times = [s.at.astimezone(TZ) for s in plan(late, late.starts_at, late.ends_at)]
    # 22:15 and the next 05:00 both move to 06:00 the next morning, sent once.
    assert times == [local(2026, 1, 1, 6), local(2026, 1, 2, 6)]


def test_a_period_agrees_with_the_whole_plan() -> None:
    whole = plan(THAI_BINH, THAI_BINH.starts_at, THAI_BINH.ends_at)
    october = plan(THAI_BINH, local(2023, 10, 1), local(2023, 11, 1))
    assert october == [s for s in whole if local(2023, 10, 1) <= s.at < local(2023, 11, 1)]


times_of_day = st.lists(
    st.times().map(lambda t: t.replace(second=0, microsecond=0)), min_size=1, max_size=4
)
weekdays = st.frozensets(st.integers(0, 6), max_size=7)


@st.composite
def campaigns(draw: st.DrawFn) -> Campaign:
    start = local(2026, 1, 1) + timedelta(hours=draw(st.integers(0, 24 * 60)))
    length = timedelta(days=draw(st.integers(1, 45)))
    peak_start = (start + timedelta(days=draw(st.integers(0, 30)))).date()
    peak = Peak(
        peak_start,
        peak_start + timedelta(days=draw(st.integers(0, 15))),
        Cadence(tuple(draw(times_of_day)), draw(weekdays)),
    )
    quiet = QuietHours(
        time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30]))),
        time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30]))),
    )
    return Campaign(
        starts_at=start,
        ends_at=start + length,
        cadence=Cadence(tuple(draw(times_of_day)), draw(weekdays)),
        peaks=(peak,) if draw(st.booleans()) else (),
        quiet=quiet,
        pool=tuple(draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=5, unique=True))),
        tz=TZ,
        daily_cap=draw(st.integers(1, 6)),
        occasions=tuple(
            Occasion(start + timedelta(minutes=draw(st.integers(0, 45 * 24 * 60))), slug)
            for slug in draw(st.lists(st.sampled_from(DAYS), max_size=3))
        ),
    )


@settings(max_examples=60, deadline=None)
@given(campaigns())
def test_every_plan_keeps_the_rules(campaign: Campaign) -> None:
    sends = plan(campaign, campaign.starts_at, campaign.ends_at)
    assert sends == plan(campaign, campaign.starts_at, campaign.ends_at)  # deterministic
    assert [s.at for s in sends] == sorted({s.at for s in sends})  # in order, none twice
    per_day = Counter(s.at.astimezone(TZ).date() for s in sends)
    assert all(n <= campaign.daily_cap for n in per_day.values())
    for send in sends:
        assert campaign.starts_at <= send.at < campaign.ends_at
        moment = send.at.astimezone(TZ).time()
        quiet = campaign.quiet
        assert not quiet.contains(moment) or quiet.start == quiet.end
    regular = [s for s in sends if not s.occasion]
    if len(regular) >= len(campaign.pool):  # nothing repeats before the pool is used up
        first = [s.content for s in regular[: len(campaign.pool)]]
        assert sorted(first) == sorted(campaign.pool)
    kept = {(s.at, s.content) for s in sends if s.occasion}
    for one in campaign.occasions:  # an occasion is dropped only for a day full of occasions
        at = campaign.quiet.after(one.at.astimezone(TZ))
        day = at.date()
        if campaign.starts_at <= at < campaign.ends_at and (at, one.content) not in kept:
            same_day = [s for s in sends if s.at.astimezone(TZ).date() == day]
            assert all(s.occasion for s in same_day) or any(s.at == at for s in same_day)


@settings(max_examples=60, deadline=None)
@given(campaigns())
def test_a_peak_is_never_sparser_than_the_base(campaign: Campaign) -> None:
    if not campaign.peaks:
        return
    without = Campaign(**{**campaign.__dict__, "peaks": ()})
    with_peak = Counter(
        s.at.astimezone(TZ).date() for s in plan(campaign, campaign.starts_at, campaign.ends_at)
    )
    base = Counter(
        s.at.astimezone(TZ).date() for s in plan(without, campaign.starts_at, campaign.ends_at)
    )
    assert all(with_peak[day] >= n for day, n in base.items())


def test_an_occasion_takes_the_place_of_a_regular_send() -> None:
    day = Campaign(
        starts_at=local(2026, 10, 28),
        ends_at=local(2026, 10, 31),
        cadence=Cadence((time(7, 30), time(19, 30))),
        pool=("a", "b"),
        tz=TZ,
        occasions=(Occasion(local(2026, 10, 29, 7, 30), "ngay-thanh-lap"),),
    )
    sends = [
        (s.at.astimezone(TZ).strftime("%d %H:%M"), s.content, s.occasion)
        for s in plan(day, day.starts_at, day.ends_at)
    ]
    assert sends == [
        ("28 07:30", "a", False),
        ("28 19:30", "b", False),
        ("29 07:30", "ngay-thanh-lap", True),  # the pool does not move for it
        ("29 19:30", "a", False),
        ("30 07:30", "b", False),
        ("30 19:30", "a", False),
    ]
