"""Let members list upcoming courses (/trainings), register, cancel and rate them."""

from __future__ import annotations

from bot.conversation.events import Choice, Reply
from bot.conversation.turn import Turn


def trainings_command(turn: Turn) -> list[Reply]:
    """List upcoming courses for the member's area with their registration state."""
    raise NotImplementedError("being built (issue 5)")


def on_choice(turn: Turn, choice: Choice) -> list[Reply]:
    """Handle register, cancel, view and rate buttons, whatever step the member is in."""
    raise NotImplementedError("being built (issue 5)")
