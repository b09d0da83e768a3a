"""Probe the channels' APIs for `outreach doctor`: tokens, webhooks and the servers' clocks.

This module holds the `Check` every doctor check returns; `bot.doctor` runs them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit

import aiohttp
from telegram import Bot, WebhookInfo
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.channels.base import FailureKind, SendFailure
from bot.channels.zalo_bot import ZaloBotClient
from bot.settings import Settings
from db.base import utcnow

Status = Literal["ok", "warn", "fail"]
TIMEOUT = 5.0  # seconds: an operator waits for the answer
PENDING_LIMIT = 100
NETWORK_FIX = "check the machine's internet access, firewall or proxy"
TELEGRAM_TOKEN_FIX = (
    "the token was revoked or mistyped: get the current one from @BotFather (/token)"
)
ZALO_TOKEN_FIX = (
    "the token was revoked or mistyped: copy the current one from bot.zaloplatforms.com"
)


@dataclass(frozen=True)
class Check:
    """One check's outcome: what was checked, how it went, and what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class Reading:
    """How far another machine's clock is ahead of ours (seconds), or why it is not known."""

    source: str
    offset: float | None
    error: str = ""


def not_checked(name: str, why: str) -> Check:
    """Return the warning of a check that could not run because an earlier one failed."""
    return Check(name, "warn", f"not checked: {why}")


def bot_id(token: str) -> str:
    """Show a token as its bot id, the digits before ':', never its secret part."""
    return token.partition(":")[0]


