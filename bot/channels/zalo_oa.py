"""Adapt a Zalo Official Account (Open API v3): signed webhook events in, messages out.

Members follow the OA and write to it; Zalo posts each event to our webhook, signed with
``X-ZEvent-Signature: mac=sha256(app_id + body + timestamp + OA secret key)``. We answer
with consultation messages, which carry up to five buttons (``oa.query.hide``: a tap comes
back as the button's payload, which is our packed Choice). There is no maintained Python SDK
for the v3 API (Zalo's own ``zalo-python-sdk`` stopped at v2), so this is a thin client over
the same pooled JSON client as the other channels.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bot.channels.base import FailureKind, Prepared, SeenRefs, SendFailure
from bot.channels.http import JsonClient
from bot.channels.replies import ChatTurns, send_turn
from bot.channels.zalo_bot import command_name, fit
from bot.channels.zalo_oa_tokens import TokenKeeper
from bot.conversation.events import EventKind, Inbound, Reply
from bot.media import is_web_url
from bot.ratelimit import ChannelLimiter
from db.models import Channel
from messages.channels import plain
from messages.render import numbered_choices

log = logging.getLogger(__name__)

MAX_BUTTONS, MAX_TITLE = 5, 100
MAX_EVENT_AGE = timedelta(minutes=5)  # an event signed longer ago (or ahead) is refused
Handler = Callable[[Inbound], Awaitable[list[Reply]]]
_CHOICE = re.compile(r"^[a-z]{2,12}\|\S{0,60}$")  # our packed button data, tapped back to us
# Zalo answers errors with HTTP 200 and a negative code in the body.
_TOKEN_ERRORS = {-124, -216}
_KINDS = {
    -32: FailureKind.RETRY_AFTER,  # over the app's request rate
    -213: FailureKind.BLOCKED,  # not following the OA (unfollowed, or never did)
    -230: FailureKind.OUTSIDE_WINDOW,  # no interaction in 7 days
    -232: FailureKind.OUTSIDE_WINDOW,  # consultation outside 48 hours
    -211: FailureKind.QUOTA,  # promotion quota used up
    -144: FailureKind.QUOTA,  # ZNS daily quota used up
}


def classify(status: int, answer: dict[str, Any]) -> Any:
    """Return a success's data, or raise the SendFailure a Zalo answer means."""
    code = answer.get("error", 0 if status == 200 else status)
    if code == 0 and status == 200:
        return answer.get("data") or {}
    message = f"{code} {answer.get('message', f'HTTP {status}')}"
    if code in _TOKEN_ERRORS or status >= 500:
        raise SendFailure(FailureKind.TRANSIENT, message)
    kind = _KINDS.get(int(code), FailureKind.REJECTED)
    raise SendFailure(kind, message, retry_after=5.0 if kind == FailureKind.RETRY_AFTER else 0)


class ZaloOAClient:
    """The OA and ZNS calls, each with a fresh access token from the keeper."""

    def __init__(
        self, api_url: str, zns_url: str, tokens: TokenKeeper, *, connections: int = 32
    ) -> None:
        self.api = JsonClient(api_url.rstrip("/") + "/", "Zalo OA", connections=connections)
        self.zns = JsonClient(zns_url.rstrip("/") + "/", "Zalo ZNS", connections=8)
        self.tokens = tokens

    async def call(self, path: str, body: dict[str, Any], *, zns: bool = False) -> Any:
        """Post to an OA (or ZNS) path and return the answer's data, or raise SendFailure."""
        token = await self.tokens.access_token()
        client = self.zns if zns else self.api
        status, answer = await client.post(path, body, headers={"access_token": token})
        if answer.get("error") in _TOKEN_ERRORS:
            self.tokens.forget(token)  # the next call renews it
        return classify(status, answer)

    async def oa_info(self) -> dict[str, Any]:
        """Return the OA's name and id: proves the token works."""
        token = await self.tokens.access_token()
        status, answer = await self.api.get("v2.0/oa/getoa", headers={"access_token": token})
        return dict(classify(status, answer))

    async def close(self) -> None:
        """Close both connection pools and the OAuth client."""
        await self.api.close()
        await self.zns.close()
        await self.tokens.oauth.close()


