"""Normalise and match what people type, ignoring diacritics, case and one-letter typos."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz.distance import Levenshtein

PLACE_NAMES = Path(__file__).with_name("place_names.yaml")
COOP_PREFIXES = ("hop tac xa", "to hop tac", "htx", "tht")  # "HTX nông nghiệp Mỹ Sơn"


def _place_prefixes() -> dict[str, frozenset[str]]:
    """Read the reviewed table of place prefixes: prefix -> the levels of place it names."""
    table: dict[str, list[str]] = yaml.safe_load(PLACE_NAMES.read_text(encoding="utf-8"))[
        "prefixes"
    ]
    levels: dict[str, set[str]] = {}
    for level, words in table.items():
        for word in words:
            levels.setdefault(word, set()).add(level)
    return {word: frozenset(found) for word, found in levels.items()}


PLACE_PREFIXES = _place_prefixes()
_WORDS = sorted({*PLACE_PREFIXES, *COOP_PREFIXES}, key=len, reverse=True)  # "thanh pho" first
PREFIXES = re.compile(rf"^({'|'.join(re.escape(w) for w in _WORDS)})\s+")
GLUED_NUMBER = re.compile(r"^([a-z]{1,2})(\d+)$")  # "p12", "q3": a prefix stuck to a number


def fold(text: str) -> str:
    """Lower-case, strip diacritics (đ -> d) and punctuation, collapse spaces."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


# Tone marks written the old way ("huỷ", "hoà") are the same letters: the mark on the main vowel.
_OLD_TONES = {
    "uý": "úy", "uỳ": "ùy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
    "oá": "óa", "oà": "òa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oé": "óe", "oè": "òe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
}  # fmt: skip
_OLD_TONE = re.compile(r"(?<!q)(u[ýỳỷỹỵ]|o[áàảãạéèẻẽẹ])(?!\w)")


def spelled(text: str) -> str:
    """Lower case, one tone-mark style, no punctuation or extra spaces: diacritics kept."""
    text = unicodedata.normalize("NFC", text.lower())
    text = " ".join(re.sub(r"[^\w\s]+", " ", text).split())
    return _OLD_TONE.sub(lambda m: _OLD_TONES[m.group(0)], text)


def spelled_name(text: str) -> str:
    """A name as spelled, without its prefix: "Phường Hương Văn" -> "hương văn"."""
    words = spelled(text).split()
    found = PREFIXES.match(fold(text))
    drop = len(found.group(1).split()) if found else 0
    return " ".join(words[drop:]) if len(words) > drop else " ".join(words)


def has_diacritics(text: str) -> bool:
    """Tell whether a person typed any diacritics ("Hương Văn" yes, "huong van" no)."""
    return spelled(text) != fold(text)


def prefix_levels(text: str) -> frozenset[str]:
    """Tell which levels of place a typed prefix names ("p. 12": commune), or none if none."""
    found = PREFIXES.match(GLUED_NUMBER.sub(r"\1 \2", fold(text)))
    return PLACE_PREFIXES.get(found.group(1), frozenset()) if found else frozenset()


def search_key(name: str) -> str:
    """Fold a name and drop its administrative or legal prefix ('xã', 'tỉnh', 'HTX').

    One prefix only: "Xã Quan Sơn" is "quan son", not "son" ("quan" is also "quận")."""
    key = GLUED_NUMBER.sub(r"\1 \2", fold(name))
    return PREFIXES.sub("", key, count=1) or key


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
    # What was typed is also tried whole: "quan son" is Xã Quan Sơn, not a quận named "Sơn".
    whole = GLUED_NUMBER.sub(r"\1 \2", fold(query))
    found: list[tuple[int, int, str, T]] = []
    for key, item in candidates:
        grade = _grade(q, key)
        if whole != q:
            again = _grade(whole, key)
            grade = again if grade is None or (again is not None and again < grade) else grade
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
