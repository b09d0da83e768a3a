"""Hold the fake Telegram's state: chats, updates, stored messages, limits and injected faults.

Everything here runs on the event loop of the server; nothing does I/O. The Bot API method
handlers in ``telegram_api`` read and change this state, and tests use the public methods
(``send_text``, ``press``, ``messages``, ``fail_chat``...) to drive a conversation.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage"}
)
BOT_FIRST_NAME = "Bản tin HTX"
DEFAULT_FIRST_NAME = "Nguyễn Văn An"
GROUP_MEMBER_ID = 777_000_001


@dataclass
class Call:
    """One request the bot made: decoded parameters, when, and the HTTP status answered."""

    method: str
    params: dict
    at: float
    status: int


class ApiError(Exception):
    """An error answer of the Bot API; the HTTP status equals ``error_code`` as on Telegram."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


class TokenBucket:
    """Refill ``rate`` tokens a second up to ``capacity``; a send needs one whole token."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate, self.capacity = rate, capacity
        self.tokens, self.stamp = capacity, now

    def wait(self, now: float) -> float:
        """Return 0 if a token is there now, else the seconds until one will be."""
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        # The epsilon absorbs float error when the clock advanced exactly 1/rate.
        return 0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.rate


@dataclass
class _Fault:
    remaining: int | None  # None: forever
    error: ApiError | None = None
    delay: float = 0.0

    def consume(self) -> bool:
        """Use the fault once; return False once it is spent."""
        if self.remaining is None:
            return True
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


class TelegramState:
    """Chats, the update queue, the bot's messages, rate limits, faults and the call log."""

    def __init__(
        self,
        token: str,
        *,
        bot_username: str,
        rate_limit: float | None,
        per_chat_limit: float | None,
        clock: Callable[[], float],
        any_chat: bool = False,
    ) -> None:
        self.token = token
        self.bot_user = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": bot_username,
        }
        self.rate_limit, self.per_chat_limit = rate_limit, per_chat_limit
        self.clock = clock
        self.any_chat = any_chat  # every integer chat id counts as a known private chat
        self.calls: list[Call] = []
        self._closed = False
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._chats: dict[int, dict] = {}
        self._users: dict[int, dict] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: deque[dict] = deque()
        self._update_ids = itertools.count(10_000_001)
        self._query_ids = itertools.count(4_263_100_000_000_000_001, 7)
        self._file_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._faults: dict[int, _Fault] = {}
        self._hangs: dict[int, _Fault] = {}
        self.reset()

    # --- bookkeeping shared with the HTTP layer ---------------------------------------------
    def reset(self) -> None:
        """Forget calls, messages, statistics and rate-limit history; keep chats and updates."""
        self.calls = []
        self.http_429 = 0
        self._messages: dict[tuple[int, int], dict] = {}
        self._buttons: dict[tuple[int, int], set[str]] = {}  # callback_data ever shown
        self._sent_log: dict[int, list[tuple[int, dict]]] = {}
        self._cursors: dict[int, int] = {}
        self._send_count = 0
        self._sent_texts: Counter[tuple[int, str]] = Counter()
        self._first_at: float | None = None
        self._last_at: float | None = None
        self._chat_buckets: dict[int, TokenBucket] = {}
        rate = self.rate_limit
        self._bot_bucket = TokenBucket(rate, rate, self.clock()) if rate else None
        self._notify()

    def record(self, method: str, params: dict, status: int) -> Call:
        call = Call(method, params, self.clock(), status)
        self.calls.append(call)
        if status == 429:
            self.http_429 += 1
        self._notify()
        return call

    def _notify(self) -> None:
        """Wake every waiter so it re-checks its condition; safe to call from other threads."""
        if self._loop is not None and threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self._notify)
            return
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def bind_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    async def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until condition() holds, re-checking after every change; False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closed:
                return condition()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return condition()
        return True

    # --- chats -----------------------------------------------------------------------------
    def add_chat(
        self,
        chat_id: int,
        *,
        first_name: str = DEFAULT_FIRST_NAME,
        username: str | None = None,
        title: str | None = None,
    ) -> dict:
        """Make a chat known, as if it had written to the bot; negative ids are groups."""
        if chat_id > 0:
            chat: dict[str, Any] = {"id": chat_id, "first_name": first_name}
            if username:
                chat["username"] = username
            chat["type"] = "private"
            user = {"id": chat_id, "is_bot": False, "first_name": first_name}
            if username:
                user["username"] = username
            user["language_code"] = "vi"
            self._users[chat_id] = user
        else:
            kind = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
            chat = {"id": chat_id, "title": title or f"Nhóm {-chat_id}", "type": kind}
        self._chats[chat_id] = chat
        return chat

    def chat(self, chat_id: Any) -> dict:
        """Return the known chat with that id, or answer 'chat not found' like Telegram."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            if self.any_chat and isinstance(chat_id, int) and chat_id != 0:
                return self.add_chat(chat_id)
            raise bad_request("chat not found")
        return chat

    def next_message_id(self, chat_id: int) -> int:
        # One counter per chat, shared by the user's and the bot's messages, as in private chats.
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        return message_id

    # --- injecting updates -----------------------------------------------------------------
    def inject(self, body: dict) -> dict:
        """Queue an update with the given content (e.g. {"message": {...}}) and return it."""
        update = {"update_id": next(self._update_ids), **body}
        self._updates.append(update)
        self._notify()
        return update

    def _user_message(
        self, chat_id: int, first_name: str | None, username: str | None, content: dict
    ) -> dict:
        known = self._chats.get(chat_id)
        if known is None or (first_name and known.get("first_name") != first_name) or username:
            previous = known.get("username") if known else None
            known = self.add_chat(
                chat_id,
                first_name=first_name or DEFAULT_FIRST_NAME,
                username=username or previous,
            )
        message = {
            "message_id": self.next_message_id(chat_id),
            "from": self._sender(chat_id),
            "chat": known,
            "date": int(time.time()),
            **content,
        }
        self._messages[(chat_id, message["message_id"])] = message
        return self.inject({"message": message})

    def _sender(self, chat_id: int) -> dict:
        # In a private chat the user is the chat; a group gets one stand-in member.
        return self._users.get(chat_id) or {
            "id": GROUP_MEMBER_ID,
            "is_bot": False,
            "first_name": DEFAULT_FIRST_NAME,
            "language_code": "vi",
        }

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        first_name: str = DEFAULT_FIRST_NAME,
        username: str | None = None,
    ) -> dict:
        """Inject a private text message from user ``chat_id``; return the Update."""
        content: dict[str, Any] = {"text": text}
        if entities := bot_command_entities(text):
            content["entities"] = entities
        return self._user_message(chat_id, first_name, username, content)

    def send_photo(self, chat_id: int, caption: str | None = None) -> dict:
        """Inject a photo message (three sizes, as Telegram sends) from user ``chat_id``."""
        content: dict[str, Any] = {"photo": self.photo_sizes(None)}
        if caption is not None:
            content["caption"] = caption
        return self._user_message(chat_id, None, None, content)

    def send_sticker(self, chat_id: int) -> dict:
        number = next(self._file_ids)
        sticker = {
            "width": 512,
            "height": 512,
            "emoji": "👍",
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "file_id": f"CAACAgIAAxkBAAE{number:08d}",
            "file_unique_id": f"AgAD{number:06d}",
            "file_size": 24_000,
        }
        return self._user_message(chat_id, None, None, {"sticker": sticker})

    def send_contact(self, chat_id: int, phone_number: str) -> dict:
        user = self._users.get(chat_id, {})
        contact = {
            "phone_number": phone_number,
            "first_name": user.get("first_name", DEFAULT_FIRST_NAME),
            "user_id": chat_id,
        }
        return self._user_message(chat_id, None, None, {"contact": contact})

    def press(
        self, chat_id: int, data: str, *, message_id: int | None = None, strict: bool = True
    ) -> dict:
        """Inject a callback_query: the user pressed the button with ``data`` on a bot message.

        Without ``message_id`` the bot's latest message with an inline keyboard is used. With
        ``strict`` the data must be on a button that message shows or once showed (a stale
        keyboard can still be pressed), because a real user can press nothing else.
        """
        message = self._pressable(chat_id, message_id)
        shown = self._buttons.get((chat_id, message["message_id"]), set())
        if strict and data not in shown:
            raise LookupError(
                f"message {message['message_id']} in chat {chat_id} never had a button with "
                f"callback_data {data!r}; it had {sorted(shown)} (strict=False forges one)"
            )
        query_id = str(next(self._query_ids))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": self._sender(chat_id),
            "message": message,
            "chat_instance": str(-8_000_000_000_000_000 - chat_id),
            "data": data,
        }
        return self.inject({"callback_query": query})

    def _pressable(self, chat_id: int, message_id: int | None) -> dict:
        if message_id is not None:
            message = self._messages.get((chat_id, message_id))
            if message is None or message["from"] is not self.bot_user:
                raise LookupError(f"the bot has no message {message_id} in chat {chat_id}")
            return message
        for (chat, _), message in reversed(self._messages.items()):
            if chat == chat_id and message["from"] is self.bot_user and "reply_markup" in message:
                return message
        raise LookupError(f"the bot has no message with an inline keyboard in chat {chat_id}")

    def take_query(self, query_id: Any) -> None:
        """Accept one answer to a callback query; Telegram refuses unknown or answered ones."""
        if query_id not in self._open_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._open_queries.discard(query_id)

    def pending_updates(self) -> int:
        """Count updates injected but not yet confirmed by a getUpdates offset."""
        return len(self._updates)

    def confirm_updates(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:  # Telegram: keep only the last -offset updates
            while len(self._updates) > -offset:
                self._updates.popleft()
            return
        while self._updates and self._updates[0]["update_id"] < offset:
            self._updates.popleft()

    def peek_updates(self, limit: int) -> list[dict]:
        return list(itertools.islice(self._updates, limit))

    def drop_updates(self) -> None:
        self._updates.clear()

    # --- the bot's messages ----------------------------------------------------------------
    def photo_sizes(self, file_id: str | None) -> list[dict]:
        number = next(self._file_ids)
        sizes = []
        for index, (width, height, size) in enumerate(
            [(90, 67, 1_500), (320, 240, 18_000), (800, 600, 60_000)]
        ):
            sizes.append(
                {
                    "file_id": f"AgACAgUAAxkDAAI{number:08d}{index}",
                    "file_unique_id": f"AQAD{number:06d}{index}",
                    "file_size": size,
                    "width": width,
                    "height": height,
                }
            )
        if file_id:  # a known file_id keeps naming the largest size
            sizes[-1]["file_id"] = file_id
        return sizes

    def new_file_id(self) -> tuple[str, str]:
        number = next(self._file_ids)
        return f"BQACAgUAAxkDAAI{number:08d}", f"AgAD{number:06d}"

    def store_sent(self, message: dict, stat_text: str) -> None:
        """Keep a message the bot sent and count it in the statistics."""
        chat_id = message["chat"]["id"]
        self.replace(message)
        self._sent_log.setdefault(chat_id, []).append((message["message_id"], message))
        self._send_count += 1
        self._sent_texts[(chat_id, stat_text)] += 1
        now = self.clock()
        if self._first_at is None:
            self._first_at = now
        self._last_at = now

    def stored(self, chat_id: int, message_id: int) -> dict | None:
        return self._messages.get((chat_id, message_id))

    def replace(self, message: dict) -> None:
        key = (message["chat"]["id"], message["message_id"])
        self._messages[key] = message
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        data = {b["callback_data"] for row in rows for b in row if "callback_data" in b}
        if data:
            self._buttons.setdefault(key, set()).update(data)

    def delete(self, chat_id: int, message_id: int) -> bool:
        return self._messages.pop((chat_id, message_id), None) is not None

    def messages(self, chat_id: int | None = None) -> list[dict]:
        """Return the bot's messages as stored now (edits applied, deleted ones gone)."""
        return [
            m
            for (chat, _), m in self._messages.items()
            if m["from"] is self.bot_user and (chat_id is None or chat == chat_id)
        ]

    async def next_message(self, chat_id: int, timeout: float = 5.0) -> dict:
        """Return the next message sent to ``chat_id`` not yet returned here; wait for it."""
        log = self._sent_log

        def arrived() -> bool:
            return len(log.get(chat_id, ())) > self._cursors.get(chat_id, 0)

        if not await self.wait_until(arrived, timeout):
            raise TimeoutError(
                f"no new message to chat {chat_id} within {timeout} s; {self.describe_calls()}"
            )
        index = self._cursors.get(chat_id, 0)
        self._cursors[chat_id] = index + 1
        message_id, original = log[chat_id][index]
        return self._messages.get((chat_id, message_id), original)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until predicate() is true, re-checked after every recorded call."""
        if not await self.wait_until(predicate, timeout):
            raise TimeoutError(f"condition still false after {timeout} s; {self.describe_calls()}")

    async def wait_call(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``count`` successful calls of ``method`` were recorded; return them all."""

        def done() -> list[Call]:
            return [c for c in self.calls if c.method == method and c.status == 200]

        if not await self.wait_until(lambda: len(done()) >= count, timeout):
            raise TimeoutError(
                f"{len(done())} of {count} successful {method} calls after "
                f"{timeout} s; {self.describe_calls()}"
            )
        return done()

    def describe_calls(self, last: int = 10) -> str:
        if not self.calls:
            return "the bot made no calls at all"
        lines = [f"  {c.method} {_brief(c.params)} -> {c.status}" for c in self.calls[-last:]]
        return f"last {len(lines)} of {len(self.calls)} calls:\n" + "\n".join(lines)

    def stats(self) -> dict:
        """Summarise the successful sends, for the benchmark and the standalone server."""
        return {
            "messages": self._send_count,
            "http_429": self.http_429,
            "duplicates": sum(1 for n in self._sent_texts.values() if n > 1),
            "chats": len({chat for chat, _ in self._sent_texts}),
            "first_at": self._first_at,
            "last_at": self._last_at,
        }

    # --- limits and faults -----------------------------------------------------------------
    def admit_send(self, chat_id: int) -> None:
        """Take a token from the bot and chat buckets, or answer 429 like Telegram's flood limit."""
        now = self.clock()
        waits = [0.0]
        if self._bot_bucket is not None:
            waits.append(self._bot_bucket.wait(now))
        chat_bucket = None
        if self.per_chat_limit:
            chat_bucket = self._chat_buckets.get(chat_id)
            if chat_bucket is None:
                chat_bucket = TokenBucket(self.per_chat_limit, 1.0, now)
                self._chat_buckets[chat_id] = chat_bucket
            waits.append(chat_bucket.wait(now))
        wait = max(waits)
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        for bucket in (self._bot_bucket, chat_bucket):
            if bucket is not None:
                bucket.tokens -= 1

    def fail_chat(
        self,
        chat_id: int,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int | None = None,
        migrate_to: int | None = None,
    ) -> None:
        """Answer every send to that chat with this error (``times`` times, or forever)."""
        parameters: dict[str, int] = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        elif error_code == 429:
            parameters["retry_after"] = 1
        if migrate_to is not None:
            parameters["migrate_to_chat_id"] = migrate_to
        self._faults[chat_id] = _Fault(times, error=ApiError(error_code, description, parameters))

    def hang_chat(self, chat_id: int, seconds: float, *, times: int | None = None) -> None:
        """Delay the answer to sends to that chat; the send itself still takes effect."""
        self._hangs[chat_id] = _Fault(times, delay=seconds)

    def clear_failures(self) -> None:
        self._faults.clear()
        self._hangs.clear()

    def injected_error(self, chat_id: Any) -> ApiError | None:
        fault = self._faults.get(chat_id)
        return fault.error if fault is not None and fault.consume() else None

    def injected_delay(self, chat_id: Any) -> float:
        fault = self._hangs.get(chat_id)
        return fault.delay if fault is not None and fault.consume() else 0.0


