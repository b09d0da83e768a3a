"""Fit rendered HTML to each channel: Telegram's length limits, plain text for Zalo.

Telegram counts a message's length after parsing its HTML, in UTF-16 code units: 4,096 for a
text, 1,024 for a photo's caption. A longer text is split at paragraph boundaries (then at
lines, then at spaces), and a caption too long for its photo goes in a follow-up message.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_TAG = re.compile(r"<[^>]+>")


def visible(markup: str) -> str:
    """Return what a reader sees of Telegram HTML: no tags, entities decoded."""
    return html.unescape(_TAG.sub("", markup))


def units(markup: str) -> int:
    """Measure markup the way Telegram does: UTF-16 code units of the visible text."""
    return _utf16(visible(markup))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(markup: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split HTML into messages of at most `limit`, at paragraphs, lines, then spaces."""
    if units(markup) <= limit:
        return [markup]
    parts: list[str] = []
    current, used = "", 0
    for joiner, piece, size in _pieces(markup, limit):
        if current and used + len(joiner) + size <= limit:
            current, used = current + joiner + piece, used + len(joiner) + size
        else:
            parts.append(current)
            current, used = piece, size
    parts.append(current)
    return [p for p in parts if p.strip()]


def _pieces(markup: str, limit: int) -> Iterator[tuple[str, str, int]]:
    """Yield (what joined it to the text before, piece, its size), each piece short enough.

    Paragraphs come whole when they fit, else line by line; an overlong line loses its
    markup (cutting inside tags would break them) and is cut at spaces.
    """
    for paragraph in markup.split("\n\n"):
        size = units(paragraph)
        if size <= limit:
            yield "\n\n", paragraph, size
            continue
        joiner = "\n\n"
        for line in paragraph.split("\n"):
            size = units(line)
            if size <= limit:
                yield joiner, line, size
            else:
                for chunk in _words(visible(line), limit):
                    yield joiner, html.escape(chunk, quote=False), _utf16(chunk)
                    joiner = " "
            joiner = "\n"


def _words(text: str, limit: int) -> list[str]:
    """Cut plain text at spaces (or anywhere, for a single overlong word) within the limit."""
    chunks: list[str] = []
    current, used = "", 0
    for word in text.split(" "):
        size = _utf16(word)
        while size > limit:  # a "word" longer than a message
            cut = _fitting(word, limit)
            chunks.append(word[:cut])
            word = word[cut:]
            size = _utf16(word)
        if current and used + 1 + size <= limit:
            current, used = f"{current} {word}", used + 1 + size
        else:
            chunks.append(current)
            current, used = word, size
    chunks.append(current)
    return [c for c in chunks if c]


def _fitting(word: str, limit: int) -> int:
    """Return how many characters of a word fit in `limit` units (emoji count two)."""
    used = 0
    for index, char in enumerate(word):
        used += _utf16(char)
        if used > limit:
            return max(1, index)
    return len(word)


def caption_and_rest(markup: str, limit: int = CAPTION_LIMIT) -> tuple[str, list[str]]:
    """Return a photo's caption and the follow-up messages for what does not fit under it."""
    if units(markup) <= limit:
        return markup, []
    first, _, rest = markup.partition("\n\n")
    if units(first) <= limit:
        return first, split_text(rest)
    return "", split_text(markup)


def plain(markup: str) -> str:
    """Turn our Telegram HTML into plain text for channels without markup (Zalo)."""
    return visible(markup)


MAX_PARTS = 5  # a message longer than five Telegram messages belongs on a web page


def telegram_parts(markup: str, photo: bool) -> int:
    """Count the Telegram messages a broadcast goes as: split text, or a caption and the rest."""
    return len(caption_and_rest(markup)[1]) + 1 if photo else len(split_text(markup))
