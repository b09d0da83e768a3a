"""Send times typed the Vietnamese way, read on a Monday morning: 23/11/2026 10:00 local."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schedules.when import WhenProblem, describe_when, parse_when

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # a Monday
TRY = '. Hãy gõ theo mẫu "15/10 7:30", "mai 7h" hoặc "thứ ba 19:30".'


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def plain(text: str) -> str:
    """Type it as many do on a cheap phone: no diacritics, đ as d."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


ACCEPTED = [
    # Now, to the second.
    ("ngay", NOW),
    ("gửi ngay", NOW),
    ("bây giờ", NOW),
    ("now", NOW),
    ("luôn", NOW),
    # A time alone is today; a minute late is still fine.
    ("11:30", local(2026, 11, 23, 11, 30)),
    ("19h", local(2026, 11, 23, 19)),
    ("19 giờ 30 phút", local(2026, 11, 23, 19, 30)),
    ("10:00", NOW),
    ("9:59", local(2026, 11, 23, 9, 59)),
    ("hôm nay 15h", local(2026, 11, 23, 15)),
    # Tomorrow and after, the words in any order.
    ("mai 7h", local(2026, 11, 24, 7)),
    ("ngày mai 7g30", local(2026, 11, 24, 7, 30)),
    ("7h sáng mai", local(2026, 11, 24, 7)),
    ("sáng mai 7h", local(2026, 11, 24, 7)),
    ("mai 7h sáng", local(2026, 11, 24, 7)),
    ("7 sáng mai", local(2026, 11, 24, 7)),
    ("7 giờ 30 mai", local(2026, 11, 24, 7, 30)),
    ("kia 7h", local(2026, 11, 25, 7)),
    ("ngày kia 7h", local(2026, 11, 25, 7)),
    ("mốt 7h", local(2026, 11, 25, 7)),
    # Parts of the day.
    ("12h trưa mai", local(2026, 11, 24, 12)),
    ("1h trưa mai", local(2026, 11, 24, 13)),
    ("3h chiều mai", local(2026, 11, 24, 15)),
    ("8h tối mai", local(2026, 11, 24, 20)),
    ("19h30 tối mai", local(2026, 11, 24, 19, 30)),
    ("7 giờ rưỡi tối nay", local(2026, 11, 23, 19, 30)),
    ("10h đêm nay", local(2026, 11, 23, 22)),
    ("2h đêm mai", local(2026, 11, 24, 2)),
    # Weekdays: the next one, today's while it is ahead; "tuần sau" is next Monday's week.
    ("thứ ba 19:30", local(2026, 11, 24, 19, 30)),
    ("thứ 3 19:30", local(2026, 11, 24, 19, 30)),
    ("t3 19:30", local(2026, 11, 24, 19, 30)),
    ("thứ hai 11h", local(2026, 11, 23, 11)),
    ("thứ hai 10:00", NOW),
    ("thứ hai 9h", local(2026, 11, 30, 9)),
    ("thứ bảy 8h", local(2026, 11, 28, 8)),
    ("t7 8h", local(2026, 11, 28, 8)),
    ("chủ nhật 8h", local(2026, 11, 29, 8)),
    ("cn 8h", local(2026, 11, 29, 8)),
    ("thứ ba tuần này 7h", local(2026, 11, 24, 7)),
    ("thứ ba tuần sau 19:30", local(2026, 12, 1, 19, 30)),
    ("thứ hai tuần tới 7h", local(2026, 11, 30, 7)),
    ("chủ nhật tuần sau 8h", local(2026, 12, 6, 8)),
    ("mai thứ ba 7h", local(2026, 11, 24, 7)),
    # Dates.
    ("15/12 7:30", local(2026, 12, 15, 7, 30)),
    ("15-12 7:30", local(2026, 12, 15, 7, 30)),
    ("15/12/2026 7:30", local(2026, 12, 15, 7, 30)),
    ("15/12/26 7:30", local(2026, 12, 15, 7, 30)),
    ("2026-12-15 07:30", local(2026, 12, 15, 7, 30)),
    ("15.12.2026 7:30", local(2026, 12, 15, 7, 30)),
    ("15 tháng 12 7h30", local(2026, 12, 15, 7, 30)),
    ("gửi lúc 8h ngày 1/1", local(2027, 1, 1, 8)),
    ("23/11 11h", local(2026, 11, 23, 11)),
    ("23/5 9h", local(2027, 5, 23, 9)),  # six months ahead, to the day: still ahead
    ("15/10/2027 7:30", local(2027, 10, 15, 7, 30)),
    ("thứ ba, 24/11/2026 lúc 19h30", local(2026, 11, 24, 19, 30)),
]
TYPINGS: list[Callable[[str], str]] = [str, plain, str.upper]


