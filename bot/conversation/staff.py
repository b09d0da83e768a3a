"""The officers' conversation: compose, target, preview, schedule, approve and follow.

An officer is a Staff row; their step and the announcement being written live on it
(`conv_state`, `draft`), so a restart loses nothing. Each step checks what it can at once:
a template that does not render, a text too long for Telegram, a place outside the officer's
scope, an audience of nobody, a time in the past; each gets a Vietnamese answer and nothing
is scheduled. Every action that changes something is written to the audit log.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.conversation.events import BadChoice, Choice, EventKind, Inbound, Option, Reply
from bot.conversation.inbox import Inbox
from bot.conversation.report import report_command
from bot.media import is_web_url
from db import audit, broadcasts
from db import staff as people
from db.areas import NotOneArea, resolve_commune_in, resolve_place
from db.audience import Audience, count_audience
from db.broadcasts import LifecycleError, create_broadcast
from db.cooperatives import by_public_code
from db.models import (
    Area,
    AreaLevel,
    Broadcast,
    BroadcastStatus,
    Channel,
    Role,
    Staff,
    StaffRole,
    Topic,
)
from db.stats import area_stats
from db.textmatch import fold
from messages import staff as say
from messages.channels import MAX_PARTS, plain, telegram_parts
from messages.kinds import KIND_LABELS, Kind
from messages.render import TemplateProblem, compile_text, jinja_code, subscriber_context
from messages.staff_stats import stats_text
from schedules.when import WhenProblem, describe_when, parse_when

log = logging.getLogger(__name__)

ACTION = "stf"
# Commands only officers have; from anyone else the member conversation refuses them.
STAFF_ONLY = frozenset({"new", "broadcasts", "stats", "staffhelp", "staff", "inbox", "report"})
COMMANDS = STAFF_ONLY | {"huy", "cancel"}  # /huy drops a draft; for members it means nothing
ROLE_WORDS = {
    "bientap": StaffRole.EDITOR,
    "editor": StaffRole.EDITOR,
    "duyet": StaffRole.APPROVER,
    "approver": StaffRole.APPROVER,
    "quantri": StaffRole.ADMIN,
    "admin": StaffRole.ADMIN,
}
KINDS = {  # what officers write, and the subscribers' topic each reaches
    Kind.POLICY.value: Topic.POLICY,
    Kind.MARKET.value: Topic.MARKET,
    Kind.MODEL_STORY.value: Topic.MODEL,
    "notice": None,
}
PREVIEW_AS = subscriber_context("Nguyễn Văn An", None, None, None)


@dataclass(frozen=True)
class StaffPolicy:
    """Which kinds need an approver other than their author."""

    approval_kinds: frozenset[str] = frozenset({Kind.POLICY.value})


def wants(staff: Staff, event: Inbound) -> bool:
    """Tell whether an officer's event is for this conversation rather than the member one."""
    if event.kind is EventKind.COMMAND:
        return event.command in COMMANDS
    if event.kind is EventKind.CHOICE:
        return (event.data or "").startswith(ACTION + "|")
    return staff.conv_state != "idle"


class StaffConversation:
    """One officer event in, the replies out (to them, and to approvers or authors)."""

    def __init__(
        self, tz: ZoneInfo, policy: StaffPolicy | None = None, rules: Path | None = None
    ) -> None:
        self.tz = tz
        self.policy = policy or StaffPolicy()
        self.rules = rules  # the feedback triage rules, for the inbox's topic names

    def handle(self, session: Session, staff: Staff, event: Inbound, now: datetime) -> list[Reply]:
        """Route one event by command, button or the officer's current step."""
        turn = _Turn(self, session, staff, now)
        if event.kind is EventKind.COMMAND:
            return turn.command(event.command or "", event.text)
        if event.kind is EventKind.CHOICE:
            try:
                choice = Choice.unpack(event.data)
            except BadChoice:
                return [Reply(say.STAFF_HELP)]
            return turn.choice(choice.value)
        return turn.step(event)


