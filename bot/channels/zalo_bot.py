"""Adapt the Zalo Bot Platform: long-poll updates into neutral events, send plain text.

The platform's API is shaped like Telegram's but smaller (getMe, getUpdates, sendMessage,
sendPhoto, sendChatAction, setWebhook) and has no buttons. We talk to it with a thin aiohttp
client rather than `python-zalo-bot`: that package is a renamed copy of python-telegram-bot
(a second copy of PTB's code to keep in step), while the four calls we need are a few lines.
Choices are shown as a numbered list; the conversation already accepts the number or words.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import time
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any

from bot.channels.base import FailureKind, Prepared, SeenRefs, SendFailure
from bot.channels.http import JsonClient
from bot.channels.replies import ChatTurns, send_turn
from bot.conversation.events import EventKind, Inbound, Reply
from bot.media import is_web_url
from bot.ratelimit import ChannelLimiter
from db.models import Channel
from db.textmatch import fold
from messages.channels import plain, split_text
from messages.render import numbered_choices

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://bot-api.zaloplatforms.com/bot"
MAX_TEXT = 2000
Handler = Callable[[Inbound], Awaitable[list[Reply]]]
Missed = Callable[[Inbound], Awaitable[None]]  # a reply to this event could not be delivered


def fit(text: str) -> str:
    """Normalise to NFC (Zalo counts composed characters) and cut to the platform's limit."""
    text = unicodedata.normalize("NFC", text)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class ZaloBotClient:
    """The few Zalo Bot API calls we need, over one pooled connection session."""

    def __init__(self, token: str, api_url: str, *, connections: int = 32) -> None:
        self.http = JsonClient(f"{api_url}{token}/", "Zalo", connections=connections)

    async def call(self, method: str, body: dict[str, Any], timeout: float = 15) -> Any:
        """Call a method and return its result, or raise SendFailure classified."""
        status, answer = await self.http.post(method, body, timeout)
        return classify(status, answer)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.close()


def classify(status: int, answer: dict[str, Any]) -> Any:
    """Return a success's result, or raise the SendFailure a Zalo answer means."""
    if answer.get("ok"):
        return answer.get("result")
    code = int(answer.get("error_code") or status)
    description = str(answer.get("description", f"HTTP {status}"))
    if code == 429:
        raise SendFailure(FailureKind.RETRY_AFTER, description, retry_after=1.0)
    if code == 401:  # a revoked or wrong token: nothing can go until an operator fixes it
        raise SendFailure(FailureKind.CREDENTIALS, description, retry_after=60.0)
    if code == 403:
        raise SendFailure(FailureKind.BLOCKED, description)
    if code == 400 and "not found" in description.lower():
        raise SendFailure(FailureKind.INVALID_CHAT, description)
    if code >= 500 or code == 408:
        raise SendFailure(FailureKind.TRANSIENT, description)
    raise SendFailure(FailureKind.REJECTED, description)


def command_name(word: str) -> str:
    """Name the command typed after "/" as the conversation knows it: "/Dừng" is /dung.

    Members type Vietnamese commands with their accents and capitals; command names are
    ASCII lower case, as Telegram's menu requires.
    """
    return fold(word).replace(" ", "_")


def to_inbound(update: dict[str, Any]) -> Inbound | None:
    """Turn a Zalo Bot update into a neutral event, or None for what needs no answer."""
    message = update.get("message") or {}
    chat = message.get("chat") or {}
    sender = message.get("from") or {}
    if chat.get("chat_type", "PRIVATE") != "PRIVATE" or sender.get("is_bot") or not chat.get("id"):
        return None  # group chats are not member conversations
    event = Inbound(
        channel=Channel.ZALO_BOT,
        chat_id=str(chat["id"]),
        kind=EventKind.OTHER,
        display_name=(sender.get("display_name") or sender.get("name") or None),
        ref=f"zalo:{message['message_id']}" if message.get("message_id") else None,
    )
    text = message.get("text")
    if update.get("event_name") != "message.text.received" or not isinstance(text, str):
        return event
    text = unicodedata.normalize("NFC", text)
    if text.startswith("/"):
        head, _, rest = text[1:].partition(" ")
        command = command_name(head)
        return replace(event, kind=EventKind.COMMAND, command=command, text=rest.strip())
    return replace(event, kind=EventKind.TEXT, text=text)


def render(reply: Reply) -> str:
    """Write a reply as Zalo shows it: text (a preview's HTML as plain text), then choices."""
    text = plain(reply.text) if reply.html else reply.text
    labels = [o.label for o in reply.options]
    aside = bool(reply.options) and all(o.aside for o in reply.options)
    return fit(numbered_choices(text, labels, aside=aside))


