"""Decide how Zalo's sending rules let an Official Account reach a member now: a pure function.

Zalo lets an OA answer for free (a "consultation" message) only within a window after the
member's last interaction (48 hours at the last look); between that and 7 days only paid
messages go (promotion messages, within the OA's quota), and those not at night; after 7 days
nothing goes to the chat at all. A member who gave a phone number with consent can still be
reached by a paid ZNS template message. Every number here comes from configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.channels.base import Prepared
from db.models import DeliveryStatus
from db.outbox import Claimed, Outcome

PROMOTION_HEADER = 100  # characters in a promotion message's header line


class Way(StrEnum):
    """How a message goes to a Zalo OA follower."""

    CONSULTATION = "cs"  # free, within the reply window
    PROMOTION = "promotion"  # paid, within the silence limit, not at night
    ZNS = "zns"  # paid template by phone number, with the member's consent


@dataclass(frozen=True)
class ZaloRules:
    """Zalo's sending rules, as configured."""

    tz: ZoneInfo
    reply_window: timedelta = timedelta(hours=48)
    max_silence: timedelta = timedelta(days=7)
    promotion: bool = False  # the OA pays for promotion messages
    zns: bool = False  # a ZNS template is configured
    night_start: time = time(22, 0)
    night_end: time = time(7, 0)

    def night_ends(self, now: datetime) -> datetime | None:
        """Return when the night now falls in ends, or None when it is not night."""
        local = now.astimezone(self.tz)
        clock = local.time()
        start, end = self.night_start, self.night_end
        inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
        if not inside or start == end:
            return None
        morning = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if morning <= local:
            morning += timedelta(days=1)
        return morning


@dataclass(frozen=True)
class Verdict:
    """What to do with one message: send it one way, wait until a time, or not at all."""

    way: Way | None
    wait_until: datetime | None = None
    reason: str = ""


def decide(
    rules: ZaloRules, last_seen_at: datetime | None, has_phone: bool, now: datetime
) -> Verdict:
    """Choose how (or whether) a message can reach this member now."""
    silence = now - last_seen_at if last_seen_at is not None else None
    if silence is not None and silence <= rules.reply_window:
        return Verdict(Way.CONSULTATION)
    paid: Way | None = None
    if silence is not None and silence <= rules.max_silence and rules.promotion:
        paid = Way.PROMOTION
    elif rules.zns and has_phone:
        paid = Way.ZNS
    if paid is None:
        return Verdict(None, reason=_outside(rules, silence, has_phone))
    morning = rules.night_ends(now)
    return Verdict(paid, wait_until=morning)


def _outside(rules: ZaloRules, silence: timedelta | None, has_phone: bool) -> str:
    """Say in the log's words why nothing can go."""
    ago = "never" if silence is None else f"{silence.total_seconds() / 86400:.1f} days ago"
    hours = rules.reply_window.total_seconds() / 3600
    why = f"last interaction {ago}; Zalo allows free messages only within {hours:g} h"
    if rules.zns and not has_phone:
        why += "; no phone number with consent for ZNS"
    elif not rules.zns:
        why += "; no ZNS template configured"
    return why


@dataclass(frozen=True)
class ZnsTemplate:
    """The approved ZNS template broadcasts fall back to, and which of its fields take what."""

    template_id: str
    text_param: str = "content"
    name_param: str = "customer_name"
    text_max: int = 400

    def body(self, phone: str, text: str, name: str | None) -> dict[str, Any]:
        """Fill the template for one member."""
        cut = text if len(text) <= self.text_max else text[: self.text_max - 1] + "…"
        data = {self.text_param: cut, self.name_param: (name or "anh/chị")[:30]}
        return {"phone": phone, "template_id": self.template_id, "template_data": data}


def promotion(message: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a consultation message as Zalo's promotion template: header, text, banner."""
    text = str(message.get("text", ""))
    head, _, rest = text.partition("\n")
    if len(head) > PROMOTION_HEADER:
        head, rest = head[: PROMOTION_HEADER - 1] + "…", text
    elements: list[dict[str, Any]] = [{"type": "header", "content": head}]
    if rest.strip():
        elements.append({"type": "text", "align": "left", "content": rest.strip()})
    payload = message.get("attachment", {}).get("payload", {})
    if payload.get("template_type") == "media":
        elements.insert(0, {"type": "banner", "image_url": payload["elements"][0]["url"]})
    promoted: dict[str, Any] = {
        "template_type": "promotion",
        "language": "VI",
        "elements": elements,
    }
    if payload.get("buttons"):
        promoted["buttons"] = payload["buttons"]
    return {"attachment": {"type": "template", "payload": promoted}}


class ZaloOAGate:
    """Apply the rules to each claimed delivery: the way it goes, a wait, or outside_window."""

    def __init__(self, rules: ZaloRules, zns: ZnsTemplate | None = None) -> None:
        self.rules, self.zns = replace(rules, zns=zns is not None), zns

    def check(self, item: Claimed, prepared: Prepared, now: datetime) -> Prepared | Outcome:
        """Return the request to send, or the outcome that stands instead of sending."""
        verdict = decide(self.rules, item.last_seen_at, item.phone is not None, now)
        if verdict.way is None:
            return Outcome(item.delivery_id, DeliveryStatus.OUTSIDE_WINDOW, error=verdict.reason)
        if verdict.wait_until is not None:  # paid messages wait for the morning
            return Outcome(
                item.delivery_id,
                DeliveryStatus.QUEUED,
                refund_attempt=True,
                next_attempt_at=verdict.wait_until,
                error="night: paid Zalo messages wait for the morning",
            )
        if verdict.way == Way.CONSULTATION:
            return prepared
        if verdict.way == Way.PROMOTION:
            message = promotion(prepared.body.get("message", {}))
            return Prepared("promotion", {"message": message}, via="promotion")
        text = str(prepared.body.get("message", {}).get("text", ""))
        assert self.zns is not None and item.phone is not None  # decide() chose ZNS
        return Prepared("zns", self.zns.body(item.phone, text, item.name), via="zns")
