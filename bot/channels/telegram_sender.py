"""Send bulk messages to the Telegram Bot API over one pooled HTTP client, lean per message."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.channels.base import FailureKind, Prepared, SendFailure
from bot.channels.http import JsonClient
from db.models import Channel
from messages.channels import caption_and_rest, split_text

log = logging.getLogger(__name__)


class TelegramSender:
    """The bulk path: requests built once per broadcast, JSON posted with a pooled client.

    python-telegram-bot costs 2-5 ms of CPU per message, and httpx's pool grows costly with
    many connections; aiohttp's pool and parser keep this path well under 1 ms.
    """

    channel = Channel.TELEGRAM
    max_text = 4096
    max_caption = 1024

    def __init__(
        self,
        token: str,
        api_url: str,
        *,
        paid_broadcast: bool = False,
        connections: int = 64,
        timeout: float = 15.0,
        part_gap: float = 1.0,
    ) -> None:
        self.paid_broadcast = paid_broadcast
        self.part_gap = part_gap
        self.http = JsonClient(
            f"{api_url}{token}/", "Telegram", connections=connections, timeout=timeout
        )

    def prepare(self, text: str, photo: str | None, buttons: list[dict[str, str]]) -> Prepared:
        """Build sendMessage or sendPhoto with HTML text and buttons; split what is long.

        A text over 4,096 characters goes as several messages cut at paragraphs; a caption
        over 1,024 leaves the photo with its first paragraph and the rest follows as text.
        The buttons go under the last message.
        """
        common: dict[str, Any] = {"parse_mode": "HTML"}
        if self.paid_broadcast:
            common["allow_paid_broadcast"] = True
        if photo:
            caption, rest = caption_and_rest(text)
            first = {**common, "photo": photo, "caption": caption}
            method = "sendPhoto"
        else:
            head, *rest = split_text(text)
            first = {**common, "text": head, "link_preview_options": {"is_disabled": True}}
            method = "sendMessage"
        bodies = [first, *({**common, "text": part} for part in rest)]
        if buttons:
            bodies[-1]["reply_markup"] = {"inline_keyboard": button_rows(buttons)}
        return Prepared(method, bodies[0], follow_ups=tuple(bodies[1:]))

    async def send(self, chat_id: str, prepared: Prepared) -> str:
        """Send to one chat; raise SendFailure classified from Telegram's answer."""
        status, answer = await self.http.post(
            prepared.method, {"chat_id": int(chat_id), **prepared.body}
        )
        first = classify(status, answer)
        for body in prepared.follow_ups:  # the first went: what follows must not resend it
            await self._follow_up(chat_id, body)
        return first

    async def _follow_up(self, chat_id: str, body: dict[str, Any]) -> None:
        """Send the next part a second later (Telegram's pace per chat), retrying a little."""
        for attempt in range(3):
            await asyncio.sleep(self.part_gap)
            status, answer = await self.http.post("sendMessage", {"chat_id": int(chat_id), **body})
            try:
                classify(status, answer)
                return
            except SendFailure as failure:
                if failure.kind not in (FailureKind.RETRY_AFTER, FailureKind.TRANSIENT):
                    break
                await asyncio.sleep(min(failure.retry_after, 5.0) * (attempt + 1))
        log.warning("a follow-up part to chat %s was not delivered; the first part was", chat_id)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.close()


def classify(status: int, answer: dict[str, Any]) -> str:
    """Return the message id of a success, or raise the SendFailure an answer means."""
    if answer.get("ok"):
        return str(answer["result"]["message_id"])
    description = str(answer.get("description", f"HTTP {status}"))
    parameters = answer.get("parameters") or {}
    code = answer.get("error_code", status)
    if code == 429:
        retry = float(parameters.get("retry_after", 1))
        raise SendFailure(FailureKind.RETRY_AFTER, description, retry_after=retry)
    if code == 401:  # a revoked or wrong token: nothing can go until an operator fixes it
        raise SendFailure(FailureKind.CREDENTIALS, description, retry_after=60.0)
    if code == 403:
        raise SendFailure(FailureKind.BLOCKED, description)
    if "migrate_to_chat_id" in parameters:
        new_id = str(parameters["migrate_to_chat_id"])
        raise SendFailure(FailureKind.MIGRATED, description, new_chat_id=new_id)
    if code == 400 and "chat not found" in description.lower():
        raise SendFailure(FailureKind.INVALID_CHAT, description)
    if code >= 500 or code == 408:
        raise SendFailure(FailureKind.TRANSIENT, description)
    raise SendFailure(FailureKind.REJECTED, description)


def telegram_button(button: dict[str, str]) -> dict[str, str]:
    """Write a broadcast's button: a link, or an action that comes back as a callback."""
    if "data" in button:
        return {"text": button["label"], "callback_data": button["data"]}
    return {"text": button["label"], "url": button["url"]}


def button_rows(buttons: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    """Lay buttons out one a row, but side by side where they share a "row" (the reactions)."""
    rows: list[list[dict[str, str]]] = []
    for number, button in enumerate(buttons):
        together = (
            number and button.get("row") and button.get("row") == buttons[number - 1].get("row")
        )
        if together:
            rows[-1].append(telegram_button(button))
        else:
            rows.append([telegram_button(button)])
    return rows
