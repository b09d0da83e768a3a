"""Hold the fake Telegram's state: chats, updates, stored messages, limits and the call log.

Everything here runs on the event loop of the server; nothing does I/O. The Bot API method
handlers (``telegram_methods``, ``telegram_messages``) read and change this state, and tests
drive a conversation through ``TelegramDriver`` (``telegram_driver``) on top of it.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from bot.simulator.call_log import Call, CallLog, LoggedCalls
from bot.simulator.limits import BusiestSecond
from bot.simulator.telegram_errors import ApiError, bad_request
from bot.simulator.telegram_limits import Faults, SendLimits

BOT_FIRST_NAME = "Bản tin HTX"
DEFAULT_FIRST_NAME = "Nguyễn Văn An"

# Call lives in call_log now; it stays importable from here, where callers found it.
__all__ = ["BOT_FIRST_NAME", "DEFAULT_FIRST_NAME", "Call", "TelegramState"]


class TelegramState(LoggedCalls):
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
        self.call_log = CallLog(clock)
        self._chats: dict[int, dict] = {}
        self._users: dict[int, dict] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: deque[dict] = deque()
        # Large and from the wall clock, as Telegram's own are large: a fake started again
        # (`outreach demo --keep` a second time) never reuses an id a database has seen.
        self._update_ids = itertools.count(time.time_ns() // 1_000_000)
        self._message_id_base = 0  # a chat's first message is 1, as in a new private chat
        self._query_ids = itertools.count(4_263_100_000_000_000_001, 7)
        self._file_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._faults = Faults()
        self.reset()

    # --- bookkeeping shared with the HTTP layer ---------------------------------------------
    def reset(self) -> None:
        """Forget calls, messages, statistics and rate-limit history; keep chats and updates."""
        self.call_log.clear()
        self._messages: dict[tuple[int, int], dict] = {}
        self._buttons: dict[tuple[int, int], set[str]] = {}  # callback_data ever shown
        self._sent_log: dict[int, list[tuple[int, dict]]] = {}
        self._send_count = 0
        self._sent_texts: Counter[tuple[int, str]] = Counter()
        self._first_at: float | None = None
        self._last_at: float | None = None
        self._limits = SendLimits(self.rate_limit, self.per_chat_limit, self.clock)
        self._busiest = BusiestSecond()  # over the sends the limits accepted
        self.call_log.notify()

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
        message_id = self._next_message_id.get(chat_id, self._message_id_base) + 1
        self._next_message_id[chat_id] = message_id
        return message_id

    # --- injecting updates -----------------------------------------------------------------
    def inject(self, body: dict) -> dict:
        """Queue an update with the given content (e.g. {"message": {...}}) and return it."""
        update = {"update_id": next(self._update_ids), **body}
        self._updates.append(update)
        self.call_log.notify()
        return update

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

    def stats(self) -> dict:
        """Summarise the successful sends, for the benchmark and the standalone server.

        ``busiest_second`` is the most sends accepted in any sliding one-second window.
        """
        return {
            "messages": self._send_count,
            "http_429": self.http_429,
            "duplicates": sum(1 for n in self._sent_texts.values() if n > 1),
            "chats": len({chat for chat, _ in self._sent_texts}),
            "first_at": self._first_at,
            "last_at": self._last_at,
            "busiest_second": self._busiest.most,
        }

    # --- limits and faults -----------------------------------------------------------------
    def admit_send(self, chat_id: int) -> None:
        """Count a send in the bot's and the chat's windows, or answer 429 like Telegram."""
        self._busiest.add(self._limits.admit(chat_id))

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
        self._faults.fail(chat_id, ApiError(error_code, description, parameters), times)

    def hang_chat(self, chat_id: int, seconds: float, *, times: int | None = None) -> None:
        """Delay the answer to sends to that chat; the send itself still takes effect."""
        self._faults.hang(chat_id, seconds, times)

    def clear_failures(self) -> None:
        self._faults.clear()

    def injected_error(self, chat_id: Any) -> ApiError | None:
        return self._faults.error(chat_id)

    def injected_delay(self, chat_id: Any) -> float:
        return self._faults.delay(chat_id)
