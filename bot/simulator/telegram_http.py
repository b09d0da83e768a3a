"""Speak HTTP for the fake Telegram: decode Bot API parameters and encode answers.

Parameters arrive as Telegram accepts them (query string, form, multipart or JSON) and are
typed the way the Bot API reads them; ``embedded_server`` runs the app under uvicorn.
"""

from __future__ import annotations

import email.policy
import json
import re
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from bot.simulator.telegram_errors import bad_request

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


async def decode_params(request: Request) -> dict[str, Any]:
    """Read parameters from the query string and a form, multipart or JSON body."""
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    if body:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            params.update(json_object(body))
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


def json_object(body: bytes) -> dict[str, Any]:
    """Parse a JSON body that must hold an object, or answer 400 as Telegram and Zalo do."""
    try:
        data = json.loads(body)
    except ValueError:
        raise bad_request("can't parse JSON object") from None
    if not isinstance(data, dict):
        raise bad_request("JSON object expected")
    return data


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


async def control_arguments(request: Request) -> Any:
    """Read the keyword arguments of a /_sim action: a JSON body, or the typed query string."""
    body = await request.body()
    if body:
        return json.loads(body)
    return {k: int(v) if _INT_RE.fullmatch(v) else v for k, v in request.query_params.items()}


def json_response(body: Any, status: int) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(content, status, media_type="application/json")
