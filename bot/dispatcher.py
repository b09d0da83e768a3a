"""Send what the outbox holds: claim a batch, render, send at the channel's rate, record."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import FailureKind, Prepared, Sender, SendFailure
from bot.conversation.feedback import reaction_buttons
from bot.ratelimit import ChannelLimiter
from db import broadcasts, outbox
from db.engine import is_postgresql
from db.models import Broadcast, Channel, DeliveryStatus, Staff, SubscriberStatus
from db.outbox import Claimed, Outcome
from messages import operations as say_ops
from messages import staff as say_staff
from messages.render import (
    Compiled,
    TemplateProblem,
    compile_text,
    literal,
    subscriber_context,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DispatchPolicy:
    """How hard to try: attempts, backoff, how long a claim may stay unfinished."""

    max_attempts: int = 5
    backoff_base: timedelta = timedelta(seconds=10)
    backoff_max: timedelta = timedelta(minutes=15)
    lease: timedelta = timedelta(seconds=60)
    concurrency: int = 64
    batch_seconds: float = 2.0  # claim about this much sending at a time (the in-doubt window)
    idle_seconds: float = 0.5
    # While busy; an idle dispatcher looks every tick. Expiry is also checked per message.
    housekeeping_seconds: float = 5.0
    # Outcomes are written when this many are waiting or this long has passed: what is
    # sent but not yet written is all that a crash can leave in doubt.
    # A tenth of a second: at 100/s ten sends at most, at ten small writes a second.
    record_every: int = 50
    record_seconds: float = 0.1
    quota_wait: timedelta = timedelta(hours=1)  # a used-up paid quota (Zalo) is tried again

    def backoff(self, attempts: int) -> timedelta:
        """Return the wait before the next try after `attempts` tries: doubling, capped."""
        return min(self.backoff_max, self.backoff_base * (2 ** max(0, attempts - 1)))


Tell = Callable[[str | None, str], Awaitable[None]]


class Gate(Protocol):
    """A channel's rules on whether and how a message may go to this member now (Zalo OA)."""

    def check(self, item: Claimed, prepared: Prepared, now: datetime) -> Prepared | Outcome:
        """Return the request to send, or the outcome that stands instead of sending."""
        ...


@dataclass(frozen=True)
class Route:
    """How one channel is sent to: its bulk sender, its rate limiter and its rules, if any."""

    sender: Sender
    limiter: ChannelLimiter
    gate: Gate | None = None


@dataclass
class _Message:
    """A broadcast's content, compiled once and kept while it is sending."""

    compiled: Compiled
    photo: str | None
    buttons: list[dict[str, str]]
    expires_at: datetime | None
    static: dict[Channel, Prepared]  # the whole request per channel, when no one is named


@dataclass
class Tallies:
    """What the dispatcher counts as it goes, for /metrics (bot.monitor)."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (channel, status)
    retry_after: Counter[str] = field(default_factory=Counter)  # 429s per channel
    retry_wait: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))


def ids(item: Claimed) -> dict[str, int]:
    """Name a delivery in a log line (LOG_FORMAT=json carries these as fields)."""
    return {
        "broadcast_id": item.broadcast_id,
        "delivery_id": item.delivery_id,
        "subscriber_id": item.subscriber_id,
    }


def pid_alive(pid: int) -> bool:
    """Tell whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    return True


