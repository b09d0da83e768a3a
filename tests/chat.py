"""Drive a member's chat through the fake Telegram the way a person would: type, read, tap."""

from __future__ import annotations

from typing import Any

from bot.simulator import FakeTelegram


class Chat:
    """One member's private chat with the bot."""

    def __init__(self, telegram: FakeTelegram, chat_id: int, name: str = "Nguyễn Văn An") -> None:
        self.telegram, self.chat_id, self.name = telegram, chat_id, name
        self.seen: list[dict[str, Any]] = []

    def send(self, text: str) -> None:
        """Type a message (or a /command)."""
        self.telegram.send_text(self.chat_id, text, first_name=self.name)

    async def expect(self, contains: str, timeout: float = 5.0) -> dict[str, Any]:
        """Read the bot's messages until one contains the text; fail if none does in time."""
        while True:
            message = await self.telegram.next_message(self.chat_id, timeout=timeout)
            self.seen.append(message)
            if contains in (message.get("text") or ""):
                return message

    async def expect_caption(self, contains: str, timeout: float = 5.0) -> dict[str, Any]:
        """Read the bot's messages until a photo or file comes whose caption contains the text."""
        while True:
            message = await self.telegram.next_message(self.chat_id, timeout=timeout)
            self.seen.append(message)
            if contains in (message.get("caption") or ""):
                return message

    async def say(self, text: str, expect: str) -> dict[str, Any]:
        """Type a message and wait for the answer that contains `expect`."""
        self.send(text)
        return await self.expect(expect)

    def keyboard_message(self) -> dict[str, Any]:
        """Return the bot's latest message in this chat that still has buttons."""
        for message in reversed(self.telegram.messages(self.chat_id)):
            if (message.get("reply_markup") or {}).get("inline_keyboard"):
                return message
        raise AssertionError("the bot shows no buttons in this chat")

    def buttons(self, message: dict[str, Any] | None = None) -> list[tuple[str, str]]:
        """List (label, data) of a message's buttons, row by row."""
        message = message or self.keyboard_message()
        rows = message["reply_markup"]["inline_keyboard"]
        return [(b["text"], b["callback_data"]) for row in rows for b in row]

    def press(self, label: str) -> dict[str, Any]:
        """Tap the button whose label contains `label` on the latest message with buttons."""
        message = self.keyboard_message()
        matches = [data for text, data in self.buttons(message) if label in text]
        assert len(matches) == 1, f"button {label!r} not found once in {self.buttons(message)}"
        self.telegram.press(self.chat_id, matches[0], message_id=message["message_id"])
        return message

    async def tap(self, label: str, expect: str) -> dict[str, Any]:
        """Tap a button and wait for the answer that contains `expect`."""
        self.press(label)
        return await self.expect(expect)

    async def toggle(self, label: str) -> dict[str, Any]:
        """Tap a toggle button and wait until the same message shows the new state."""
        message = self.press(label)
        before = self.buttons(message)
        mid = message["message_id"]

        def changed() -> bool:
            current = next(
                m for m in self.telegram.messages(self.chat_id) if m["message_id"] == mid
            )
            return self.buttons(current) != before

        await self.telegram.wait_for(changed)
        return self._message(mid)

    async def tap_edit(self, label: str, expect: str) -> dict[str, Any]:
        """Tap a button whose answer edits the same message; wait until it shows `expect`."""
        mid = self.press(label)["message_id"]
        await self.telegram.wait_for(lambda: expect in (self._message(mid).get("text") or ""))
        return self._message(mid)

    def _message(self, message_id: int) -> dict[str, Any]:
        return next(
            m for m in self.telegram.messages(self.chat_id) if m["message_id"] == message_id
        )
