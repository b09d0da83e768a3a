"""Read a send time typed the Vietnamese way: "15/10 7:30", "mai 7h", "thứ ba 19:30".

Officers schedule announcements from their phones, often without diacritics or capitals. Each
word is folded (`db.textmatch.fold`) except groups like 15/10 or 7:30, which folding would
split. Then one pattern at a time takes its pieces out of the text: dates, the week ("tuần
sau"), weekdays, days ("mai"), times ("7h30", "19:30") and parts of day ("sáng", "tối"), so the
order of words is free. Words left over, two different readings of one piece, or a moment
already past are refused with a short Vietnamese sentence that says what to type instead.
Pure: the caller gives `now` and the time zone.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from db.textmatch import fold

EXAMPLES = '"15/10 7:30", "mai 7h" hoặc "thứ ba 19:30"'
TIME_OR_DATE = 'giờ thì gõ "7:30" hoặc "7h30", ngày thì gõ "15/10"'
TOLERANCE = timedelta(minutes=1)  # a moment typed for "now" must not be refused as past
AHEAD = 6  # months: a date without a year further ahead than this is one that just passed
WEEKDAY_NAMES = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
DAY_NAMES = {-1: "hôm qua", 0: "hôm nay", 1: "ngày mai", 2: "ngày kia"}
NOW = re.compile(r"(?:gui )?(?:ngay|bay gio|ngay bay gio|now|luon|ngay luon|(?:ngay )?lap tuc)")
# Words that say nothing about the moment: "gửi lúc 7h vào ngày 15/10", "buổi sáng".
FILLER = frozenset({"gui", "luc", "vao", "ngay", "buoi", "hen"})
WEEK_OFFSETS = {"nay": 0, "sau": 1, "toi": 1}
WEEKDAY_WORDS = {  # after "thứ": Monday 0 … Saturday 5, as in Python
    **{w: i for i, w in enumerate(("hai", "ba", "tu", "nam", "sau", "bay"))},
    **{str(i + 2): i for i in range(6)},
}
DAY_OFFSETS = {"hom nay": 0, "nay": 0, "mai": 1, "kia": 2, "mot": 2, "hom qua": -1, "hom kia": -2}
# Part of day -> (hours meant as typed, hours meant 12 later): "1h trưa" 13:00, "8h tối" 20:00.
PARTS = {
    "sang": (frozenset(range(12)), frozenset[int]()),
    "trua": (frozenset(range(11, 15)), frozenset({1, 2})),
    "chieu": (frozenset(range(12, 19)), frozenset(range(1, 7))),
    "toi": (frozenset(range(18, 24)), frozenset(range(6, 12))),
    "dem": (frozenset({*range(6), *range(21, 24)}), frozenset(range(9, 12))),
}
TAKEN = "\x00"  # stands for characters already read, so the words around them do not join

KEEP = re.compile(r"(\d+(?:[/:.\-]\d+)+)")


def _pattern(body: str) -> re.Pattern[str]:
    # A piece stands alone: "7h" is not read inside "17h", nor "15/10" inside "15/10/2026".
    return re.compile(r"(?<![\w/:.\-])(?:" + body + r")(?![\w/:.\-])")


ISO_DATE = _pattern(r"(\d{4})-(\d{1,2})-(\d{1,2})")
FULL_DATE = _pattern(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})")
WORD_DATE = _pattern(r"(\d{1,2}) thang (\d{1,2})(?: nam (\d{4}))?")
SHORT_DATE = _pattern(r"(\d{1,2})[/\-](\d{1,2})")
AMBIGUOUS = _pattern(r"\d+\.\d+")
WEEK = _pattern(r"tuan (nay|sau|toi)")
WEEKDAY = _pattern(r"thu (hai|ba|tu|nam|sau|bay|[2-7])|t([2-7])|chu nhat|cn")
DAY = _pattern(r"hom nay|hom qua|hom kia|nay|mai|kia|mot")
CLOCK = _pattern(r"(\d{1,2}):(\d{2})")
HOUR = _pattern(r"(\d{1,2}) ?(?:h|g|gio)(?: ?(\d{1,2}|ruoi)(?: ?(?:p|phut))?)?")
BARE_HOUR = _pattern(r"(\d{1,2})(?= (?:sang|trua|chieu|toi|dem)(?!\w))")
PART = _pattern(r"sang|trua|chieu|toi|dem")

type Found[T] = list[tuple[T, str]]  # what a piece means, and the words typed for it


class WhenProblem(ValueError):
    """Staff typed a time we cannot use; str(exc) says so to them in Vietnamese, with an example."""


class _Scan:
    """The folded text still to read, and which typed word each of its characters comes from."""

    def __init__(self, text: str) -> None:
        self.words = text.split()
        rest: list[str] = []
        self.owner: list[int] = []
        for index, word in enumerate(self.words):
            parts = KEEP.split(word)  # odd items are the groups kept whole
            folded = " ".join(filter(None, (p if i % 2 else fold(p) for i, p in enumerate(parts))))
            if folded:
                rest.append(folded)
                self.owner.extend([index] * len(folded) + [-1])
        self.rest = " ".join(rest)

    def take(self, pattern: re.Pattern[str]) -> list[tuple[re.Match[str], str]]:
        """Take every match of a pattern out of the text; return each with the words typed."""
        found = [(m, self.typed(m.start(), m.end())) for m in pattern.finditer(self.rest)]
        for m, _ in found:
            self.rest = self.rest[: m.start()] + TAKEN * len(m[0]) + self.rest[m.end() :]
        return found

    def typed(self, start: int, end: int) -> str:
        """Return the words as typed behind a stretch of the folded text."""
        indices = sorted({self.owner[k] for k in range(start, end)} - {-1})
        return " ".join(self.words[i] for i in indices)

    def leftover(self) -> str:
        """Return the typed words that no pattern read and that are not filler."""
        stray = [m for m in re.finditer(rf"[^\s{TAKEN}]+", self.rest) if m[0] not in FILLER]
        return " ".join(dict.fromkeys(self.typed(m.start(), m.end()) for m in stray))


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """Return the aware moment (in tz) the officer means; raise WhenProblem otherwise."""
    now = now.astimezone(tz)
    scan = _Scan(text)
    if NOW.fullmatch(scan.rest):
        return now
    if not scan.rest:
        raise WhenProblem(f"Chưa có thời điểm gửi. Hãy gõ theo mẫu {EXAMPLES}.")
    dates = _dates(scan)
    if ambiguous := scan.take(AMBIGUOUS):
        raise WhenProblem(f'Không rõ "{ambiguous[0][1]}" là giờ hay ngày: {TIME_OR_DATE}.')
    week = _one([(WEEK_OFFSETS[m[1]], t) for m, t in scan.take(WEEK)], "tuần")
    weekday = _one([(_weekday(m), t) for m, t in scan.take(WEEKDAY)], "thứ trong tuần")
    offsets = [(DAY_OFFSETS[m[0]], t) for m, t in scan.take(DAY)]
    clock = _one(_times(scan), "giờ")
    part = _one([(m[0], t) for m, t in scan.take(PART)], "buổi")
    if leftover := scan.leftover():
        raise _not_understood(leftover)
    if clock is None:
        raise WhenProblem('Chưa có giờ gửi; hãy ghi thêm giờ, ví dụ "mai 7h".')
    at = _with_part(clock, part)
    today = now.date()
    pinned = [(_date(value, typed, at, now), typed) for value, typed in dates]
    pinned += [(today + timedelta(days=offset), typed) for offset, typed in offsets]
    day = _day(_one(pinned, "ngày"), weekday, week, at, now)
    moment = datetime.combine(day, at, tzinfo=tz)
    if moment < now - TOLERANCE:
        raise _passed(moment, only_a_time=day == today and not dates and weekday is None)
    return moment


def describe_when(moment: datetime, now: datetime, tz: ZoneInfo) -> str:
    """Vietnamese, e.g. '07:30 thứ Ba, 24/11/2026 (ngày mai)', '(hôm nay)', '(ngay bây giờ)'."""
    local = moment.astimezone(tz)
    days = (local.date() - now.astimezone(tz).date()).days
    if abs(moment - now) < TOLERANCE:
        note = "ngay bây giờ"
    else:
        note = DAY_NAMES.get(days) or (f"{days} ngày nữa" if days > 0 else f"{-days} ngày trước")
    return f"{_stamp(local)} ({note})"


def _stamp(local: datetime) -> str:
    return f"{local:%H:%M} {WEEKDAY_NAMES[local.weekday()]}, {local:%d/%m/%Y}"


def _passed(moment: datetime, only_a_time: bool) -> WhenProblem:
    if only_a_time:  # "7:30" or "hôm nay 7:30" typed after 7:30: tomorrow is likely meant
        return WhenProblem(
            f"Thời điểm {moment:%H:%M} hôm nay đã qua; muốn gửi ngày mai thì gõ "
            f'"mai {moment.hour}:{moment.minute:02d}".'
        )
    return WhenProblem(f"Thời điểm {_stamp(moment)} đã qua; hãy chọn một thời điểm sau bây giờ.")


def _not_understood(typed: str, why: str = "") -> WhenProblem:
    return WhenProblem(f'Chưa hiểu "{typed}"{why}. Hãy gõ theo mẫu {EXAMPLES}.')


def _one[T](found: Found[T], what: str) -> tuple[T, str] | None:
    """Return the piece found (repeats that agree are fine), None if none; refuse two readings."""
    for value, typed in found[1:]:
        if value != found[0][0]:
            raise WhenProblem(
                f'Không rõ nên theo "{found[0][1]}" hay "{typed}"; hãy chỉ ghi một {what}.'
            )
    return found[0] if found else None


def _dates(scan: _Scan) -> Found[tuple[int | None, int, int]]:
    """Take the dates out, as (year or None, month, day): 2026-10-15, 15/10/26, 15 tháng 10."""
    found: Found[tuple[int | None, int, int]] = [
        ((int(m[1]), int(m[2]), int(m[3])), t) for m, t in scan.take(ISO_DATE)
    ]
    for m, t in scan.take(FULL_DATE):
        year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        found.append(((year, int(m[2]), int(m[1])), t))
    for m, t in scan.take(WORD_DATE):
        found.append(((int(m[3]) if m[3] else None, int(m[2]), int(m[1])), t))
    found += [((None, int(m[2]), int(m[1])), t) for m, t in scan.take(SHORT_DATE)]
    return found


def _weekday(match: re.Match[str]) -> int:
    if match[1]:
        return WEEKDAY_WORDS[match[1]]
    return int(match[2]) - 2 if match[2] else 6  # "t3" is Tuesday; otherwise Sunday


def _times(scan: _Scan) -> Found[time]:
    """Take the times of day out: "19:30", "7h30", "7g", "7 giờ rưỡi", the 7 of "7 sáng"."""
    found = [((m[1], m[2]), t) for m, t in scan.take(CLOCK)]
    found += [((m[1], "30" if m[2] == "ruoi" else m[2] or "0"), t) for m, t in scan.take(HOUR)]
    found += [((m[1], "0"), t) for m, t in scan.take(BARE_HOUR)]
    times: Found[time] = []
    for (hour, minute), typed in found:
        if int(hour) > 23 or int(minute) > 59:
            raise _not_understood(typed, " (giờ từ 0 đến 23, phút từ 0 đến 59)")
        times.append((time(int(hour), int(minute)), typed))
    return times


def _with_part(clock: tuple[time, str], part: tuple[str, str] | None) -> time:
    """Read the hour in the part of day typed: "7h tối" is 19:00, "19h tối" too."""
    at, typed = clock
    if part is None:
        return at
    as_typed, later = PARTS[part[0]]
    if at.hour in as_typed:
        return at
    if at.hour in later:
        return at.replace(hour=at.hour + 12)
    raise WhenProblem(
        f'"{typed}" không thuộc buổi "{part[1]}"; hãy gõ giờ theo 24 tiếng, ví dụ "19:30".'
    )


def _date(value: tuple[int | None, int, int], typed: str, at: time, now: datetime) -> date:
    """Return the day a date means; without a year, its next one unless that one just passed."""
    year, month, day = value
    if year is not None:
        found = _valid(year, month, day)
        if found is None:
            raise _not_understood(typed, " (không có ngày này)")
        return found
    # Five years hold every date, 29/2 too; the first one not yet past is the next occurrence.
    years = range(now.year, now.year + 5)
    days = [d for y in years if (d := _valid(y, month, day)) is not None]
    ahead = [d for d in days if datetime.combine(d, at, tzinfo=now.tzinfo) >= now - TOLERANCE]
    if not ahead:
        raise _not_understood(typed, " (không có ngày này)")
    if ahead[0] <= _months_later(now.date(), AHEAD):
        return ahead[0]
    year, named = ahead[0].year, f"Ngày {day:02d}/{month:02d}"
    example = f'ví dụ "{day}/{month}/{year} {at.hour}:{at.minute:02d}"'
    if _valid(year - 1, month, day) is None:  # 29/2: not a date that just passed, a rare one
        raise WhenProblem(f"{named} gần nhất là năm {year}; hãy ghi cả năm, {example}.")
    raise WhenProblem(f"{named} đã qua; nếu muốn gửi vào năm {year}, hãy ghi cả năm, {example}.")


def _day(
    pinned: tuple[date, str] | None,
    weekday: tuple[int, str] | None,
    week: tuple[int, str] | None,
    at: time,
    now: datetime,
) -> date:
    """Settle the day: a date or "mai" if given, checked against a weekday if one is given too."""
    if weekday is None:
        if week is not None:
            raise WhenProblem(f'Hãy ghi thứ mấy của "{week[1]}", ví dụ "thứ ba {week[1]} 19:30".')
        return pinned[0] if pinned else now.date()
    today = now.date()
    if week is not None:
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=week[0])
        by_weekday = monday + timedelta(days=weekday[0])
    else:
        by_weekday = today + timedelta(days=(weekday[0] - today.weekday()) % 7)
        if datetime.combine(by_weekday, at, tzinfo=now.tzinfo) < now - TOLERANCE:
            by_weekday += timedelta(weeks=1)  # today's has passed: the one next week
    if pinned is None:
        return by_weekday
    if pinned[0] == by_weekday or (week is None and pinned[0].weekday() == weekday[0]):
        return pinned[0]
    said = " ".join(p[1] for p in (weekday, week) if p is not None)
    raise WhenProblem(
        f'"{said}" không khớp với "{pinned[1]}" ({WEEKDAY_NAMES[pinned[0].weekday()]}, '
        f"{pinned[0]:%d/%m/%Y}); hãy sửa một trong hai."
    )


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _months_later(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
