"""Compose the bot from one Settings: database, conversation, channels, dispatcher and scheduler."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

from bot.channels.base import FailureKind, SendFailure
from bot.channels.replies import ConversationLimiter
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_sender import TelegramSender
from bot.channels.zalo_bot import ZaloBotChannel, ZaloBotClient, ZaloBotSender
from bot.channels.zalo_oa import ZaloOAChannel, ZaloOAClient, ZaloOASender
from bot.channels.zalo_oa_rules import ZaloOAGate, ZaloRules, ZnsTemplate
from bot.channels.zalo_oa_tokens import TokenKeeper, ZaloOAuth
from bot.conversation.events import Inbound, Reply
from bot.conversation.member import MemberConversation, mark_missed
from bot.conversation.staff import StaffConversation, StaffPolicy
from bot.conversation.staff import wants as staff_wants
from bot.dispatcher import Dispatcher, DispatchPolicy, Route
from bot.monitor import Monitor
from bot.ratelimit import SHARED_HEADROOM, ChannelLimiter
from bot.settings import Settings, SettingsError
from bot.shared_rate import SharedRate
from bot.web import ZALO_BOT_PATH, Webhooks, WebServer
from db import audit, updates
from db.base import utcnow
from db.engine import create_db_engine, first_line, is_postgresql, session_factory
from db.migrate import alembic_config
from db.models import Channel, Staff, StaffRole
from db.staff import find_staff
from schedules.scheduler import Scheduler, SchedulerPolicy

log = logging.getLogger(__name__)


class _HandledElsewhere(Exception):
    """The update was handled already (a platform's retry, maybe to another instance)."""


class SchemaError(Exception):
    """The database is missing or behind the code; the message says which command fixes it."""


def check_schema(engine: Engine) -> None:
    """Refuse to start on a database that `outreach db upgrade` has not brought up to date.

    A database newer than this code (a revision it does not know) is accepted with a
    warning: during an upgrade the new version migrates first, and the old instances keep
    running, or restart, until their turn comes. Migrations only add, so the old code works.
    """
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    head = scripts.get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        raise SchemaError("the database is empty: run `outreach db upgrade` first")
    if current == head:
        return
    known = {script.revision for script in scripts.walk_revisions()}
    if current not in known:
        log.warning(
            "the database is at revision %s, newer than this version (%s): "
            "finish upgrading this instance",
            current,
            head,
        )
        return
    raise SchemaError(
        f"the database is at revision {current}, the code needs {head}: run `outreach db upgrade`"
    )


def seed_admins(session: Session, admins: tuple[int, ...], now: datetime) -> None:
    """Make sure every Telegram user id in OUTREACH_ADMINS is a staff admin."""
    for user_id in admins:
        query = select(Staff).where(
            Staff.channel == Channel.TELEGRAM, Staff.user_id == str(user_id)
        )
        staff = session.scalar(query)
        if staff is None:
            staff = Staff(
                channel=Channel.TELEGRAM, user_id=str(user_id), role=StaffRole.ADMIN, created_at=now
            )
            session.add(staff)
            session.flush()
            audit.record(
                session,
                actor="config:OUTREACH_ADMINS",
                action="staff.add",
                target=f"staff:{staff.id}",
                changes={"channel": "telegram", "user_id": str(user_id), "role": "admin"},
                now=now,
            )
        elif staff.role != StaffRole.ADMIN:
            audit.record(
                session,
                actor="config:OUTREACH_ADMINS",
                action="staff.change",
                target=f"staff:{staff.id}",
                changes={"role": [staff.role.value, "admin"], "area": [None, None]},
                now=now,
            )
            staff.role, staff.area_id = StaffRole.ADMIN, None


def unreachable(exc: Exception) -> bool:
    """Tell whether an error means the platform could not be reached (worth trying again)."""
    if isinstance(exc, SendFailure):
        return exc.kind in (FailureKind.TRANSIENT, FailureKind.UNAVAILABLE)
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


def webhook_secret(token: str | None) -> str:
    """Derive the secret a platform sends back with each update from the bot token.

    Every instance derives the same one, so whichever registered the webhook last, all of them
    accept its updates; a new token (after a leak) gives a new secret.
    """
    if not token:
        return ""
    return hmac.new(token.encode(), b"outreach webhook secret", hashlib.sha256).hexdigest()


def zalo_oa_gate(settings: Settings) -> ZaloOAGate:
    """Build Zalo's sending rules from the configuration."""
    rules = ZaloRules(
        tz=settings.tz,
        reply_window=timedelta(hours=settings.zalo_oa_reply_window_hours),
        max_silence=timedelta(days=settings.zalo_oa_max_silence_days),
        promotion=settings.zalo_oa_promotion,
        night_start=settings.zalo_oa_night_start,
        night_end=settings.zalo_oa_night_end,
    )
    zns = None
    if settings.zalo_zns_template_id:
        zns = ZnsTemplate(
            settings.zalo_zns_template_id,
            settings.zalo_zns_text_param,
            settings.zalo_zns_name_param,
            settings.zalo_zns_text_max,
        )
    return ZaloOAGate(rules, zns)


class OutreachApp:
    """The running product: owns the engine, the session factory and the channels."""

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        *,
        policy: DispatchPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.engine = create_db_engine(settings.database_url)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self.conversation = MemberConversation(
            settings.tz,
            phone=settings.zalo_oa and settings.zalo_zns_template_id is not None,
            rules=settings.outreach_triage_rules,
        )
        self.staff = StaffConversation(
            settings.tz,
            StaffPolicy(frozenset(settings.outreach_approval_kinds)),
            rules=settings.outreach_triage_rules,
        )
        settings.require_channel()
        routes: dict[Channel, Route] = {}
        self.telegram: TelegramChannel | None = None
        self.zalo_bot: ZaloBotChannel | None = None
        if settings.telegram_bot_token:
            self.telegram, routes[Channel.TELEGRAM] = self._telegram(settings.telegram_bot_token)
        if settings.zalo_bot_token:
            self.zalo_bot, routes[Channel.ZALO_BOT] = self._zalo_bot(settings.zalo_bot_token)
        self.zalo_oa: ZaloOAChannel | None = None
        if settings.zalo_oa:
            self.zalo_oa, routes[Channel.ZALO_OA] = self._zalo_oa()
        self.routes = routes
        takeover = timedelta(seconds=settings.outreach_takeover_seconds)
        self.dispatcher = Dispatcher(
            self.sessions,
            routes,
            clock=clock,
            policy=policy or DispatchPolicy(lease=takeover),
            tell=self.tell,
        )
        self.turns = ThreadPoolExecutor(32, thread_name_prefix="turn")  # members' turns
        self.scheduler = Scheduler(
            self.sessions,
            clock=clock,
            policy=SchedulerPolicy(tick_seconds=settings.outreach_scheduler_tick, lease=takeover),
        )
        self.monitor = Monitor(self)
        self.webhooks = self._webhooks()
        self.web: WebServer | None = None
        self.started_at = time.monotonic()
        self._stopping = asyncio.Event()
        self._dispatch_task: asyncio.Task[None] | None = None
        self._starting: set[asyncio.Task[None]] = set()  # channels not reached yet

    def _limiter(self, channel: Channel, rate: float) -> ChannelLimiter:
        """Build a channel's limiter; on PostgreSQL its rate is shared by every instance."""
        interval = self.settings.outreach_chat_interval
        if not is_postgresql(self.engine):
            return ChannelLimiter(rate, interval)
        # Each instance bounds only its own sends in any second (InFlight); together they rely
        # on the shared pace alone, so it keeps more room for their clocks' small disagreement.
        limiter = ChannelLimiter(rate, interval, headroom=SHARED_HEADROOM)
        bucket = limiter.bucket  # the paced rate, a few milliseconds' tolerance
        limiter.shared = SharedRate(self.engine, channel.value, bucket.rate, bucket.capacity)
        return limiter

    def _telegram(self, token: str) -> tuple[TelegramChannel, Route]:
        settings = self.settings
        # One limiter per channel, shared: member replies debit it first, bulk sends wait.
        limiter = self._limiter(Channel.TELEGRAM, settings.telegram_rate_limit)
        channel = TelegramChannel(
            token,
            settings.telegram_api_url,
            self.handle_event,
            ConversationLimiter(limiter, time.monotonic),
        )
        sender = TelegramSender(
            token, settings.telegram_api_url, paid_broadcast=settings.telegram_paid_broadcast
        )
        return channel, Route(sender, limiter)

    def _zalo_bot(self, token: str) -> tuple[ZaloBotChannel, Route]:
        limiter = self._limiter(Channel.ZALO_BOT, self.settings.zalo_bot_rate_limit)
        client = ZaloBotClient(token, self.settings.zalo_bot_api_url)
        channel = ZaloBotChannel(client, self.handle_event, limiter=limiter)
        return channel, Route(ZaloBotSender(client), limiter)

    def _zalo_oa(self) -> tuple[ZaloOAChannel, Route]:
        settings = self.settings
        assert settings.zalo_oa_app_id and settings.zalo_oa_app_secret
        assert settings.zalo_oa_secret_key
        oauth = ZaloOAuth(
            settings.zalo_oauth_url, settings.zalo_oa_app_id, settings.zalo_oa_app_secret
        )
        tokens = TokenKeeper(self.sessions, oauth, clock=self.clock, alert=self.alert_admins)
        client = ZaloOAClient(settings.zalo_oa_api_url, settings.zalo_zns_api_url, tokens)
        limiter = self._limiter(Channel.ZALO_OA, settings.zalo_oa_rate_limit)
        channel = ZaloOAChannel(
            client,
            self.handle_event,
            app_id=settings.zalo_oa_app_id,
            secret_key=settings.zalo_oa_secret_key,
            limiter=limiter,
        )
        return channel, Route(ZaloOASender(client), limiter, gate=zalo_oa_gate(settings))

    def _webhooks(self) -> Webhooks:
        """Build the web endpoints, and hook the channels' answer times to the metrics."""
        settings = self.settings
        for channel, adapter in (
            (Channel.TELEGRAM, self.telegram),
            (Channel.ZALO_BOT, self.zalo_bot),
            (Channel.ZALO_OA, self.zalo_oa),
        ):
            if adapter is not None:
                adapter.replied = self.monitor.replied(channel)
                adapter.missed = self.missed
        webhooks = Webhooks(
            self.zalo_bot,
            webhook_secret(settings.zalo_bot_token),  # told to Zalo with setWebhook at start
            zalo_oa=self.zalo_oa,
            telegram=self.telegram,
            telegram_secret=settings.telegram_webhook_secret
            or webhook_secret(settings.telegram_bot_token),
            monitor=self.monitor,
            media_dir=settings.outreach_media_dir,  # photos given as files, served at /m/
        )
        if settings.telegram_webhook_url:  # served where the URL given points, too
            webhooks.telegram_paths.add(urlsplit(settings.telegram_webhook_url).path or "/")
        return webhooks

    def probes(self) -> dict[str, Callable[[], Awaitable[object]]]:
        """Return per channel a call that succeeds only while its credentials are accepted."""
        probes: dict[str, Callable[[], Awaitable[object]]] = {}
        if self.telegram is not None:
            probes["telegram"] = self.telegram.application.bot.get_me
        if self.zalo_bot is not None:
            client = self.zalo_bot.client
            probes["zalo_bot"] = lambda: client.call("getMe", {})
        if self.zalo_oa is not None:
            probes["zalo_oa"] = self.zalo_oa.client.tokens.access_token
        return probes

    async def tell(self, chat: str | None, text: str) -> None:
        """Tell an officer (their Telegram chat) or, with no chat, the admins something to fix."""
        if chat is None:
            await self.alert_admins(text)
        else:
            await self.notify([Reply(text, chat=chat, channel=Channel.TELEGRAM)])

    async def alert_admins(self, text: str) -> None:
        """Tell the admins (OUTREACH_ADMINS, on Telegram) about something they must fix."""
        if self.telegram is None:
            log.warning("no Telegram bot to alert the admins with; the log says what to fix")
            return
        for admin in self.settings.outreach_admins:
            try:
                await self.telegram.application.bot.send_message(admin, text)
            except TelegramError as exc:
                log.warning("could not alert admin %s: %s", admin, exc)

    def handle_now(self, event: Inbound) -> list[Reply]:
        """Handle one event in its own transaction: an officer's staff business, or a member's.

        The update is marked handled last, in the same transaction: a slow turn (an officer's
        report) then holds SQLite's write lock only for its own writes, not from its start.
        A copy of the update handled meanwhile elsewhere makes this one roll back, unanswered.
        """
        ref = event.ref
        try:
            with self.sessions.begin() as session:
                if ref is not None and updates.seen(session, ref):
                    raise _HandledElsewhere
                officer = find_staff(session, event.channel, event.chat_id)
                if officer is not None and staff_wants(officer, event):
                    replies = self.staff.handle(session, officer, event, self.clock())
                else:
                    replies = self.conversation.handle(session, event, self.clock())
                if ref is not None and not updates.first_time(session, ref, self.clock()):
                    raise _HandledElsewhere
                return replies
        except _HandledElsewhere:
            log.info(
                "update %s came again (a platform retry); ignored", ref, extra={"update_id": ref}
            )
            return []

    async def handle_event(self, event: Inbound) -> list[Reply]:
        """Handle one event off the event loop (database calls block); notices go out here.

        Members' turns have threads of their own, so that slow turns (an officer's report)
        never hold up the dispatcher's database work, nor more than their own chat.
        """
        self.monitor.updates.labels(event.channel.value).inc()
        loop = asyncio.get_running_loop()
        replies = await loop.run_in_executor(self.turns, self.handle_now, event)
        mine: list[Reply] = []
        notices: list[Reply] = []
        for reply in replies:
            # The Telegram adapter delivers notices to other Telegram chats itself; a notice
            # raised on Zalo (a flagged message) is sent from here, on the officer's channel.
            here = event.channel is Channel.TELEGRAM and reply.channel in (None, Channel.TELEGRAM)
            (notices if reply.chat is not None and not here else mine).append(reply)
        await self.notify(notices)
        return mine

    async def missed(self, event: Inbound) -> None:
        """Note that a member's replies did not all arrive: their next message asks again."""

        def mark() -> bool:
            with self.sessions.begin() as session:
                return mark_missed(session, event.channel, event.chat_id)

        loop = asyncio.get_running_loop()
        if await loop.run_in_executor(self.turns, mark):
            log.warning(
                "a reply to %s:%s was not delivered; the question is asked again at the "
                "member's next message",
                event.channel,
                event.chat_id,
            )

    async def notify(self, notices: list[Reply]) -> None:
        """Send notices to officers, who are reached on Telegram; a failure is only logged."""
        for notice in notices:
            if (notice.channel or Channel.TELEGRAM) is Channel.TELEGRAM and self.telegram:
                await self.telegram.send_replies(0, [notice])  # goes to notice.chat
            else:
                log.warning("no way to notify an officer on %s; notice dropped", notice.channel)

    async def _start_web(self) -> None:
        """Serve the webhooks, /healthz and /metrics."""
        if self.web is None:
            settings = self.settings
            app = self.webhooks.app()
            self.web = WebServer(app, settings.outreach_web_host, settings.outreach_web_port)
            await self.web.start()

    async def _start_zalo_bot(self, channel: ZaloBotChannel) -> None:
        """Take Zalo updates by webhook when a public URL is set, else by long polling."""
        public = self.settings.outreach_public_url
        if public is None:
            await channel.start()
            return
        await channel.start(public + ZALO_BOT_PATH, self.webhooks.zalo_bot_secret)

    async def _start_channel(self, name: str, start: Callable[[], Awaitable[None]]) -> None:
        """Start a channel; if its platform cannot be reached, keep trying in the background.

        The rest of the bot runs meanwhile (other channels, the web server whose /healthz
        names the channel, the outbox, which waits), and the log says what is tried.
        """
        reason = await self._try_start(name, start)
        if reason is None:
            return
        log.error(
            "%s is unreachable (%s): check the network or the proxy; trying again in the "
            "background, and /healthz reports it until it answers",
            name,
            reason,
        )
        task = asyncio.create_task(self._keep_starting(name, start))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _try_start(self, name: str, start: Callable[[], Awaitable[None]]) -> str | None:
        """Start a channel once; return why, if its platform could not be reached."""
        try:
            await start()
        except (NetworkError, SendFailure) as exc:
            if not unreachable(exc):
                raise
            return first_line(exc)
        except InvalidToken as exc:
            raise SettingsError(f"{name} refused the bot token ({exc}): check it") from None
        return None

    async def _keep_starting(self, name: str, start: Callable[[], Awaitable[None]]) -> None:
        """Try starting a channel again, 2 s then doubling to a minute between tries."""
        wait = 2.0
        while True:
            await asyncio.sleep(wait)
            try:
                reason = await self._try_start(name, start)
            except (TelegramError, SendFailure, SettingsError) as exc:
                log.error("%s cannot start: %s", name, first_line(exc))
                return
            if reason is None:
                log.info("%s reached: the channel is running", name)
                return
            wait = min(wait * 2, 60.0)
            log.warning("%s still unreachable (%s); next try in %.0f s", name, reason, wait)

    @property
    def channels(self) -> list[TelegramChannel | ZaloBotChannel | ZaloOAChannel]:
        """Return the member-facing channels that are configured."""
        return [c for c in (self.telegram, self.zalo_bot, self.zalo_oa) if c is not None]

    async def start(self) -> None:
        """Check the database, seed the first admins and start the channels."""
        check_schema(self.engine)
        with self.sessions.begin() as session:
            seed_admins(session, self.settings.outreach_admins, self.clock())
        await self._start_web()  # before any webhook is registered: updates may come at once
        if self.telegram is not None:
            url = self.settings.telegram_webhook_url
            secret = self.webhooks.telegram_secret if url else None
            name = f"Telegram at {self.settings.telegram_api_url} (TELEGRAM_API_URL)"
            await self._start_channel(name, partial(self.telegram.start, url, secret))
        if self.zalo_bot is not None:
            name = f"the Zalo Bot at {self.settings.zalo_bot_api_url} (ZALO_BOT_API_URL)"
            await self._start_channel(name, partial(self._start_zalo_bot, self.zalo_bot))
        if self.zalo_oa is not None:
            await self.zalo_oa.start()
        # Everything built so far lives as long as the process: keep the garbage collector
        # from walking it again on every collection while messages flow.
        gc.collect()
        gc.freeze()
        self._stopping.clear()
        self._dispatch_task = asyncio.create_task(self.dispatcher.run(self._stopping))
        await self.scheduler.start()
        log.info("bot started")

    async def stop(self) -> None:
        """Stop the channels and release database connections."""
        for task in list(self._starting):
            task.cancel()
        await self.scheduler.stop()
        self._stopping.set()
        if self._dispatch_task is not None:
            await self._dispatch_task  # finishes and records the batch in hand
            self._dispatch_task = None
        if self.web is not None:
            await self.web.stop()
            await self.webhooks.drain()
        for channel in self.channels:
            await channel.stop()
        for route in self.routes.values():
            await route.sender.close()
        self.turns.shutdown(wait=True)
        self.turns = ThreadPoolExecutor(32, thread_name_prefix="turn")  # for a start again
        self.engine.dispose()
        log.info("bot stopped")

    async def run_until_signalled(self) -> None:
        """Run until SIGINT or SIGTERM, then stop cleanly."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await self.start()
        try:
            await stopping.wait()
        finally:
            await self.stop()


__all__ = ["OutreachApp", "SchemaError", "SettingsError", "check_schema", "seed_admins"]
