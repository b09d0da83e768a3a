"""Hold the fake Zalo bot's state: users, pending updates, sent messages, limits and faults.

Nothing here does I/O; ``FakeZaloBot`` (``zalo_bot_api``) serves it over HTTP. The call log and
the waiting helpers are a ``CallLog`` (``call_log``), as in the fake Telegram, so both fakes
record calls, wake waiters and report timeouts alike.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from bot.simulator.call_log import CallLog, LoggedCalls
from bot.simulator.limits import SlidingWindow
from bot.simulator.telegram_errors import ApiError, bad_request
from bot.simulator.telegram_limits import Faults

DEFAULT_DISPLAY_NAME = "Trần Thị Bình"


def now_ms() -> int:
    """Return the wall-clock time in milliseconds, as Zalo dates everything."""
    return int(time.time() * 1000)


class ZaloBotState(LoggedCalls):
    """Users, the update queue, the bot's messages, the rate limit, faults and the call log."""

    def __init__(self, token: str, *, rate_limit: float | None, clock: Callable[[], float]) -> None:
        self.token = token
        self.bot_id = token.split(":", 1)[0]
        self.clock = clock
        self.call_log = CallLog(clock)
        self._stopping = False
        self._names: dict[str, str] = {}  # users who wrote (or were added) and their names
        self._updates: deque[dict] = deque()
        self._sent: list[dict] = []
        self._sent_to: dict[str, list[dict]] = {}
        # From the clock, as the platform's own ids are unique across runs: a demo kept in a
        # file, started again, must not have its messages taken for ones already answered.
        self._ids = itertools.count(time.time_ns() // 1_000)
        self._faults = Faults()
        self._window = SlidingWindow.per_second(rate_limit) if rate_limit else None
        self._hook: dict[str, Any] = {"url": "", "secret_token": None, "updated_at": now_ms()}

    def changed(self) -> None:
        """Wake every waiter so it re-checks its condition."""
        self.call_log.notify()

    def new_id(self) -> str:
        """Return a fresh message id, 20 hex digits like Zalo's."""
        return f"{next(self._ids):020x}"

    # --- acting as users -------------------------------------------------------------------
    def add_chat(self, user_id: str) -> None:
        """Make the user known, as if they had written to the bot, without an update."""
        self._names.setdefault(user_id, DEFAULT_DISPLAY_NAME)

    def send_text(
        self, user_id: str, text: str, *, display_name: str = DEFAULT_DISPLAY_NAME
    ) -> dict:
        """Queue a message.text.received update from the user; return it."""
        self._names[user_id] = display_name
        return self._queue(user_id, "message.text.received", {"text": text})

    def send_sticker(self, user_id: str) -> dict:
        """Queue a message.sticker.received update from the user; return it."""
        return self._queue(user_id, "message.sticker.received", {"sticker": self.new_id()})

    def send_image(self, user_id: str, caption: str | None = None) -> dict:
        """Queue a message.image.received update from the user; return it."""
        content = {"photo_url": f"https://photo.zalo.example/{self.new_id()}.jpg"}
        if caption is not None:
            content["caption"] = caption
        return self._queue(user_id, "message.image.received", content)

    def send_unsupported(self, user_id: str) -> dict:
        """Queue a message.unsupported.received update (a voice note, a file...); return it."""
        return self._queue(user_id, "message.unsupported.received", {})

    def _queue(self, user_id: str, event_name: str, content: dict) -> dict:
        self.add_chat(user_id)
        message = {
            "message_id": self.new_id(),
            "from": {"id": user_id, "display_name": self._names[user_id], "is_bot": False},
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "date": now_ms(),
            **content,
        }
        update = {"event_name": event_name, "message": message}
        self._updates.append(update)
        self.changed()
        return update

    def take_update(self) -> dict | None:
        """Hand out the oldest pending update, once; Zalo has no offset to ask again."""
        return self._updates.popleft() if self._updates else None

    def forget_update(self, update: dict) -> None:
        """Drop an update handed out by webhook, so getUpdates cannot hand it out again."""
        if update in self._updates:
            self._updates.remove(update)

    # --- the bot's messages ----------------------------------------------------------------
    def known_chat(self, chat_id: Any) -> str:
        """Return the chat id if that user ever wrote to the bot, else answer as Zalo."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is required")
        if not isinstance(chat_id, str):
            raise bad_request("chat_id must be a string")
        if chat_id not in self._names:
            raise bad_request("user not found")
        return chat_id

    def store_sent(self, chat_id: str, content: dict) -> dict:
        """Keep a message the bot sent; return the result Zalo answers with."""
        message = {"message_id": self.new_id(), "chat_id": chat_id, **content, "date": now_ms()}
        self._sent.append(message)
        self._sent_to.setdefault(chat_id, []).append(message)
        return {"message_id": message["message_id"], "date": message["date"]}

    def messages(self, user_id: str | None = None) -> list[dict]:
        """Return what the bot sent (to one user, or to all), oldest first."""
        return list(self._sent if user_id is None else self._sent_to.get(user_id, ()))

    async def next_message(self, user_id: str, timeout: float = 5.0) -> dict:
        """Return the next message sent to the user not yet returned here; wait for it."""
        return await self.call_log.next_sent(self._sent_to, user_id, timeout, f"user {user_id}")

    def webhook(self) -> dict:
        """Return the webhook as the bot set it: its url ("" when none) and secret_token."""
        return {"url": self._hook["url"], "secret_token": self._hook["secret_token"]}

    # --- limits and faults -----------------------------------------------------------------
    def admit(self) -> None:
        """Count a send in the bot's one-second window, or answer 429 as Zalo does above its rate.

        At most ``rate_limit`` sends are accepted in any one second; refused ones do not count.
        """
        if self._window is None:
            return
        now = self.clock()
        if self._window.wait(now) > 0:
            raise ApiError(429, "Too Many Requests")
        self._window.take(now)

    # Faults only hashes the chat id; its int annotation is Telegram's, Zalo's ids are strings.
    def fail_chat(
        self, user_id: str, error_code: int, description: str, *, times: int | None = None
    ) -> None:
        """Answer sends to that user with this error (``times`` times, or forever)."""
        self._faults.fail(user_id, ApiError(error_code, description), times)  # type: ignore[arg-type]

    def hang_chat(self, user_id: str, seconds: float, *, times: int | None = None) -> None:
        """Delay the answer to sends to that user; the send itself still takes effect."""
        self._faults.hang(user_id, seconds, times)  # type: ignore[arg-type]

    def clear_failures(self) -> None:
        """Forget every fail_chat and hang_chat."""
        self._faults.clear()
