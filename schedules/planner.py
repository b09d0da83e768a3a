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
class Occasion:
    """A one-off send of a chosen item on a day: an anniversary, a commemoration."""

    at: datetime  # aware; moved out of quiet hours like any send
    content: str


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
    occasions: tuple[Occasion, ...] = ()  # outside the pool's round; kept first under the cap


@dataclass(frozen=True)
class Send:
    """One planned send: when (UTC-aware) and which content item."""

    at: datetime
    content: str
    peak: bool = False
    occasion: bool = False  # a one-off item, not the pool's next


def plan(campaign: Campaign, since: datetime, until: datetime) -> list[Send]:
    """List the sends of a campaign between two moments, within its window.

    Base and peak rhythms are merged on peak days (so a peak is never sparser than the base);
    each time in quiet hours moves to their end; times that meet are sent once, an occasion
    taking the place of a regular send; a day keeps at most `daily_cap` sends, occasions
    first, then the earliest. Content goes round the pool in order, counted from the
    campaign's start, so any period of the same campaign agrees with the whole.
    """
    start = max(since, campaign.starts_at)
    stop = min(until, campaign.ends_at)
    everything = _times(campaign, campaign.starts_at, stop)
    sends = []
    number = 0  # regular sends so far: the pool's round counts only them
    for moment, peak, occasion in everything:
        if occasion is not None:
            send = Send(moment, occasion, peak, occasion=True)
        elif campaign.pool:
            send = Send(moment, campaign.pool[number % len(campaign.pool)], peak)
            number += 1
        else:
            continue
        if moment >= start:
            sends.append(send)
    return sends


def next_send(campaign: Campaign, after: datetime) -> Send | None:
    """Return the first send at or after a moment, or None when the campaign has no more."""
    horizon = timedelta(days=8)  # a week's rhythm shows within 8 days; occasions may be far
    since = after
    while since < campaign.ends_at:
        sends = plan(campaign, since, since + horizon)
        if sends:
            return sends[0]
        since, horizon = since + horizon, min(horizon * 4, timedelta(days=800))
    return None


def _times(
    campaign: Campaign, start: datetime, stop: datetime
) -> list[tuple[datetime, bool, str | None]]:
    """Return every allowed send time in [start, stop): in a peak, and the occasion's item."""
    tz = campaign.tz
    chosen: dict[datetime, tuple[bool, str | None]] = {}
    for moment, peak in _raw(campaign, start, stop):
        moved = campaign.quiet.after(moment.astimezone(tz))
        if start <= moved < stop:
            was_peak, occasion = chosen.get(moved, (False, None))
            chosen[moved] = (was_peak or peak, occasion)
    for one in campaign.occasions:
        moved = campaign.quiet.after(one.at.astimezone(tz))
        if start <= moved < stop:
            was_peak, had = chosen.get(moved, (False, None))
            chosen[moved] = (was_peak, had or one.content)  # the first one given wins
    per_day: Counter[date] = Counter()
    kept = set()
    firsts = sorted(chosen, key=lambda moment: (chosen[moment][1] is None, moment))
    for moment in firsts:  # occasions first, then the earliest, up to the cap each day
        day = moment.astimezone(tz).date()
        if per_day[day] < campaign.daily_cap:
            per_day[day] += 1
            kept.add(moment)
    return [(moment, *chosen[moment]) for moment in sorted(kept)]


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
