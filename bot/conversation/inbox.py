"""The officers' inbox: read what members of their area wrote, answer, take, close.

Button values (under the staff action): "iv<id>" view, "ir<id>" answer, "it<id>" take,
"ic<id>" close, "io<id>" reopen, "ip<offset>" the next page. Answering waits for the text
in the step "inbox:reply:<id>". An answer travels to the member through the outbox, on the
member's own channel, marked as from the alliance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.conversation.events import Choice, Option, Reply
from bot.conversation.flow import place
from db import audit
from db import feedback as store
from db import staff as people
from db.models import Feedback, FeedbackReply, FeedbackStatus, Staff, Subscriber
from messages import feedback as say
from messages.triage import rules_in_use

if TYPE_CHECKING:
    from bot.conversation.staff import _Turn

PAGE = 5
MAX_REPLY = 2000


class Inbox:
    """One officer's inbox for one event: listing, viewing and acting inside their scope."""

    def __init__(self, turn: _Turn, action: str) -> None:
        self.turn, self.action = turn, action
        self.session, self.staff, self.now = turn.session, turn.staff, turn.now
        self.tz = turn.chat.tz
        self.rules = rules_in_use(turn.chat.rules)
        self.scope = people.scope_ids(self.session, self.staff)

    def command(self, text: str) -> list[Reply]:
        """Answer /inbox (the list) or /inbox <id> (one item)."""
        words = text.split()
        if len(words) == 1 and words[0].lstrip("#").isdigit():
            return self.view(int(words[0].lstrip("#")))
        return self.page(0)

    def choice(self, value: str) -> list[Reply]:
        """Act on a button: view, answer, take, close, reopen, next page."""
        verb, number = value[:1], value[1:]
        if not number.isdigit():
            return self.page(0)
        handler = {
            "v": self.view,
            "r": self.ask_reply,
            "t": self.take,
            "c": self.close,
            "o": self.reopen,
            "p": self.page,
        }.get(verb)
        return handler(int(number)) if handler else self.page(0)

    # --- reading ----------------------------------------------------------------------

    def page(self, offset: int) -> list[Reply]:
        """List open feedback, flagged first and newest first, a page at a time."""
        items = store.inbox(self.session, self.scope, limit=PAGE, offset=offset)
        if not items:
            return [Reply(say.INBOX_EMPTY)]
        count = store.count_open(self.session, self.scope)
        lines = [say.INBOX_HEAD.format(count=count)]
        lines += [self._line(item) for item in items]
        options = [self._button(f"v{item.id}", f"#{item.id}") for item in items]
        if offset + PAGE < count:
            options.append(self._button(f"p{offset + PAGE}", say.INBOX_MORE))
        return [Reply("\n\n".join(lines), tuple(options), columns=3)]

    def view(self, feedback_id: int) -> list[Reply]:
        """Show one piece of feedback in full, with its answers and what can be done."""
        item = self._mine(feedback_id)
        if isinstance(item, list):
            return item
        rules = self.rules
        member = self.session.get(Subscriber, item.subscriber_id)
        flags = f" · ⚠️ {', '.join(rules.label(f) for f in item.flags)}" if item.flags else ""
        assigned = self.session.get(Staff, item.assigned_to_id) if item.assigned_to_id else None
        text = say.ITEM.format(
            mark="⚠️ " if item.flagged else "",
            id=item.id,
            kind=say.KIND[item.kind.value],
            topic=rules.label(item.topic or "khac"),
            flags=flags,
            member=_name(member, item),
            place=place(member.area if member else None) or say.UNKNOWN_PLACE,
            channel=say.CHANNEL.get(item.channel.value, item.channel.value),
            when=say.local(item.received_at, self.tz),
            about=say.INBOX_ABOUT.format(broadcast=item.broadcast_id) if item.broadcast_id else "",
            assigned=f"\nNgười xử lý: {_officer(assigned)}" if assigned else "",
            status=say.STATUS[item.status.value],
            text=item.text or "(ảnh)",
            replies="".join(self._reply_line(r) for r in store.replies(self.session, item.id)),
        )
        shown = [Reply(say.PHOTO_OF.format(id=item.id), photo=item.photo)] if item.photo else []
        return [*shown, Reply(text[:4000], self._actions(item), columns=2)]

    def _line(self, item: Feedback) -> str:
        member = self.session.get(Subscriber, item.subscriber_id)
        status = "" if item.status is FeedbackStatus.OPEN else f" · {say.STATUS[item.status.value]}"
        return say.INBOX_LINE.format(
            mark="⚠️ " if item.flagged else "",
            id=item.id,
            topic=self.rules.label(item.topic or "khac"),
            when=say.local(item.received_at, self.tz),
            member=_name(member, item),
            place=place(member.area if member else None) or say.UNKNOWN_PLACE,
            about=say.INBOX_ABOUT.format(broadcast=item.broadcast_id) if item.broadcast_id else "",
            status=status,
            gist=say.shorten(item.text, length=100) or "(ảnh)",  # as typed: plain text
        )

    def _reply_line(self, reply: FeedbackReply) -> str:
        officer = self.session.get(Staff, reply.staff_id) if reply.staff_id else None
        return say.ITEM_REPLY.format(
            who=_officer(officer) if officer else reply.author,
            when=say.local(reply.sent_at, self.tz),
            text=say.gist(reply.text, length=200),
        )

    def _actions(self, item: Feedback) -> tuple[Option, ...]:
        if item.status is FeedbackStatus.CLOSED:
            return (self._button(f"o{item.id}", say.REOPEN_BUTTON),)
        actions = [self._button(f"r{item.id}", say.REPLY_BUTTON)]
        if item.assigned_to_id != self.staff.id:
            actions.append(self._button(f"t{item.id}", say.TAKE_BUTTON))
        actions.append(self._button(f"c{item.id}", say.CLOSE_BUTTON))
        return tuple(actions)

    # --- acting -----------------------------------------------------------------------

    def ask_reply(self, feedback_id: int) -> list[Reply]:
        """Wait for the officer's answer to one piece of feedback."""
        item = self._mine(feedback_id)
        if isinstance(item, list):
            return item
        if item.status is FeedbackStatus.CLOSED:
            return [Reply(say.ALREADY_CLOSED.format(id=item.id))]
        self.staff.conv_state = f"inbox:reply:{item.id}"
        return [Reply(say.ASK_REPLY.format(id=item.id))]

    def reply(self, feedback_id: int, text: str) -> list[Reply]:
        """Send the officer's answer to the member, through the outbox."""
        if not text.strip():
            return [Reply(say.REPLY_EMPTY)]
        if len(text) > MAX_REPLY:
            return [Reply(say.REPLY_TOO_LONG.format(length=len(text), most=MAX_REPLY))]
        self.staff.conv_state = "idle"
        item = self._mine(feedback_id)
        if isinstance(item, list):
            return item
        if item.status is FeedbackStatus.CLOSED:
            return [Reply(say.ALREADY_CLOSED.format(id=item.id))]
        message = say.reply_message(text, item.received_at, item.text, self.tz)
        sent = store.send_reply(
            self.session,
            item,
            message,
            author=self.turn.actor,
            staff_id=self.staff.id,
            now=self.now,
        )
        self._audit("feedback.reply", item, {"reply": text.strip(), "broadcast": sent.broadcast_id})
        return [Reply(say.REPLY_QUEUED.format(id=item.id))]

    def take(self, feedback_id: int) -> list[Reply]:
        """Make the officer the one who handles it."""
        item = self._mine(feedback_id)
        if isinstance(item, list):
            return item
        before = store.assign(self.session, item, self.staff)
        self._audit("feedback.assign", item, {"assigned_to": [before, self.staff.id]})
        return [Reply(say.TAKEN.format(id=item.id))]

    def close(self, feedback_id: int) -> list[Reply]:
        """Close it: handled."""
        item = self._mine(feedback_id)
        if isinstance(item, list):
            return item
        try:
            before = store.close(self.session, item, self.now)
        except store.FeedbackProblem:
            return [Reply(say.ALREADY_CLOSED.format(id=item.id))]
        self._audit("feedback.close", item, {"status": [before.value, "closed"]})
        return [Reply(say.CLOSED.format(id=item.id))]

    def reopen(self, feedback_id: int) -> list[Reply]:
        """Open it again, to answer once more."""
        item = self._mine(feedback_id)
        if isinstance(item, list):
            return item
        try:
            store.reopen(self.session, item)
        except store.FeedbackProblem:
            return self.view(item.id)
        self._audit("feedback.reopen", item, {"status": ["closed", item.status.value]})
        return [Reply(say.REOPENED.format(id=item.id))]

    # --- helpers ----------------------------------------------------------------------

    def _mine(self, feedback_id: int) -> Feedback | list[Reply]:
        item = self.session.get(Feedback, feedback_id)
        if item is None:
            return [Reply(say.NO_SUCH.format(id=feedback_id))]
        if self.scope is not None and item.area_id not in self.scope:
            return [Reply(say.NOT_YOURS.format(id=feedback_id))]
        return item

    def _button(self, value: str, label: str) -> Option:
        return Choice(self.action, f"i{value}").option(label)

    def _audit(self, action: str, item: Feedback, changes: dict[str, object]) -> None:
        audit.record(
            self.session,
            actor=self.turn.actor,
            action=action,
            target=f"feedback:{item.id}",
            changes=changes,
            now=self.now,
        )


def _name(member: Subscriber | None, item: Feedback) -> str:
    if member is None or not member.display_name:
        return say.NO_NAME.format(id=item.subscriber_id)
    return member.display_name


def _officer(officer: Staff | None) -> str:
    if officer is None:
        return ""
    return officer.name or f"cán bộ #{officer.id}"