@pytest.mark.parametrize("typing", TYPINGS, ids=["as-typed", "plain", "upper"])
@pytest.mark.parametrize(("text", "expected"), ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_accepted(text: str, expected: datetime, typing: Callable[[str], str]) -> None:
    moment = parse_when(typing(text), NOW, TZ)
    assert moment == expected
    assert moment.tzinfo == TZ


def test_now_is_now_to_the_second_whatever_zone_it_comes_in() -> None:
    now = datetime(2026, 11, 23, 3, 0, 42, 5, tzinfo=UTC)
    moment = parse_when("Gửi ngay", now, TZ)
    assert (moment, moment.tzinfo, moment.second) == (now, TZ, 42)
    assert parse_when("mai 7h", now, TZ) == local(2026, 11, 24, 7)


REFUSED = [
    ("", f"Chưa có thời điểm gửi{TRY}"),
    ("abc", f'Chưa hiểu "abc"{TRY}'),
    ("thứ tám 7h", f'Chưa hiểu "thứ tám"{TRY}'),
    ("t8 7h", f'Chưa hiểu "t8"{TRY}'),
    ("7h30-8h", f'Chưa hiểu "7h30-8h"{TRY}'),
    ("25:00", f'Chưa hiểu "25:00" (giờ từ 0 đến 23, phút từ 0 đến 59){TRY}'),
    ("mai 7h60", f'Chưa hiểu "7h60" (giờ từ 0 đến 23, phút từ 0 đến 59){TRY}'),
    ("31/2 7h", f'Chưa hiểu "31/2" (không có ngày này){TRY}'),
    ("31/11/2026 7h", f'Chưa hiểu "31/11/2026" (không có ngày này){TRY}'),
    (
        "7.30",
        'Không rõ "7.30" là giờ hay ngày: giờ thì gõ "7:30" hoặc "7h30", ngày thì gõ "15/10".',
    ),
    ("mai", 'Chưa có giờ gửi; hãy ghi thêm giờ, ví dụ "mai 7h".'),
    ("sáng mai", 'Chưa có giờ gửi; hãy ghi thêm giờ, ví dụ "mai 7h".'),
    ("15/12/2026", 'Chưa có giờ gửi; hãy ghi thêm giờ, ví dụ "mai 7h".'),
    ("7:30", 'Thời điểm 07:30 hôm nay đã qua; muốn gửi ngày mai thì gõ "mai 7:30".'),
    ("hôm nay 9:58", 'Thời điểm 09:58 hôm nay đã qua; muốn gửi ngày mai thì gõ "mai 9:58".'),
    (
        "15/10 7:30",
        'Ngày 15/10 đã qua; nếu muốn gửi vào năm 2027, hãy ghi cả năm, ví dụ "15/10/2027 7:30".',
    ),
    (
        "23/11 7h",
        'Ngày 23/11 đã qua; nếu muốn gửi vào năm 2027, hãy ghi cả năm, ví dụ "23/11/2027 7:00".',
    ),
    (
        "24/5 9h",
        'Ngày 24/05 đã qua; nếu muốn gửi vào năm 2027, hãy ghi cả năm, ví dụ "24/5/2027 9:00".',
    ),
    ("29/2 7h", 'Ngày 29/02 gần nhất là năm 2028; hãy ghi cả năm, ví dụ "29/2/2028 7:00".'),
    (
        "15/10/2026 7:30",
        "Thời điểm 07:30 thứ Năm, 15/10/2026 đã qua; hãy chọn một thời điểm sau bây giờ.",
    ),
    (
        "hôm qua 7h",
        "Thời điểm 07:00 Chủ nhật, 22/11/2026 đã qua; hãy chọn một thời điểm sau bây giờ.",
    ),
    (
        "thứ hai tuần này 7h",
        "Thời điểm 07:00 thứ Hai, 23/11/2026 đã qua; hãy chọn một thời điểm sau bây giờ.",
    ),
    ("tuần sau 7h", 'Hãy ghi thứ mấy của "tuần sau", ví dụ "thứ ba tuần sau 19:30".'),
    ("mai 7h 8h", 'Không rõ nên theo "7h" hay "8h"; hãy chỉ ghi một giờ.'),
    ("7h sáng tối", 'Không rõ nên theo "sáng" hay "tối"; hãy chỉ ghi một buổi.'),
    ("mai 15/12 7h", 'Không rõ nên theo "15/12" hay "mai"; hãy chỉ ghi một ngày.'),
    (
        "thứ ba thứ tư 7h",
        'Không rõ nên theo "thứ ba" hay "thứ tư"; hãy chỉ ghi một thứ trong tuần.',
    ),
    (
        "thứ tư 24/11 7h",
        '"thứ tư" không khớp với "24/11" (thứ Ba, 24/11/2026); hãy sửa một trong hai.',
    ),
    (
        "thứ ba tuần sau 24/11 7h",
        '"thứ ba tuần sau" không khớp với "24/11" (thứ Ba, 24/11/2026); hãy sửa một trong hai.',
    ),
    ("7h chiều", '"7h" không thuộc buổi "chiều"; hãy gõ giờ theo 24 tiếng, ví dụ "19:30".'),
    ("12h đêm", '"12h" không thuộc buổi "đêm"; hãy gõ giờ theo 24 tiếng, ví dụ "19:30".'),
]


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[t or "empty" for t, _ in REFUSED])
def test_refused(text: str, message: str) -> None:
    with pytest.raises(WhenProblem) as problem:
        parse_when(text, NOW, TZ)
    assert str(problem.value) == message


