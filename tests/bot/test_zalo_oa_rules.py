"""Zalo's sending rules as a pure function, the OA's error codes, events and rendering."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.base import FailureKind, SendFailure
from bot.channels.zalo_oa import classify, render, signature, to_inbound, verified_event
from bot.channels.zalo_oa_rules import Way, ZaloRules, decide
from bot.conversation.events import EventKind, Option, Reply
from bot.simulator.zalo_oa_state import sign

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NOON = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)  # 12:00 in Hà Nội
NIGHT = datetime(2026, 11, 24, 16, 30, tzinfo=UTC)  # 23:30 in Hà Nội


@pytest.mark.parametrize(
    ("days", "promotion", "zns", "phone", "way"),
    [
        (1.9, False, False, False, Way.CONSULTATION),
        (2.1, False, False, False, None),
        (2.1, True, False, False, Way.PROMOTION),
        (6.9, True, True, True, Way.PROMOTION),
        (7.1, True, False, True, None),
        (7.1, True, True, True, Way.ZNS),
        (30, False, True, False, None),
    ],
)
def test_the_way_a_message_goes(
    days: float, promotion: bool, zns: bool, phone: bool, way: Way | None
) -> None:
    rules = ZaloRules(HANOI, promotion=promotion, zns=zns)
    verdict = decide(rules, NOON - timedelta(days=days), phone, NOON)
    assert verdict.way == way and verdict.wait_until is None
    if way is None:
        assert "days ago" in verdict.reason


def test_never_seen_member_is_outside_the_window() -> None:
    verdict = decide(ZaloRules(HANOI), None, False, NOON)
    assert verdict.way is None and "last interaction never" in verdict.reason


def test_paid_messages_wait_for_the_end_of_the_night() -> None:
    rules = ZaloRules(HANOI, promotion=True)
    verdict = decide(rules, NIGHT - timedelta(days=3), False, NIGHT)
    assert verdict.way == Way.PROMOTION
    assert verdict.wait_until == datetime(2026, 11, 25, 7, 0, tzinfo=HANOI)
    free = decide(rules, NIGHT - timedelta(hours=1), False, NIGHT)
    assert free.way == Way.CONSULTATION and free.wait_until is None  # replies are not barred


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1)),
    st.times(),
    st.times(),
)
def test_the_night_ends_at_its_end_and_never_in_the_past(
    moment: datetime, start: time, end: time
) -> None:
    now = moment.replace(tzinfo=UTC)
    rules = ZaloRules(
        HANOI, night_start=start.replace(microsecond=0), night_end=end.replace(microsecond=0)
    )
    morning = rules.night_ends(now)
    if morning is not None:
        local = morning.astimezone(HANOI)
        assert now < morning <= now + timedelta(days=1)
        assert (local.hour, local.minute) == (rules.night_end.hour, rules.night_end.minute)


@given(st.floats(min_value=0, max_value=60), st.booleans(), st.booleans(), st.booleans())
def test_nothing_goes_to_the_chat_after_the_silence_limit(
    days: float, promotion: bool, zns: bool, phone: bool
) -> None:
    rules = ZaloRules(HANOI, promotion=promotion, zns=zns)
    verdict = decide(rules, NOON - timedelta(days=days), phone, NOON)
    if days > 7:
        assert verdict.way in (None, Way.ZNS)
    if verdict.way == Way.ZNS:
        assert phone and zns


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ({"error": -32, "message": "rate"}, FailureKind.RETRY_AFTER),
        ({"error": -213, "message": "not following"}, FailureKind.BLOCKED),
        ({"error": -230, "message": "7 days"}, FailureKind.OUTSIDE_WINDOW),
        ({"error": -232, "message": "48 hours"}, FailureKind.OUTSIDE_WINDOW),
        ({"error": -211, "message": "quota"}, FailureKind.QUOTA),
        ({"error": -124, "message": "expired token"}, FailureKind.TRANSIENT),
        ({"error": -201, "message": "invalid"}, FailureKind.REJECTED),
    ],
)
def test_zalo_errors_map_to_outcomes(answer: dict, kind: FailureKind) -> None:
    with pytest.raises(SendFailure) as raised:
        classify(200, answer)
    assert raised.value.kind == kind
    assert classify(200, {"error": 0, "data": {"message_id": "m1"}}) == {"message_id": "m1"}


def test_signature_matches_the_fake_and_forgery_fails() -> None:
    event = {"event_name": "user_send_text", "timestamp": "1764000000000", "sender": {"id": "1"}}
    body = json.dumps(event, ensure_ascii=False)
    header = sign("app", body, "1764000000000", "secret")
    assert signature("app", body.encode(), "1764000000000", "secret") == header
    assert verified_event(body.encode(), header, "app", "secret") == event
    assert verified_event(body.encode(), header, "app", "other secret") is None
    assert verified_event(b"not json", header, "app", "secret") is None


def test_events_become_neutral_events() -> None:
    base = {"sender": {"id": "77"}, "timestamp": "1"}
    tapped = to_inbound(
        {**base, "event_name": "user_send_text", "message": {"text": "role|farmer", "msg_id": "a"}}
    )
    assert tapped is not None and tapped.kind == EventKind.CHOICE and tapped.data == "role|farmer"
    typed = to_inbound({**base, "event_name": "user_send_text", "message": {"text": "Khánh Hòa"}})
    assert typed is not None and typed.kind == EventKind.TEXT and typed.text == "Khánh Hòa"
    command = to_inbound(
        {**base, "event_name": "user_send_text", "message": {"text": "/LienKet 12"}}
    )
    assert command is not None and (command.command, command.text) == ("lienket", "12")
    sticker = to_inbound({**base, "event_name": "user_send_sticker", "message": {"msg_id": "b"}})
    assert sticker is not None and sticker.kind == EventKind.OTHER
    left = to_inbound({"event_name": "unfollow", "follower": {"id": "77"}, "timestamp": "2"})
    assert left is not None and left.kind == EventKind.LEFT
    assert to_inbound({"event_name": "oa_send_text", "sender": {"id": "oa"}}) is None


def test_few_short_choices_are_buttons_many_are_a_numbered_list() -> None:
    two = render(Reply("Chọn:", (Option("Có", "c|1"), Option("Không", "c|0"))))
    assert [b["payload"] for b in two["attachment"]["payload"]["buttons"]] == ["c|1", "c|0"]
    many = render(Reply("Chọn:", tuple(Option(f"Xã {n}", f"c|{n}") for n in range(8))))
    assert "attachment" not in many and "8. Xã 7" in many["text"]
