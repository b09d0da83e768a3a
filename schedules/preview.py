"""Show a campaign's plan as text: a calendar of sends per week, with counts, for the CLI.

Staff check a campaign file with this before it is loaded: how many messages a member gets
each week, where the peak is, which weeks hold an occasion and how often the pool goes round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from schedules.files import CampaignFile
from schedules.planner import Cadence, Send

WIDTH = 100  # the widest line of a detailed preview: a terminal of 100 columns
SLUG_WIDTH = 24  # longer slugs (occasions, mostly) push their title to the right
DAY_HEADS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Week:
    """The sends of one week (Monday to Sunday, local days): per day, in a peak, occasions."""

    monday: date
    days: tuple[int, ...]  # 7 counts, Monday to Sunday
    sends: int
    peak: int
    occasions: int


def weeks(sends: Sequence[Send], tz: ZoneInfo) -> list[Week]:
    """Count sends per local week, from the first send's week to the last's, empty ones too."""
    if not sends:
        return []
    local = [(s.at.astimezone(tz).date(), s) for s in sends]
    first = min(day for day, _ in local)
    last = max(day for day, _ in local)
    mondays = [first - timedelta(days=first.weekday())]
    while mondays[-1] + timedelta(days=7) <= last:
        mondays.append(mondays[-1] + timedelta(days=7))
    found = []
    for monday in mondays:
        own = [(day, s) for day, s in local if monday <= day < monday + timedelta(days=7)]
        days = tuple(sum(1 for day, _ in own if day.weekday() == n) for n in range(7))
        peak = sum(1 for _, s in own if s.peak)
        found.append(Week(monday, days, len(own), peak, sum(1 for _, s in own if s.occasion)))
    return found


def format_preview(
    file: CampaignFile,
    sends: Sequence[Send],
    titles: Mapping[str, str],
    *,
    detail: bool = False,
    pool: Sequence[str] | None = None,
) -> str:
    """Return the preview: the campaign's rules, a row per week, totals, and each send if asked.

    `pool` is the pool the plan went round; without it, it is read from the sends.
    """
    if pool is None:
        pool = list(dict.fromkeys(s.content for s in sends if not s.occasion))
    lines = [*_header(file, len(pool)), ""]
    found = weeks(sends, file.tz)
    lines += _calendar(found) if found else ["No sends in this period."]
    lines += ["", *_totals(sends, len(found), len(pool))]
    if detail and sends:
        width = min(max(len(s.content) for s in sends), SLUG_WIDTH)
        lines += ["", *(_send_line(s, file.tz, titles, width) for s in sends)]
    return "\n".join(lines)


def _header(file: CampaignFile, pool_size: int) -> list[str]:
    """Describe the campaign's rules in a few lines."""
    lines = [
        f"Campaign:    {file.name} ({file.slug})",
        f"Window:      {_window(file)} ({file.tz.key})",
        f"Cadence:     {_cadence(file.cadence)}",
    ]
    for peak, name in zip(file.peaks, file.peak_names, strict=True):
        label = f"{name}: " if name else ""
        days = f"{peak.first_day:%d/%m/%Y} .. {peak.last_day:%d/%m/%Y}"
        lines.append(f"Peak:        {label}{days}, {_cadence(peak.cadence)}")
    for occasion in file.occasions:
        lines.append(
            f"Occasion:    {occasion.at.astimezone(file.tz):%d/%m/%Y %H:%M}  {occasion.content}"
        )
    quiet = f"{file.quiet.start:%H:%M}-{file.quiet.end:%H:%M}"
    cap, grace = file.daily_cap, _duration(file.grace)
    lines.append(f"Quiet hours: {quiet}; at most {cap} sends a day; late grace {grace}")
    lines.append(f"Pool:        {pool_size} item{'' if pool_size == 1 else 's'}")
    return lines


