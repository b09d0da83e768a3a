"""Keep campaigns in the database: the scheduler's lease, saving a plan, pausing and resuming.

The database is the one place that says when a campaign fires next (`next_fire_at`); the
planner says what that time is, and these functions move it. Callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.engine import is_postgresql
from db.models import (
    Broadcast,
    Campaign,
    CampaignFiring,
    CampaignKind,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    FiringOutcome,
    SchedulerLease,
)

# A delivery in one of these states did not reach the member: it neither counts against their
# daily cap nor as content they have had.
NOT_RECEIVED = (
    DeliveryStatus.FAILED,
    DeliveryStatus.SKIPPED,
    DeliveryStatus.EXPIRED,
    DeliveryStatus.OUTSIDE_WINDOW,
)


class CampaignRefused(ValueError):
    """A campaign that cannot be saved or moved as asked; the message says why."""


def hold_lease(
    session: Session,
    name: str,
    holder: str,
    now: datetime,
    duration: timedelta,
    *,
    skip_locked: bool,
) -> bool:
    """Take or renew the lease `name` for `holder`; False while another live holder has it.

    Only the holder, or an instance taking over a lapsed lease, locks the row; it stays locked
    until the caller's transaction ends, so whatever the holder does in that transaction
    (firing schedules) cannot overlap another instance's, even one that wrongly thinks its
    lease still runs. On PostgreSQL a row another instance has locked is skipped rather than
    waited for: that instance is firing or taking over now.
    """
    current = session.scalar(
        select(SchedulerLease)
        .where(SchedulerLease.name == name)
        .execution_options(populate_existing=True)
    )
    if current is None:
        insert = postgresql.insert if is_postgresql(session.get_bind()) else sqlite.insert
        session.execute(
            insert(SchedulerLease)
            .values(name=name, holder=holder, acquired_at=now, expires_at=now + duration)
            .on_conflict_do_nothing()
        )
    elif current.holder != holder and current.expires_at > now:
        return False  # someone else holds it: no lock taken, nothing waited for
    query = select(SchedulerLease).where(SchedulerLease.name == name)
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    lease = session.scalar(query.execution_options(populate_existing=True))
    if lease is None:
        return False
    if lease.holder != holder:
        if lease.expires_at > now:
            return False
        lease.holder, lease.acquired_at = holder, now  # the previous holder stopped renewing
    lease.expires_at = now + duration
    return True


def release_lease(session: Session, name: str, holder: str) -> None:
    """Give the lease up at a clean stop, so that another instance takes over at once."""
    session.execute(
        delete(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder)
    )


def lease_holder(session: Session, name: str, now: datetime) -> str | None:
    """Return who holds a live lease, or None."""
    lease = session.get(SchedulerLease, name)
    return lease.holder if lease is not None and lease.expires_at > now else None


def by_slug(session: Session, slug: str) -> Campaign:
    """Return a campaign by its slug or id, or raise LookupError saying how to list them."""
    found = session.get(Campaign, int(slug)) if slug.isdigit() else None
    found = found or session.scalar(select(Campaign).where(Campaign.slug == slug))
    if found is None:
        raise LookupError(f"no campaign {slug!r}; see `outreach campaign list`")
    return found


@dataclass(frozen=True)
class Saved:
    """What saving a campaign did."""

    campaign: Campaign
    action: str  # added, updated, unchanged


def save_campaign(
    session: Session,
    *,
    slug: str,
    name: str,
    spec: dict[str, Any],
    audience: dict[str, Any],
    pool: list[str],
    starts_at: datetime,
    ends_at: datetime,
    next_fire_at: datetime | None,
    source: str | None,
    checksum: str | None,
    created_by: str,
    now: datetime,
    kind: CampaignKind = CampaignKind.PLAN,
) -> Saved:
    """Add a campaign, or replace the plan of the one with this slug (its history stays)."""
    if ends_at <= now:
        raise CampaignRefused(
            f"campaign {slug!r} ended on {ends_at:%Y-%m-%d %H:%M} UTC: nothing is left to send"
        )
    if next_fire_at is None:
        raise CampaignRefused(f"campaign {slug!r} plans no send from now to its end")
    row = session.scalar(select(Campaign).where(Campaign.slug == slug))
    fields = {
        "name": name,
        "kind": kind,
        "spec": spec,
        "audience": audience,
        "pool": pool,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "source": source,
        "checksum": checksum,
    }
    if row is None:
        row = Campaign(
            slug=slug,
            status=CampaignStatus.ACTIVE,
            next_fire_at=next_fire_at,
            created_by=created_by,
            created_at=now,
            updated_at=now,
            **fields,
        )
        session.add(row)
        session.flush()
        return Saved(row, "added")
    same = all(getattr(row, key) == value for key, value in fields.items())
    if same and row.status is not CampaignStatus.FINISHED:
        return Saved(row, "unchanged")
    for key, value in fields.items():
        setattr(row, key, value)
    # A new plan counts from now: sends the old plan had before now are not made up.
    row.next_fire_at = next_fire_at
    if row.status is CampaignStatus.FINISHED:
        row.status = CampaignStatus.ACTIVE
    row.updated_at = now
    return Saved(row, "updated")


def set_status(session: Session, row: Campaign, status: CampaignStatus, now: datetime) -> None:
    """Pause or resume a campaign (resuming also needs a new next_fire_at from the caller)."""
    if row.status is CampaignStatus.FINISHED:
        raise CampaignRefused(f"campaign {row.slug!r} has finished; load its file again to rerun")
    if row.status is status:
        raise CampaignRefused(f"campaign {row.slug!r} is already {status.value}")
    row.status = status
    row.updated_at = now


def record_firing(
    session: Session,
    row: Campaign,
    *,
    planned_at: datetime,
    now: datetime,
    outcome: FiringOutcome,
    content: str | None,
    recipients: int = 0,
    note: str | None = None,
) -> CampaignFiring:
    """Write what became of one planned send."""
    firing = CampaignFiring(
        campaign_id=row.id,
        planned_at=planned_at,
        fired_at=now,
        outcome=outcome,
        content=content,
        recipients=recipients,
        note=note[:300] if note else None,
    )
    session.add(firing)
    session.flush()
    return firing


def not_before(session: Session, slug: str, now: datetime) -> datetime:
    """Return the moment to plan from: now, or just after the latest send already recorded."""
    query = (
        select(func.max(CampaignFiring.planned_at))
        .join(Campaign, Campaign.id == CampaignFiring.campaign_id)
        .where(Campaign.slug == slug)
    )
    last = session.scalar(query)
    return now if last is None or last < now else last + timedelta(microseconds=1)


def history(session: Session, row: Campaign, limit: int = 50) -> list[CampaignFiring]:
    """Return a campaign's latest firings, newest first."""
    query = (
        select(CampaignFiring)
        .where(CampaignFiring.campaign_id == row.id)
        .order_by(CampaignFiring.planned_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class CampaignTotals:
    """A campaign's figures so far."""

    fired: int  # planned sends that went (on time or late)
    missed: int  # skipped or collapsed
    messages: int  # deliveries created
    sent: int  # deliveries the platform accepted


def totals(session: Session, row: Campaign) -> CampaignTotals:
    """Count what a campaign has done."""
    outcomes = dict(
        session.execute(
            select(CampaignFiring.outcome, func.count())
            .where(CampaignFiring.campaign_id == row.id)
            .group_by(CampaignFiring.outcome)
        ).all()
    )
    fired = sum(outcomes.get(o, 0) for o in (FiringOutcome.SENT, FiringOutcome.LATE))
    missed = sum(outcomes.get(o, 0) for o in (FiringOutcome.SKIPPED, FiringOutcome.COLLAPSED))
    deliveries = dict(
        session.execute(
            select(Delivery.status, func.count())
            .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
            .where(Broadcast.campaign_id == row.id)
            .group_by(Delivery.status)
        ).all()
    )
    return CampaignTotals(
        fired, missed, sum(deliveries.values()), deliveries.get(DeliveryStatus.SENT, 0)
    )


def received_today(session: Session, since: datetime) -> dict[int, int]:
    """Count, per subscriber, the campaign messages given to them since a moment (their day)."""
    query = (
        select(Delivery.subscriber_id, func.count())
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(
            Broadcast.campaign_id.is_not(None),
            Broadcast.started_at >= since,
            Delivery.status.not_in(NOT_RECEIVED),
            Delivery.subscriber_id.is_not(None),
        )
        .group_by(Delivery.subscriber_id)
    )
    return {sid: n for sid, n in session.execute(query) if sid is not None}


def received_items(session: Session, row: Campaign) -> dict[tuple[int, int], tuple[int, datetime]]:
    """Return, per (subscriber, content item), how often and when last this campaign gave it."""
    query = (
        select(
            Delivery.subscriber_id,
            Broadcast.content_id,
            func.count(),
            func.max(Broadcast.started_at),
        )
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(
            Broadcast.campaign_id == row.id,
            Broadcast.content_id.is_not(None),
            Delivery.status.not_in(NOT_RECEIVED),
            Delivery.subscriber_id.is_not(None),
        )
        .group_by(Delivery.subscriber_id, Broadcast.content_id)
    )
    found = session.execute(query)
    return {
        (s, c): (n, last)
        for s, c, n, last in found
        if s is not None and c is not None and last is not None
    }
