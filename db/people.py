"""Join one person's subscribers on several channels; callers own the session and commit.

A person who registered on Telegram and also writes to the Zalo account is two subscribers
(one per channel and chat) sharing a ``person_id``. Their profile (place, role, cooperative,
topics, phone) and their stop/resume are kept the same on all of them, and exactly one of them
is ``preferred``: the one broadcasts go to, so an audience reaches the person once.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db.models import LinkCode, Subscriber, SubscriberStatus
from db.subscribers import forget_subscriber, set_topics

LINK_CODE_TTL = timedelta(minutes=15)
_REACHABLE = (SubscriberStatus.ACTIVE, SubscriberStatus.STOPPED, SubscriberStatus.PENDING)


def siblings(session: Session, member: Subscriber) -> list[Subscriber]:
    """Return the person's other subscribers (on other channels), oldest first."""
    if member.person_id is None:
        return []
    query = (
        select(Subscriber)
        .where(Subscriber.person_id == member.person_id, Subscriber.id != member.id)
        .order_by(Subscriber.id)
    )
    return list(session.scalars(query))


def preferred(session: Session, member: Subscriber) -> Subscriber:
    """Return the person's subscriber that broadcasts go to (the member when not linked)."""
    if member.preferred:
        return member
    return next((s for s in siblings(session, member) if s.preferred), member)


def issue_code(session: Session, member: Subscriber, now: datetime) -> str:
    """Make a six-digit code that links another channel to this member, valid 15 minutes."""
    session.execute(delete(LinkCode).where(LinkCode.expires_at <= now))
    session.execute(delete(LinkCode).where(LinkCode.subscriber_id == member.id))
    while True:  # a million codes and few alive at once: a clash is rare, so just draw again
        code = f"{secrets.randbelow(1_000_000):06d}"
        if session.get(LinkCode, code) is None:
            break
    expires = now + LINK_CODE_TTL
    session.add(LinkCode(code=code, subscriber_id=member.id, created_at=now, expires_at=expires))
    return code


def redeem_code(session: Session, code: str, now: datetime) -> Subscriber | None:
    """Return the subscriber a live code was issued to, and use the code up; None if none."""
    found = session.get(LinkCode, code)
    if found is None or found.expires_at <= now:
        return None
    owner = session.get(Subscriber, found.subscriber_id)
    session.delete(found)
    return owner


def link(session: Session, owner: Subscriber, newcomer: Subscriber) -> None:
    """Make the newcomer the same person as the owner: same profile, not preferred."""
    if owner.person_id is None:
        owner.person_id = owner.id
    if newcomer.person_id is not None and newcomer.person_id != owner.person_id:
        leave(session, newcomer)
    newcomer.person_id, newcomer.preferred = owner.person_id, False
    copy_profile(owner, newcomer)


def leave(session: Session, member: Subscriber) -> None:
    """Take a subscriber out of its person; another one becomes preferred if it was."""
    others = siblings(session, member)
    member.person_id, member.preferred = None, True
    if others and not any(o.preferred for o in others):
        others[0].preferred = True


def prefer(session: Session, member: Subscriber) -> None:
    """Send the person's broadcasts to this subscriber from now on."""
    for other in siblings(session, member):
        other.preferred = False
    member.preferred = True


def copy_profile(source: Subscriber, target: Subscriber) -> None:
    """Give the target the source's place, role, cooperative, topics, status and phone."""
    target.area_id, target.area = source.area_id, source.area
    target.role = source.role
    target.cooperative_id, target.cooperative = source.cooperative_id, source.cooperative
    set_topics(target, source.topic_set)
    target.phone, target.phone_consent_at = source.phone, source.phone_consent_at
    if target.status in _REACHABLE and source.status in _REACHABLE:
        target.status, target.stopped_at = source.status, source.stopped_at


def sync_person(session: Session, member: Subscriber) -> None:
    """Carry a change to one subscriber's profile or status over to the person's others."""
    for other in siblings(session, member):
        copy_profile(member, other)


def forget_person(session: Session, member: Subscriber) -> int:
    """Delete the person on every channel they are linked on; return how many subscribers."""
    everyone = [member, *siblings(session, member)]
    for subscriber in everyone:
        forget_subscriber(session, subscriber)
    return len(everyone)


def reroute_unreachable(session: Session, subscriber_ids: list[int]) -> int:
    """Move the preference of people whose preferred subscriber became unreachable; count them."""
    if not subscriber_ids:
        return 0
    lost = session.scalars(
        select(Subscriber).where(
            Subscriber.id.in_(subscriber_ids),
            Subscriber.person_id.is_not(None),
            Subscriber.preferred.is_(True),
            Subscriber.status.in_((SubscriberStatus.BLOCKED, SubscriberStatus.INVALID)),
        )
    ).all()
    moved = 0
    for member in lost:
        reachable = [o for o in siblings(session, member) if o.status == SubscriberStatus.ACTIVE]
        if reachable:
            session.execute(
                update(Subscriber).where(Subscriber.id == member.id).values(preferred=False)
            )
            reachable[0].preferred = True
            moved += 1
    return moved
