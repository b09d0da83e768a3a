"""Push the fake Telegram's updates to the bot's webhook over real HTTP, as Telegram does.

While a webhook is set and the server serves, a background task POSTs each queued update as
JSON, up to ``max_connections`` at once but one at a time per chat (a chat's updates arrive in
order). A 2xx answer confirms the update; anything else keeps it, notes ``last_error_*`` in
Telegram's words and retries after ``webhook_retry_seconds``. Telegram only accepts https://
and tests have no TLS, so the fake stands in for the TLS-terminating proxy: it POSTs the
registered URL's path and query to ``webhook_origin`` (e.g. ``http://127.0.0.1:8123``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.simulator.telegram_methods import Described, GeneralMethods

_log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
NO_ORIGIN_ERROR = "Failed to resolve host: Name or service not known"
_KEPT_BODIES = 1000  # how many pushed updates push_again can send once more


@dataclass(frozen=True)
class WebhookPush:
    """One POST to the webhook: the update_id sent, and the status answered or the error."""

    update_id: int | None
    status: int | None
    error: str | None


class WebhookPusher(GeneralMethods):
    """Deliver queued updates to the webhook the bot set; see the module docstring."""

    def __init__(
        self,
        token: str,
        *,
        webhook_origin: str | None = None,
        webhook_retry_seconds: float = 0.05,
        **options: Any,
    ) -> None:
        super().__init__(token, **options)
        self._origin = webhook_origin
        self.webhook_retry_seconds = webhook_retry_seconds
        self.webhook_timeout = 5.0  # seconds a push may take before it counts as failed
        self.webhook_pushes: list[WebhookPush] = []
        self._pushed: OrderedDict[int, dict] = OrderedDict()
        self._wake = asyncio.Event()
        self._serving = False
        self._push_task: asyncio.Task[None] | None = None
        self._retired: set[asyncio.Task[None]] = set()

    @property
    def webhook_origin(self) -> str | None:
        """Return the scheme and host pushes go to instead of the registered URL's."""
        return self._origin

    @webhook_origin.setter
    def webhook_origin(self, origin: str | None) -> None:
        self._origin = origin
        self._wake.set()  # updates held for want of an origin go out now

    # --- switching the pusher on and off -----------------------------------------------------
    def inject(self, body: dict) -> dict:
        update = super().inject(body)
        self._wake.set()
        return update

    def _set_webhook(self, params: dict) -> Described:
        described = super()._set_webhook(params)
        self._resume_pushing()
        return described

    def _delete_webhook(self, params: dict) -> Described:
        described = super()._delete_webhook(params)
        self._halt_pushing()
        return described

    def _resume_pushing(self) -> None:
        """Start the pusher if a webhook is set, the server serves and none runs yet."""
        if self._serving and self.webhook["url"] and self._push_task is None:
            self._push_task = asyncio.create_task(self._push_loop())
        self._wake.set()  # a running pusher reads the new settings at once

    def _halt_pushing(self) -> None:
        """Cancel the pusher; it cancels its requests and closes its client on its own."""
        task, self._push_task = self._push_task, None
        if task is not None and not task.done():
            task.cancel()
            self._retired.add(task)
            task.add_done_callback(self._retired.discard)

    def start_pushing(self) -> None:
        """Let the pusher run (the server serves now), and start it if a webhook is set."""
        self._serving = True
        self._resume_pushing()

    async def stop_pushing(self) -> None:
        """Stop the pusher and wait until its requests are cancelled and its client closed."""
        self._serving = False
        self._halt_pushing()
        if self._retired:  # asyncio.wait: a cancelled pusher must not cancel the caller
            await asyncio.wait(list(self._retired))

    # --- the pusher --------------------------------------------------------------------------
    async def _push_loop(self) -> None:
        # One push in flight per chat (its retry delay included), keyed by the chat.
        in_flight: dict[Hashable, asyncio.Task[None]] = {}
        limits = httpx.Limits(max_keepalive_connections=100)
        async with httpx.AsyncClient(limits=limits) as client:
            try:
                while True:
                    self._wake.clear()
                    self._launch_ready(client, in_flight)
                    await self._wake.wait()
            finally:  # cancelled: end this run's pushes before the client closes
                for task in in_flight.values():
                    task.cancel()
                if in_flight:
                    await asyncio.wait(list(in_flight.values()))

    def _launch_ready(self, client: httpx.AsyncClient, in_flight: dict) -> None:
        """Start a push for the oldest queued update of every chat with none in flight."""
        if self._updates and self._target_url() is None:
            self._note_error(NO_ORIGIN_ERROR)
            return
        limit = self.webhook.get("max_connections") or 40
        blocked = set(in_flight)  # a chat's later updates wait behind its first
        for update in self._updates:
            if len(in_flight) >= limit:
                break
            chat = _chat_key(update)
            if chat not in blocked:
                blocked.add(chat)
                release = functools.partial(in_flight.pop, chat, None)
                in_flight[chat] = asyncio.create_task(self._deliver(client, update, release))

    async def _deliver(
        self, client: httpx.AsyncClient, update: dict, release: Callable[[], object]
    ) -> None:
        """Push one update; drop it on 2xx, else keep it and hold its chat for the retry delay."""
        try:
            status, error = await self._post(client, update, self.webhook.get("secret_token"))
            if status is not None and 200 <= status < 300:
                with contextlib.suppress(ValueError):  # dropped meanwhile: nothing to confirm
                    self._updates.remove(update)
                self.call_log.notify()
            else:
                self._note_error(error or NO_ORIGIN_ERROR)
                await asyncio.sleep(self.webhook_retry_seconds)
        finally:
            release()
            self._wake.set()

    async def _post(
        self, client: httpx.AsyncClient, body: dict, secret: str | None
    ) -> tuple[int | None, str | None]:
        """POST body to the webhook; return the status and Telegram's wording of an error."""
        url = self._target_url()
        if url is None:
            return None, NO_ORIGIN_ERROR
        update_id = body.get("update_id") if isinstance(body.get("update_id"), int) else None
        if update_id is not None:
            self._pushed[update_id] = body
            self._pushed.move_to_end(update_id)
            if len(self._pushed) > _KEPT_BODIES:
                self._pushed.popitem(last=False)
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        content = json.dumps(body, ensure_ascii=False).encode()
        status, error = None, None
        try:
            answer = await client.post(
                url, content=content, headers=headers, timeout=self.webhook_timeout
            )
            status = answer.status_code
            if not 200 <= status < 300:
                error = f"Wrong response from the webhook: {status} {answer.reason_phrase}"
        except (httpx.HTTPError, httpx.InvalidURL) as failure:
            error = _telegram_wording(failure)
        self.webhook_pushes.append(WebhookPush(update_id, status, error))
        self.call_log.notify()
        return status, error

    def _target_url(self) -> str | None:
        """Return the registered URL's path and query on webhook_origin, or None."""
        if not self._origin or not self.webhook["url"]:
            return None
        registered = urlsplit(self.webhook["url"])
        query = f"?{registered.query}" if registered.query else ""
        return f"{self._origin.rstrip('/')}{registered.path or '/'}{query}"

    def _note_error(self, message: str) -> None:
        if message == NO_ORIGIN_ERROR and self.webhook.get("last_error_message") != message:
            _log.warning(
                "fake Telegram holds updates for the webhook: set fake.webhook_origin "
                "(or --webhook-origin) to the bot's http://host:port"
            )
        self.webhook["last_error_date"] = int(time.time())  # unix time, as Telegram answers
        self.webhook["last_error_message"] = message
        self.call_log.notify()

    # --- driver helpers ----------------------------------------------------------------------
    async def push_again(self, update_id: int) -> int:
        """POST an update already pushed once more, as Telegram re-delivers; return the status."""
        body = self._pushed.get(update_id)
        if body is None:
            raise KeyError(f"update {update_id} was never pushed (or is older than the last 1000)")
        return await self.push_raw(body, self.webhook.get("secret_token"))

    async def push_raw(self, body: dict, secret: str | None) -> int:
        """POST any body with that secret header (None: no header) to the webhook."""
        if self._target_url() is None:
            raise RuntimeError(
                "no webhook to push to: the bot must call setWebhook and the test must set "
                "fake.webhook_origin to the bot's http://host:port"
            )
        async with httpx.AsyncClient() as client:
            status, error = await self._post(client, body, secret)
        if status is None:
            raise ConnectionError(f"the webhook did not answer: {error}")
        return status


def _chat_key(update: dict) -> Hashable:
    """Return the chat an update belongs to (or its sender, or its kind)."""
    for name, content in update.items():
        if name != "update_id" and isinstance(content, dict):
            for holder in (content, content.get("message")):
                if isinstance(holder, dict) and isinstance(holder.get("chat"), dict):
                    return holder["chat"].get("id")
            sender = content.get("from") or content.get("user")
            return sender.get("id") if isinstance(sender, dict) else name
    return None


def _telegram_wording(failure: Exception) -> str:
    """Word a failed request the way getWebhookInfo's last_error_message does."""
    for kind, wording in _WORDINGS:
        if isinstance(failure, kind):
            return wording
    return "Connection reset by peer"


_WORDINGS: tuple[tuple[type[Exception], str], ...] = (
    (httpx.InvalidURL, NO_ORIGIN_ERROR),  # a webhook_origin that is no http:// origin
    (httpx.UnsupportedProtocol, NO_ORIGIN_ERROR),
    (httpx.ConnectTimeout, "Connection timed out"),  # before TimeoutException, its parent
    (httpx.TimeoutException, "Read timeout expired"),
    (httpx.ConnectError, "Connection refused"),
)
