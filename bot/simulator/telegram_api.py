"""Serve a fake Telegram Bot API over real HTTP, answering the way Telegram does.

``FakeTelegram`` runs a Starlette app under uvicorn inside the caller's event loop, so
python-telegram-bot (``Bot(token, base_url=fake.base_url)``) and plain httpx clients talk to it
unchanged. Tests inject user updates (``send_text``, ``press``...) and inspect what the bot did
(``calls``, ``messages``, ``next_message``). ``python -m bot.simulator.telegram_api`` runs it
standalone for a benchmark in another process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.policy
import json
import logging
import re
import signal
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.simulator.telegram_state import (
    SEND_METHODS,
    ApiError,
    TelegramState,
    bad_request,
    check_reply_markup,
    format_text,
)

_log = logging.getLogger(__name__)

# How form values are typed: PTB sends every value as a string, nested objects as JSON text.
_JSON_FIELDS = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "entities",
    "link_preview_options": "link preview options",
    "reply_parameters": "reply parameters",
    "allowed_updates": "allowed updates",
    "commands": "commands",
    "scope": "bot command scope",
    "menu_button": "menu button",
    "media": "media",
}
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "from_chat_id",
        "offset",
        "limit",
        "timeout",
        "message_thread_id",
        "reply_to_message_id",
        "cache_time",
        "max_connections",
        "user_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "show_alert",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_caption_above_media",
        "disable_content_type_detection",
    }
)
_INT_RE = re.compile(r"-?\d{1,20}")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class FakeTelegram(TelegramState):
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
    ) -> None:
        super().__init__(
            token,
            bot_username=bot_username,
            rate_limit=rate_limit,
            per_chat_limit=per_chat_limit,
            clock=clock,
            any_chat=any_chat,
        )
        self.webhook: dict[str, Any] = {"url": ""}
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.menu_buttons: dict[Any, dict] = {}
        self._poll_generation = 0
        self._server: _EmbeddedServer | None = None
        self._serve_task: asyncio.Task | None = None
        self._address = ("127.0.0.1", 0)
        handlers = {
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
        # Telegram method names are case-insensitive; calls are recorded under the usual name.
        self._methods = {name.lower(): (name, handler) for name, handler in handlers.items()}
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._answer_bot, methods=["GET", "POST"]),
                Route("/_sim/{action}", self._control, methods=["GET", "POST"]),
                Route("/{path:path}", _not_found, methods=["GET", "POST"]),
            ]
        )

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The URL prefix PTB takes as base_url; it appends the token and the method."""
        host, port = self._address
        return f"http://{host}:{port}/bot"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if self._server is not None:
            raise RuntimeError("FakeTelegram is already started")
        self.bind_loop()
        self._closed = False
        # Binding here makes a busy port raise OSError; uvicorn would call sys.exit instead.
        # IPPROTO_TCP must be explicit: asyncio sets TCP_NODELAY only on such sockets, and
        # without it every answer waits ~40 ms for a delayed ACK.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        config = uvicorn.Config(
            self.app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        server = _EmbeddedServer(config)
        self._serve_task = task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                await task
                raise RuntimeError("the fake Telegram server stopped while starting")
            await asyncio.sleep(0.001)
        self._server = server
        self._address = server.servers[0].sockets[0].getsockname()[:2]

    async def stop(self) -> None:
        if self._server is None:
            return
        self._closed = True
        self._notify()  # long polls and hung answers return now instead of holding shutdown
        self._server.stop_event.set()
        if self._serve_task is not None:
            await self._serve_task
        self._server = self._serve_task = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- HTTP ------------------------------------------------------------------------------
    async def _answer_bot(self, request: Request) -> Response:
        entry = self._methods.get(request.path_params["method"].lower())
        method = entry[0] if entry else request.path_params["method"]
        params: dict[str, Any] = {}
        delay = 0.0
        try:
            if request.path_params["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if entry is None:
                raise ApiError(404, "Not Found")
            params = await _decode_params(request)
            if method in SEND_METHODS:
                delay = self.injected_delay(params.get("chat_id"))
                if error := self.injected_error(params.get("chat_id")):
                    raise error
            result = entry[1](params)
            if asyncio.iscoroutine(result):
                result = await result
            body = {"ok": True, "result": result}
            if isinstance(result, _Described):
                body = {"ok": True, "result": result.result, "description": result.description}
            status = 200
        except ApiError as error:
            status, body = error.code, error.body()
        except Exception as error:  # a simulator bug: answer like Telegram's rare 500s, loudly
            _log.exception("fake Telegram failed on %s %s", method, params)
            status, body = 500, ApiError(500, f"Internal Server Error: {error!r}").body()
        self.record(method, params, status)
        if delay:  # the send took effect; only the answer is late, as on a slow network
            await self.wait_until(lambda: self._closed, delay)
        return _json(body, status)

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
            return _json({"error": "unknown action"}, 404)
        body = await request.body()
        try:
            kwargs = (
                json.loads(body)
                if body
                else {
                    k: int(v) if _INT_RE.fullmatch(v) else v
                    for k, v in request.query_params.items()
                }
            )
            result = action(**kwargs)
        except (TypeError, ValueError, LookupError) as error:
            return _json({"error": str(error)}, 400)
        return _json({"ok": True} if result is None else result, 200)

    # --- general methods -------------------------------------------------------------------
    def _get_me(self, params: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: dict) -> list[dict]:
        if self.webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        self._poll_generation += 1
        generation = self._poll_generation
        limit = int(min(max(_number(params.get("limit"), 100), 1), 100))
        self.confirm_updates(
            params.get("offset") if isinstance(params.get("offset"), int) else None
        )
        timeout = _number(params.get("timeout"), 0)
        if self._updates or timeout <= 0:
            return self.peek_updates(limit)
        await self.wait_until(
            lambda: bool(self._updates) or generation != self._poll_generation, timeout
        )
        if generation != self._poll_generation:  # a newer poll took over, as on Telegram
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure "
                "that only one bot instance is running",
            )
        return self.peek_updates(limit)

    def _get_webhook_info(self, params: dict) -> dict:
        info = {
            "url": self.webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": self.pending_updates(),
        }
        if self.webhook["url"]:
            info.update(
                max_connections=self.webhook.get("max_connections") or 40,
                ip_address="149.154.167.220",
            )
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _set_webhook(self, params: dict) -> _Described:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params)
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self.drop_updates()
        already = self.webhook["url"] == url
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": params.get("max_connections"),
            "allowed_updates": params.get("allowed_updates"),
        }
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    def _delete_webhook(self, params: dict) -> _Described:
        if params.get("drop_pending_updates"):
            self.drop_updates()
        had = bool(self.webhook["url"])
        self.webhook = {"url": ""}
        return _Described(True, "Webhook was deleted" if had else "Webhook is already deleted")

    def _set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" is required')
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_scope_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, params: dict) -> list[dict]:
        return self.commands.get(_scope_key(params), [])

    def _delete_my_commands(self, params: dict) -> bool:
        self.commands.pop(_scope_key(params), None)
        return True

    def _set_chat_menu_button(self, params: dict) -> bool:
        self.menu_buttons[params.get("chat_id")] = params.get("menu_button") or {"type": "default"}
        return True

    def _get_chat_menu_button(self, params: dict) -> dict:
        return self.menu_buttons.get(params.get("chat_id"), {"type": "commands"})

    # --- sending ---------------------------------------------------------------------------
    def _send_message(self, params: dict) -> dict:
        chat = self.chat(params.get("chat_id"))
        text, entities = format_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        if not text:
            raise bad_request("message text is empty")
        if len(text) > 4096:
            raise bad_request("message is too long")
        markup = check_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        self.admit_send(chat["id"])
        message = self._message(
            chat,
            reply_to,
            markup,
            text=text,
            entities=entities,
            link_preview_options=params.get("link_preview_options"),
        )
        self.store_sent(message, text)
        return message

    def _send_photo(self, params: dict) -> dict:
        return self._send_media(params, "photo")

    def _send_document(self, params: dict) -> dict:
        return self._send_media(params, "document")

    def _send_media(self, params: dict, kind: str) -> dict:
        chat = self.chat(params.get("chat_id"))
        media = params.get(kind)
        if not media:
            raise bad_request(f"there is no {kind} in the request")
        caption, entities = self._caption(params)
        markup = check_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        self.admit_send(chat["id"])
        content = {
            kind: self._media_object(kind, media),
            "caption": caption,
            "caption_entities": entities,
        }
        message = self._message(chat, reply_to, markup, **content)
        self.store_sent(message, caption or f"<{kind}>")
        return message

    def _media_object(self, kind: str, media: Any) -> Any:
        # A plain string that is not a URL is a file_id the bot got earlier; it stays valid.
        file_id = media if isinstance(media, str) and "://" not in media else None
        if kind == "photo":
            return self.photo_sizes(file_id)
        new_id, unique_id = self.new_file_id()
        upload = media if isinstance(media, dict) else {}
        return {
            "file_name": upload.get("file_name", "document.pdf"),
            "mime_type": upload.get("mime_type", "application/pdf"),
            "file_id": file_id or new_id,
            "file_unique_id": unique_id,
            "file_size": upload.get("file_size", 12_345),
        }

    def _caption(self, params: dict) -> tuple[str, list[dict]]:
        caption, entities = format_text(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities")
        )
        if len(caption) > 1024:
            raise bad_request("message caption is too long")
        return caption, entities

    def _reply_target(self, chat: dict, params: dict) -> dict | None:
        reply = params.get("reply_parameters") or {}
        if not isinstance(reply, dict):
            raise bad_request("can't parse reply parameters JSON object")
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        target = self.stored(chat["id"], message_id)
        if target is None:
            if reply.get("allow_sending_without_reply") or params.get(
                "allow_sending_without_reply"
            ):
                return None
            raise bad_request("message to be replied not found")
        return {key: value for key, value in target.items() if key != "reply_to_message"}

    def _message(
        self, chat: dict, reply_to: dict | None, markup: dict | None, **content: Any
    ) -> dict:
        message: dict[str, Any] = {
            "message_id": self.next_message_id(chat["id"]),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update((key, value) for key, value in content.items() if value)
        if markup:
            message["reply_markup"] = markup
        return message

    def _send_chat_action(self, params: dict) -> bool:
        self.chat(params.get("chat_id"))
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _answer_callback_query(self, params: dict) -> bool:
        if len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.take_query(params.get("callback_query_id"))
        return True

    # --- editing ---------------------------------------------------------------------------
    def _editable(self, params: dict, verb: str = "edit") -> dict:
        if params.get("inline_message_id") is not None:
            raise bad_request("MESSAGE_ID_INVALID")  # inline messages are not simulated
        chat = self.chat(params.get("chat_id"))
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        message = self.stored(chat["id"], params["message_id"])
        if message is None:
            raise bad_request(f"message to {verb} not found")
        if verb == "edit" and message["from"] is not self.bot_user:
            raise bad_request("message can't be edited")
        return message

    def _edit_message_text(self, params: dict) -> dict:
        old = self._editable(params)
        if "text" not in old:
            raise bad_request("there is no text in the message to edit")
        text, entities = format_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        if not text:
            raise bad_request("message text is empty")
        if len(text) > 4096:
            raise bad_request("message is too long")
        return self._apply_edit(old, params, text=text, entities=entities)

    def _edit_message_caption(self, params: dict) -> dict:
        old = self._editable(params)
        if "photo" not in old and "document" not in old:
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(params)
        return self._apply_edit(old, params, caption=caption, caption_entities=entities)

    def _edit_message_reply_markup(self, params: dict) -> dict:
        return self._apply_edit(self._editable(params), params)

    def _apply_edit(self, old: dict, params: dict, **content: Any) -> dict:
        """Replace the stored message; like Telegram, a missing reply_markup removes it."""
        markup = check_reply_markup(params.get("reply_markup"))
        new = {
            key: value
            for key, value in old.items()
            if key not in content and key not in ("reply_markup", "edit_date")
        }
        new.update((key, value) for key, value in content.items() if value)
        if markup:
            new["reply_markup"] = markup
        if new == {key: value for key, value in old.items() if key != "edit_date"}:
            raise bad_request(NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        self.replace(new)
        return new

    def _delete_message(self, params: dict) -> bool:
        message = self._editable(params, verb="delete")
        self.delete(message["chat"]["id"], message["message_id"])
        return True


@dataclass
class _Described:
    """A result that Telegram answers with a description too, like setWebhook's."""

    result: Any
    description: str


class _EmbeddedServer(uvicorn.Server):
    """Run uvicorn in the caller's loop: leave signals to the host, stop without polling."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stop_event = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the host program (pytest, the demo, main()) owns SIGINT and SIGTERM

    async def main_loop(self) -> None:
        await self.on_tick(0)  # sets the default headers once
        await self.stop_event.wait()  # uvicorn would otherwise poll should_exit every 0.1 s

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's own shutdown sleeps 0.1 s at least; tests stop one server per test.
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # closes idle keep-alive connections, ends busy ones after
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.config.timeout_graceful_shutdown or 2)
        state = self.server_state
        while (state.connections or state.tasks) and loop.time() < deadline:
            await asyncio.sleep(0.002)
        for task in state.tasks:
            task.cancel()
        for server in self.servers:
            await server.wait_closed()


async def _decode_params(request: Request) -> dict[str, Any]:
    """Read parameters from the query string and a form, multipart or JSON body."""
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    if body:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                data = json.loads(body)
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(data, dict):
                raise bad_request("JSON object expected")
            params.update(data)
        elif content_type.startswith("multipart/form-data"):
            params.update(_parse_multipart(content_type, body))
        else:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    for name, value in params.items():
        if not isinstance(value, str):
            continue
        if name in _JSON_FIELDS:
            try:
                params[name] = json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {_JSON_FIELDS[name]} JSON object") from None
        elif name in _INT_FIELDS and _INT_RE.fullmatch(value):
            params[name] = int(value)
        elif name in _BOOL_FIELDS:
            params[name] = value.lower() in ("true", "1")
    return params


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    """Split multipart/form-data with the standard library (python-multipart is not a dep)."""
    head = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    files: dict[str, dict] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode("utf-8", "replace")
        else:  # keep what an upload looks like, not its bytes
            files[name] = {
                "file_name": filename,
                "mime_type": part.get_content_type(),
                "file_size": len(data),
            }
    for name, value in fields.items():
        if value.startswith("attach://") and value[len("attach://") :] in files:
            fields[name] = files.pop(value[len("attach://") :])
    return {**files, **fields}


def _json(body: Any, status: int) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(content, status, media_type="application/json")


async def _not_found(request: Request) -> Response:
    return _json({"ok": False, "error_code": 404, "description": "Not Found"}, 404)


def _true(params: dict) -> bool:
    return True


def _number(value: Any, default: float) -> float:
    try:
        return default if value is None else float(value)
    except (TypeError, ValueError):
        return default


def _scope_key(params: dict) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


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
    )
    for chat_id in _parse_chats(args.chats):
        fake.add_chat(chat_id)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # before READY: a caller may stop us at once
        loop.add_signal_handler(signum, stopping.set)
    await fake.start(args.host, args.port)
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
    args = parser.parse_args(argv)
    try:  # uvloop roughly doubles the request rate when the environment has it
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    asyncio.run(_serve_until_signalled(args), loop_factory=loop_factory)


if __name__ == "__main__":
    main()
