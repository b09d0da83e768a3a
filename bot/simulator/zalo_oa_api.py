"""Serve a fake Zalo Official Account API over real HTTP, answering the way Zalo does.

One server answers the paths of Zalo's three hosts: OAuth v4 (``/v4/oa/access_token``), the OA
API (``/v3.0/oa/message/cs``, ``/v3.0/oa/message/promotion``, ``/v2.0/oa/getoa``) and ZNS
(``/message/template``). API errors come with HTTP 200 and ``{"error": N, "message": ...}``.
Tests act as users (``follow``, ``send_text``...), which posts signed events to the webhook,
and look at what was sent (``messages``, ``next_message``). The state and the rules live in
``zalo_oa_state``; uvicorn runs in the caller's loop through ``embedded_server``.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.simulator.embedded_server import ServedFake
from bot.simulator.telegram_errors import ApiError
from bot.simulator.telegram_http import decode_params, json_object, json_response
from bot.simulator.zalo_bot_api import _reachable
from bot.simulator.zalo_oa_state import (
    DEFAULT_DISPLAY_NAME,
    MAX_BUTTON_TITLE,
    MAX_BUTTONS,
    MAX_PROMOTION_HEADER,
    MAX_TEXT,
    ZaloOAState,
    oa_error,
    sign,
    text_length,
)

_log = logging.getLogger(__name__)

OA_NAME = "Liên minh HTX tỉnh (thử nghiệm)"
QUERY_BUTTONS = frozenset({"oa.query.hide", "oa.query.show"})
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
Action = Callable[[dict | None], dict]


class FakeZaloOA(ZaloOAState, ServedFake):
    """A fake Zalo OA server (OAuth, OA messages, ZNS, webhook); see the module docstring."""

    def __init__(
        self,
        *,
        app_id: str = "1234567890123456789",
        app_secret: str = "APP-SECRET-TEST",
        oa_secret: str = "OA-SECRET-KEY-TEST",
        oa_id: str = "579745863508352884",
        clock: Callable[[], float] = time.time,
        rate_limit: float | None = None,
        promotion_quota: int = 1000,
        zns_quota: int = 500,
    ) -> None:
        super().__init__(
            app_id=app_id,
            app_secret=app_secret,
            oa_secret=oa_secret,
            oa_id=oa_id,
            clock=clock,
            rate_limit=rate_limit,
            promotion_quota=promotion_quota,
            zns_quota=zns_quota,
        )
        self.events: list[dict] = []
        self.app = Starlette(
            routes=[
                Route("/v4/oa/access_token", self._access_token, methods=["POST"]),
                Route("/v3.0/oa/message/cs", self._api(self._consult), methods=["POST"]),
                Route("/v3.0/oa/message/promotion", self._api(self._promote), methods=["POST"]),
                Route("/message/template", self._api(self._zns), methods=["POST"]),
                Route("/v2.0/oa/getoa", self._api(self._get_oa), methods=["GET"]),
                Route("/{path:path}", self._not_found, methods=_METHODS),
            ]
        )

    @property
    def url(self) -> str:
        """Return the server's root URL, standing for all three Zalo hosts (no trailing /)."""
        host, port = self._address
        return f"http://{host}:{port}"

    # --- lifecycle (start, stop, base_url: ServedFake) -------------------------------------
    def _set_stopping(self, stopping: bool) -> None:
        """Tell the fake's waiters whether the server stops, and wake them."""
        self.call_log.closed = stopping
        self.call_log.notify()

    # --- HTTP ------------------------------------------------------------------------------
    def _api(self, action: Action) -> Callable[[Request], Awaitable[Response]]:
        """Make an endpoint that checks the access_token header, then runs the action."""

        async def endpoint(request: Request) -> Response:
            body = await _json_body(request)
            params = dict(request.query_params) if body is None else body

            def answer() -> dict:
                self.check_token(request.headers.get("access_token"))
                return {"error": 0, "message": "Success", "data": action(body)}

            return self._answer(request, params, answer)

        return endpoint

    async def _access_token(self, request: Request) -> Response:
        try:
            form = await decode_params(request)
        except ApiError:
            form = {}
        return self._answer(
            request, form, lambda: self.grant(form, request.headers.get("secret_key"))
        )

    async def _not_found(self, request: Request) -> Response:
        params = await _json_body(request) or dict(request.query_params)
        return self._answer(request, params, lambda: {"error": 404, "message": "Not Found"}, 404)

    def _answer(
        self, request: Request, params: dict, answer: Callable[[], dict], status: int = 200
    ) -> Response:
        """Run the answer, log the call under its path with its error code, and encode it."""
        try:
            body = answer()
        except ApiError as error:
            body = error.body()
        except Exception:  # a simulator bug: answer a 500, and say so loudly
            _log.exception("fake Zalo OA failed on %s %s", request.url.path, params)
            status, body = 500, {"error": 500, "message": "Internal Server Error"}
        self.call_log.record(request.url.path, params, body.get("error", status))
        return json_response(body, status)

    # --- OA API ----------------------------------------------------------------------------
    def _consult(self, body: dict | None) -> dict:
        user_id = _recipient(body)
        self.check_fault(user_id)
        content = _content(body)
        self.check_consultation(user_id)
        return _sent(self.store("cs", user_id, content))

    def _promote(self, body: dict | None) -> dict:
        user_id = _recipient(body)
        self.check_fault(user_id)
        content = _promotion(body)
        self.check_promotion(user_id)
        return _sent(self.store("promotion", user_id, content))

    def _zns(self, body: dict | None) -> dict:
        if body is None:
            raise oa_error(-201)
        phone, template_id, data = (body.get(k) for k in ("phone", "template_id", "template_data"))
        owner, remaining = self.check_zns(phone, template_id, data)
        content = {"phone": phone, "template_id": template_id, "template_data": data}
        message = self.store("zns", owner, content)
        quota = {"dailyQuota": str(self.zns_quota), "remainingQuota": str(remaining)}
        sent_time = str(int(message["at"] * 1000))
        return {"msg_id": message["message_id"], "sent_time": sent_time, "quota": quota}

    def _get_oa(self, body: dict | None) -> dict:
        followers = sum(user.followed for user in self.users.values())
        return {"oa_id": self.oa_id, "name": OA_NAME, "num_follower": followers}

    # --- acting as users: webhook events ---------------------------------------------------
    async def follow(self, user_id: str, display_name: str = DEFAULT_DISPLAY_NAME) -> int:
        """Follow the OA as the user; post the follow event; return the webhook's status."""
        self.touch(user_id, display_name=display_name).followed = True
        return await self.post_event(self._follow_event("follow", user_id))

    async def unfollow(self, user_id: str) -> int:
        """Unfollow the OA as the user; post the unfollow event; return the webhook's status."""
        self.touch(user_id).followed = False
        return await self.post_event(self._follow_event("unfollow", user_id))

    async def send_text(self, user_id: str, text: str) -> int:
        """Write to the OA as the user; post user_send_text; return the webhook's status."""
        return await self._message_event(user_id, "user_send_text", {"text": text})

    async def tap_button(self, user_id: str, payload: str) -> int:
        """Tap an oa.query.hide button: Zalo posts its payload as the user's text."""
        return await self.send_text(user_id, payload)

    async def send_image(self, user_id: str, caption: str | None = None) -> int:
        """Send a photo as the user; post user_send_image; return the webhook's status."""
        url = f"https://photo.zalo.example/{secrets.token_hex(8)}.jpg"
        message: dict[str, Any] = {} if caption is None else {"text": caption}
        message["attachments"] = [{"type": "image", "payload": {"thumbnail": url, "url": url}}]
        return await self._message_event(user_id, "user_send_image", message)

    async def send_sticker(self, user_id: str) -> int:
        """Send a sticker as the user; post user_send_sticker; return the webhook's status."""
        sticker = secrets.token_hex(4)
        payload = {"id": sticker, "url": f"https://sticker.zalo.example/{sticker}.png"}
        attachments = [{"type": "sticker", "payload": payload}]
        return await self._message_event(user_id, "user_send_sticker", {"attachments": attachments})

    def _follow_event(self, event_name: str, user_id: str) -> dict:
        event = self._event(event_name, user_id)
        event.update(oa_id=self.oa_id, source="oa_profile", follower={"id": user_id})
        return event

    async def _message_event(self, user_id: str, event_name: str, message: dict) -> int:
        self.touch(user_id)
        event = self._event(event_name, user_id)
        event.update(sender={"id": user_id}, recipient={"id": self.oa_id})
        event["message"] = {**message, "msg_id": secrets.token_hex(16)}
        return await self.post_event(event)

    def _event(self, event_name: str, user_id: str) -> dict:
        return {
            "app_id": self.app_id,
            "user_id_by_app": self.user_id_by_app(user_id),
            "event_name": event_name,
            "timestamp": str(int(self.clock() * 1000)),
        }

    async def post_event(self, event: dict, *, signature: str | None = None) -> int:
        """POST the event to the webhook, signed (or with this header); return the status."""
        if not self.webhook_url:
            raise RuntimeError("no webhook is set: call set_webhook first")
        text = json.dumps(event, ensure_ascii=False)
        if signature is None:
            signature = sign(self.app_id, text, str(event.get("timestamp", "")), self.oa_secret)
        headers = {"Content-Type": "application/json", "X-ZEvent-Signature": signature}
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        target = _reachable(self.webhook_url)
        async with session, session.post(target, data=text.encode(), headers=headers) as reply:
            status = reply.status
        self.events.append({"event": event, "status": status})
        return status


