"""Let members browse the OCOP catalog (/ocop) and act on a spotlight's buttons."""

from __future__ import annotations

from bot.conversation.events import Choice, Reply
from bot.conversation.turn import Turn


def ocop_command(turn: Turn) -> list[Reply]:
    """Start browsing the catalog: by province, then product group, page by page."""
    raise NotImplementedError("being built (issue 5)")


def on_choice(turn: Turn, choice: Choice) -> list[Reply]:
    """Handle a tap on a browse button or a spotlight button, whatever step the member is in."""
    raise NotImplementedError("being built (issue 5)")
