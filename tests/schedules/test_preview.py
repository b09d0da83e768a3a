"""The weekly preview of a campaign: counts per week and the text staff read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from messages.packs import read_packs
from schedules.files import CampaignFile, Candidate, read_campaign, shipped_campaigns
from schedules.planner import Send, plan
from schedules.preview import Week, format_preview, weeks

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def example() -> tuple[CampaignFile, tuple[str, ...], list[Send], dict[str, str]]:
    """Plan the shipped Thái Bình campaign over its whole window, its pool from the packs."""
    items = read_packs()
    file = read_campaign(shipped_campaigns()[0])
    candidates = [Candidate(i.slug, i.kind.value, i.topic, tuple(i.tags), i.title) for i in items]
    pool = file.pool.pick(candidates)
    sends = plan(file.campaign(pool), file.starts_at, file.ends_at)
    return file, pool, sends, {i.slug: i.title for i in items}


def test_weeks_count_local_days_and_keep_empty_weeks() -> None:
    sends = [
        Send(local(2026, 1, 5, 6, 30).astimezone(UTC), "a"),  # Sunday 23:30 in UTC: Monday here
        Send(local(2026, 1, 6, 7, 30), "b"),
        Send(local(2026, 1, 6, 19, 30), "c", peak=True),
        Send(local(2026, 1, 25, 7, 30), "d", peak=True, occasion=True),  # a Sunday
    ]
    assert weeks(sends, TZ) == [
        Week(date(2026, 1, 5), (1, 2, 0, 0, 0, 0, 0), sends=3, peak=1, occasions=0),
        Week(date(2026, 1, 12), (0, 0, 0, 0, 0, 0, 0), sends=0, peak=0, occasions=0),
        Week(date(2026, 1, 19), (0, 0, 0, 0, 0, 0, 1), sends=1, peak=1, occasions=1),
    ]
    assert weeks([], TZ) == []


def test_the_example_counts() -> None:
    file, pool, sends, _ = example()
    assert pool == tuple(f"khau-hieu-0{n}" for n in range(1, 9))
    # Before the peak: the 28 Tuesdays from 4/4 to 10/10 at 07:30 (as in the planner's test).
    # The 11/4 occasion falls on one of them (a Tuesday, 07:30) and takes its place; 1/7 (a
    # Saturday) and 13/10 (a Friday) add one send each: 30 sends.
    before = [s for s in sends if s.at < local(2023, 10, 15)]
    assert len(before) == 30 and sum(s.occasion for s in before) == 3
    # The peak: 32 days x 2 = 64; the 29/10 occasion takes the place of that day's 07:30.
    peak = [s for s in sends if local(2023, 10, 15) <= s.at < local(2023, 11, 16)]
    assert len(peak) == 64 and all(s.peak for s in peak) and sum(s.occasion for s in peak) == 1
    # After the peak: Tuesdays 21/11 and 28/11. In all: 30 + 64 + 2 = 96 sends, 92 of the pool
    # (11 full rounds of the 8 slogans and 4 more) and 4 occasions.
    assert len(sends) == 96 and sum(s.occasion for s in sends) == 4
    found = weeks(sends, file.tz)
    assert len(found) == 35 and found[0].monday == date(2023, 4, 3)
    assert found[-1].monday == date(2023, 11, 27)
    # A single send in 28 weeks: 3/4 to 2/10 (27 weeks) but 26/6 (with 1/7), and 20/11, 27/11.
    assert [w.sends for w in found].count(1) == 28
    assert found[27] == Week(date(2023, 10, 9), (0, 1, 0, 0, 1, 0, 2), 4, 2, 1)
    assert found[29] == Week(date(2023, 10, 23), (2,) * 7, 14, 14, 1)
    assert found[32] == Week(date(2023, 11, 13), (2, 2, 2, 0, 0, 0, 0), 6, 6, 0)


def test_the_example_preview_text() -> None:
    file, pool, sends, titles = example()
    text = format_preview(file, sends, titles, pool=pool)
    lines = text.splitlines()
    assert lines[:11] == [
        "Campaign:    Tuyên truyền Kỷ niệm 30 năm ngày thành lập Liên minh Hợp tác xã Việt Nam "
        "(Thái Bình, 2023) (thai-binh-30-nam-lmhtx)",
        "Window:      01/04/2023 .. 30/11/2023 (Asia/Ho_Chi_Minh)",
        "Cadence:     every Tuesday at 07:30",
        "Peak:        Đợt cao điểm: 15/10/2023 .. 15/11/2023, every day at 07:30 and 19:30",
        "Occasion:    11/04/2023 07:30  ngay-hop-tac-xa-viet-nam",
        "Occasion:    01/07/2023 07:30  ngay-hop-tac-xa-quoc-te",
        "Occasion:    13/10/2023 07:30  ngay-doanh-nhan-viet-nam",
        "Occasion:    29/10/2023 07:30  ngay-thanh-lap-lien-minh-htx-viet-nam",
        "Quiet hours: 21:00-06:00; at most 2 sends a day; late grace 2h",
        "Pool:        8 items",
        "",
    ]
    assert lines[11:15] == [
        "Week           Mo Tu We Th Fr Sa Su   Sends",
        "2023",
        "03/04-09/04     .  1  .  .  .  .  .    1 send",
        "10/04-16/04 *   .  1  .  .  .  .  .    1 send  (1 occasion)",
    ]
    for row in (
        "09/10-15/10 *   .  1  .  .  1  .  2    4 sends  (2 peak, 1 occasion)",
        "16/10-22/10     2  2  2  2  2  2  2   14 sends  (14 peak)",
        "23/10-29/10 *   2  2  2  2  2  2  2   14 sends  (14 peak, 1 occasion)",
        "13/11-19/11     2  2  2  .  .  .  .    6 sends  (6 peak)",
    ):
        assert row in lines
    assert lines[-2:] == [
        "Total:       96 sends in 35 weeks: 64 in a peak, 4 occasions; 12 distinct items",
        "Pool:        92 sends from the pool of 8: 11 full rounds and 4 more",
    ]
    assert max(len(line) for line in lines[11:]) <= 80


def test_the_detailed_preview_lists_every_send() -> None:
    file, pool, sends, titles = example()
    lines = format_preview(file, sends, titles, detail=True, pool=pool).splitlines()
    detail = lines[-96:]
    assert detail[0] == (
        "Tue 04/04/2023 07:30  khau-hieu-01              "
        "Khẩu hiệu 1: Chào mừng 30 năm thành lập Liên minh H…"  # cut to 100 columns
    )
    assert detail[1] == (
        "Tue 11/04/2023 07:30  ngay-hop-tac-xa-viet-nam  Ngày Hợp tác xã Việt Nam [occasion]"
    )
    assert detail[3] == (
        "Tue 25/04/2023 07:30  khau-hieu-03              "
        "Khẩu hiệu 3: Hợp tác, đổi mới, phát triển, hiệu quả"
    )
    sunday = [line for line in detail if line.startswith("Sun 29/10/2023")]
    assert sunday == [
        "Sun 29/10/2023 07:30  ngay-thanh-lap-lien-minh-htx-viet-nam  "
        "Ngày thành lập Liên… [peak] [occasion]",  # a long slug leaves less room for the title
        "Sun 29/10/2023 19:30  khau-hieu-08              "
        "Khẩu hiệu 8: Kinh tế tập thể, hợp tác xã phá… [peak]",
    ]
    assert max(len(line) for line in detail) == 100


def test_a_period_without_sends_and_a_pool_read_from_the_sends() -> None:
    file, _, sends, titles = example()
    text = format_preview(file, [], titles)
    assert "No sends in this period." in text.splitlines()
    assert "Total:       0 sends in 0 weeks: 0 in a peak, 0 occasions; 0 distinct items" in text
    first_three = format_preview(file, sends[:4], titles).splitlines()  # 3 slogans, 1 occasion
    assert "Pool:        3 items" in first_three
    assert first_three[-1] == "Pool:        3 sends from the pool of 3: 1 full round"
