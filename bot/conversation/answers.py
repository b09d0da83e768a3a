"""Options a member answers in plain words: yes, no, stop, as well as by number or button."""

from __future__ import annotations

from bot.conversation.events import Choice, Option
from messages.words import Meaning, aliases


def yes_option(choice: Choice, label: str, *more: str) -> Option:
    """An option that "đúng", "có", "vâng", "ok", "đồng ý"… pick when it is the yes offered."""
    return choice.option(label, *aliases(Meaning.YES), *more)


def no_option(choice: Choice, label: str, *more: str) -> Option:
    """An option that "không", "ko", "sai"… pick when it is the no offered."""
    return choice.option(label, *aliases(Meaning.NO), *more)


def offers_yes(options: list[Option]) -> bool:
    """Tell whether a yes is among the options shown (then a bare "dung" means "đúng")."""
    yes = set(aliases(Meaning.YES))
    return any(yes <= set(o.aliases) for o in options)
