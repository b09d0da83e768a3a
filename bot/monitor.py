"""Tell an operator how the running bot is: /healthz for load balancers, /metrics for Prometheus.

Counts kept in this instance (outcomes, 429s, updates, reply latency) are Prometheus counters
and a histogram; Prometheus sums them over instances. The outbox's depth and age are read from
the database at scrape time, so every instance reports the same, whole queue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from db import outbox
from db.models import Channel

if TYPE_CHECKING:
    from bot.app import OutreachApp

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A dispatcher loop turn takes a batch (about two seconds of sending); far longer is stuck.
DISPATCHER_STUCK = 120.0
AUTH_CACHE = 60.0  # ask the platforms who we are at most once a minute


class _Live(Collector):
    """The figures read at scrape time: outbox, scheduler, dispatcher, this instance's tallies."""

    def __init__(self, app: OutreachApp) -> None:
        self.app = app

    def collect(self) -> Iterator[Any]:
        """Yield the current figures (called from a worker thread by the /metrics handler)."""
        app, tallies = self.app, self.app.dispatcher.tallies
        outcomes = CounterMetricFamily(
            "outreach_deliveries", "Delivery outcomes recorded", labels=["channel", "status"]
        )
        for (channel, status), count in sorted(tallies.outcomes.items()):
            outcomes.add_metric([channel, status], count)
        yield outcomes
        for name, doc, tally in (
            ("outreach_retry_after", "Rate-limit answers (429) from the platform", "retry_after"),
            (
                "outreach_retry_after_wait_seconds",
                "Seconds the platform asked to wait",
                "retry_wait",
            ),
        ):
            family = CounterMetricFamily(name, doc, labels=["channel"])
            for channel, value in sorted(getattr(tallies, tally).items()):
                family.add_metric([channel], value)
            yield family
        cap = GaugeMetricFamily(
            "outreach_rate_limit_per_second", "Each channel's send cap", labels=["channel"]
        )
        for channel, route in sorted(app.routes.items()):
            cap.add_metric([channel.value], route.limiter.cap)
        yield cap
        yield from self._outbox()
        yield from self._loops()

    def _outbox(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "outreach_outbox_queued", "Deliveries due and waiting to be sent", labels=["channel"]
        )
        oldest = GaugeMetricFamily(
            "outreach_outbox_oldest_seconds",
            "How long the oldest due delivery has waited",
            labels=["channel"],
        )
        now = self.app.clock()
        for channel, count, since in queue(self.app, now):
            depth.add_metric([channel], count)
            oldest.add_metric([channel], max(0.0, (now - since).total_seconds()))
        yield depth
        yield oldest

    def _loops(self) -> Iterator[GaugeMetricFamily]:
        scheduler, now = self.app.scheduler, self.app.clock()
        last = scheduler.last_tick
        figures = [
            (
                "outreach_scheduler_leader",
                "1 where this instance fires campaigns",
                scheduler.leader,
            ),
            ("outreach_scheduler_lag_seconds", "Lateness of the last firing", scheduler.lag),
            (
                "outreach_scheduler_tick_age_seconds",
                "Seconds since the scheduler last looked",
                (now - last).total_seconds() if last else -1,
            ),
            (
                "outreach_dispatcher_loop_age_seconds",
                "Seconds since the dispatcher last turned",
                time.monotonic() - self.app.dispatcher.last_turn,
            ),
        ]
        for name, doc, value in figures:
            yield GaugeMetricFamily(name, doc, value=float(value))


def queue(app: OutreachApp, now: datetime) -> list[tuple[str, int, datetime]]:
    """Return per configured channel the deliveries due now and the oldest one's due time."""
    with app.sessions() as session:
        found = outbox.queue(session, now)
    return [(channel.value, *found.get(channel, (0, now))) for channel in app.routes]


class Monitor:
    """The /metrics registry and the /healthz checks of one running app."""

    def __init__(self, app: OutreachApp) -> None:
        self.app = app
        self.registry = CollectorRegistry(auto_describe=False)
        self.updates = Counter(
            "outreach_updates_received",
            "Updates (messages, taps, follows) received from members and staff",
            ["channel"],
            registry=self.registry,
        )
        self.replies = Histogram(
            "outreach_reply_latency_seconds",
            "From an update's arrival to the last reply sent",
            ["channel"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
            registry=self.registry,
        )
        self.registry.register(_Live(app))
        self._authorised: dict[str, tuple[float, str | None]] = {}

    def replied(self, channel: Channel) -> Callable[[float], None]:
        """Return the hook a channel calls with the seconds an answer took."""
        histogram = self.replies.labels(channel.value)
        return histogram.observe

    async def metrics(self) -> bytes:
        """Render every figure in Prometheus' text format (database reads off the loop)."""
        return await asyncio.to_thread(generate_latest, self.registry)

    async def health(self) -> tuple[bool, dict[str, str]]:
        """Check the database, each channel's authorisation, the scheduler and the dispatcher."""
        problems: dict[str, str | None] = {"database": await self._database()}
        for name, probe in self.app.probes().items():
            problems[name] = await self._channel(name, probe)
        problems["scheduler"] = self._scheduler()
        problems["dispatcher"] = self._dispatcher()
        report = {name: problem or "ok" for name, problem in problems.items()}
        return all(problem is None for problem in problems.values()), report

    async def _database(self) -> str | None:
        def ping() -> None:
            with self.app.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        try:
            await asyncio.wait_for(asyncio.to_thread(ping), 5)
        except (SQLAlchemyError, TimeoutError) as exc:
            return f"unreachable: {type(exc).__name__}"
        return None

    async def _channel(self, name: str, probe: Callable[[], Awaitable[object]]) -> str | None:
        at, problem = self._authorised.get(name, (float("-inf"), None))
        if time.monotonic() - at < AUTH_CACHE:
            return problem
        try:
            await asyncio.wait_for(probe(), 10)
            problem = None
        except Exception as exc:  # any failure to authorise is the finding itself
            problem = f"not authorised or unreachable: {type(exc).__name__}: {exc}"[:200]
        self._authorised[name] = (time.monotonic(), problem)
        return problem

    def _scheduler(self) -> str | None:
        scheduler, now = self.app.scheduler, self.app.clock()
        limit = max(60.0, 3 * scheduler.policy.tick_seconds)
        if scheduler.last_tick is None:
            return None if self.app.started_at + limit > time.monotonic() else "never ticked"
        age = (now - scheduler.last_tick).total_seconds()
        return None if age <= limit else f"last tick {age:.0f}s ago"

    def _dispatcher(self) -> str | None:
        age = time.monotonic() - self.app.dispatcher.last_turn
        return None if age <= DISPATCHER_STUCK else f"stuck: last turn {age:.0f}s ago"