def test_refusals_quote_the_words_as_typed() -> None:
    for typed in ("Thứ Tám", "THU TAM", unicodedata.normalize("NFD", "thứ tám")):
        with pytest.raises(WhenProblem) as problem:
            parse_when(f"{typed} 19:30", NOW, TZ)
        assert str(problem.value) == f'Chưa hiểu "{typed}"{TRY}'


AHEAD = st.integers(min_value=2, max_value=365 * 24 * 60)  # minutes after now, within a year


@given(AHEAD)
def test_a_full_date_and_time_reads_back(minutes: int) -> None:
    moment = NOW + timedelta(minutes=minutes)
    assert parse_when(f"{moment:%d/%m/%Y %H:%M}", NOW, TZ) == moment


@given(st.integers(min_value=2, max_value=180 * 24 * 60))
def test_a_short_date_and_time_reads_back_within_six_months(minutes: int) -> None:
    moment = NOW + timedelta(minutes=minutes)
    typed = f"{moment.day}/{moment.month} {moment.hour}h{moment.minute:02d}"
    assert parse_when(typed, NOW, TZ) == moment


@given(
    st.datetimes(datetime(2024, 1, 1), datetime(2040, 12, 31), timezones=st.just(TZ)),
    st.integers(min_value=2, max_value=180 * 24 * 60),
)
def test_reads_back_from_any_now(now: datetime, minutes: int) -> None:
    moment = (now + timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    assert parse_when(f"{moment:%d/%m/%Y %H:%M}", now, TZ) == moment
    assert parse_when(f"{moment.day}/{moment.month} {moment:%H:%M}", now, TZ) == moment


DESCRIBED = [
    (NOW, "10:00 thứ Hai, 23/11/2026 (ngay bây giờ)"),
    (NOW + timedelta(seconds=30), "10:00 thứ Hai, 23/11/2026 (ngay bây giờ)"),
    (local(2026, 11, 23, 19, 30), "19:30 thứ Hai, 23/11/2026 (hôm nay)"),
    (local(2026, 11, 24, 7, 30), "07:30 thứ Ba, 24/11/2026 (ngày mai)"),
    (datetime(2026, 11, 24, 0, 30, tzinfo=UTC), "07:30 thứ Ba, 24/11/2026 (ngày mai)"),
    (local(2026, 11, 25, 7), "07:00 thứ Tư, 25/11/2026 (ngày kia)"),
    (local(2026, 11, 29, 8), "08:00 Chủ nhật, 29/11/2026 (6 ngày nữa)"),
    (local(2026, 11, 22, 7), "07:00 Chủ nhật, 22/11/2026 (hôm qua)"),
    (local(2026, 11, 20, 7), "07:00 thứ Sáu, 20/11/2026 (3 ngày trước)"),
]


@pytest.mark.parametrize(("moment", "expected"), DESCRIBED, ids=[d for _, d in DESCRIBED])
def test_describe_when(moment: datetime, expected: str) -> None:
    assert describe_when(moment, NOW, TZ) == expected


def test_describe_when_counts_local_days() -> None:
    late = local(2026, 11, 23, 23, 50)  # 16:50 UTC: tomorrow's 00:30 is the same UTC day
    assert describe_when(local(2026, 11, 24, 0, 30), late.astimezone(UTC), TZ) == (
        "00:30 thứ Ba, 24/11/2026 (ngày mai)"
    )
