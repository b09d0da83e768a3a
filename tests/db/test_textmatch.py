"""Matching what people type: no diacritics, any case, one-letter typos."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.conversation.events import Option
from bot.conversation.member import match_option
from db.textmatch import fold, rank, search_key


def test_fold_and_search_key() -> None:
    assert fold("Đồng Tháp") == "dong thap"
    assert fold("  HỢP   TÁC XÃ!! ") == "hop tac xa"
    assert search_key("Xã Mỹ Sơn") == "my son"
    assert search_key("Thành phố Hồ Chí Minh") == "ho chi minh"
    assert search_key("HTX Nông nghiệp Mỹ Sơn") == "nong nghiep my son"


def test_rank_grades() -> None:
    names = [("my son", "Mỹ Sơn"), ("son my", "Sơn Mỹ"), ("my hoa", "Mỹ Hòa")]
    assert [(m.item, m.grade) for m in rank("Mỹ Sơn", names)] == [("Mỹ Sơn", 0)]
    assert [m.item for m in rank("my sonn", names)] == ["Mỹ Sơn"]
    assert [m.item for m in rank("my", names)] == ["Mỹ Hòa", "Mỹ Sơn"]
    assert rank("", names) == []
    assert rank("xyz", names) == []


@given(st.text(max_size=30))
def test_rank_never_fails_on_odd_input(text: str) -> None:
    rank(text, [("my son", 1)])
    fold(text)


def test_match_option_by_number_words_and_alias() -> None:
    options = [
        Option("✅ Tôi đồng ý", "consent|yes", ("dong y",)),
        Option("Không đồng ý", "consent|no", ("khong",)),
    ]
    assert match_option("1", options) is options[0]
    assert match_option("2", options) is options[1]
    assert match_option("3", options) is None
    assert match_option("Đồng ý", options) is options[0]
    assert match_option("KHONG DONG Y", options) is options[1]
    assert match_option("có lẽ", options) is None


def test_every_status_role_and_topic_has_a_vietnamese_label() -> None:
    from bot.conversation.profile import STATUS_LABELS
    from db.models import Role, SubscriberStatus, Topic
    from messages.member import ROLE_LABELS, TOPIC_LABELS

    assert set(STATUS_LABELS) == set(SubscriberStatus)
    assert set(ROLE_LABELS) == set(Role)
    assert set(TOPIC_LABELS) == set(Topic)
