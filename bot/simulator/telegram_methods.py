"""Answer the Bot API methods that send no message: getMe, updates, webhook, commands...

``GeneralMethods`` adds their handlers, and the few settings they keep (webhook, commands,
menu buttons), to the state; ``FakeTelegram`` routes requests to them by method name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.simulator.telegram_errors import ApiError, bad_request
from bot.simulator.telegram_state import TelegramState

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
MAX_COMMANDS = 100  # a menu (one scope and language) holds at most 100 commands
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass
class Described:
    """A result that Telegram answers with a description too, like setWebhook's."""

    result: Any
    description: str


class GeneralMethods(TelegramState):
    """Handlers of getMe, getUpdates, the webhook, commands, menu button and chat actions."""

    def __init__(self, token: str, **options: Any) -> None:
        # FakeTelegram passes TelegramState's options through the other layers unchanged.
        super().__init__(token, **options)
        self.webhook: dict[str, Any] = {"url": ""}
        self.commands: dict[tuple[str, str], list[dict]] = {}
        self.menu_buttons: dict[Any, dict] = {}
        self._poll_generation = 0

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
        await self.call_log.wait_until(
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
            if self.webhook.get("last_error_date"):  # noted by the pusher (telegram_webhook)
                info["last_error_date"] = self.webhook["last_error_date"]
                info["last_error_message"] = self.webhook["last_error_message"]
        return info

    def _set_webhook(self, params: dict) -> Described:
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
        return Described(True, "Webhook is already set" if already else "Webhook was set")

    def _delete_webhook(self, params: dict) -> Described:
        if params.get("drop_pending_updates"):
            self.drop_updates()
        had = bool(self.webhook["url"])
        self.webhook = {"url": ""}
        return Described(True, "Webhook was deleted" if had else "Webhook is already deleted")

    def _set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" is required')
        if len(commands) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
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


def _number(value: Any, default: float) -> float:
    try:
        return default if value is None else float(value)
    except (TypeError, ValueError):
        return default


def _scope_key(params: dict) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")
