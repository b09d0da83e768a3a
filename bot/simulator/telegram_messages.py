"""Answer the Bot API methods that send, edit and delete the bot's messages.

They check parameters as Telegram does, count each send against the flood limits and keep
what the bot sent in the state, where tests read it with ``messages`` and ``next_message``.
"""

from __future__ import annotations

import time
from typing import Any

from bot.simulator.telegram_errors import bad_request
from bot.simulator.telegram_format import check_reply_markup, format_text
from bot.simulator.telegram_state import TelegramState

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class MessageMethods(TelegramState):
    """Handlers of sendMessage, sendPhoto, sendDocument, the edits and deleteMessage."""

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
