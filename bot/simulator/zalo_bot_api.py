"""Serve a fake Zalo Bot Platform API over real HTTP, answering the way Zalo does.

``POST {base_url}{token}/{method}`` with a JSON body answers ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": "..."}`` with HTTP status N. Tests act as users
(``send_text``, ``send_image``...), look at what the bot sent (``messages``, ``next_message``)
and push updates to the bot's webhook (``deliver_webhook``). The state lives in
``zalo_bot_state``; uvicorn runs in the caller's loop through ``embedded_server``, as for the
fake Telegram.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.simulator.embedded_server import ServedFake
from bot.simulator.telegram_errors import ApiError, bad_request
from bot.simulator.telegram_http import json_object, json_response
from bot.simulator.zalo_bot_state import ZaloBotState, now_ms

_log = logging.getLogger(__name__)

MAX_TEXT = 2000
DEFAULT_POLL_TIMEOUT = 30.0
# The sends that fail_chat and hang_chat hit.
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendChatAction"})
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class FakeZaloBot(ZaloBotState, ServedFake):
    """A fake Zalo Bot Platform API server for one bot token; see the module docstring."""

    def __init__(
        self,
        token: str = "987654:ZALO-TEST-TOKEN",
        *,
        rate_limit: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(token, rate_limit=rate_limit, clock=clock)
        self._poll_generation = 0
        self._methods: dict[str, Callable[[dict], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._answer, methods=["GET", "POST"]),
                Route("/{path:path}", _not_found, methods=["GET", "POST"]),
            ]
        )

    # --- lifecycle (start, stop, base_url: ServedFake) -------------------------------------
    def _set_stopping(self, stopping: bool) -> None:
        """Tell the fake's waiters whether the server stops, and wake them."""
        self._stopping = stopping
        self.changed()

    # --- HTTP ------------------------------------------------------------------------------
    async def _answer(self, request: Request) -> Response:
        method = request.path_params["method"]
        handler = self._methods.get(method)
        params: dict[str, Any] = {}
        delay = 0.0
        try:
            if request.path_params["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if handler is None:
                raise ApiError(404, "Not Found")
            params = await _read_params(request)
            if method in SEND_METHODS:
                delay = self._faults.delay(params.get("chat_id"))
                if error := self._faults.error(params.get("chat_id")):
                    raise error
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
            body = {"ok": True} if result is None else {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            status, body = error.code, error.body()
        except Exception:  # a simulator bug: answer a 500, and say so loudly
            _log.exception("fake Zalo failed on %s %s", method, params)
            status, body = 500, ApiError(500, "Internal Server Error").body()
        self.call_log.record(method, params, status)
        if delay:  # the send took effect; only the answer is late, as on a slow network
            await self.call_log.wait_until(lambda: self._stopping, delay)
        return json_response(body, status)

    # --- Bot API methods -------------------------------------------------------------------
    def _get_me(self, params: dict) -> dict:
        return {
            "id": self.bot_id,
            "account_name": "bot.htx",
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    async def _get_updates(self, params: dict) -> dict:
        if self._hook["url"]:
            raise ApiError(409, "Conflict: webhook is active")
        timeout = _seconds(params.get("timeout", DEFAULT_POLL_TIMEOUT))
        self._poll_generation += 1
        generation = self._poll_generation
        self.changed()

        def done() -> bool:
            superseded = generation != self._poll_generation
            return bool(self._updates) or self._stopping or superseded

        await self.call_log.wait_until(done, timeout)
        # A newer poll supersedes a waiting one, whose client has most likely given up: it
        # would otherwise take the next update to a closed connection, and the update be lost.
        if generation != self._poll_generation:
            raise ApiError(408, "Request timeout")
        # Nothing awaits between the check above and the take, so no other poll gets it.
        update = self.take_update()
        if update is None:
            raise ApiError(408, "Request timeout")
        return update

    def _send_message(self, params: dict) -> dict:
        text = params.get("text")
        if not isinstance(text, str) or not 1 <= _length(text) <= MAX_TEXT:
            raise bad_request(f"text must be 1 to {MAX_TEXT} characters")
        chat_id = self.known_chat(params.get("chat_id"))
        self.admit()
        return self.store_sent(chat_id, {"text": text})

    def _send_photo(self, params: dict) -> dict:
        photo, caption = params.get("photo"), params.get("caption")
        if not isinstance(photo, str) or not photo:
            raise bad_request("photo is required")
        if caption is not None and (not isinstance(caption, str) or _length(caption) > MAX_TEXT):
            raise bad_request(f"caption must be at most {MAX_TEXT} characters")
        chat_id = self.known_chat(params.get("chat_id"))
        self.admit()
        content = {"photo": photo} if caption is None else {"photo": photo, "caption": caption}
        return self.store_sent(chat_id, content)

    def _send_chat_action(self, params: dict) -> None:
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("action must be typing or upload_photo")
        self.known_chat(params.get("chat_id"))

    def _set_webhook(self, params: dict) -> dict:
        url, secret = params.get("url"), params.get("secret_token")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise bad_request("url must be an HTTPS URL")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            raise bad_request("secret_token must be 8 to 256 characters")
        self._hook = {"url": url, "secret_token": secret, "updated_at": now_ms()}
        return self._get_webhook_info(params)

    def _delete_webhook(self, params: dict) -> dict:
        self._hook = {"url": "", "secret_token": None, "updated_at": now_ms()}
        return self._get_webhook_info(params)

    def _get_webhook_info(self, params: dict) -> dict:
        return {"url": self._hook["url"], "updated_at": self._hook["updated_at"]}

    # --- webhook delivery ------------------------------------------------------------------
    async def deliver_webhook(self, update: dict, *, secret: str | None = None) -> int:
        """POST the update to the bot's webhook as Zalo does; return the HTTP status."""
        url = self._hook["url"]
        if not url:
            raise RuntimeError("no webhook is set: the bot has not called setWebhook")
        self.forget_update(update)  # handed out now; getUpdates must not hand it out again
        headers = {
            "Content-Type": "application/json",
            "X-Bot-Api-Secret-Token": self._hook["secret_token"] if secret is None else secret,
        }
        data = json.dumps({"ok": True, "result": update}, ensure_ascii=False).encode()
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(_reachable(url), data=data, headers=headers) as response,
        ):
            return response.status


async def _not_found(request: Request) -> Response:
    return json_response(ApiError(404, "Not Found").body(), 404)


async def _read_params(request: Request) -> dict[str, Any]:
    """Read the JSON body over any query-string parameters, keeping Zalo's string ids."""
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    if body.strip():
        params.update(json_object(body))
    return params


def _seconds(value: Any) -> float:
    """Read a getUpdates timeout, which clients send as a string or a number of seconds."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise bad_request("timeout must be a number of seconds") from None
    if isinstance(value, bool) or seconds != seconds:  # True and NaN parse, but mean nothing
        raise bad_request("timeout must be a number of seconds")
    return max(seconds, 0.0)


def _length(text: str) -> int:
    # Zalo counts composed characters: a decomposed "ệ" (3 code points) is one.
    return len(unicodedata.normalize("NFC", text))


def _reachable(url: str) -> str:
    """Post to a loopback https URL over plain http: receivers in tests do not speak TLS."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname in _LOOPBACK:
        return urlunsplit(parts._replace(scheme="http"))
    return url