class ZaloBotChannel:
    """The conversation side: poll updates, answer each through the neutral conversation."""

    def __init__(
        self,
        client: ZaloBotClient,
        handle: Handler,
        *,
        limiter: ChannelLimiter | None = None,
        poll_timeout: int = 30,
    ) -> None:
        self.client, self._handle, self.poll_timeout = client, handle, poll_timeout
        self.limiter = limiter
        self._seen = SeenRefs()  # message ids already answered
        self._task: asyncio.Task[None] | None = None
        self._turns = ChatTurns()  # one chat's updates in order, chats side by side
        self._working: set[asyncio.Task[None]] = set()
        self.replied: Callable[[float], None] | None = None  # answer times, for /metrics
        self.missed: Missed | None = None  # told when a reply could not be delivered

    async def start(self, webhook_url: str | None = None, secret: str | None = None) -> None:
        """Check the token, then register the webhook, or poll when there is no public URL."""
        me = await self.client.call("getMe", {})
        log.info("zalo bot %s connected", (me or {}).get("account_name", "?"))
        if webhook_url:
            await self.client.call("setWebhook", {"url": webhook_url, "secret_token": secret})
            log.info("zalo bot updates come to %s", webhook_url)
            return
        # A webhook left from an earlier run would make getUpdates answer 409 Conflict.
        await self.client.call("deleteWebhook", {})
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        """Stop polling, let the updates in hand finish, and close connections."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._working:
            await asyncio.gather(*self._working, return_exceptions=True)
        await self.client.close()

    async def _poll(self) -> None:
        while True:
            try:
                update = await self.client.call(
                    "getUpdates", {"timeout": str(self.poll_timeout)}, self.poll_timeout + 10
                )
            except SendFailure as failure:
                if failure.kind != FailureKind.TRANSIENT or "timeout" not in str(failure).lower():
                    log.warning("zalo getUpdates failed: %s; retrying in 2 s", failure)
                    await asyncio.sleep(2)
                continue
            if update:  # handled beside the next ones: a slow chat holds up no other
                task = asyncio.create_task(self.process(update))
                self._working.add(task)
                task.add_done_callback(self._working.discard)

    async def process(self, update: dict[str, Any]) -> None:
        """Answer one update (from polling or a webhook); a replayed message is ignored."""
        event = to_inbound(update)
        if event is None or not self._seen.first_time(event.ref):
            return
        await self._turns.run(event.chat_id, self._answer(event))

    async def _answer(self, event: Inbound) -> None:
        started = time.monotonic()
        replies = await self._handle(event)
        sends = [
            partial(self.client.call, "sendMessage", {"chat_id": event.chat_id, "text": render(r)})
            for r in replies
        ]
        turn = send_turn(
            self.limiter,
            event.chat_id,
            sends,
            started=started,
            replied=self.replied,
            platform="zalo",
        )
        if await turn and self.missed is not None:
            await self.missed(event)


class ZaloBotSender:
    """The bulk side for the dispatcher: plain text, links written out, 2,000 characters."""

    channel = Channel.ZALO_BOT
    max_text = MAX_TEXT

    def __init__(self, client: ZaloBotClient) -> None:
        self.client = client

    def prepare(self, text: str, photo: str | None, buttons: list[dict[str, str]]) -> Prepared:
        """Build sendMessage or sendPhoto; HTML dropped, buttons as lines, long text in parts.

        Zalo takes a photo only by URL: one that is not (a Telegram file id an officer sent)
        is left out, and the caption goes as a text message rather than the send failing.
        """
        if photo and not is_web_url(photo):
            log.warning("a photo that is not an http(s) URL cannot go to Zalo: the text goes alone")
            photo = None
        text = plain(text)
        lines = [button_line(b) for b in buttons]
        if any(lines):
            text += "\n\n" + "\n".join(line for line in lines if line)
        first, *rest = split_plain(text, MAX_TEXT)
        follow_ups = tuple({"text": part} for part in rest)
        if photo:
            return Prepared("sendPhoto", {"photo": photo, "caption": first}, follow_ups=follow_ups)
        return Prepared("sendMessage", {"text": first}, follow_ups=follow_ups)

    async def send(self, chat_id: str, prepared: Prepared) -> str:
        """Send to one member (a long text as several messages); return Zalo's message id."""
        result = await self.client.call(prepared.method, {"chat_id": chat_id, **prepared.body})
        for body in prepared.follow_ups:  # the first went: a failure here must not resend it
            try:
                await self.client.call("sendMessage", {"chat_id": chat_id, **body})
            except SendFailure as failure:
                log.warning("a follow-up part to a Zalo member failed: %s", failure)
                break
        return str((result or {}).get("message_id", ""))

    async def close(self) -> None:
        """Close the client's connections."""
        await self.client.close()


def split_plain(text: str, limit: int) -> list[str]:
    """Split plain text (NFC) into messages of at most `limit`, at paragraphs where possible."""
    escaped = html.escape(unicodedata.normalize("NFC", text), quote=False)
    return [html.unescape(part) for part in split_text(escaped, limit)]


def button_line(button: dict[str, str]) -> str:
    """Write a button as a line, as this platform has none: the link, or what to type."""
    if "url" in button:
        return f"{button['label']}: {button['url']}"
    typed = button.get("typed")
    return f"👉 {button['label']}: gõ {typed}" if typed else ""
