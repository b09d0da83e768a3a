"""Show and change what is stored; stop, resume and forget; keep what members write."""

from __future__ import annotations

from bot import courses
from bot.conversation import feedback as hear
from bot.conversation.events import Choice, Option, Reply
from bot.conversation.flow import CHOICES, PROMPTS, advance, is_registered, missing_steps
from bot.conversation.registration import prompt_consent
from bot.conversation.turn import Turn
from db.cooperatives import by_public_code
from db.models import Subscriber, SubscriberStatus, Topic
from db.people import forget_person, preferred, reroute_unreachable, siblings
from db.subscribers import count_feedback, create_pending, forget_subscriber
from messages import linking as say_link
from messages import member as say

STATUS_LABELS = {
    SubscriberStatus.PENDING: "Đang đăng ký",
    SubscriberStatus.ACTIVE: "Đang nhận tin",
    SubscriberStatus.STOPPED: "Đã dừng nhận tin",
    SubscriberStatus.BLOCKED: "Không gửi được (đã chặn bot)",
    SubscriberStatus.INVALID: "Không gửi được (không tìm thấy cuộc trò chuyện)",
}


def start(turn: Turn) -> list[Reply]:
    """Answer /start: register a newcomer, continue an unfinished registration, or resume."""
    code = turn.event.text.strip()
    coop = by_public_code(turn.session, code) if code else None
    notes = [Reply(say.bad_invite(code))] if code and coop is None else []
    if coop is not None:
        area = coop.area
        notes = [Reply(say.invited(coop.name, area.name, area.parent.name if area.parent else ""))]
    member = turn.subscriber
    if member is None or member.consent_at is None:
        return [*notes, *_ask_consent(turn, coop.id if coop else None)]
    if coop is not None:
        member.cooperative_id, member.cooperative = coop.id, coop
        notes = [Reply(say.joined_coop(coop.name))]
    if not is_registered(member):
        turn.set_state("idle", todo=missing_steps(member))
        return [*notes, Reply(say.CONTINUE_REGISTRATION), *advance(turn)]
    if member.status == SubscriberStatus.ACTIVE:
        return [*notes, Reply(say.ALREADY_ACTIVE)]
    member.status, member.stopped_at = SubscriberStatus.ACTIVE, None
    turn.set_state("idle")
    return [*notes, Reply(say.RESUMED)]


def _ask_consent(turn: Turn, invite: int | None) -> list[Reply]:
    if turn.subscriber is None:
        event = turn.event
        turn.subscriber = create_pending(turn.session, event.channel, event.chat_id, turn.now)
    turn.set_state("consent", invite=invite)
    return [Reply(say.WELCOME), *prompt_consent(turn)]


def stop(turn: Turn) -> list[Reply]:
    """Stop every message at once; the data stays so that /start can resume."""
    member = turn.subscriber
    if member is None:
        return [Reply(say.NOT_REGISTERED)]
    if member.consent_at is None:  # stopped before agreeing: nothing worth keeping
        forget_subscriber(turn.session, member)
        turn.subscriber = None
        return [Reply(say.STOPPED)]
    if member.status == SubscriberStatus.STOPPED:
        return [Reply(say.ALREADY_STOPPED)]
    member.status, member.stopped_at = SubscriberStatus.STOPPED, turn.now
    turn.set_state("idle")
    return [Reply(say.STOPPED)]


def left(turn: Turn) -> list[Reply]:
    """Note that the member unfollowed: nothing can reach them there until they come back."""
    member = turn.subscriber
    if member is not None and member.status == SubscriberStatus.ACTIVE:
        member.status = SubscriberStatus.BLOCKED
        reroute_unreachable(turn.session, [member.id])
    return []


def ask_forget(turn: Turn) -> list[Reply]:
    """Ask for confirmation before deleting everything."""
    if turn.subscriber is None:
        return [Reply(say.NOT_REGISTERED)]
    turn.set_state("forget", back=turn.member.conv_state, data=turn.data)
    options = (
        Choice("forget", "yes").option(say.FORGET_YES, "xoa", "co"),
        Choice("forget", "no").option(say.FORGET_NO, "khong"),
    )
    return [Reply(say.FORGET_CONFIRM, options)]


