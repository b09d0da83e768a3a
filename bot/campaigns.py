"""Load campaign files into the database and move campaigns: what `outreach campaign` does.

A file is checked on its own first (`schedules.files`), then against the database: its areas
and cooperatives must exist, its pool must pick content from the library, and its plan must
have a send still to come. Only then is it saved, with the time of its next send.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import campaigns as store
from db.areas import Note, resolve_area, resolve_commune
from db.audience import Audience
from db.cooperatives import by_public_code
from db.models import (
    AreaLevel,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Channel,
    ContentItem,
    Role,
    Topic,
)
from messages.kinds import Kind
from messages.packs import occurrence
from schedules.files import AudienceRule, CampaignFile, Candidate
from schedules.firing import reschedule, skip_until
from schedules.planner import next_send

log = logging.getLogger(__name__)


def candidates(session: Session) -> list[Candidate]:
    """Return the library's active items as pool candidates, in the order they were loaded."""
    query = select(ContentItem).where(ContentItem.active).order_by(ContentItem.id)
    return [
        Candidate(item.slug, item.kind, item.topic, tuple(item.tags), item.title)
        for item in session.scalars(query)
    ]


def resolve_audience(session: Session, rule: AudienceRule, note: Note | None = None) -> Audience:
    """Turn a file's audience (names and codes) into filters; LookupError names what is wrong.

    A place near only one area (a typo) is taken and told to `note`, as is a former one."""
    provinces = [resolve_area(session, p, AreaLevel.PROVINCE, None, note) for p in rule.provinces]
    area_ids = [p.id for p in provinces]
    area_ids += [resolve_commune(session, p, c, note).id for p, c in rule.communes]
    cooperative_ids = []
    for code in rule.cooperatives:
        found = by_public_code(session, code)
        if found is None:
            raise LookupError(f"no cooperative has the code {code!r}; see `outreach coop list`")
        cooperative_ids.append(found.id)
    return Audience(
        area_ids=tuple(area_ids),
        roles=tuple(Role(r) for r in rule.roles),
        topics=tuple(Topic(t) for t in rule.topics),
        channels=tuple(Channel(c) for c in rule.channels),
        cooperative_ids=tuple(cooperative_ids),
    )


def load_campaign(
    session: Session, file: CampaignFile, *, now: datetime, created_by: str
) -> store.Saved:
    """Check a campaign file against the database and save it; reloading replaces the plan."""
    if file.ends_at <= now:
        last_day = (file.ends_at - timedelta(microseconds=1)).astimezone(file.tz)
        raise store.CampaignRefused(
            f"campaign {file.slug!r} ended on {last_day:%d/%m/%Y}: nothing is left to send; "
            "move its window to run it again"
        )
    known = candidates(session)
    pool = file.pool.pick(known)
    slugs = {c.slug for c in known}
    missing = sorted({o.content for o in file.occasions} - slugs)
    if missing:
        raise store.CampaignRefused(
            f"occasions name content the library does not have: {', '.join(missing)} "
            "(run `outreach content load`, or fix the slugs)"
        )
    wrong_day = _commemorations_off_their_day(session, file)
    if wrong_day:
        raise store.CampaignRefused("; ".join(wrong_day))
    if not pool and not file.occasions:
        raise store.CampaignRefused(
            "the pool picks no content item: run `outreach content load`, or widen `pool:`"
        )
    audience = resolve_audience(
        session, file.audience, lambda line: log.info("campaign %r: %s", file.slug, line)
    )
    start = store.not_before(session, file.slug, max(now, file.starts_at))
    following = next_send(file.campaign(pool), start)
    return store.save_campaign(
        session,
        slug=file.slug,
        name=file.name,
        spec=file.to_json(),
        audience=audience.to_json(),
        pool=list(pool),
        starts_at=file.starts_at,
        ends_at=file.ends_at,
        next_fire_at=following.at if following is not None else None,
        source=file.source,
        checksum=file.checksum,
        created_by=created_by,
        now=now,
    )


def _commemorations_off_their_day(session: Session, file: CampaignFile) -> list[str]:
    """Name each occasion that sends a commemoration on another day than the one it marks."""
    slugs = {o.content for o in file.occasions}
    query = select(ContentItem).where(
        ContentItem.slug.in_(slugs), ContentItem.kind == Kind.COMMEMORATION.value
    )
    days = {item.slug: item.data["when"] for item in session.scalars(query)}
    problems = []
    for one in file.occasions:
        if one.content in days:
            day = one.at.astimezone(file.tz).date()
            own = occurrence(days[one.content], day.year)
            if own != day:
                problems.append(
                    f"occasion {one.content!r} on {day:%d/%m/%Y}: that day falls on "
                    f"{own:%d/%m/%Y} in {day.year}, and its message names its own date"
                )
    return problems


def pause(session: Session, row: Campaign, now: datetime) -> None:
    """Stop a campaign firing until it is resumed."""
    store.set_status(session, row, CampaignStatus.PAUSED, now)


def resume(session: Session, row: Campaign, now: datetime) -> int:
    """Let a paused campaign fire again from now; return how many sends the pause skipped."""
    store.set_status(session, row, CampaignStatus.ACTIVE, now)
    skipped = skip_until(session, row, now, "the campaign was paused")
    reschedule(session, row, now)
    return skipped


def describe_kind(row: Campaign) -> str:
    """Name a campaign's kind for listings."""
    return "calendar" if row.kind is CampaignKind.CALENDAR else "plan"
