"""Schedule OCOP product spotlights: a product per province of the audience, in rotation.

Shared by `outreach ocop spotlight` and, later, campaigns: each pick becomes its own
broadcast (already rendered, linked to its product) so every spotlight has its history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.conversation.ocop import spotlight_buttons
from db.audience import Audience, count_audience
from db.broadcasts import create_broadcast
from db.models import Broadcast
from db.ocop import Spotlight, pick_spotlights, product_places
from messages.kinds import Kind
from messages.ocop_texts import spotlight


@dataclass(frozen=True)
class Scheduled:
    """A spotlight scheduled as a broadcast, and how many it reaches."""

    spotlight: Spotlight
    broadcast: Broadcast
    recipients: int


def schedule_spotlights(
    session: Session,
    audience: Audience,
    *,
    now: datetime,
    send_at: datetime,
    created_by: str = "cli",
) -> list[Scheduled]:
    """Pick a product per province of the audience and schedule each as its own broadcast."""
    scheduled = []
    for picked in pick_spotlights(session, audience, now):
        product = picked.product
        province, commune = product_places(session, product)
        created = create_broadcast(
            session,
            text=spotlight(product, province, commune),
            audience=picked.audience,
            send_at=send_at,
            created_by=created_by,
            now=now,
            kind=Kind.OCOP_SPOTLIGHT.value,
            photo=product.photo,
            buttons=spotlight_buttons(product.id),
            templated=False,  # the product's data is text, never a template
            product_id=product.id,
        )
        scheduled.append(Scheduled(picked, created, count_audience(session, picked.audience)))
    return scheduled