def redact(text: str, *secrets: str | None) -> str:
    """Hide every secret in a library's message (PTB's InvalidToken quotes the token)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, f"{bot_id(secret)}:***")
    return text


def host_of(url: str) -> str:
    """Return the host (and port) of an API URL, as an operator would look it up."""
    return urlsplit(url).netloc


def _request() -> HTTPXRequest:
    return HTTPXRequest(
        connect_timeout=TIMEOUT, read_timeout=TIMEOUT, write_timeout=TIMEOUT, pool_timeout=TIMEOUT
    )


async def check_telegram(
    token: str, settings: Settings, now: Callable[[], datetime] = utcnow
) -> Check:
    """Ask Telegram who the bot is and how its webhook stands."""
    host = host_of(settings.telegram_api_url)
    bot = Bot(
        token,
        base_url=settings.telegram_api_url,
        request=_request(),
        get_updates_request=_request(),
    )
    try:
        async with bot:  # initialize() asks getMe; leaving shuts the HTTP clients down
            who = f"@{bot.username} (bot {bot_id(token)})"
            info = await bot.get_webhook_info()
    except InvalidToken:
        detail = f"Telegram refused TELEGRAM_BOT_TOKEN (bot {bot_id(token)})"
        return Check("telegram", "fail", detail, TELEGRAM_TOKEN_FIX)
    except BadRequest as exc:  # a NetworkError in PTB's taxonomy, but Telegram did answer
        detail = f"Telegram answered: {redact(exc.message, token)}"
        return Check("telegram", "fail", detail, "check TELEGRAM_API_URL")
    except NetworkError as exc:  # TimedOut too
        detail = f"cannot reach {host}: {redact(str(exc), token)}"
        return Check("telegram", "fail", detail, NETWORK_FIX)
    except TelegramError as exc:
        detail = f"Telegram answered: {redact(exc.message, token)}"
        return Check("telegram", "fail", detail, TELEGRAM_TOKEN_FIX)
    return judge_webhook(who, info, settings, now(), token)


def judge_webhook(
    who: str, info: WebhookInfo, settings: Settings, now: datetime, token: str
) -> Check:
    """Compare the webhook Telegram has with the configured mode, and look at its errors."""
    registered = redact(info.url or "", token)
    wanted = settings.telegram_webhook_url
    notes: list[str] = []
    fixes: list[str] = []
    if wanted and registered != wanted:
        notes.append(f"Telegram has the webhook {registered or '(none)'}, not {wanted}")
        fixes.append("nothing to do: `outreach run` registers TELEGRAM_WEBHOOK_URL at start")
    elif not wanted and registered:
        notes.append(
            f"a webhook is registered ({registered}) but TELEGRAM_WEBHOOK_URL is empty, "
            "so `outreach run` polls and deletes it at start (fine)"
        )
    if info.last_error_message:
        age = f" {_age(now - _aware(info.last_error_date))} ago" if info.last_error_date else ""
        notes.append(
            f"Telegram's last delivery to the webhook failed{age}: {info.last_error_message}"
        )
        fixes.append("make sure the webhook URL is reachable from the internet over HTTPS")
    if info.pending_update_count > PENDING_LIMIT:
        notes.append(f"{info.pending_update_count} updates are waiting at Telegram")
        fixes.append("start the bot (`outreach run`); if it runs, see its log for why it lags")
    mode = f"webhook {registered}" if wanted and registered == wanted else "long polling"
    if not notes:
        return Check("telegram", "ok", f"{who}, {mode}")
    return Check("telegram", "warn", f"{who}; " + "; ".join(notes), "; ".join(fixes))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _age(elapsed: timedelta) -> str:
    seconds = max(0, int(elapsed.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


async def check_zalo_bot(token: str, settings: Settings) -> Check:
    """Ask the Zalo Bot Platform who the bot is."""
    client = ZaloBotClient(token, settings.zalo_bot_api_url, connections=1)
    try:
        me = await client.call("getMe", {}, timeout=TIMEOUT)
    except SendFailure as failure:
        return _zalo_failure(failure, host_of(settings.zalo_bot_api_url), token)
    finally:
        await client.close()
    name = (me or {}).get("account_name") or "?"
    return Check("zalo-bot", "ok", f"{name} (bot {bot_id(token)})")


def _zalo_failure(failure: SendFailure, host: str, token: str) -> Check:
    reason = redact(failure.reason, token)
    refused = failure.kind in (
        FailureKind.CREDENTIALS,
        FailureKind.REJECTED,
        FailureKind.BLOCKED,
        FailureKind.INVALID_CHAT,
    )
    # A proxy or Zalo's front end may answer a bad token with a bare page instead of JSON.
    if refused or reason.startswith(("HTTP 401", "HTTP 404")):
        detail = f"Zalo refused ZALO_BOT_TOKEN (bot {bot_id(token)}): {reason}"
        return Check("zalo-bot", "fail", detail, ZALO_TOKEN_FIX)
    if failure.kind == FailureKind.RETRY_AFTER:
        return Check("zalo-bot", "warn", f"Zalo asked to slow down: {reason}", "try again later")
    if reason.startswith(("network error", "timed out", "cannot reach")):
        return Check("zalo-bot", "fail", f"cannot reach {host}: {reason}", NETWORK_FIX)
    detail = f"{host} answered with an error: {reason}"
    return Check(
        "zalo-bot", "fail", detail, "Zalo's server has trouble: try again in a few minutes"
    )


async def http_reading(url: str, now: Callable[[], datetime]) -> Reading:
    """Read the Date header of an API server's answer and compare it with our clock."""
    parts = urlsplit(url)
    host = parts.netloc
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    try:
        # The server's root: any answer (a redirect, a 404) carries a Date, and no token is sent.
        async with aiohttp.ClientSession(timeout=timeout) as session:
            before = now()
            async with session.get(f"{parts.scheme}://{host}/", allow_redirects=False) as answer:
                after = now()
                header = answer.headers.get("Date")
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Reading(host, None, f"cannot reach {host} ({type(exc).__name__})")
    try:
        theirs = parsedate_to_datetime(header) if header else None
    except (TypeError, ValueError):
        theirs = None
    if theirs is None:
        return Reading(host, None, f"{host} sent no usable Date header")
    # Date counts whole seconds: the server's true time lies within the second after it.
    middle = before + (after - before) / 2
    return Reading(host, (_aware(theirs) + timedelta(seconds=0.5) - middle).total_seconds())