class Dispatcher:
    """The one place that sends broadcasts; safe to run in several processes on PostgreSQL."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        routes: Mapping[Channel, Route],
        *,
        clock: Callable[[], datetime],
        policy: DispatchPolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        tell: Tell | None = None,
    ) -> None:
        self.sessions, self.routes = sessions, dict(routes)
        self.clock, self.monotonic = clock, monotonic
        self.policy = policy or DispatchPolicy()
        self.host = socket.gethostname()
        self.worker = f"{self.host}:{os.getpid()}"
        self._housekept = float("-inf")
        self._stopping = asyncio.Event()
        self._flushed = 0.0
        self.skip_locked = is_postgresql(sessions.kw["bind"])
        self._messages: dict[int, _Message | str] = {}  # compiled, or why it cannot be
        self.tallies = Tallies()
        self.last_turn = monotonic()  # for /healthz: a dispatcher that stops turning is stuck
        self._channel_of: dict[int, Channel] = {}  # the batch in hand, for the tallies
        # Tells an officer (a chat id) or, for None, the admins what went wrong and what to fix.
        self.tell = tell
        self._loop: asyncio.AbstractEventLoop | None = None
        self.refused: dict[Channel, str] = {}  # channels whose credentials are refused now
        self._alerts: set[asyncio.Future[None]] = set()
        self._ahead: asyncio.Future[list[Claimed]] | None = None  # the next batch, claimed

    @property
    def batch_size(self) -> int:
        """Claim about `batch_seconds` of sending at all channels' rates together."""
        rate = sum(route.limiter.bucket.rate for route in self.routes.values())
        return max(1, min(2000, int(rate * self.policy.batch_seconds)))

    async def run(self, stopping: asyncio.Event) -> None:
        """Tick until told to stop; a failing tick is logged and retried, never fatal."""
        self._stopping = stopping
        while not stopping.is_set():
            self.last_turn = self.monotonic()
            try:
                done = await self.tick()
            except Exception:
                log.exception("dispatcher tick failed; retrying shortly")
                done = 0
            if stopping.is_set():
                await self.release_ahead()
            if not done:
                try:
                    await self.settle_shared()
                except SQLAlchemyError as exc:  # a database hiccup: written next time
                    log.warning("could not write the shared send rate: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self.policy.idle_seconds)

    async def tick(self) -> int:
        """Do one round of housekeeping, claim one batch and send it; return how many.

        The next batch is claimed while this one sends, so that the platform's rate is used
        without a pause between batches.
        """
        self._loop = asyncio.get_running_loop()
        ahead, self._ahead = self._ahead, None
        claimed = await ahead if ahead is not None else []
        if not claimed:  # decided on a fresh look, after this batch's outcomes are written
            claimed = await asyncio.to_thread(self._claim)
        if not claimed:
            return 0
        if not self._stopping.is_set():
            self._ahead = asyncio.ensure_future(asyncio.to_thread(self._claim))
        try:
            await self._send_all(claimed)
        except BaseException:
            await self.release_ahead()
            raise
        return len(claimed)

    async def release_ahead(self) -> None:
        """Give back a batch claimed ahead and not sent (on stopping): no attempt spent."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return
        claimed = await ahead
        if claimed:
            await asyncio.to_thread(self._record, [self._hand_back(item) for item in claimed])

    def _claim(self) -> list[Claimed]:
        now = self.clock()
        with self.sessions.begin() as session:
            due = self.monotonic() - self._housekept >= self.policy.housekeeping_seconds
            if due:
                self._housekeeping(session, now)
            claimed = self._claim_batch(session, now)
            if not claimed and not due:  # idle: look for new work before saying so
                self._housekeeping(session, now)
                claimed = self._claim_batch(session, now)
        self._prepare(claimed)  # after the claim is written: SQLite's write lock is free
        return claimed

    def _housekeeping(self, session: Session, now: datetime) -> None:
        """Start due broadcasts, drop expired deliveries, resend ones in doubt, close done ones."""
        self._housekept = self.monotonic()
        for started in broadcasts.start_due(session, now, skip_locked=self.skip_locked):
            log.info(
                "broadcast %s started: %s recipients",
                started.id,
                started.recipients,
                extra={"broadcast_id": started.id},
            )
        broadcasts.expire_overdue(session, now)
        # Another process on this machine that died (a crash, kill -9): resend at once.
        if count := outbox.requeue_dead_workers(session, self.host, pid_alive, now):
            log.warning("re-queued %s deliveries left in doubt by a dead process", count)
        if count := outbox.requeue_in_doubt(session, now, self.policy.lease):
            log.warning("re-queued %s deliveries left in doubt by a stopped dispatcher", count)
        for done in broadcasts.finish_completed(session, now):
            log.info("broadcast %s done", done, extra={"broadcast_id": done})
            self._messages.pop(done, None)

    def _claim_batch(self, session: Session, now: datetime) -> list[Claimed]:
        claimed = outbox.claim(
            session,
            worker=self.worker,
            now=now,
            limit=self.batch_size,
            skip_locked=self.skip_locked,
        )
        return claimed

    def _prepare(self, claimed: list[Claimed]) -> None:
        """Compile the broadcasts of a batch not yet in hand, outside any write transaction."""
        new = {c.broadcast_id for c in claimed} - self._messages.keys()
        if not new:
            return
        with self.sessions() as session:
            for broadcast_id in new:
                broadcast = session.get(Broadcast, broadcast_id)
                if broadcast is not None:
                    self._messages[broadcast_id] = self._compile_or_fail(session, broadcast)

    def _compile_or_fail(self, session: Session, broadcast: Broadcast) -> _Message | str:
        """Compile a broadcast, or return why it cannot go: it fails alone, never the tick.

        Every delivery of it is then failed with the reason, the log names it, and the officer
        who wrote it (or else the admins) is told.
        """
        try:
            return self._compile(broadcast)
        except TemplateProblem as exc:
            problem, said = str(exc), say_staff.template_problem(exc)
        except Exception as exc:  # a bug must not stop everything queued behind this one
            log.exception("broadcast %s could not be prepared", broadcast.id)
            problem = said = f"could not be prepared: {exc}"
        log.error(
            "broadcast %s fails: %s; its deliveries are marked failed",
            broadcast.id,
            problem,
            extra={"broadcast_id": broadcast.id},
        )
        author = session.get(Staff, broadcast.author_id) if broadcast.author_id else None
        chat = author.user_id if author is not None and author.channel is Channel.TELEGRAM else None
        text = say_ops.broadcast_failed(broadcast.id, said)
        if self.tell is not None:
            self._later(self.tell(chat, text))
        return problem[:300]

    def _compile(self, broadcast: Broadcast) -> _Message:
        compiled = compile_text(broadcast.text) if broadcast.templated else literal(broadcast.text)
        buttons = list(broadcast.buttons)
        if broadcast.reactions:
            buttons += reaction_buttons(broadcast.id)
        static: dict[Channel, Prepared] = {}
        if not compiled.personal:  # one request per channel for everyone
            text = compiled.render()
            for channel, route in self.routes.items():
                static[channel] = route.sender.prepare(text, broadcast.photo, buttons)
        return _Message(compiled, broadcast.photo, buttons, broadcast.expires_at, static)

    def _record(self, outcomes: list[Outcome]) -> None:
        with self.sessions.begin() as session:
            outbox.record(session, outcomes, self.clock())
        for outcome in outcomes:
            channel = self._channel_of.get(outcome.delivery_id)
            if channel is not None:
                self.tallies.outcomes[channel.value, outcome.status.value] += 1

    async def _send_all(self, claimed: list[Claimed]) -> None:
        """Send a claimed batch, each channel at its own pace, writing outcomes as they come."""
        done: list[Outcome] = []
        self._flushed = self.monotonic()
        by_channel: dict[Channel, list[Claimed]] = {}
        self._channel_of = {item.delivery_id: item.channel for item in claimed}
        for item in claimed:
            by_channel.setdefault(item.channel, []).append(item)
        sending = []
        for channel, items in by_channel.items():
            route = self.routes.get(channel)
            if route is None:  # e.g. Zalo members while no Zalo token is configured
                reason = f"channel {channel} is not configured"
                done += [Outcome(i.delivery_id, DeliveryStatus.FAILED, error=reason) for i in items]
                continue
            sending.append(self._send_channel(route, items, done))
        finished = asyncio.Event()
        flusher = asyncio.create_task(self._keep_flushing(done, finished))
        try:
            await asyncio.gather(*sending)
        finally:
            finished.set()
            await flusher
        if done:
            await asyncio.to_thread(self._record, done)

    async def _keep_flushing(self, done: list[Outcome], finished: asyncio.Event) -> None:
        """Write outcomes as they build up while a batch sends, even if its sends are slow.

        What is sent but not yet written is all that a crash leaves in doubt (sent again):
        so it is written within `record_seconds` even while every send slot waits on the
        platform.
        """
        while not finished.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), self.policy.record_seconds)
            if not finished.is_set() and self._record_due(done):
                await self._flush(done)

    async def _flush(self, done: list[Outcome]) -> None:
        batch = done[:]  # taken before the await: send tasks append meanwhile
        done.clear()
        self._flushed = self.monotonic()
        await asyncio.to_thread(self._record, batch)

    async def _send_channel(
        self, route: Route, claimed: list[Claimed], done: list[Outcome]
    ) -> None:
        """Send one channel's share of a batch at its bucket's pace."""
        slots = asyncio.Semaphore(self.policy.concurrency)
        tasks: list[asyncio.Task[None]] = []
        for item in claimed:
            stopping = self._stopping.is_set()
            ready = self._hand_back(item) if stopping else self._ready(route, item)
            if not isinstance(ready, Outcome):
                # Each send waits for its own slot: evenly paced, never a chunk at once,
                # since the platform counts any one second, not our average.
                held = await self._take(route)
                if held is not None:
                    ready = self._hand_back(item, held)
            if isinstance(ready, Outcome):
                done.append(ready)
                continue
            if self._record_due(done):
                await self._flush(done)
            await slots.acquire()
            await self._room(route.limiter)
            now = self.monotonic()
            if (wait := route.limiter.chat_wait(item.chat_id, now)) > 0:
                slots.release()  # a reply reached this chat while the send waited its turn
                done.append(self._hand_back(item, wait))
                continue
            route.limiter.sent(item.chat_id, now)
            route.limiter.in_flight.start(ready.parts)
            if ready.parts > 1:  # a long text goes as several messages: each counts
                route.limiter.force(now, ready.parts - 1)
            sending = self._send_one(route, item, ready, slots, done, now)
            tasks.append(asyncio.create_task(sending))
        await asyncio.gather(*tasks)

    async def _room(self, limiter: ChannelLimiter) -> None:
        """Wait until fewer sends than the cap are under way or answered in the last second."""
        while (wait := limiter.in_flight.wait(self.monotonic())) > 0:
            await asyncio.sleep(wait)

    def _record_due(self, done: list[Outcome]) -> bool:
        """Tell whether enough outcomes, or enough time, have built up to write them."""
        if len(done) >= self.policy.record_every:
            return True
        return bool(done) and self.monotonic() - self._flushed >= self.policy.record_seconds

    def _hand_back(self, item: Claimed, after: float = 0.0, reason: str | None = None) -> Outcome:
        """Return a claimed delivery to the queue, due `after` seconds on; no attempt spent."""
        return Outcome(
            item.delivery_id,
            DeliveryStatus.QUEUED,
            refund_attempt=True,
            next_attempt_at=self.clock() + timedelta(seconds=after),
            error=reason,
        )

    async def _take(self, route: Route) -> float | None:
        """Wait for the channel's next send slot (None); else how long to hand the rest back for.

        A channel paused for longer than a batch (a long 429, a Zalo OA token being renewed)
        hands its deliveries back for that long rather than holding up the other channels.
        """
        limiter = route.limiter
        if limiter.shared is not None:
            return await self._take_shared(limiter)
        while (wait := limiter.bucket.delay(self.monotonic())) > 0:
            if wait > self.policy.batch_seconds:
                return wait
            if await self._stopped_during(wait):
                return 0.0
        return None

    async def _stopped_during(self, seconds: float) -> bool:
        """Wait `seconds` for the rate; tell whether a stop came meanwhile (it cuts the wait).

        The wait between two sends is a millisecond at 1000/s: a plain sleep, which costs
        far less than waiting on the stop event; only longer waits are cut short.
        """
        if seconds < 0.05:
            await asyncio.sleep(seconds)
            return self._stopping.is_set()
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _take_shared(self, limiter: ChannelLimiter) -> float | None:
        """Take a slot reserved in the bucket every instance shares, reserving more if none."""
        assert limiter.shared is not None
        wait = limiter.grant.take(self.monotonic(), limiter.interval)
        if wait is None:
            # A quarter second's slots at a time: four statements a second, evenly spaced.
            count = max(1, int(limiter.bucket.rate * 0.25))
            last = await asyncio.to_thread(limiter.shared.reserve_at, count)
            limiter.grant.give(last - (count - 1) * limiter.interval, count)
            wait = limiter.grant.take(self.monotonic(), limiter.interval) or 0.0
        if wait > self.policy.batch_seconds:
            return wait  # reserved but unused: the instances send a little less, never more
        if wait > 0 and await self._stopped_during(wait):
            return 0.0
        return None

    async def settle_shared(self) -> None:
        """Write the replies and pauses noted since the last reservation (while idle)."""
        for route in self.routes.values():
            shared = route.limiter.shared
            if shared is not None and shared.pending:
                await asyncio.to_thread(shared.reserve, 0)

    def _ready(self, route: Route, item: Claimed) -> Prepared | Outcome:
        """Return the request for this recipient, or the outcome that makes it unneeded."""
        message = self._messages.get(item.broadcast_id)
        now = self.clock()
        if message is None:
            return Outcome(item.delivery_id, DeliveryStatus.FAILED, error="broadcast not found")
        if isinstance(message, str):  # the broadcast cannot be prepared: why
            return Outcome(item.delivery_id, DeliveryStatus.FAILED, error=message)
        if message.expires_at is not None and message.expires_at <= now:
            return Outcome(
                item.delivery_id, DeliveryStatus.EXPIRED, error="expired before it could be sent"
            )
        wait = route.limiter.chat_wait(item.chat_id, self.monotonic())
        if wait > 0:  # this chat just got a message: come back later, no attempt spent
            return self._hand_back(item, wait)
        prepared = message.static.get(item.channel)
        if prepared is None:
            context = subscriber_context(item.name, item.commune, item.province, item.cooperative)
            try:
                text = message.compiled.render(context)
            except TemplateProblem as exc:
                if exc.reason == "time":  # too slow for anyone: the rest fail at once
                    log.error("broadcast %s fails: %s", item.broadcast_id, exc, extra=ids(item))
                    self._messages[item.broadcast_id] = str(exc)[:300]
                return Outcome(item.delivery_id, DeliveryStatus.FAILED, error=str(exc)[:300])
            prepared = route.sender.prepare(text, message.photo, message.buttons)
        return prepared if route.gate is None else route.gate.check(item, prepared, now)

    async def _send_one(
        self,
        route: Route,
        item: Claimed,
        prepared: Prepared,
        slots: asyncio.Semaphore,
        done: list[Outcome],
        left: float,
    ) -> None:
        try:
            message_id = await route.sender.send(item.chat_id, prepared)
        except SendFailure as failure:
            done.append(self._failed(route, item, failure))
            return
        finally:
            slots.release()
            now = self.monotonic()
            route.limiter.in_flight.end(left, now, prepared.parts)
            route.limiter.sent(item.chat_id, now)  # the chat's second counts from the answer
        if self.refused.pop(item.channel, None) is not None:
            log.info("%s accepts the bot's credentials again; sending resumes", item.channel)
        sent = Outcome(
            item.delivery_id,
            DeliveryStatus.SENT,
            provider_message_id=message_id,
            sent_at=self.clock(),
            via=prepared.via,
        )
        done.append(sent)

    def _credentials_refused(self, channel: Channel, reason: str) -> None:
        """Log, and tell the admins once, that a channel's token is refused; its sends wait."""
        if channel in self.refused:
            return
        self.refused[channel] = reason
        log.error(
            "%s refused the bot's credentials (%s): check its token in the settings; "
            "deliveries wait and are sent once it is accepted again",
            channel,
            reason,
        )
        if self.tell is not None:
            self._later(self.tell(None, say_ops.credentials_refused(channel.value, reason)))

    def _later(self, notice: Awaitable[None]) -> None:
        """Send a notice beside the sending, from the event loop (the claim runs in a thread)."""

        def start() -> None:
            task = asyncio.ensure_future(notice)
            self._alerts.add(task)
            task.add_done_callback(self._alerts.discard)

        if self._loop is not None:
            self._loop.call_soon_threadsafe(start)

    def _failed(self, route: Route, item: Claimed, failure: SendFailure) -> Outcome:
        now = self.clock()
        reason = failure.reason[:300]
        match failure.kind:
            case FailureKind.RETRY_AFTER:
                self.tallies.retry_after[item.channel.value] += 1
                self.tallies.retry_wait[item.channel.value] += failure.retry_after
                route.limiter.pause(self.monotonic(), failure.retry_after)
                log.warning(
                    "%s asked to wait %ss; the channel pauses",
                    item.channel,
                    failure.retry_after,
                    extra=ids(item),
                )
                return self._hand_back(item, failure.retry_after, reason)
            case FailureKind.BLOCKED:
                return Outcome(
                    item.delivery_id,
                    DeliveryStatus.FAILED,
                    error=f"blocked: {reason}",
                    subscriber_id=item.subscriber_id,
                    mark_subscriber=SubscriberStatus.BLOCKED,
                )
            case FailureKind.INVALID_CHAT:
                return Outcome(
                    item.delivery_id,
                    DeliveryStatus.FAILED,
                    error=reason,
                    subscriber_id=item.subscriber_id,
                    mark_subscriber=SubscriberStatus.INVALID,
                )
            case FailureKind.MIGRATED:
                return Outcome(
                    item.delivery_id,
                    DeliveryStatus.QUEUED,
                    refund_attempt=True,
                    next_attempt_at=now,
                    subscriber_id=item.subscriber_id,
                    new_chat_id=failure.new_chat_id,
                )
            case FailureKind.REJECTED:
                return Outcome(item.delivery_id, DeliveryStatus.FAILED, error=reason)
            case FailureKind.OUTSIDE_WINDOW:  # the platform saw it otherwise than we did
                return Outcome(item.delivery_id, DeliveryStatus.OUTSIDE_WINDOW, error=reason)
            case FailureKind.UNAVAILABLE:  # unreachable, or the Zalo OA token being renewed
                # The rest of the batch waits too rather than each trying in turn; the rows'
                # own due time (handed back) says when the channel is tried again.
                pause = min(failure.retry_after, self.policy.batch_seconds)
                route.limiter.pause(self.monotonic(), pause)
                return self._hand_back(item, failure.retry_after, reason)
            case FailureKind.CREDENTIALS:  # no send can go: wait, spend no attempt, tell
                route.limiter.pause(self.monotonic(), failure.retry_after)
                self._credentials_refused(item.channel, reason)
                return self._hand_back(item, failure.retry_after, reason)
            case FailureKind.QUOTA:
                log.warning(
                    "%s quota used up: %s; trying again later",
                    item.channel,
                    reason,
                    extra=ids(item),
                )
                return self._hand_back(item, self.policy.quota_wait.total_seconds(), reason)
        if item.attempts >= self.policy.max_attempts:
            log.warning(
                "delivery %s given up after %s attempts: %s",
                item.delivery_id,
                item.attempts,
                reason,
                extra=ids(item),
            )
            return Outcome(
                item.delivery_id,
                DeliveryStatus.FAILED,
                error=f"gave up after {item.attempts} attempts: {reason}"[:300],
            )
        return Outcome(
            item.delivery_id,
            DeliveryStatus.ERRORED,
            error=reason,
            next_attempt_at=now + self.policy.backoff(item.attempts),
        )