class _Turn:
    """One event's handling, with the session, the officer and the time at hand."""

    def __init__(self, chat: StaffConversation, session: Session, staff: Staff, now: datetime):
        self.chat, self.session, self.staff, self.now = chat, session, staff, now
        self.actor = audit.staff_actor(staff)
        self.me = staff.name or f"cán bộ #{staff.id}"  # how others are told who did it

    # --- entry points ---------------------------------------------------------------

    def command(self, name: str, text: str) -> list[Reply]:
        if name == "new":
            return self._start()
        if name in ("huy", "cancel"):
            known = self.staff.conv_state != "idle"
            self._reset()
            return [Reply(say.CANCELLED if known else say.NOTHING_TO_CANCEL)]
        if name == "broadcasts":
            return self._list()
        if name == "stats":
            return self._stats()
        if name == "staff":
            return self._manage(text)
        if name == "inbox":
            return Inbox(self, ACTION).command(text)
        if name == "report":
            return report_command(self.session, self.staff, text, self.now, self.chat.tz)
        return [Reply(say.STAFF_HELP)]

    def choice(self, value: str) -> list[Reply]:
        head, rest = value[:1], value[1:]
        if value.startswith("ap"):
            return self._approve(int(value[2:]))
        if value.startswith("rj"):
            return self._ask_reason(int(value[2:]))
        if head == "i":
            return Inbox(self, ACTION).choice(rest)
        if head == "m":  # m<action letter><id>: pause, resume or cancel from /broadcasts
            return self._move({"p": "pause", "r": "resume", "c": "cancel"}[rest[:1]], int(rest[1:]))
        if head == "k" and self.staff.conv_state == "new:kind":
            return self._kind(rest)
        if head == "a" and self.staff.conv_state == "new:area":
            return self._area_picked(rest)
        if head == "r" and self.staff.conv_state == "new:role":
            return self._role(rest)
        if head == "g" and self.staff.conv_state == "new:review":
            return self._submit(rest)
        return [Reply(say.STAFF_HELP)]

    def step(self, event: Inbound) -> list[Reply]:
        state = self.staff.conv_state
        if state == "new:content":
            return self._content(event)
        if state == "new:area" and event.text:
            return self._area_typed(event.text)
        if state == "new:time" and event.text:
            return self._time(event.text)
        if state.startswith("reject:") and event.text:
            return self._reject(int(state.split(":", 1)[1]), event.text)
        if state.startswith("inbox:reply:"):
            return Inbox(self, ACTION).reply(int(state.rsplit(":", 1)[1]), event.text)
        return [Reply(say.STAFF_HELP)]

    # --- composing ------------------------------------------------------------------

    def _set(self, state: str, **draft: Any) -> None:
        self.staff.conv_state = state
        self.staff.draft = {**self.staff.draft, **draft}

    def _reset(self) -> None:
        self.staff.conv_state, self.staff.draft = "idle", {}

    def _start(self) -> list[Reply]:
        self.staff.draft = {}
        self._set("new:kind")
        options = [
            Choice(ACTION, f"k{kind}").option(KIND_LABELS.get(Kind(kind), kind))
            if kind != "notice"
            else Choice(ACTION, "knotice").option(say.KIND_NOTICE)
            for kind in KINDS
        ]
        return [Reply(say.ASK_KIND, tuple(options))]

    def _kind(self, kind: str) -> list[Reply]:
        if kind not in KINDS:
            return self._start()
        self._set("new:content", kind=kind)
        return [Reply(say.ASK_CONTENT)]

    def _content(self, event: Inbound) -> list[Reply]:
        # Telegram's HTML of the message: its entities are kept, its tags checked like any
        # officer's text; inside {{ }} and {% %} it is Jinja again (Telegram wrote &quot;).
        html = jinja_code(event.html or "")
        if not html.strip() and event.photo is None:
            return [Reply(say.NEED_CONTENT)]
        try:
            sample = compile_text(html).render(PREVIEW_AS) if html.strip() else ""
        except TemplateProblem as problem:
            return [Reply(say.BAD_TEMPLATE.format(problem=say.template_problem(problem)))]
        parts = telegram_parts(sample, event.photo is not None)
        if parts > MAX_PARTS:
            return [Reply(say.TOO_LONG.format(parts=parts, most=MAX_PARTS))]
        self._set("new:area", text=html, photo=event.photo)
        if self.staff.draft.get("area_ids") is not None:  # editing the text of a finished draft
            return self._review()
        return self._ask_area()

    def _scope(self) -> Area | None:
        return self.staff.area if self.staff.role is not StaffRole.ADMIN else None

    def _ask_area(self) -> list[Reply]:
        scope = self._scope()
        if scope is None:
            option = Choice(ACTION, "a*").option(say.EVERYWHERE)
            return [Reply(say.ASK_AREA_ALL, (option,))]
        option = Choice(ACTION, f"a{scope.id}").option(say.WHOLE.format(name=scope.name))
        if scope.level is AreaLevel.COMMUNE:
            return [Reply(say.ASK_AREA_COMMUNE.format(commune=scope.name), (option,))]
        return [Reply(say.ASK_AREA_PROVINCE.format(province=scope.name), (option,))]

    def _area_picked(self, value: str) -> list[Reply]:
        if value == "*":
            return self._target([], say.EVERYWHERE)
        area = self.session.get(Area, int(value)) if value.isdigit() else None
        if area is None:
            return self._ask_area()
        return self._target([area.id], area.name)

    def _area_typed(self, text: str) -> list[Reply]:
        scope = self._scope()
        coop = by_public_code(self.session, text) if len(text.split()) == 1 else None
        if coop is not None:  # an invitation code: the members of one cooperative
            return self._target([coop.area_id], coop.name, cooperative_id=coop.id)
        within = scope if scope is not None and scope.level is AreaLevel.PROVINCE else None
        found = _places(self.session, text, within)
        if not found:
            if scope is not None:  # perhaps a real place, but not theirs: say so
                return [Reply(say.OUT_OF_SCOPE.format(scope=scope.name)), *self._ask_area()]
            return [Reply(say.AREA_NOT_FOUND.format(text=text.strip()))]
        if len(found) > 1:
            names = ", ".join(area.name for area in found[:4])
            return [Reply(say.AREA_MANY.format(text=text.strip(), names=names))]
        return self._target([found[0].id], found[0].name)

    def _target(
        self, area_ids: list[int], label: str, cooperative_id: int | None = None
    ) -> list[Reply]:
        if not people.allowed_targets(self.session, self.staff, area_ids):
            scope = self.staff.area.name if self.staff.area else say.EVERYWHERE
            log.warning("staff %s tried to target areas %s out of scope", self.staff.id, area_ids)
            return [Reply(say.OUT_OF_SCOPE.format(scope=scope)), *self._ask_area()]
        self._set("new:role", area_ids=area_ids, area_label=label, cooperative_id=cooperative_id)
        options = [Choice(ACTION, "r*").option(say.EVERYONE)] + [
            Choice(ACTION, f"r{role}").option(label) for role, label in say.ROLE_LABELS.items()
        ]
        return [Reply(say.ASK_ROLE, tuple(options), columns=2)]

    def _role(self, value: str) -> list[Reply]:
        roles = [] if value == "*" else [value] if value in say.ROLE_LABELS else None
        if roles is None:
            return self._target(self.staff.draft["area_ids"], self.staff.draft["area_label"])
        self._set("new:review", roles=roles)
        return self._review()

    def _audience(self) -> Audience:
        draft = self.staff.draft
        topic = KINDS.get(draft["kind"])
        cooperative = draft.get("cooperative_id")
        return Audience(
            area_ids=tuple(draft["area_ids"]),
            roles=tuple(Role(r) for r in draft.get("roles", [])),
            topics=(topic,) if topic is not None else (),
            cooperative_ids=(cooperative,) if cooperative else (),
        )

    def _labels(self) -> tuple[str, str]:
        draft = self.staff.draft
        roles = draft.get("roles") or []
        return draft["area_label"], say.ROLE_LABELS[roles[0]] if roles else say.EVERYONE

    def _review(self) -> list[Reply]:
        audience = self._audience()
        count = count_audience(self.session, audience)
        area, role = self._labels()
        if count == 0:
            self._set("new:area")
            return [Reply(say.EMPTY_AUDIENCE.format(area=area)), *self._ask_area()]
        self.staff.conv_state = "new:review"
        options = (
            Choice(ACTION, "gnow").option(say.SEND_NOW),
            Choice(ACTION, "gat").option(say.SCHEDULE),
            Choice(ACTION, "gedit").option(say.EDIT),
            Choice(ACTION, "gx").option(say.CANCEL),
        )
        text = say.PREVIEW.format(area=area, role=role, count=count)
        photo = self.staff.draft.get("photo")
        if photo and not is_web_url(photo):  # a Telegram file: Zalo takes photos by URL only
            on_zalo = replace(audience, channels=(Channel.ZALO_BOT, Channel.ZALO_OA))
            without = count_audience(self.session, on_zalo)
            if without:
                text += "\n" + say.ZALO_NO_PHOTO.format(count=without)
        return [self._preview(), Reply(text, options, columns=2)]

    def _preview(self, chat: str | None = None) -> Reply:
        draft = self.staff.draft
        html = draft.get("text") or ""
        try:
            rendered = compile_text(html).render(PREVIEW_AS) if html.strip() else ""
        except TemplateProblem as problem:  # checked when written; said, should it fail now
            text = say.BAD_TEMPLATE.format(problem=say.template_problem(problem))
            return Reply(text, chat=chat)
        return Reply(rendered, html=True, photo=draft.get("photo"), chat=chat)

    def _submit(self, value: str) -> list[Reply]:
        if value == "x":
            self._reset()
            return [Reply(say.CANCELLED)]
        if value == "edit":
            self.staff.conv_state = "new:content"
            return [Reply(say.ASK_CONTENT)]
        if value == "at":
            self.staff.conv_state = "new:time"
            return [Reply(say.ASK_TIME)]
        return self._schedule(self.now)

    def _time(self, text: str) -> list[Reply]:
        try:
            when = parse_when(text, self.now, self.chat.tz)
        except WhenProblem as problem:
            return [Reply(str(problem))]
        return self._schedule(when)

    def _schedule(self, when: datetime) -> list[Reply]:
        draft = self.staff.draft
        audience = self._audience()
        count = count_audience(self.session, audience)
        if count == 0:  # members may have left since the preview
            self._set("new:area")
            return [Reply(say.EMPTY_AUDIENCE.format(area=draft["area_label"])), *self._ask_area()]
        kind = draft["kind"]
        needs_approval = kind in self.chat.policy.approval_kinds
        broadcast = create_broadcast(
            self.session,
            text=draft.get("text") or "",
            photo=draft.get("photo"),
            audience=audience,
            send_at=when,
            created_by=self.actor,
            now=self.now,
            kind=kind,
        )
        broadcast.author_id = self.staff.id
        if needs_approval:
            broadcast.status = BroadcastStatus.AWAITING_APPROVAL
        audit.record(
            self.session,
            actor=self.actor,
            action="broadcast.create",
            target=f"broadcast:{broadcast.id}",
            changes={
                "kind": kind,
                "audience": audience.to_json(),
                "send_at": when.isoformat(),
                "recipients_now": count,
                "status": broadcast.status.value,
            },
            now=self.now,
        )
        replies = [] if needs_approval else [self._scheduled(broadcast, count)]
        if needs_approval:
            replies = self._ask_approvers(broadcast, count)
        self._reset()
        return replies

    def _when(self, moment: datetime) -> str:
        return describe_when(max(moment, self.now), self.now, self.chat.tz)

    def _scheduled(self, broadcast: Broadcast, count: int) -> Reply:
        return Reply(
            say.SCHEDULED.format(id=broadcast.id, when=self._when(broadcast.send_at), count=count)
        )

    # --- approval -------------------------------------------------------------------

    def _ask_approvers(self, broadcast: Broadcast, count: int) -> list[Reply]:
        label = KIND_LABELS.get(Kind(broadcast.kind), broadcast.kind).lower()
        mine = [Reply(say.AWAITING.format(id=broadcast.id, kind=label))]
        approvers = self._approvers(broadcast)
        if not approvers:
            return [Reply(say.NO_APPROVER.format(id=broadcast.id))]
        area, role = self._labels()
        text = say.TO_APPROVE.format(
            id=broadcast.id,
            author=self.me,
            area=area,
            role=role,
            count=count,
            when=self._when(broadcast.send_at),
        )
        options = (
            Choice(ACTION, f"ap{broadcast.id}").option(say.APPROVE),
            Choice(ACTION, f"rj{broadcast.id}").option(say.REJECT),
        )
        for approver in approvers:
            mine += [
                self._preview(chat=approver.user_id),
                Reply(text, options, columns=2, chat=approver.user_id),
            ]
        return mine

    def _approvers(self, broadcast: Broadcast) -> list[Staff]:
        area_ids = Audience.from_json(broadcast.audience).area_ids
        query = select(Staff).where(
            Staff.role.in_([StaffRole.APPROVER, StaffRole.ADMIN]),
            Staff.id != self.staff.id,
            Staff.channel == self.staff.channel,
        )
        return [
            s
            for s in self.session.scalars(query.order_by(Staff.id))
            if people.allowed_targets(self.session, s, area_ids)
        ]

    def _decidable(self, broadcast_id: int) -> Broadcast | list[Reply]:
        broadcast = self.session.get(Broadcast, broadcast_id, with_for_update=True)
        if broadcast is None or self.staff.role not in (StaffRole.APPROVER, StaffRole.ADMIN):
            return [Reply(say.NOT_YOURS.format(id=broadcast_id))]
        if broadcast.author_id == self.staff.id:
            return [Reply(say.OWN_BROADCAST)]
        area_ids = Audience.from_json(broadcast.audience).area_ids
        if not people.allowed_targets(self.session, self.staff, area_ids):
            return [Reply(say.NOT_YOURS.format(id=broadcast_id))]
        if broadcast.status is not BroadcastStatus.AWAITING_APPROVAL:
            status = say.STATUS.get(broadcast.status.value, broadcast.status.value)
            return [Reply(say.ALREADY_DECIDED.format(id=broadcast_id, status=status))]
        return broadcast

    def _approve(self, broadcast_id: int) -> list[Reply]:
        found = self._decidable(broadcast_id)
        if isinstance(found, list):
            return found
        found.status = BroadcastStatus.SCHEDULED
        found.send_at = max(found.send_at, self.now)  # approved late: it goes now
        found.decided_by_id, found.decided_at = self.staff.id, self.now
        audit.record(
            self.session,
            actor=self.actor,
            action="broadcast.approve",
            target=f"broadcast:{found.id}",
            changes={"status": ["awaiting_approval", "scheduled"]},
            now=self.now,
        )
        when = self._when(found.send_at)
        replies = [Reply(say.APPROVED_YOU.format(id=found.id, when=when))]
        text = say.APPROVED_AUTHOR.format(id=found.id, approver=self.me, when=when)
        return replies + self._to_author(found, text)

    def _ask_reason(self, broadcast_id: int) -> list[Reply]:
        found = self._decidable(broadcast_id)
        if isinstance(found, list):
            return found
        self.staff.conv_state = f"reject:{broadcast_id}"
        return [Reply(say.ASK_REASON.format(id=broadcast_id))]

    def _reject(self, broadcast_id: int, reason: str) -> list[Reply]:
        self._reset()
        found = self._decidable(broadcast_id)
        if isinstance(found, list):
            return found
        found.status = BroadcastStatus.REJECTED
        found.decided_by_id, found.decided_at = self.staff.id, self.now
        found.decision_note = reason.strip()[:300]
        found.finished_at = self.now
        audit.record(
            self.session,
            actor=self.actor,
            action="broadcast.reject",
            target=f"broadcast:{found.id}",
            changes={"status": ["awaiting_approval", "rejected"], "reason": found.decision_note},
            now=self.now,
        )
        replies = [Reply(say.REJECTED_YOU.format(id=found.id))]
        text = say.REJECTED_AUTHOR.format(id=found.id, approver=self.me, reason=found.decision_note)
        return replies + self._to_author(found, text)

    def _to_author(self, broadcast: Broadcast, text: str) -> list[Reply]:
        """Tell the officer who wrote a broadcast, in their own chat (if they are still staff)."""
        author = self.session.get(Staff, broadcast.author_id) if broadcast.author_id else None
        return [Reply(text, chat=author.user_id)] if author is not None else []

    # --- following up ---------------------------------------------------------------

    def _list(self) -> list[Reply]:
        query = (
            select(Broadcast)
            .where(Broadcast.author_id == self.staff.id)
            .order_by(Broadcast.id.desc())
            .limit(8)
        )
        found = list(self.session.scalars(query))
        if not found:
            return [Reply(say.NO_BROADCASTS)]
        lines, options = [say.BROADCASTS], []
        for broadcast in found:
            done = broadcasts.progress(self.session, broadcast.id)
            sent = done.by_status.get("sent", 0)
            progress = f"{sent}/{done.total} đã gửi" if done.total else "chưa gửi"
            preview = _gist(broadcast)
            lines.append(
                say.BROADCAST_LINE.format(
                    id=broadcast.id,
                    status=say.STATUS.get(broadcast.status.value, broadcast.status.value),
                    progress=progress,
                    when=f"{broadcast.send_at.astimezone(self.chat.tz):%H:%M %d/%m}",
                    preview=preview,
                )
            )
            options += self._moves(broadcast)
        return [Reply("\n".join(lines), tuple(options), columns=3)]

    def _moves(self, broadcast: Broadcast) -> list[Option]:
        status, number = broadcast.status, broadcast.id
        moves = []
        if status in (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING):
            moves.append(Choice(ACTION, f"mp{number}").option(say.PAUSE.format(id=number)))
        if status is BroadcastStatus.PAUSED:
            moves.append(Choice(ACTION, f"mr{number}").option(say.RESUME.format(id=number)))
        if status in broadcasts.MOVES["cancel"][0]:
            moves.append(Choice(ACTION, f"mc{number}").option(say.STOP.format(id=number)))
        return moves

    def _move(self, action: str, broadcast_id: int) -> list[Reply]:
        found = self.session.get(Broadcast, broadcast_id)
        if found is None or (
            found.author_id != self.staff.id and self.staff.role is not StaffRole.ADMIN
        ):
            return [Reply(say.NOT_YOURS.format(id=broadcast_id))]
        before = found.status.value
        try:
            moved = broadcasts.move(self.session, broadcast_id, action, self.now)
        except LifecycleError:
            status = say.STATUS.get(before, before)
            return [Reply(say.CANNOT_MOVE.format(id=broadcast_id, status=status))]
        audit.record(
            self.session,
            actor=self.actor,
            action=f"broadcast.{action}",
            target=f"broadcast:{broadcast_id}",
            changes={"status": [before, moved.status.value]},
            now=self.now,
        )
        return [Reply(say.MOVED[action].format(id=broadcast_id))]

    def _manage(self, text: str) -> list[Reply]:
        if self.staff.role is not StaffRole.ADMIN:
            log.warning("staff %s (not an admin) tried /staff %s", self.staff.id, text)
            return [Reply(say.ADMIN_ONLY)]
        return _Admin(self).run(text)

    def _stats(self) -> list[Reply]:
        scope = people.scope_ids(self.session, self.staff)
        figures = area_stats(self.session, scope, self.now)
        name = self.staff.area.name if scope is not None and self.staff.area else None
        return [Reply(stats_text(figures, name, self.chat.tz))]


