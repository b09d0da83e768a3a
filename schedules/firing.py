"""Fire a campaign's due send: choose what each member gets, create its broadcasts, move on.

One firing runs in the scheduler's transaction, together with moving `next_fire_at`: either
both happen or neither, so a restart can neither lose a send nor repeat one.

The rule for sends missed while no scheduler ran (the machine was down): they collapse into
one, the latest. It goes late if it is no more than the campaign's grace late and the moment
is not in quiet hours; otherwise it is skipped. Either way every missed send is recorded.

Who gets what is decided here, when the send fires:
- members already at the daily cap of campaign messages (across all campaigns) are left out;
- each member gets the pool item they have had fewest times in this campaign, among those the
  one they had longest ago, and among equals the planned one and then the pool's order from it:
  nobody gets an item twice before they have had the whole pool, even if they joined late or
  missed a day for the cap, and nobody gets the same item two sends running.
Members who get the same item share one broadcast, so a firing makes at most one broadcast per
item and each has its own deliveries and history.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from db import campaigns as store
from db.audience import Audience, chosen
from db.models import (
    Broadcast,
    BroadcastStatus,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Channel,
    ContentItem,
    Delivery,
    DeliveryStatus,
    FiringOutcome,
    Subscriber,
)
from messages.packs import render_content
from messages.render import subscriber_context
from schedules import calendar
from schedules.files import CampaignFile
from schedules.planner import Campaign as Plan
from schedules.planner import QuietHours, Send, next_send, plan

log = logging.getLogger(__name__)

ON_TIME = timedelta(minutes=5)  # a send fired this soon after its time counts as on time
AFTER = timedelta(microseconds=1)  # plans run over [since, until): just after a moment
CHUNK = 5000  # deliveries written per INSERT
NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Fired:
    """What one due campaign did in a tick."""

    slug: str
    planned_at: datetime
    outcome: FiringOutcome
    recipients: int
    broadcasts: tuple[int, ...]
    missed: int  # earlier sends collapsed into this one


def planned(session: Session, row: Campaign) -> Plan:
    """Return the planner's view of a stored campaign."""
    if row.kind is CampaignKind.CALENDAR:
        return calendar.calendar_plan(row, calendar.commemorations(session))
    return CampaignFile.from_json(row.spec).campaign(tuple(row.pool))


def grace(row: Campaign) -> timedelta:
    """Return how late a missed send may still go."""
    if row.kind is CampaignKind.CALENDAR:
        return calendar.CALENDAR_GRACE
    return CampaignFile.from_json(row.spec).grace


def reschedule(
    session: Session, row: Campaign, now: datetime, campaign: Plan | None = None
) -> None:
    """Set the campaign's next fire time from now on, or finish it when nothing is left."""
    campaign = campaign or planned(session, row)
    following = next_send(campaign, store.not_before(session, row.slug, now + AFTER))
    row.next_fire_at = following.at if following is not None else None
    if following is None and row.kind is CampaignKind.PLAN:
        row.status = CampaignStatus.FINISHED
    row.updated_at = now


def skip_until(session: Session, row: Campaign, now: datetime, why: str) -> int:
    """Record every send planned from next_fire_at up to now as skipped; return how many."""
    if row.next_fire_at is None:
        return 0
    missed = plan(planned(session, row), row.next_fire_at, now + AFTER)
    _record_missed(session, row, missed, now, FiringOutcome.SKIPPED, why)
    return len(missed)


def _record_missed(
    session: Session,
    row: Campaign,
    sends: list[Send],
    now: datetime,
    outcome: FiringOutcome,
    why: str,
) -> None:
    for send in sends:
        store.record_firing(
            session,
            row,
            planned_at=send.at,
            now=now,
            outcome=outcome,
            content=send.content,
            note=why,
        )


def fire_due(session: Session, row: Campaign, now: datetime) -> Fired | None:
    """Fire a campaign whose next_fire_at has come, by the missed-send rule; then move it on."""
    campaign = planned(session, row)
    assert row.next_fire_at is not None
    due = plan(campaign, row.next_fire_at, now + AFTER)
    if not due:  # the plan changed under it (a day switched off): just look ahead again
        reschedule(session, row, now, campaign)
        return None
    *missed, latest = due
    stood_for = f"missed while no scheduler ran; the send of {latest.at:%Y-%m-%d %H:%M} UTC"
    _record_missed(session, row, missed, now, FiringOutcome.COLLAPSED, stood_for + " stood for it")
    outcome, note = _verdict(latest, now, grace(row), campaign.quiet, campaign.tz)
    firing = store.record_firing(
        session, row, planned_at=latest.at, now=now, outcome=outcome, content=latest.content
    )
    made: list[int] = []
    if outcome in (FiringOutcome.SENT, FiringOutcome.LATE):
        made, firing.recipients, note = _send(session, row, campaign, latest, firing.id, now)
        if not made:
            firing.outcome = FiringOutcome.EMPTY
    firing.note = note
    reschedule(session, row, now, campaign)
    if missed or outcome is not FiringOutcome.SENT:
        log.warning(
            "campaign %s: send of %s %s (%s earlier ones collapsed): %s",
            row.slug,
            latest.at.isoformat(),
            firing.outcome.value,
            len(missed),
            note,
        )
    return Fired(row.slug, latest.at, firing.outcome, firing.recipients, tuple(made), len(missed))


