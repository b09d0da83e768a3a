"""Read a member's plain words: yes, no and stop, in any case, with or without diacritics."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

import yaml

from db.textmatch import fold, spelled

WORDS_FILE = Path(__file__).with_name("words.yaml")


class Meaning(StrEnum):
    """What a plain answer means."""

    YES = "yes"
    NO = "no"
    STOP = "stop"


@cache
def words() -> dict[Meaning, tuple[str, ...]]:
    """Read the reviewed word lists."""
    table: dict[str, list[str]] = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    return {meaning: tuple(str(w) for w in table[meaning.value]) for meaning in Meaning}


def typed_form(text: str) -> str:
    """Lower case, one tone-mark style, no punctuation or extra spaces; diacritics kept."""
    return spelled(text)


@cache
def _index() -> tuple[dict[str, frozenset[Meaning]], dict[str, frozenset[Meaning]]]:
    folded: dict[str, set[Meaning]] = {}
    exact: dict[str, set[Meaning]] = {}
    for meaning, listed in words().items():
        for word in listed:
            folded.setdefault(fold(word), set()).add(meaning)
            exact.setdefault(typed_form(word), set()).add(meaning)
    return (
        {k: frozenset(v) for k, v in folded.items()},
        {k: frozenset(v) for k, v in exact.items()},
    )


def meanings(text: str) -> frozenset[Meaning]:
    """Tell what a message may mean: nothing, one meaning, or two when only diacritics tell.

    "đúng" is yes and "dừng" is stop; "dung", typed without them, may be either."""
    folded, exact = _index()
    found = folded.get(fold(text), frozenset())
    if len(found) > 1:
        typed = typed_form(text)
        if typed != fold(text):  # diacritics were typed: they decide
            return exact.get(typed, found)
    return found


def aliases(meaning: Meaning) -> tuple[str, ...]:
    """The words that pick an option meaning yes or no, as the conversation's option aliases."""
    return words()[meaning]