def on_forget(turn: Turn, choice: Choice) -> list[Reply]:
    """Delete the member's data, or go back to where they were."""
    if choice.value == "yes":
        everyone = [turn.member, *siblings(turn.session, turn.member)]
        courses.free_seats(turn.session, everyone, turn.now)  # the next in line moves up
        forget_person(turn.session, turn.member)
        turn.subscriber = None
        return [Reply(say.FORGOTTEN)]
    data = turn.data
    turn.set_state(data.get("back", "idle"), **data.get("data", {}))
    return [Reply(say.NOT_FORGOTTEN)]


def show_profile(turn: Turn) -> list[Reply]:
    """Show everything stored about the member, with buttons to change it."""
    member = turn.subscriber
    if member is None:
        return [Reply(say.NOT_REGISTERED)]
    if not is_registered(member):
        return [Reply(say.UNFINISHED)]
    toggle = (
        Choice("prof", "resume").option(say.PROFILE_RESUME)
        if member.status != SubscriberStatus.ACTIVE
        else Choice("prof", "stop").option(say.PROFILE_STOP)
    )
    options: tuple[Option, ...] = (
        Choice("prof", "area").option(say.PROFILE_EDIT_AREA),
        Choice("prof", "role").option(say.PROFILE_EDIT_ROLE),
        Choice("prof", "coop").option(say.PROFILE_EDIT_COOP),
        Choice("prof", "topics").option(say.PROFILE_EDIT_TOPICS),
        toggle,
        Choice("prof", "forget").option(say.PROFILE_FORGET),
    )
    if member.person_id is not None and not member.preferred:
        options = (*options, Choice("link", "here").option(say_link.LINK_HERE))
    return [Reply(say.profile(_fields(turn, member)), options, columns=2)]


def _fields(turn: Turn, member: Subscriber) -> list[tuple[str, str]]:
    area = member.area
    province = area.parent.name if area is not None and area.parent else ""
    consent = say.date_vi(member.consent_at, turn.tz) if member.consent_at else "chưa"
    receiving = preferred(turn.session, member)
    return [
        ("Tên", member.display_name or "(không có)"),
        ("Kênh", say_link.CHANNEL_NAMES[member.channel]),
        ("Nhận tin qua", say_link.CHANNEL_NAMES[receiving.channel]),
        ("Số điện thoại", say_link.national(member.phone) if member.phone else "(không)"),
        ("Địa bàn", f"{area.name}, {province}" if area else "(chưa chọn)"),
        ("Vai trò", say.ROLE_LABELS[member.role] if member.role else "(chưa chọn)"),
        ("Hợp tác xã", member.cooperative.name if member.cooperative else "(không)"),
        ("Chủ đề", ", ".join(say.TOPIC_LABELS[t] for t in Topic if t in member.topic_set)),
        ("Trạng thái", STATUS_LABELS[member.status]),
        ("Đồng ý lưu dữ liệu lúc", consent),
        ("Số ý kiến đã gửi", str(count_feedback(turn.session, member))),
    ]


EDITS = {"area": ["province", "commune"], "role": ["role"], "coop": ["coop"], "topics": ["topics"]}


def edit(turn: Turn, what: str) -> list[Reply]:
    """Start changing one part of the profile; the same steps as registration are reused."""
    member = turn.subscriber
    if member is None or not is_registered(member):
        return [Reply(say.UNFINISHED if member else say.NOT_REGISTERED)]
    turn.set_state("idle", todo=EDITS[what], editing=True)
    return advance(turn)


def edit_topics(turn: Turn) -> list[Reply]:
    """Answer /chude (/topics): change the topics received."""
    return edit(turn, "topics")


def show_help(turn: Turn) -> list[Reply]:
    """Answer /trogiup (/help): every command a member has."""
    return [Reply(say.HELP)]


def on_profile(turn: Turn, choice: Choice) -> list[Reply]:
    """Act on a profile button."""
    if choice.value in EDITS:
        return edit(turn, choice.value)
    if choice.value == "stop":
        return stop(turn)
    if choice.value == "resume":
        return start(turn)
    if choice.value == "forget":
        return ask_forget(turn)
    return show_profile(turn)


def feedback(turn: Turn) -> list[Reply]:
    """Keep what a registered member wrote and thank them; others are invited to register."""
    member = turn.subscriber
    if member is None:
        return [*_ask_consent(turn, None)]
    if member.consent_at is None:
        return prompt_consent(turn)
    return hear.on_text(turn)


PROMPTS.update(profile=show_profile)
CHOICES.update(forget=("forget", on_forget))
