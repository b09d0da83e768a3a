"""Drive the fake Telegram from a test: act as its users and wait for what the bot does.

Users' actions become updates the bot fetches with getUpdates; the waiting helpers re-check
their condition after every change of the state, so a test never sleeps for a fixed time.
"""

from __future__ import annotations

import time
from typing import Any

from bot.simulator.telegram_entities import bot_command_entities
from bot.simulator.telegram_state import DEFAULT_FIRST_NAME, Call, TelegramState

GROUP_MEMBER_ID = 777_000_001


class TelegramDriver(TelegramState):
    """The test's side of the fake Telegram: users who write and press, and waiting helpers."""

    def continue_message_ids(self) -> None:
        """Number chats' messages on from the wall clock instead of from 1.

        For a bot that keeps its database from an earlier run of the fake (the demo's
        `--keep`): the message ids it stored then are never given to other messages now.
        """
        self._message_id_base = max(self._message_id_base, time.time_ns() // 1_000_000)

    # --- acting as users -------------------------------------------------------------------
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
        entities: list[dict[str, Any]] | None = None,
        reply_to: int | None = None,
    ) -> dict:
        """Inject a private text message from user ``chat_id``; return the Update.

        `entities` adds formatting the user applied (bold, italic, links), as Telegram sends it;
        `reply_to` makes it a reply to that message of the chat (the user swiped on it).
        """
        content: dict[str, Any] = {"text": text}
        if found := [*bot_command_entities(text), *(entities or [])]:
            content["entities"] = found
        if reply_to is not None:
            replied = self.stored(chat_id, reply_to)
            if replied is None:
                raise KeyError(f"chat {chat_id} has no message {reply_to} to reply to")
            content["reply_to_message"] = replied
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

    # --- waiting for the bot ---------------------------------------------------------------
    async def next_message(self, chat_id: int, timeout: float = 5.0) -> dict:
        """Return the next message sent to ``chat_id`` not yet returned here; wait for it."""
        message_id, original = await self.call_log.next_sent(
            self._sent_log, chat_id, timeout, f"chat {chat_id}"
        )
        return self._messages.get((chat_id, message_id), original)

    async def wait_call(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until ``count`` successful calls of ``method`` were recorded; return them all."""
        return await self.call_log.wait_call(method, count, timeout)

    def describe_calls(self, last: int = 10) -> str:
        """Describe the last calls, for a timeout's message."""
        return self.call_log.describe_calls(last)
