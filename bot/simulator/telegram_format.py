"""Apply the Bot API's rules to message content: parse modes, trimming and inline keyboards.

The method handlers call ``format_text`` for every text and caption and
``check_reply_markup`` for every keyboard, so a bad one is refused as Telegram refuses it.
"""

from __future__ import annotations

from typing import Any

from bot.simulator.telegram_entities import utf16_len
from bot.simulator.telegram_errors import bad_request
from bot.simulator.telegram_html import parse_html
from bot.simulator.telegram_markdown import parse_markdown, parse_markdown_v2

_PARSERS = {"html": parse_html, "markdownv2": parse_markdown_v2, "markdown": parse_markdown}


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