async def _json_body(request: Request) -> dict | None:
    """Return the JSON object in the body, or None when there is none or it is not one."""
    raw = await request.body()
    try:
        return json_object(raw) if raw.strip() else None
    except ApiError:
        return None


def _sent(message: dict) -> dict:
    return {"message_id": message["message_id"], "user_id": message["user_id"]}


def _recipient(body: dict | None) -> Any:
    recipient = body.get("recipient") if body is not None else None
    return recipient.get("user_id") if isinstance(recipient, dict) else None


def _content(body: dict | None) -> dict:
    """Read a message body: text, buttons or an image; -201 if malformed, -210 over limits."""
    user_id = _recipient(body)
    message = body.get("message") if body is not None else None
    if not isinstance(user_id, str) or not user_id or not isinstance(message, dict):
        raise oa_error(-201)
    text, attachment = message.get("text"), message.get("attachment")
    if text is not None and not isinstance(text, str):
        raise oa_error(-201)
    content: dict[str, Any] = {"text": text}
    if attachment is not None:
        content.update(_attachment(attachment, text))
    elif not text:
        raise oa_error(-201)
    if text is not None and text_length(text) > MAX_TEXT:
        raise oa_error(-210)
    return content


def _promotion(body: dict | None) -> dict:
    """Read a promotion template (banner, header, text, buttons); -201 or -210 as Zalo."""
    message = body.get("message") if body is not None else None
    attachment = message.get("attachment") if isinstance(message, dict) else None
    payload = attachment.get("payload") if isinstance(attachment, dict) else None
    if not isinstance(_recipient(body), str) or not isinstance(payload, dict):
        raise oa_error(-201)
    elements = payload.get("elements")
    if payload.get("template_type") != "promotion" or not isinstance(elements, list):
        raise oa_error(-201)
    parts = {e.get("type"): e for e in elements if isinstance(e, dict)}
    header = parts.get("header", {}).get("content")
    if not isinstance(header, str) or not header or len(parts) != len(elements):
        raise oa_error(-201)
    body_text = parts.get("text", {}).get("content", "")
    if text_length(header) > MAX_PROMOTION_HEADER or text_length(body_text) > MAX_TEXT:
        raise oa_error(-210)
    content: dict[str, Any] = {"text": "\n".join(t for t in (header, body_text) if t)}
    if "banner" in parts:
        content["image"] = parts["banner"].get("image_url")
    buttons = payload.get("buttons") or []
    if len(buttons) > MAX_BUTTONS or not all(_is_button(b) for b in buttons):
        raise oa_error(-210 if len(buttons) > MAX_BUTTONS else -201)
    return {**content, "buttons": buttons}


