"""Define the neutral events a channel hands in and the replies a conversation hands back."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from db.models import Channel


class EventKind(StrEnum):
    """What a member did."""

    TEXT = "text"  # typed text
    COMMAND = "command"  # /word, with its argument in `text`
    CHOICE = "choice"  # pressed a button (payload in `data`)
    OTHER = "other"  # sent something the bot cannot read (sticker, voice, ...)
    OUT_OF_RANGE = "out_of_range"  # typed a number that is not on the list shown
    LEFT = "left"  # unfollowed or blocked the account: nothing can be sent to them any more


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a member did on a channel, stripped of the platform's shapes."""

    channel: Channel
    chat_id: str
    kind: EventKind
    text: str = ""
    command: str | None = None
    data: str | None = None
    display_name: str | None = None
    ref: str | None = None  # the platform's id of the update, kept as consent evidence
    html: str | None = None  # the text (or a photo's caption) with its formatting, as HTML
    photo: str | None = None  # a photo's file id on the platform (the largest size)
    reply_to: str | None = None  # the platform's id of the message this one replies to


@dataclass(frozen=True, slots=True)
class Option:
    """A choice offered: a button where the channel has them, a numbered line where not."""

    label: str
    data: str
    aliases: tuple[str, ...] = ()  # other words that pick it when typed
    # A way out beside an answer that is typed (go back, skip): a channel without buttons
    # mentions its number in passing rather than inviting the member to type it.
    aside: bool = False


@dataclass(frozen=True, slots=True)
class Document:
    """A file sent in a chat: a report for an officer."""

    name: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to send back; `edit` asks to update the pressed message instead of a new one."""

    text: str
    options: tuple[Option, ...] = ()
    columns: int = 1
    edit: bool = False
    html: bool = False  # text is HTML (a preview of a broadcast), not plain text
    photo: str | None = None  # send as a photo with the text as its caption
    chat: str | None = None  # send to this chat instead (an approver, an author), not an edit
    channel: Channel | None = None  # with `chat`: on this channel (an officer on Telegram)
    keep: bool = False  # leave the pressed message's buttons (a broadcast's reactions, a poll)
    document: Document | None = None  # send this file, with the text as its caption


class BadChoice(ValueError):
    """Button data that is not ours or no longer makes sense."""


@dataclass(frozen=True, slots=True)
class Choice:
    """Typed button data: an action and its value, packed into Telegram's 64 bytes."""

    action: str
    value: str = ""

    def pack(self) -> str:
        """Pack into callback data."""
        packed = f"{self.action}|{self.value}"
        if len(packed.encode()) > 64 or "|" in self.action:
            raise BadChoice(f"choice too long for a button: {packed!r}")
        return packed

    @classmethod
    def unpack(cls, data: str | None) -> Choice:
        """Unpack callback data, or raise BadChoice."""
        if not data or "|" not in data:
            raise BadChoice(f"not a choice: {data!r}")
        action, value = data.split("|", 1)
        return cls(action, value)

    def option(self, label: str, *aliases: str) -> Option:
        """Make the option that carries this choice."""
        return Option(label, self.pack(), aliases)
