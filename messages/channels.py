"""Fit rendered HTML to each channel: Telegram's length limits, plain text for Zalo.

Telegram counts a message's length after parsing its HTML, in UTF-16 code units: 4,096 for a
text, 1,024 for a photo's caption. A longer text is split at paragraph boundaries (then at
lines, then at spaces), and a caption too long for its photo goes in a follow-up message.
"""

from __future__ import annotations

import html
import re

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_TAG = re.compile(r"<[^>]+>")


def visible(markup: str) -> str:
    """Return what a reader sees of Telegram HTML: no tags, entities decoded."""
    return html.unescape(_TAG.sub("", markup))


def units(markup: str) -> int:
    """Measure markup the way Telegram does: UTF-16 code units of the visible text."""
    return len(visible(markup).encode("utf-16-le")) // 2


def split_text(markup: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split HTML into messages of at most `limit`, at paragraphs, lines, then spaces."""
    if units(markup) <= limit:
        return [markup]
    parts: list[str] = []
    current = ""
    for piece in _pieces(markup, limit):
        joined = f"{current}\n\n{piece}" if current else piece
        if units(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()]


def _pieces(markup: str, limit: int) -> list[str]:
    """Cut into paragraphs, each short enough; an overlong one loses its markup to be cut."""
    pieces: list[str] = []
    for paragraph in markup.split("\n\n"):
        if units(paragraph) <= limit:
            pieces.append(paragraph)
            continue
        for line in paragraph.split("\n"):
            if units(line) <= limit:
                pieces.append(line)
            else:  # cutting inside tags would break them: cut the plain text, escaped again
                pieces += [
                    html.escape(chunk, quote=False) for chunk in _words(visible(line), limit)
                ]
    return pieces


def _words(text: str, limit: int) -> list[str]:
    """Cut plain text at spaces (or anywhere, for a single overlong word) within the limit."""
    chunks: list[str] = []
    current = ""
    for word in text.split(" "):
        while units(html.escape(word)) > limit:  # a "word" longer than a message
            cut = _fitting(word, limit)
            chunks.append(word[:cut])
            word = word[cut:]
        joined = f"{current} {word}" if current else word
        if units(html.escape(joined)) <= limit:
            current = joined
        else:
            chunks.append(current)
            current = word
    if current:
        chunks.append(current)
    return chunks


def _fitting(word: str, limit: int) -> int:
    """Return how many characters of a word fit in `limit` units (emoji count two)."""
    used = 0
    for index, char in enumerate(word):
        used += units(html.escape(char))
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
