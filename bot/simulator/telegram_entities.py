"""Count and collect message entities the way Telegram does: offsets in UTF-16 code units.

The parse-mode parsers build their output with ``ParsedText`` and report malformed markup
with ``parse_error``, worded like Telegram's answers.
"""

from __future__ import annotations

import re
from typing import Any

from bot.simulator.telegram_errors import ApiError, bad_request


def utf16_len(text: str) -> int:
    """Measure text as Telegram does for entity offsets: in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")


def bot_command_entities(text: str) -> list[dict]:
    match = _COMMAND_RE.match(text)
    return (
        [{"offset": 0, "length": utf16_len(match.group()), "type": "bot_command"}] if match else []
    )


class ParsedText:
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


def parse_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())
