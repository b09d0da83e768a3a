"""The scheduler: APScheduler is the clock, the database decides what is due.

A short interval job (APScheduler's AsyncIOScheduler) ticks. Each tick, in one transaction:
take or renew the scheduler lease (so that of several instances on one database only one
fires, and another takes over within a minute when it dies), fire every active campaign whose
`next_fire_at` has come, and move `next_fire_at` on. Nothing about "when" lives in
APScheduler's own job store, so there is nothing to drift or to pickle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db import campaigns as store
from db import polls, updates
from db.engine import is_postgresql
from db.models import Campaign, CampaignStatus, FiringOutcome
from schedules.firing import Fired, fire_due, reschedule

log = logging.getLogger(__name__)

LEASE = "campaigns"


@dataclass(frozen=True)
class SchedulerPolicy:
    """How often to look, and how long a silent leader keeps the lease."""

    tick_seconds: float = 15.0
    # Renewed every tick; another instance takes over once it lapses: 45 s plus at most one
    # tick of the survivor is within a minute.
    lease: timedelta = timedelta(seconds=45)


@dataclass
class Tick:
    """What one tick did."""

    leader: bool
    fired: list[Fired] = field(default_factory=list)


class Scheduler:
    """Fire due campaigns; safe to run in every instance, only the lease holder fires."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Callable[[], datetime],
        policy: SchedulerPolicy | None = None,
        holder: str | None = None,
    ) -> None:
        self.sessions, self.clock = sessions, clock
        self.policy = policy or SchedulerPolicy()
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.skip_locked = is_postgresql(sessions.kw["bind"])
        self.leader = False
        self.last_tick: datetime | None = None  # for health checks: the scheduler is alive
        self.lag = 0.0  # seconds the last firing came after its planned time (for /metrics)
        self._clock: AsyncIOScheduler | None = None
        self._running: asyncio.Task[None] | None = None

    def tick(self) -> Tick:
        """Fire what is due, if this instance holds the lease; one transaction."""
        now = self.clock()
        with self.sessions.begin() as session:
            leader = store.hold_lease(
                session, LEASE, self.holder, now, self.policy.lease, skip_locked=self.skip_locked
            )
            if leader != self.leader:
                log.info("scheduler %s %s", self.holder, "fires" if leader else "stands by")
            self.leader = leader
            result = Tick(leader)
            if leader:
                result.fired = self._fire(session, now)
                if result.fired:
                    self.lag = max((now - f.planned_at).total_seconds() for f in result.fired)
                for poll_id in polls.close_due(session, now):
                    log.info("poll %s closed at its time", poll_id)
                updates.forget_old(session, now)
        self.last_tick = now
        return result

    def _fire(self, session: Session, now: datetime) -> list[Fired]:
        query = (
            select(Campaign)
            .where(Campaign.status == CampaignStatus.ACTIVE, Campaign.next_fire_at <= now)
            .order_by(Campaign.next_fire_at, Campaign.id)
        )
        fired = []
        for row in session.scalars(query).all():
            try:
                with session.begin_nested():
                    done = fire_due(session, row, now)
            except Exception as exc:
                log.exception(
                    "campaign %s could not fire; recorded, moving on",
                    row.slug,
                    extra={"campaign": row.slug},
                )
                with session.begin_nested():
                    self._failed(session, row, now, exc)
                continue
            if done is not None:
                fired.append(done)
        return fired

    def _failed(self, session: Session, row: Campaign, now: datetime, exc: Exception) -> None:
        """Record a firing that raised, and move past it (or pause a campaign gone bad)."""
        session.refresh(row)
        store.record_firing(
            session,
            row,
            planned_at=row.next_fire_at or now,
            now=now,
            outcome=FiringOutcome.FAILED,
            content=None,
            note=f"{type(exc).__name__}: {exc}",
        )
        try:
            reschedule(session, row, now)
        except Exception:
            log.exception("campaign %s cannot be planned any more; paused", row.slug)
            row.status = CampaignStatus.PAUSED

    async def start(self) -> None:
        """Start ticking now and every `tick_seconds`, with APScheduler as the clock."""
        clock = AsyncIOScheduler(timezone=UTC)
        clock.add_job(
            self._tick_off_loop,
            "interval",
            seconds=self.policy.tick_seconds,
            next_run_time=datetime.now(UTC),
            max_instances=1,  # a long tick is not overlapped by the next
            coalesce=True,  # nor followed by a burst of catch-up ticks
            misfire_grace_time=None,
        )
        clock.start()
        self._clock = clock

    async def _tick_off_loop(self) -> None:
        self._running = asyncio.current_task()
        try:
            await asyncio.to_thread(self.tick)
        except Exception:
            log.exception("scheduler tick failed; trying again next tick")
        finally:
            self._running = None

    async def stop(self, *, release: bool = True) -> None:
        """Stop ticking, finish a tick in progress, and give the lease up for a quick takeover."""
        if self._clock is not None:
            self._clock.shutdown(wait=False)
            self._clock = None
        running = self._running
        if running is not None and running is not asyncio.current_task():
            with contextlib.suppress(Exception):
                await running
        if release and self.leader:
            await asyncio.to_thread(self._release)
            self.leader = False

    def _release(self) -> None:
        with self.sessions.begin() as session:
            store.release_lease(session, LEASE, self.holder)