def _brief(params: dict, width: int = 90) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return text if len(text) <= width else text[: width - 3] + "..."


# --- message content rules, as the Bot API applies them --------------------------------------
# They live beside the state because the handlers need both and the brief allows two modules.


def utf16_len(text: str) -> int:
    """Measure text as Telegram does for entity offsets: in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")


def bot_command_entities(text: str) -> list[dict]:
    match = _COMMAND_RE.match(text)
    return (
        [{"offset": 0, "length": utf16_len(match.group()), "type": "bot_command"}] if match else []
    )


def format_text(text: Any, parse_mode: Any, entities: Any) -> tuple[str, list[dict]]:
    """Turn a text parameter into (text, entities) as Telegram stores it, trimmed."""
    text = "" if text is None else str(text)
    if entities is not None:  # explicit entities win over parse_mode, as on Telegram
        if not isinstance(entities, list):
            raise bad_request("can't parse entities JSON object")
        return _trim(text, list(entities))
    if not parse_mode:
        return _trim(text, [])
    parser = _PARSERS.get(str(parse_mode).lower())
    if parser is None:
        raise bad_request("unsupported parse_mode")
    return _trim(*parser(text))


def _trim(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    stripped = text.strip()  # Telegram drops leading and trailing whitespace of every text
    if stripped == text:
        return text, entities
    lead, size = utf16_len(text[: len(text) - len(text.lstrip())]), utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


class _Out:
    """Collect parsed plain text and its entities, tracking the UTF-16 position."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.pos += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.pos > start:  # Telegram drops empty entities
            self.entities.append(
                {"offset": start, "length": self.pos - start, "type": kind, **extra}
            )

    def result(self) -> tuple[str, list[dict]]:
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), self.entities