class _Admin:
    """`/staff …`: an admin lists, adds, changes and removes officers by typed commands."""

    def __init__(self, turn: _Turn) -> None:
        self.turn, self.session = turn, turn.session

    def run(self, text: str) -> list[Reply]:
        words = text.split()
        if not words:
            lines = [self.line(s) for s in people.list_staff(self.session)]
            return [Reply("\n".join([*lines, "", say.STAFF_USAGE]))]
        action = fold(words[0])
        try:
            if action in ("them", "add") and len(words) >= 3:
                return self.add(words[1], *_role_and_place(words[2:]))
            if action in ("doi", "set") and len(words) >= 3 and words[1].isdigit():
                return self.change(int(words[1]), *_role_and_place(words[2:]))
            if action in ("xoa", "remove") and len(words) == 2 and words[1].isdigit():
                return self.remove(int(words[1]))
        except people.StaffProblem as problem:
            found = next((vi for en, vi in say.STAFF_PROBLEMS.items() if en in str(problem)), None)
            return [Reply(found or str(problem))]
        except _Refused as refused:
            return [Reply(str(refused))]
        return [Reply(say.STAFF_USAGE)]

    def line(self, officer: Staff) -> str:
        area = officer.area.name if officer.area is not None else say.STAFF_EVERYWHERE
        return say.STAFF_LINE.format(
            id=officer.id,
            name=officer.name or "(chưa có tên)",
            role=say.STAFF_ROLE[officer.role.value],
            area=area,
            user_id=officer.user_id,
        )

    def role(self, word: str) -> StaffRole:
        role = ROLE_WORDS.get(fold(word).replace(" ", ""))
        if role is None:
            raise _Refused(say.STAFF_BAD_ROLE.format(role=word))
        return role

    def place(self, text: str) -> Area | None:
        if not text.strip():
            return None
        found = _places(self.session, text, None)
        if len(found) != 1:
            raise _Refused(say.STAFF_PLACE.format(text=text.strip()))
        return found[0]

    def officer(self, number: int) -> Staff:
        found = self.session.get(Staff, number)
        if found is None:
            raise _Refused(say.STAFF_NOT_FOUND.format(id=number))
        return found

    def add(self, user_id: str, role: str, place: str) -> list[Reply]:
        if not user_id.isdigit():
            return [Reply(say.STAFF_USAGE)]
        officer = people.add_staff(
            self.session,
            channel=self.turn.staff.channel,
            user_id=user_id,
            role=self.role(role),
            area=self.place(place),
            name=None,
            actor=self.turn.actor,
            now=self.turn.now,
        )
        return [Reply(say.STAFF_ADDED.format(line=self.line(officer)))]

    def change(self, number: int, role: str, place: str) -> list[Reply]:
        officer = self.officer(number)
        people.change_staff(
            self.session,
            officer,
            actor=self.turn.actor,
            now=self.turn.now,
            role=self.role(role),
            area=self.place(place),
        )
        return [Reply(say.STAFF_CHANGED.format(line=self.line(officer)))]

    def remove(self, number: int) -> list[Reply]:
        officer = self.officer(number)
        line = self.line(officer)
        people.remove_staff(self.session, officer, actor=self.turn.actor, now=self.turn.now)
        return [Reply(say.STAFF_REMOVED.format(line=line))]


