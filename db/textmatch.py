"""Normalise and match what people type, ignoring diacritics, case and one-letter typos."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

PREFIXES = re.compile(
    r"^(xa|phuong|thi tran|dac khu|tinh|thanh pho|tp|huyen|quan|thi xa|htx|hop tac xa|"
    r"to hop tac|tht)\s+"
)


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d) and punctuation, collapse spaces."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def search_key(name: str) -> str:
    """Fold a name and drop its administrative or legal prefix ('xã', 'tỉnh', 'HTX')."""
    key = fold(name)
    previous = None
    while previous != key:  # "Thành phố Hồ Chí Minh", "HTX nông nghiệp ..." lose one prefix each
        previous, key = key, PREFIXES.sub("", key, count=1)
    return key or fold(name)


@dataclass(frozen=True, slots=True)
class Match[T]:
    """A candidate and how well it matched: 0 exact, 1 prefix, 2 contains, 2 + typos."""

    item: T
    grade: int


def rank[T](query: str, candidates: Iterable[tuple[str, T]], limit: int = 6) -> list[Match[T]]:
    """Rank candidates (search key, item) against what a person typed, best first."""
    q = search_key(query)
    if not q:
        return []
    found: list[tuple[int, int, str, T]] = []
    for key, item in candidates:
        grade = _grade(q, key)
        if grade is not None:
            found.append((grade, len(key), key, item))
    found.sort(key=lambda f: (f[0], f[1], f[2]))
    return [Match(item, grade) for grade, _, _, item in found[:limit]]


def _grade(q: str, key: str) -> int | None:
    if q == key:
        return 0
    if key.startswith(q) and len(q) >= 2:
        return 1
    if len(q) >= 3 and f" {q}" in f" {key}":
        return 2
    if len(q) < 4:  # "2" is not a typo of "3": short inputs must match as typed
        return None
    allowed = 1 if len(q) < 8 else 2
    distance = Levenshtein.distance(q, key, score_cutoff=allowed)
    return 2 + distance if distance <= allowed else None