def _parse_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


_HTML_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_TEXT_RE = re.compile(r"[^&<]+")  # a bare '>' is accepted as text, as Telegram does
_HTML_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ATTR = r"""([^\s=>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
_HTML_START_RE = re.compile(rf"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+{_HTML_ATTR})*)\s*>")
_HTML_ATTR_RE = re.compile(_HTML_ATTR)
_HTML_END_RE = re.compile(r"</([^<>]*)>")
_HTML_NAME_RE = re.compile(r"<([a-zA-Z0-9-]*)")  # matches wherever a '<' is


def _html_unescape(text: str) -> str:
    def decode(match: re.Match) -> str:
        decimal, hexadecimal, named = match.groups()
        if named:
            return _HTML_NAMED[named]
        code = int(decimal) if decimal else int(hexadecimal, 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _HTML_ENTITY_RE.sub(decode, text)


def parse_html(src: str) -> tuple[str, list[dict]]:
    """Parse Telegram's HTML subset strictly: known tags, balanced, '&' only as an entity."""
    out, i = _Out(), 0
    stack: list[tuple[str, dict[str, str], int]] = []  # (tag, attributes, start position)
    while i < len(src):
        if match := _HTML_TEXT_RE.match(src, i):
            out.add(match.group())
        elif match := _HTML_ENTITY_RE.match(src, i):
            out.add(_html_unescape(match.group()))
        elif src[i] == "&":
            raise _parse_error(
                f"Character '&' at byte offset {_byte_offset(src, i)} must be "
                "written as &amp; unless it starts an HTML entity"
            )
        elif match := _HTML_END_RE.match(src, i):
            _close_html_tag(match.group(1).strip().lower(), stack, out, _byte_offset(src, i))
        elif match := _HTML_START_RE.match(src, i):
            name = match.group(1).lower()
            if name not in _HTML_TYPES:
                raise _parse_error(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, i)}'
                )
            attributes = {
                m[0].lower(): _html_unescape(m[1] or m[2] or m[3])
                for m in _HTML_ATTR_RE.findall(match.group(2))
            }
            stack.append((name, attributes, out.pos))
        else:
            opened = _HTML_NAME_RE.match(src, i)
            name = opened.group(1).lower() if opened else ""
            reason = (
                "Unclosed start tag" if name in _HTML_TYPES else f'Unsupported start tag "{name}"'
            )
            raise _parse_error(f"{reason} at byte offset {_byte_offset(src, i)}")
        i = match.end()
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html_tag(name: str, stack: list, out: _Out, offset: int) -> None:
    if not stack:
        raise _parse_error(f"Unexpected end tag at byte offset {offset}")
    tag, attributes, start = stack.pop()
    if name != tag:
        raise _parse_error(
            f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", found "</{name}>"'
        )
    kind, extra = _HTML_TYPES[tag], {}
    if tag == "span" and attributes.get("class") != "tg-spoiler":
        raise _parse_error('Tag "span" must have class "tg-spoiler"')
    if tag == "a":
        if not attributes.get("href"):
            return  # Telegram keeps the text and makes no link
        extra["url"] = attributes["href"]
    elif tag == "tg-emoji":
        if not attributes.get("emoji-id"):
            raise _parse_error('Tag "tg-emoji" must have attribute "emoji-id"')
        extra["custom_emoji_id"] = attributes["emoji-id"]
    elif tag == "code" and stack and stack[-1][0] == "pre":
        language = attributes.get("class", "")
        if language.startswith("language-"):  # <pre><code class="language-x"> is one entity
            stack[-1][1]["language"] = language.removeprefix("language-")
            return
    elif tag == "pre" and attributes.get("language"):
        extra["language"] = attributes["language"]
    elif tag == "blockquote" and "expandable" in attributes:
        kind = "expandable_blockquote"
    out.entity(kind, start, **extra)