def signature(app_id: str, body: bytes, timestamp: str, secret_key: str) -> str:
    """Compute the X-ZEvent-Signature Zalo sends with an event."""
    mac = hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret_key.encode())
    return f"mac={mac.hexdigest()}"


def verified_event(
    body: bytes, given: str, app_id: str, secret_key: str, *, now: datetime | None = None
) -> dict[str, Any] | None:
    """Return the event if its signature is right and it is fresh, else None, logging why.

    The signature covers the event's `timestamp` (milliseconds), so an event cannot be
    re-dated: with `now`, one signed more than MAX_EVENT_AGE before (or after) it is refused,
    so that a captured event replayed days later, when no replay guard remembers it, is not
    acted on. Without `now` only the signature is checked.
    """
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        log.warning("zalo OA event refused: the body is not a JSON object")
        return None
    stamp = str(event.get("timestamp", ""))
    expected = signature(app_id, body, stamp, secret_key)
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        log.warning("zalo OA event refused: wrong or missing X-ZEvent-Signature")
        return None
    if now is None:
        return event
    signed = _signed_at(stamp)
    if signed is None:
        log.warning("zalo OA event refused: its timestamp %r is not milliseconds", stamp[:40])
        return None
    if abs(now - signed) > MAX_EVENT_AGE:
        when = f"{now - signed} old" if signed < now else f"{signed - now} ahead"
        log.warning(
            "zalo OA event refused: signed at %s UTC, %s (more than %s): a replay or a "
            "delivery too late to act on",
            f"{signed:%Y-%m-%d %H:%M:%S}",
            when,
            MAX_EVENT_AGE,
        )
        return None
    return event


def _signed_at(stamp: str) -> datetime | None:
    if not stamp.isdigit() or len(stamp) > 15:
        return None
    return datetime.fromtimestamp(int(stamp) / 1000, UTC)


def to_inbound(event: dict[str, Any]) -> Inbound | None:
    """Turn an OA webhook event into a neutral event, or None for what needs no answer."""
    name = str(event.get("event_name", ""))
    if name in ("follow", "unfollow"):
        user = str((event.get("follower") or {}).get("id", ""))
        kind = EventKind.COMMAND if name == "follow" else EventKind.LEFT
        ref = f"zalooa:{name}:{user}:{event.get('timestamp')}"
        return Inbound(Channel.ZALO_OA, user, kind, command="start", ref=ref) if user else None
    if not name.startswith("user_send_"):
        return None  # the OA's own messages echoed back, seen/received notices...
    user = str((event.get("sender") or {}).get("id", ""))
    message = event.get("message") or {}
    if not user:
        return None
    msg_id = message.get("msg_id")
    inbound = Inbound(
        Channel.ZALO_OA, user, EventKind.OTHER, ref=f"zalooa:{msg_id}" if msg_id else None
    )
    text = message.get("text")
    if name != "user_send_text" or not isinstance(text, str):
        return inbound
    text = unicodedata.normalize("NFC", text).strip()
    if _CHOICE.match(text):
        return replace(inbound, kind=EventKind.CHOICE, data=text)
    if text.startswith("/"):
        head, _, rest = text[1:].partition(" ")
        command = command_name(head)
        return replace(inbound, kind=EventKind.COMMAND, command=command, text=rest.strip())
    return replace(inbound, kind=EventKind.TEXT, text=text)


def render(reply: Reply) -> dict[str, Any]:
    """Write a reply as an OA message: buttons for a few short choices, else a numbered list."""
    labels = [o.label for o in reply.options]
    text = plain(reply.text) if reply.html else reply.text  # a preview's HTML, as Zalo shows it
    if not labels or len(labels) > MAX_BUTTONS or max(map(len, labels)) > MAX_TITLE:
        aside = bool(labels) and all(o.aside for o in reply.options)
        return {"text": fit(numbered_choices(text, labels, aside=aside))}
    buttons = [
        {"title": o.label, "type": "oa.query.hide", "payload": o.data} for o in reply.options
    ]
    return {
        "text": fit(text),
        "attachment": {"type": "template", "payload": {"buttons": buttons}},
    }