def _role_and_place(words: list[str]) -> tuple[str, str]:
    """Split "bien tap Mỹ Sơn, Khánh Hòa" into the role (one or two words) and the place."""
    if len(words) >= 2 and fold(words[0] + words[1]) in ROLE_WORDS:
        return words[0] + words[1], " ".join(words[2:])
    return words[0], " ".join(words[1:])


class _Refused(ValueError):
    """An admin's /staff command that cannot be carried out; the message is for them."""


def _gist(broadcast: Broadcast) -> str:
    """The start of a broadcast as a member reads it: rendered for a sample member, no markup."""
    text = broadcast.text or ""
    if broadcast.templated:  # if it cannot render, it is shown as the officer wrote it
        with contextlib.suppress(TemplateProblem):
            text = compile_text(text).render(PREVIEW_AS)
    return " ".join(plain(text).split())[:60] or "(ảnh)"


def _places(session: Session, text: str, province: Area | None) -> list[Area]:
    """Find what a typed place means: "xã, tỉnh", a commune of `province`, or a province.

    Without `province`, a province, else a commune anywhere. By the names staff still use
    (db/places): what people call provinces, the provinces merged in 2025, the communes and
    districts of before 1/7/2025 as what they became. The one area meant, or the only one that
    comes near (a typo: the replies name what it was taken as); else every candidate."""
    try:
        if province is not None and "," not in text:
            return [resolve_commune_in(session, text, [province], _taken)]
        return [resolve_place(session, text, _taken)]
    except NotOneArea as refused:
        return refused.candidates
    except LookupError:  # a code that is no area's
        return []


def _taken(line: str) -> None:
    """Log what a typed place was taken as (the officer reads the area's name in the reply)."""
    log.info("staff place %s", line)