def _verdict(
    send: Send, now: datetime, allowed: timedelta, quiet: QuietHours, tz: ZoneInfo
) -> tuple[FiringOutcome, str | None]:
    """Decide whether a due send goes on time, goes late, or is skipped."""
    late = now - send.at
    if late <= ON_TIME:
        return FiringOutcome.SENT, None
    if late > allowed:
        return FiringOutcome.SKIPPED, f"{_span(late)} late, more than the grace of {_span(allowed)}"
    if quiet.contains(now.astimezone(tz).time()):
        return FiringOutcome.SKIPPED, f"{_span(late)} late, and it is now quiet hours"
    return FiringOutcome.LATE, f"sent {_span(late)} late, within the grace of {_span(allowed)}"


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def _send(
    session: Session, row: Campaign, campaign: Plan, send: Send, firing_id: int, now: datetime
) -> tuple[list[int], int, str | None]:
    """Create the broadcasts and deliveries of one send; return them, the count and a note."""
    tz = campaign.tz
    day = now.astimezone(tz).date()
    midnight = datetime.combine(day, datetime.min.time(), tz)
    audience = Audience.from_json(row.audience)
    members = session.execute(select(Subscriber.id, Subscriber.channel).where(*chosen(audience)))
    everyone = [(int(sid), Channel(channel)) for sid, channel in members]
    used = store.received_today(session, midnight)
    allowed = [(sid, ch) for sid, ch in everyone if used.get(sid, 0) < campaign.daily_cap]
    capped = len(everyone) - len(allowed)
    items = _items(session, [*campaign.pool, send.content])
    if send.content not in items:
        return [], 0, f"content item {send.content!r} is missing or retired"
    if send.occasion:
        chosen_items = {send.content: allowed}
    else:
        chosen_items = _assign(session, row, campaign.pool, send.content, items, allowed)
    made = []
    expires = _quiet_start(now, campaign.quiet, tz)
    for slug, members_of in chosen_items.items():
        if not members_of:
            continue
        broadcast = _broadcast(row, items[slug], day, now, expires, firing_id, len(members_of))
        session.add(broadcast)
        session.flush()
        _deliveries(session, broadcast.id, members_of, now)
        made.append(broadcast.id)
    note = f"{capped} left out for the daily cap of {campaign.daily_cap}" if capped else None
    return made, len(allowed), note


def _items(session: Session, slugs: list[str]) -> dict[str, ContentItem]:
    query = select(ContentItem).where(ContentItem.slug.in_(set(slugs)), ContentItem.active)
    return {item.slug: item for item in session.scalars(query)}


def _assign(
    session: Session,
    row: Campaign,
    pool: tuple[str, ...],
    planned_slug: str,
    items: dict[str, ContentItem],
    members: list[tuple[int, Channel]],
) -> dict[str, list[tuple[int, Channel]]]:
    """Give each member the item they have had fewest times, then longest ago, planned first."""
    start = pool.index(planned_slug) if planned_slug in pool else 0
    order = [items[s].id for s in pool[start:] + pool[:start] if s in items]
    slug_of = {item.id: slug for slug, item in items.items()}
    had = store.received_items(session, row)
    never = (0, NEVER)
    chosen_items: dict[str, list[tuple[int, Channel]]] = defaultdict(list)
    for member in members:
        sid = member[0]
        best = min(order, key=lambda item_id: had.get((sid, item_id), never))
        chosen_items[slug_of[best]].append(member)
    return chosen_items


def _quiet_start(now: datetime, quiet: QuietHours, tz: ZoneInfo) -> datetime:
    """Return when the next quiet hours begin: what is not sent by then is not sent at night."""
    local = now.astimezone(tz)
    start = datetime.combine(local.date(), quiet.start, tz)
    return start if start > local else start + timedelta(days=1)


def _broadcast(
    row: Campaign,
    item: ContentItem,
    day: date,
    now: datetime,
    expires: datetime,
    firing_id: int,
    recipients: int,
) -> Broadcast:
    """Build one broadcast of a firing, already started: its deliveries follow at once."""
    own = row.spec.get("texts", {}) if row.kind is CampaignKind.CALENDAR else {}
    text: str | None = own.get(item.slug)
    templated = text is not None  # staff's own text for a calendar day is a checked template
    if text is None:
        everyone = subscriber_context(None, None, None, None)
        text = render_content(item.kind, item.data, today=day, subscriber=everyone)
    return Broadcast(
        kind=item.kind,
        templated=templated,
        content_id=item.id,
        campaign_id=row.id,
        firing_id=firing_id,
        text=text,
        buttons=[],
        audience=row.audience,
        status=BroadcastStatus.SENDING,
        send_at=now,
        expires_at=expires,
        created_by=f"campaign:{row.slug}",
        created_at=now,
        started_at=now,
        recipients=recipients,
    )


def _deliveries(
    session: Session, broadcast_id: int, members: list[tuple[int, Channel]], now: datetime
) -> None:
    """Queue one delivery per member, a chunk per statement."""
    rows: list[dict[str, Any]] = [
        {
            "broadcast_id": broadcast_id,
            "subscriber_id": sid,
            "channel": channel,
            "status": DeliveryStatus.QUEUED,
            "attempts": 0,
            "next_attempt_at": now,
            "updated_at": now,
        }
        for sid, channel in members
    ]
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(Delivery), rows[start : start + CHUNK])