class ZaloOAChannel:
    """The conversation side: take verified events, answer each through the conversation."""

    def __init__(
        self,
        client: ZaloOAClient,
        handle: Handler,
        *,
        app_id: str,
        secret_key: str,
        limiter: ChannelLimiter | None = None,
    ) -> None:
        self.client, self._handle, self.limiter = client, handle, limiter
        self.app_id, self.secret_key = app_id, secret_key
        self._seen = SeenRefs()
        self._turns = ChatTurns()  # one chat's events in order, chats side by side
        self.replied: Callable[[float], None] | None = None  # answer times, for /metrics
        self.missed: Callable[[Inbound], Awaitable[None]] | None = None  # a reply was lost

    async def start(self) -> None:
        """Check that the OA is connected and say which one."""
        try:
            info = await self.client.oa_info()
            log.info("zalo OA %s connected", info.get("name", "?"))
        except SendFailure as failure:  # the keeper has told the admins; members' events wait
            log.error("zalo OA not usable yet: %s", failure.reason)

    async def stop(self) -> None:
        """Close connections."""
        await self.client.close()

    def verify(self, body: bytes, given: str) -> dict[str, Any] | None:
        """Return the event if Zalo signed it, else None."""
        # Against the app's clock, which the token keeper holds (a test's clock in tests).
        now = self.client.tokens.clock()
        return verified_event(body, given, self.app_id, self.secret_key, now=now)

    async def process(self, event: dict[str, Any]) -> None:
        """Answer one verified event, after the chat's earlier ones; a replayed one is ignored."""
        inbound = to_inbound(event)
        if inbound is None or not self._seen.first_time(inbound.ref):
            return
        await self._turns.run(inbound.chat_id, self._answer(inbound))

    async def _answer(self, inbound: Inbound) -> None:
        started = time.monotonic()
        replies = await self._handle(inbound)
        to = {"user_id": inbound.chat_id}
        sends = [
            partial(self.client.call, "v3.0/oa/message/cs", {"recipient": to, "message": render(r)})
            for r in replies
        ]
        turn = send_turn(
            self.limiter,
            inbound.chat_id,
            sends,
            started=started,
            replied=self.replied,
            platform="zalo OA",
        )
        if await turn and self.missed is not None:
            await self.missed(inbound)


class ZaloOASender:
    """The bulk side: consultation messages, or the paid way the gate chose."""

    channel = Channel.ZALO_OA
    max_text = 2000

    def __init__(self, client: ZaloOAClient) -> None:
        self.client = client

    def prepare(self, text: str, photo: str | None, buttons: list[dict[str, str]]) -> Prepared:
        """Build a consultation message: plain text with buttons, or a photo with its caption.

        Zalo's message carries either buttons or an image: when a broadcast has both, the
        buttons win, as they are what the member acts on. Zalo takes an image only by URL:
        one that is not (a Telegram file id an officer sent) is left out, the text goes alone.
        """
        if photo and not is_web_url(photo):
            log.warning("a photo that is not an http(s) URL cannot go to Zalo: the text goes alone")
            photo = None
        message: dict[str, Any] = {"text": fit(plain(text))}
        links = [oa_button(b) for b in buttons[:MAX_BUTTONS]]
        if photo and not links:
            element = {"media_type": "image", "url": photo}
            payload: dict[str, Any] = {"template_type": "media", "elements": [element]}
            message["attachment"] = {"type": "template", "payload": payload}
        elif links:
            message["attachment"] = {"type": "template", "payload": {"buttons": links}}
        return Prepared("cs", {"message": message})

    async def send(self, chat_id: str, prepared: Prepared) -> str:
        """Send to one follower (or by phone for ZNS) and return Zalo's message id."""
        if prepared.method == "zns":
            data = await self.client.call("message/template", prepared.body, zns=True)
            return str(data.get("msg_id", ""))
        body = {"recipient": {"user_id": chat_id}, **prepared.body}
        data = await self.client.call(f"v3.0/oa/message/{prepared.method}", body)
        return str(data.get("message_id", ""))

    async def close(self) -> None:
        """Close the client's connections."""
        await self.client.close()


def oa_button(button: dict[str, str]) -> dict[str, Any]:
    """Write a broadcast's button: a link, or an action whose tap comes back as our Choice."""
    title = button["label"][:MAX_TITLE]
    if "data" in button:
        return {"title": title, "type": "oa.query.hide", "payload": button["data"]}
    return {"title": title, "type": "oa.open.url", "payload": {"url": button["url"]}}
