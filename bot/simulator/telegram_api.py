"""Serve a fake Telegram Bot API over real HTTP, answering the way Telegram does.

``FakeTelegram`` runs a Starlette app under uvicorn inside the caller's event loop, so
python-telegram-bot (``Bot(token, base_url=fake.base_url)``) and plain httpx clients talk to it
unchanged. Tests inject user updates (``send_text``, ``press``...) and inspect what the bot did
(``calls``, ``messages``, ``next_message``). ``python -m bot.simulator.telegram_api`` runs it
standalone for a benchmark in another process.

``FakeTelegram`` is assembled from layers over ``TelegramState`` (``telegram_state``): the
test driver (``telegram_driver``), the Bot API methods (``telegram_methods``,
``telegram_messages``), the webhook pusher (``telegram_webhook``) and the HTTP plumbing
(``telegram_http``, ``embedded_server``); the call log is a ``CallLog`` (``call_log``), the
content rules live in ``telegram_format`` and the flood limits and faults in
``telegram_limits``. Once the bot set a webhook, updates are pushed to it (``webhook_origin``
stands in for its https:// host) instead of waiting for getUpdates.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.simulator.embedded_server import ServedFake
from bot.simulator.telegram_driver import TelegramDriver
from bot.simulator.telegram_errors import ApiError
from bot.simulator.telegram_http import control_arguments, decode_params, json_response
from bot.simulator.telegram_messages import MessageMethods
from bot.simulator.telegram_methods import Described, GeneralMethods
from bot.simulator.telegram_webhook import WebhookPusher

_log = logging.getLogger(__name__)

# The sends that injected faults (fail_chat, hang_chat) hit.
SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage"}
)


class FakeTelegram(TelegramDriver, WebhookPusher, GeneralMethods, MessageMethods, ServedFake):
    """A fake Telegram Bot API server for one bot token; see the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "htx_outreach_bot",
        rate_limit: float | None = None,
        per_chat_limit: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        any_chat: bool = False,
        webhook_origin: str | None = None,
        webhook_retry_seconds: float = 0.05,
    ) -> None:
        super().__init__(
            token,
            bot_username=bot_username,
            rate_limit=rate_limit,
            per_chat_limit=per_chat_limit,
            clock=clock,
            any_chat=any_chat,
            webhook_origin=webhook_origin,
            webhook_retry_seconds=webhook_retry_seconds,
        )
        self.cut_off = False  # hold(): sends wait before taking effect
        # Telegram method names are case-insensitive; calls are recorded under the usual name.
        self._methods = {name.lower(): (name, h) for name, h in self._bot_methods().items()}
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._answer_bot, methods=["GET", "POST"]),
                Route("/_sim/{action}", self._control, methods=["GET", "POST"]),
                Route("/{path:path}", _not_found, methods=["GET", "POST"]),
            ]
        )

    def _bot_methods(self) -> dict[str, Callable[[dict], Any]]:
        return {
            "getMe": self._get_me,
            "logOut": _true,
            "close": _true,
            "getUpdates": self._get_updates,
            "getWebhookInfo": self._get_webhook_info,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageCaption": self._edit_message_caption,
            "deleteMessage": self._delete_message,
        }

    # --- lifecycle (start, stop, base_url: ServedFake) -------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on host:port (0: any free port), and push to a webhook set before a stop."""
        await super().start(host, port)
        self.start_pushing()

    async def stop(self) -> None:
        """Stop pushing to the webhook, answer pending long polls, then close the server."""
        await self.stop_pushing()
        await super().stop()

    # --- a network partition: sends held on the way, before they take effect ----------
    def hold(self) -> None:
        """Hold every send on its way in (it has no effect yet), as a network partition would."""
        self.cut_off = True

    def release(self) -> None:
        """Let held sends through; those whose caller has gone meanwhile are dropped."""
        self.cut_off = False
        self.call_log.notify()

    async def _through(self, request: Request) -> bool:
        """Wait while sends are held; False if the caller hung up meanwhile."""
        await self.call_log.wait_until(lambda: not self.cut_off or self.call_log.closed, 3600)
        return not await request.is_disconnected()

    def _set_stopping(self, stopping: bool) -> None:
        """Tell the fake's waiters whether the server stops, and wake them."""
        # Closed, the call log's waiters return at once: long polls and hung answers do not
        # hold the shutdown.
        self.call_log.closed = stopping
        self.call_log.notify()

    # --- HTTP ------------------------------------------------------------------------------
    async def _answer_bot(self, request: Request) -> Response:
        entry = self._methods.get(request.path_params["method"].lower())
        method = entry[0] if entry else request.path_params["method"]
        params: dict[str, Any] = {}
        delay = 0.0
        arrived = self.call_log.clock()  # a send held by hold() is counted when it came
        try:
            if request.path_params["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if entry is None:
                raise ApiError(404, "Not Found")
            params = await decode_params(request)
            if method in SEND_METHODS and self.cut_off and not await self._through(request):
                # The caller died while its request was held: it never reached Telegram.
                self.call_log.record(method, params, 499, arrived)
                return json_response({"ok": False, "description": "client gone"}, 499)
            if method in SEND_METHODS:
                delay = self.injected_delay(params.get("chat_id"))
                if error := self.injected_error(params.get("chat_id")):
                    raise error
            result = entry[1](params)
            if asyncio.iscoroutine(result):
                result = await result
            body = {"ok": True, "result": result}
            if isinstance(result, Described):
                body = {"ok": True, "result": result.result, "description": result.description}
            status = 200
        except ApiError as error:
            status, body = error.code, error.body()
        except Exception as error:  # a simulator bug: answer like Telegram's rare 500s, loudly
            _log.exception("fake Telegram failed on %s %s", method, params)
            status, body = 500, ApiError(500, f"Internal Server Error: {error!r}").body()
        self.call_log.record(method, params, status, arrived)
        if delay:  # the send took effect; only the answer is late, as on a slow network
            await self.call_log.wait_until(lambda: self.call_log.closed, delay)
        return json_response(body, status)

    async def _control(self, request: Request) -> Response:
        """Let another process drive the simulator: /_sim/stats, /_sim/reset, /_sim/send_text..."""
        actions: dict[str, Callable[..., Any]] = {
            "stats": self.stats,
            "reset": self.reset,
            "add_chat": self.add_chat,
            "send_text": self.send_text,
            "press": self.press,
            "fail_chat": self.fail_chat,
            "hang_chat": self.hang_chat,
            "clear_failures": self.clear_failures,
            "messages": self.messages,
            "pending_updates": self.pending_updates,
        }
        action = actions.get(request.path_params["action"])
        if action is None:
            return json_response({"error": "unknown action"}, 404)
        try:
            result = action(**await control_arguments(request))
        except (TypeError, ValueError, LookupError) as error:
            return json_response({"error": str(error)}, 400)
        return json_response({"ok": True} if result is None else result, 200)


async def _not_found(request: Request) -> Response:
    return json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)