def _window(file: CampaignFile) -> str:
    """Write the window as staff wrote it: a day to a day (inclusive), times only if given."""
    start, end = file.starts_at.astimezone(file.tz), file.ends_at.astimezone(file.tz)
    first = f"{start:%d/%m/%Y}" if start.time() == time(0) else f"{start:%d/%m/%Y %H:%M}"
    if end.time() == time(0):  # the end of the day before
        return f"{first} .. {end - timedelta(days=1):%d/%m/%Y}"
    return f"{first} .. {end:%d/%m/%Y %H:%M}"


def _cadence(cadence: Cadence) -> str:
    """Say a rhythm in words: "every Tuesday at 07:30", "every day at 07:30 and 19:30"."""
    if not cadence.times:
        return "none (occasions only)"
    days = sorted(cadence.weekdays)
    if not days:
        when = "every day"
    elif len(days) == 1:
        when = f"every {DAY_WORDS[days[0]]}"
    else:
        when = "every " + ", ".join(DAY_WORDS[d][:3] for d in days)
    times = [f"{t:%H:%M}" for t in cadence.times]
    said = times[0] if len(times) == 1 else ", ".join(times[:-1]) + f" and {times[-1]}"
    return f"{when} at {said}"


def _duration(span: timedelta) -> str:
    hours, minutes = divmod(span // timedelta(minutes=1), 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")


def _calendar(found: list[Week]) -> list[str]:
    """Write a row per week: counts per day, the week's sends, its peak sends and occasions."""
    lines = [f"{'Week':<14}" + "".join(f"{d:>3}" for d in DAY_HEADS) + "   Sends"]
    year = None
    for week in found:
        if week.monday.year != year:
            year = week.monday.year
            lines.append(str(year))
        sunday = week.monday + timedelta(days=6)
        mark = "*" if week.occasions else " "
        counts = "".join(f"{n or '.':>3}" for n in week.days)
        notes = [f"{week.peak} peak"] if week.peak else []
        notes += [f"{week.occasions} occasion{_s(week.occasions)}"] if week.occasions else []
        extra = f"  ({', '.join(notes)})" if notes else ""
        label = f"{week.monday:%d/%m}-{sunday:%d/%m} {mark}"
        lines.append(f"{label:<14}{counts}{week.sends:>5} send{_s(week.sends)}{extra}")
    lines.append("* a week with an occasion; '.' no send that day")
    return lines


def _totals(sends: Sequence[Send], week_count: int, pool_size: int) -> list[str]:
    """Sum up: sends, peak sends, occasions, distinct items and rounds of the pool."""
    regular = sum(1 for s in sends if not s.occasion)
    occasions = len(sends) - regular
    peak = sum(1 for s in sends if s.peak)
    items = len({s.content for s in sends})
    lines = [
        f"Total:       {len(sends)} send{_s(len(sends))} in {week_count} week{_s(week_count)}: "
        f"{peak} in a peak, {occasions} occasion{_s(occasions)}; {items} distinct item{_s(items)}"
    ]
    if pool_size:
        rounds, left = divmod(regular, pool_size)
        lines.append(
            f"Pool:        {regular} send{_s(regular)} from the pool of {pool_size}: "
            f"{rounds} full round{_s(rounds)}" + (f" and {left} more" if left else "")
        )
    return lines


def _send_line(send: Send, tz: ZoneInfo, titles: Mapping[str, str], width: int) -> str:
    """Write one send: local day and time, item, title (cut to fit), peak and occasion marks."""
    at = send.at.astimezone(tz)
    marks = (" [peak]" if send.peak else "") + (" [occasion]" if send.occasion else "")
    start = f"{DAY_WORDS[at.weekday()][:3]} {at:%d/%m/%Y %H:%M}  {send.content:<{width}}  "
    title = titles.get(send.content, "")
    room = WIDTH - len(start) - len(marks)
    if len(title) > room:
        title = title[: max(room - 1, 0)].rstrip() + "…"
    return f"{start}{title}{marks}".rstrip()


def _s(count: int) -> str:
    return "" if count == 1 else "s"
