"""Hold the conversation's steps together: the registry of steps and the walk through them.

Each feature module (places, registration, profile) registers its steps here: the prompt
that asks, the handler for typed text, and the handlers for button choices.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.conversation.events import Choice, Reply
from bot.conversation.turn import Turn
from db.models import Area, Subscriber, SubscriberStatus, Topic
from messages import member as say

Prompt = Callable[[Turn], list[Reply]]
ChoiceHandler = Callable[[Turn, Choice], list[Reply]]

PROMPTS: dict[str, Prompt] = {}  # step -> what asks for it ("profile" shows the profile)
TEXT_STEPS: dict[str, Prompt] = {}  # step -> what reads typed text in it
PHOTO_STEPS: dict[str, Prompt] = {}  # step -> what reads a photo in it (a difficulty's)
CHOICES: dict[str, tuple[str, ChoiceHandler]] = {}  # action -> (the step it answers, handler)

Steps = list[str]


def missing_steps(member: Subscriber) -> Steps:
    """List the registration steps still to do, derived from what is stored."""
    steps: Steps = []
    if member.area_id is None:
        steps += ["province", "commune"]
    if member.role is None:
        steps.append("role")
    if not member.topics:
        if member.cooperative_id is None:
            steps.append("coop")
        steps.append("topics")
    return steps


def is_registered(member: Subscriber) -> bool:
    """Tell whether consent and every required answer are stored."""
    return member.consent_at is not None and not missing_steps(member)


def advance(turn: Turn) -> list[Reply]:
    """Go to the next step still to do, or finish registration or the profile edit."""
    data = turn.data
    todo: Steps = list(data.get("todo", []))
    editing = bool(data.get("editing"))
    if todo:
        state = todo.pop(0)
        # Working values (the province chosen, the topics ticked) live until the flow ends.
        turn.set_state(state, **{**data, "todo": todo, "editing": editing})
        return PROMPTS[state](turn)
    turn.set_state("idle")
    if editing:  # the member came from their profile: show it again, changed
        return [Reply(say.SAVED), *PROMPTS["profile"](turn)]
    return _finish(turn)


def _finish(turn: Turn) -> list[Reply]:
    member = turn.member
    member.status = SubscriberStatus.ACTIVE
    member.stopped_at = None
    topics = [say.TOPIC_LABELS[t] for t in Topic if t in member.topic_set]
    return [Reply(say.registered(place(member.area), topics))]


def place(area: Area | None) -> str:
    """Name a commune with its province, as members read it."""
    if area is None:
        return ""
    return f"{area.name}, {area.parent.name}" if area.parent else area.name
