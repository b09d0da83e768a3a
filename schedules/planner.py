"""Plan a campaign: from its rules and a period, the send times and what each one carries.

A pure function of its input (no clock, no database): the same campaign and period always
give the same plan, so staff can preview a plan before it runs and the scheduler can trust
it. Recurrences come from APScheduler's own CronTrigger, used as a pure calculator of "the
next time after this one" in the campaign's timezone (daylight saving included).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Cadence:
    """A rhythm: on these weekdays (Monday 0; none means every day) at these local times."""

    times: tuple[time, ...]
    weekdays: frozenset[int] = frozenset()

    def triggers(self, tz: ZoneInfo) -> list[CronTrigger]:
        """Return one cron trigger per time of day."""
        days = ",".join(DAY_NAMES[d] for d in sorted(self.weekdays)) or "*"
        return [
            CronTrigger(day_of_week=days, hour=t.hour, minute=t.minute, timezone=tz)
            for t in self.times
        ]


@dataclass(frozen=True)
class Peak:
    """A period of local days (both ends included) with a denser rhythm of its own."""

    first_day: date
    last_day: date
    cadence: Cadence


@dataclass(frozen=True)
class QuietHours:
    """Local hours with no sends (21:00-06:00 by default); a send inside moves to the end."""

    start: time = time(21, 0)
    end: time = time(6, 0)

    def contains(self, moment: time) -> bool:
        """Tell whether a local time of day is quiet."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def after(self, local: datetime) -> datetime:
        """Return the moment itself, or the first allowed minute after the quiet hours."""
        if not self.contains(local.timetz().replace(tzinfo=None)):
            return local
        end_day = local.date()
        if self.start > self.end and local.time() >= self.start:
            end_day += timedelta(days=1)  # quiet from the evening on: it ends tomorrow
        return datetime.combine(end_day, self.end, local.tzinfo)


@dataclass(frozen=True)
class Campaign:
    """What staff write once: a window, rhythms, quiet hours, a daily cap and a content pool."""

    starts_at: datetime
    ends_at: datetime
    cadence: Cadence
    pool: tuple[str, ...]  # content item slugs, sent in this order, round and round
    tz: ZoneInfo
    peaks: tuple[Peak, ...] = ()
    quiet: QuietHours = field(default_factory=QuietHours)
    daily_cap: int = 2  # sends a day at most (the cap per subscriber across campaigns)


@dataclass(frozen=True)
class Send:
    """One planned send: when (UTC-aware) and which content item."""

    at: datetime
    content: str
    peak: bool = False


def plan(campaign: Campaign, since: datetime, until: datetime) -> list[Send]:
    """List the sends of a campaign between two moments, within its window.

    Base and peak rhythms are merged on peak days (so a peak is never sparser than the base);
    each time in quiet hours moves to their end; times that meet are sent once; a day keeps
    at most `daily_cap` sends (the earliest). Content goes round the pool in order, counted
    from the campaign's start, so any period of the same campaign agrees with the whole.
    """
    if not campaign.pool:
        return []
    start = max(since, campaign.starts_at)
    stop = min(until, campaign.ends_at)
    everything = _times(campaign, campaign.starts_at, stop)
    sends = []
    for number, (moment, peak) in enumerate(everything):
        if moment >= start:
            content = campaign.pool[number % len(campaign.pool)]
            sends.append(Send(moment, content, peak))
    return sends


def _times(campaign: Campaign, start: datetime, stop: datetime) -> list[tuple[datetime, bool]]:
    """Return every allowed send time in [start, stop), with whether it is in a peak."""
    tz = campaign.tz
    chosen: dict[datetime, bool] = {}
    for moment, peak in _raw(campaign, start, stop):
        moved = campaign.quiet.after(moment.astimezone(tz))
        if start <= moved < stop:
            chosen[moved] = chosen.get(moved, False) or peak
    per_day: Counter[date] = Counter()
    kept = []
    for moment in sorted(chosen):
        day = moment.astimezone(tz).date()
        if per_day[day] < campaign.daily_cap:
            per_day[day] += 1
            kept.append((moment, chosen[moment]))
    return kept


def _raw(campaign: Campaign, start: datetime, stop: datetime) -> Iterator[tuple[datetime, bool]]:
    """Yield the base rhythm's times, and each peak's times on its own days."""
    tz = campaign.tz
    yield from ((t, False) for t in _fires(campaign.cadence, tz, start, stop))
    for peak in campaign.peaks:
        first = max(start, datetime.combine(peak.first_day, time(0), tz))
        last = min(stop, datetime.combine(peak.last_day + timedelta(days=1), time(0), tz))
        yield from ((t, True) for t in _fires(peak.cadence, tz, first, last))


def _fires(cadence: Cadence, tz: ZoneInfo, start: datetime, stop: datetime) -> Iterator[datetime]:
    """Yield a rhythm's fire times in [start, stop), computed by APScheduler's triggers."""
    for trigger in cadence.triggers(tz):
        previous = None
        moment = trigger.get_next_fire_time(None, start)
        while moment is not None and moment < stop:
            yield moment
            previous = moment
            moment = trigger.get_next_fire_time(previous, previous + timedelta(seconds=1))