_MD2_MARKS = (
    ("||", "spoiler"),
    ("__", "underline"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
}
_MD2_TEXT_RE = re.compile(r"[^\\_*\[\]()~`>#+\-=|{}.!\n]+")
_MD2_PRE_RE = re.compile(r"```(?:([^\s`\\]+)\n)?((?:[^`\\]|\\.|`(?!``))*)```", re.S)
_MD2_CODE_RE = re.compile(r"`((?:[^`\\]|\\.)*)`", re.S)
_MD2_URL_RE = re.compile(r"\(((?:[^)\\]|\\.)*)\)", re.S)
_MD2_ESCAPED_RE = re.compile(r"\\(.)", re.S)


def parse_markdown_v2(src: str) -> tuple[str, list[dict]]:
    """Parse MarkdownV2: reserved characters must be escaped, entities must be closed."""
    out, stack, i, quote = _Out(), [], 0, None  # stack: (kind, start position, byte offset)
    while i < len(src):
        ch = src[i]
        at_line_start = i == 0 or src[i - 1] == "\n"
        if at_line_start and quote is not None and ch != ">":
            out.pos -= 1  # the blockquote ends before the newline that ended its last line
            out.entity("blockquote", quote)
            out.pos, quote = out.pos + 1, None
        if match := _MD2_TEXT_RE.match(src, i):
            out.add(match.group())
            i = match.end()
        elif ch == "\\" and i + 1 < len(src) and ord(src[i + 1]) <= 126:
            out.add(src[i + 1])
            i += 2
        elif ch == "\n":
            out.add(ch)
            i += 1
        elif ch == ">" and at_line_start:
            quote = out.pos if quote is None else quote
            i += 1
        elif ch == "`":
            i = _md2_code(src, i, out)
        elif ch == "[":
            stack.append(("text_link", out.pos, _byte_offset(src, i)))
            i += 1
        elif ch == "]" and stack and stack[-1][0] == "text_link":
            match = _MD2_URL_RE.match(src, i + 1)
            if match is None:
                raise _parse_error(f"Can't find end of a URL at byte offset {_byte_offset(src, i)}")
            out.entity("text_link", stack.pop()[1], url=_MD2_ESCAPED_RE.sub(r"\1", match[1]))
            i = match.end()
        elif mark := next((m for m in _MD2_MARKS if src.startswith(m[0], i)), None):
            if stack and stack[-1][0] == mark[1]:
                out.entity(mark[1], stack.pop()[1])
            else:
                stack.append((mark[1], out.pos, _byte_offset(src, i)))
            i += len(mark[0])
        else:
            raise _parse_error(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
    if quote is not None:
        out.entity("blockquote", quote)
    if stack:
        kind, _, offset = stack[-1]
        raise _parse_error(f"Can't find end of {_MD2_NAMES[kind]} entity at byte offset {offset}")
    return out.result()


def _md2_code(src: str, i: int, out: _Out) -> int:
    pre = src.startswith("```", i)
    match = (_MD2_PRE_RE if pre else _MD2_CODE_RE).match(src, i)
    if match is None:
        raise _parse_error(
            f"Can't find end of {'Pre' if pre else 'Code'} entity at byte "
            f"offset {_byte_offset(src, i)}"
        )
    start = out.pos
    out.add(_MD2_ESCAPED_RE.sub(r"\1", match.groups()[-1]))
    if pre:
        out.entity("pre", start, **({"language": match[1]} if match[1] else {}))
    else:
        out.entity("code", start)
    return match.end()


_MD_RE = re.compile(
    r"\*([^*]*)\*|_([^_]*)_|```(?:([^\s`]+)\n)?([^`]*)```|`([^`]*)`"
    r"|\[([^\]]*)\]\(([^)]*)\)|\\([_*`\[])"
)


def parse_markdown(src: str) -> tuple[str, list[dict]]:
    """Parse legacy Markdown: *bold* _italic_ `code` ```pre``` [text](url), no nesting."""
    out, i = _Out(), 0
    for match in _MD_RE.finditer(src):
        _md_plain(src, i, match.start(), out)
        bold, italic, language, pre, code, label, url, escaped = match.groups()
        start = out.pos
        out.add(
            next(part for part in (bold, italic, pre, code, label, escaped) if part is not None)
        )
        if escaped is None:
            kind = (
                "bold"
                if bold is not None
                else "italic"
                if italic is not None
                else "pre"
                if pre is not None
                else "code"
                if code is not None
                else "text_link"
            )
            extra = (
                {"url": url}
                if kind == "text_link"
                else ({"language": language} if language else {})
            )
            out.entity(kind, start, **extra)
        i = match.end()
    _md_plain(src, i, len(src), out)
    return out.result()


def _md_plain(src: str, start: int, end: int, out: _Out) -> None:
    if stray := re.search(r"[*_`\[]", src[start:end]):
        raise _parse_error(
            "Can't find end of the entity starting at byte offset "
            f"{_byte_offset(src, start + stray.start())}"
        )
    out.add(src[start:end])


_PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}

_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def check_reply_markup(markup: Any) -> dict | None:
    """Validate reply_markup; return what the Message carries (only inline keyboards)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        if any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
            return None
        raise bad_request("can't parse reply keyboard markup JSON object")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            "can't parse reply keyboard markup JSON object: field "
            '"inline_keyboard" must be an Array of Arrays'
        )
    for button in (button for row in rows for button in row):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
        elif not any(key in button for key in _BUTTON_ACTIONS):
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed "
                "in the inline keyboard"
            )
    return {"inline_keyboard": rows} if any(rows) else None