def _attachment(attachment: Any, text: str | None) -> dict:
    """Read a template attachment: buttons (under a text) or one image."""
    ok = isinstance(attachment, dict) and attachment.get("type") == "template"
    payload = attachment.get("payload") if ok else None
    if not isinstance(payload, dict):
        raise oa_error(-201)
    if payload.get("template_type") == "media":
        return {"image": _image(payload.get("elements"))}
    buttons = payload.get("buttons")
    if not text or not isinstance(buttons, list) or not buttons:
        raise oa_error(-201)
    if not all(_is_button(button) for button in buttons):
        raise oa_error(-201)
    if len(buttons) > MAX_BUTTONS or any(
        text_length(button["title"]) > MAX_BUTTON_TITLE for button in buttons
    ):
        raise oa_error(-210)
    return {"buttons": buttons}


def _image(elements: Any) -> str:
    element = elements[0] if isinstance(elements, list) and len(elements) == 1 else None
    if not isinstance(element, dict) or element.get("media_type") != "image":
        raise oa_error(-201)
    url = element.get("url")
    if not isinstance(url, str) or not url:
        raise oa_error(-201)
    return url


def _is_button(button: Any) -> bool:
    if not isinstance(button, dict) or not isinstance(button.get("title"), str):
        return False
    kind, payload = button.get("type"), button.get("payload")
    if not button["title"]:
        return False
    if kind == "oa.open.url":
        return isinstance(payload, dict) and isinstance(payload.get("url"), str)
    return kind in QUERY_BUTTONS and isinstance(payload, str)
