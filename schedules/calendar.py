"""The Vietnamese cooperative calendar, built in: each commemoration day of the content packs.

Ngày Hợp tác xã Việt Nam (11/4), Ngày Hợp tác xã quốc tế (first Saturday of July), Ngày Doanh
nhân Việt Nam (13/10) and the founding of the Vietnam Cooperative Alliance (29/10) come from
`messages/packs/commemorations.yaml`, with the rule of when each falls (`when`) and the year it
is counted from (`since`). The calendar is one campaign row of kind `calendar`, so the scheduler
fires it like any plan: on each day at 07:30 local, to members who follow policy news. Staff
can switch a day off or give it another text; round (decade) anniversaries are marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import campaigns as store
from db.audience import Audience
from db.models import Campaign, CampaignKind, CampaignStatus, ContentItem, Topic
from messages.kinds import Kind
from messages.packs import next_occurrence, occurrence
from schedules.planner import Cadence, Occasion, next_send
from schedules.planner import Campaign as Plan

CALENDAR_SLUG = "lich-hop-tac-xa"
CALENDAR_NAME = "Lịch các ngày kỷ niệm của phong trào hợp tác xã"
CALENDAR_END = datetime(2100, 1, 1, tzinfo=UTC)
DEFAULT_TIME = "07:30"
CALENDAR_GRACE = timedelta(hours=2)


@dataclass(frozen=True)
class CalendarDay:
    """One day of the calendar as staff see it."""

    slug: str
    title: str
    next_day: date
    years: int | None  # how many years it marks on that day
    off: bool
    text: str | None  # another text staff gave it, instead of the pack's

    @property
    def round(self) -> bool:
        """Tell whether the next one is a round (decade) anniversary: 30, 80 years …"""
        return self.years is not None and self.years > 0 and self.years % 10 == 0


def default_spec(tz: ZoneInfo) -> dict[str, Any]:
    """Return the calendar's settings when nobody has changed them."""
    return {"tz": tz.key, "time": DEFAULT_TIME, "off": [], "texts": {}}


def commemorations(session: Session) -> list[ContentItem]:
    """Return the active commemoration items of the library, in slug order."""
    query = (
        select(ContentItem)
        .where(ContentItem.kind == Kind.COMMEMORATION.value, ContentItem.active.is_(True))
        .order_by(ContentItem.slug)
    )
    return list(session.scalars(query))


def years_on(item: ContentItem, day: date) -> int | None:
    """Return how many years a commemoration marks on a day (None without a `since`)."""
    since = item.data.get("since")
    return day.year - int(since) if since and day.year > int(since) else None


def days(session: Session, row: Campaign, today: date) -> list[CalendarDay]:
    """List the calendar's days with their next date, from today."""
    spec = row.spec
    found = []
    for item in commemorations(session):
        day = next_occurrence(item.data["when"], today)
        found.append(
            CalendarDay(
                item.slug,
                item.title,
                day,
                years_on(item, day),
                item.slug in spec.get("off", []),
                spec.get("texts", {}).get(item.slug),
            )
        )
    return sorted(found, key=lambda d: d.next_day)


def calendar_plan(row: Campaign, items: list[ContentItem]) -> Plan:
    """Build the planner's campaign: one occasion a year per day that is on."""
    spec = row.spec
    tz = ZoneInfo(spec.get("tz", "Asia/Ho_Chi_Minh"))
    at = time.fromisoformat(spec.get("time", DEFAULT_TIME))
    off = set(spec.get("off", []))
    first, last = row.starts_at.astimezone(tz).year, row.ends_at.astimezone(tz).year
    occasions = tuple(
        Occasion(datetime.combine(occurrence(item.data["when"], year), at, tz), item.slug)
        for item in items
        if item.slug not in off
        for year in range(first, last + 1)
    )
    return Plan(
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        cadence=Cadence(()),
        pool=(),
        tz=tz,
        occasions=occasions,
    )


def ensure_calendar(session: Session, now: datetime, tz: ZoneInfo) -> Campaign:
    """Create the calendar the first time (on, for members who follow policy news)."""
    row = session.scalar(select(Campaign).where(Campaign.slug == CALENDAR_SLUG))
    if row is None:
        row = Campaign(
            slug=CALENDAR_SLUG,
            name=CALENDAR_NAME,
            kind=CampaignKind.CALENDAR,
            status=CampaignStatus.ACTIVE,
            spec=default_spec(tz),
            audience=Audience(topics=(Topic.POLICY,)).to_json(),
            pool=[],
            starts_at=now,
            ends_at=CALENDAR_END,
            created_by="system",
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
    refresh(session, row, now)
    return row


def refresh(session: Session, row: Campaign, now: datetime) -> None:
    """Work out the calendar's next send again after its days or settings changed."""
    start = store.not_before(session, row.slug, now)  # a day sent at `now` is not due again
    following = next_send(calendar_plan(row, commemorations(session)), start)
    row.next_fire_at = following.at if following is not None else None
    row.updated_at = now


def change(
    session: Session, row: Campaign, slug: str, now: datetime, **settings: Any
) -> CalendarDay:
    """Switch a day on or off (`off=`), or set or clear its own text (`text=`)."""
    if row.kind is not CampaignKind.CALENDAR:
        raise ValueError(f"{row.slug!r} is not the calendar")
    item = next((i for i in commemorations(session) if i.slug == slug), None)
    if item is None:
        known = ", ".join(i.slug for i in commemorations(session)) or "none: run `content load`"
        raise LookupError(f"no commemoration day {slug!r}; the calendar has {known}")
    spec = dict(row.spec)
    off, texts = set(spec.get("off", [])), dict(spec.get("texts", {}))
    if "off" in settings:
        (off.add if settings["off"] else off.discard)(slug)
    if "text" in settings:
        if settings["text"] is None:
            texts.pop(slug, None)
        else:
            texts[slug] = settings["text"]
    spec.update(off=sorted(off), texts=texts)
    row.spec = spec  # a new dict, so that the JSON column is written
    refresh(session, row, now)
    tz = ZoneInfo(spec.get("tz", "Asia/Ho_Chi_Minh"))
    return next(d for d in days(session, row, now.astimezone(tz).date()) if d.slug == slug)