def _true(params: dict) -> bool:
    return True


def _parse_chats(spec: str) -> list[int]:
    """Read '1-100,500' into chat ids."""
    chats: list[int] = []
    for part in filter(None, spec.split(",")):
        first, _, last = part.partition("-") if not part.startswith("-") else (part, "", "")
        chats.extend(range(int(first), int(last or first) + 1))
    return chats


async def _serve_until_signalled(args: argparse.Namespace) -> None:
    fake = FakeTelegram(
        args.token,
        bot_username=args.bot_username,
        rate_limit=args.rate_limit,
        per_chat_limit=args.per_chat_limit,
        any_chat=args.any_chat,
        webhook_origin=args.webhook_origin,
    )
    for chat_id in _parse_chats(args.chats):
        fake.add_chat(chat_id)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # before READY: a caller may stop us at once
        loop.add_signal_handler(signum, stopping.set)
    await fake.start(args.host, args.port)
    # Telegram counts a request when it arrives; this fake, when its loop reads it. A garbage
    # collection pausing the loop would bunch what arrived meanwhile into a burst that was
    # never sent, and answer it 429: the fake's own hiccup, not the sender's.
    gc.freeze()
    gc.disable()
    print(f"READY {fake.base_url}", flush=True)
    await stopping.wait()
    await fake.stop()
    print(json.dumps(fake.stats()), flush=True)


def main(argv: list[str] | None = None) -> None:
    """Run the fake Telegram standalone until SIGINT/SIGTERM, then print its statistics."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--bot-username", default="htx_outreach_bot")
    parser.add_argument("--rate-limit", type=float, default=None, help="messages/s for the bot")
    parser.add_argument("--per-chat-limit", type=float, default=None, help="messages/s a chat")
    parser.add_argument(
        "--any-chat",
        action="store_true",
        help="accept sends to any chat id instead of answering 'chat not found'",
    )
    parser.add_argument("--chats", default="", help="known chat ids, e.g. '1-1000,5000'")
    parser.add_argument(
        "--webhook-origin",
        default=None,
        help="push webhook updates here instead of the https:// host, e.g. http://127.0.0.1:8000",
    )
    args = parser.parse_args(argv)
    try:  # uvloop roughly doubles the request rate when the environment has it
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    asyncio.run(_serve_until_signalled(args), loop_factory=loop_factory)


if __name__ == "__main__":
    main()
