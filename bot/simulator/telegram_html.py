"""Parse Telegram's HTML parse mode into plain text and entities, as strictly as Telegram."""

from __future__ import annotations

import re

from bot.simulator.telegram_entities import ParsedText, byte_offset, parse_error

_HTML_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_TEXT_RE = re.compile(r"[^&<]+")  # a bare '>' is accepted as text, as Telegram does
_HTML_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ATTR = r"""([^\s=>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
_HTML_START_RE = re.compile(rf"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+{_HTML_ATTR})*)\s*>")
_HTML_ATTR_RE = re.compile(_HTML_ATTR)
_HTML_END_RE = re.compile(r"</([^<>]*)>")
_HTML_NAME_RE = re.compile(r"<([a-zA-Z0-9-]*)")  # matches wherever a '<' is


def _html_unescape(text: str) -> str:
    def decode(match: re.Match) -> str:
        decimal, hexadecimal, named = match.groups()
        if named:
            return _HTML_NAMED[named]
        code = int(decimal) if decimal else int(hexadecimal, 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _HTML_ENTITY_RE.sub(decode, text)


def parse_html(src: str) -> tuple[str, list[dict]]:
    """Parse Telegram's HTML subset strictly: known tags, balanced, '&' only as an entity."""
    out, i = ParsedText(), 0
    stack: list[tuple[str, dict[str, str], int]] = []  # (tag, attributes, start position)
    while i < len(src):
        if match := _HTML_TEXT_RE.match(src, i):
            out.add(match.group())
        elif match := _HTML_ENTITY_RE.match(src, i):
            out.add(_html_unescape(match.group()))
        elif src[i] == "&":
            raise parse_error(
                f"Character '&' at byte offset {byte_offset(src, i)} must be "
                "written as &amp; unless it starts an HTML entity"
            )
        elif match := _HTML_END_RE.match(src, i):
            _close_html_tag(match.group(1).strip().lower(), stack, out, byte_offset(src, i))
        elif match := _HTML_START_RE.match(src, i):
            name = match.group(1).lower()
            if name not in _HTML_TYPES:
                raise parse_error(
                    f'Unsupported start tag "{name}" at byte offset {byte_offset(src, i)}'
                )
            attributes = {
                m[0].lower(): _html_unescape(m[1] or m[2] or m[3])
                for m in _HTML_ATTR_RE.findall(match.group(2))
            }
            stack.append((name, attributes, out.pos))
        else:
            opened = _HTML_NAME_RE.match(src, i)
            name = opened.group(1).lower() if opened else ""
            reason = (
                "Unclosed start tag" if name in _HTML_TYPES else f'Unsupported start tag "{name}"'
            )
            raise parse_error(f"{reason} at byte offset {byte_offset(src, i)}")
        i = match.end()
    if stack:
        raise parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html_tag(name: str, stack: list, out: ParsedText, offset: int) -> None:
    if not stack:
        raise parse_error(f"Unexpected end tag at byte offset {offset}")
    tag, attributes, start = stack.pop()
    if name != tag:
        raise parse_error(
            f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", found "</{name}>"'
        )
    kind, extra = _HTML_TYPES[tag], {}
    if tag == "span" and attributes.get("class") != "tg-spoiler":
        raise parse_error('Tag "span" must have class "tg-spoiler"')
    if tag == "a":
        if not attributes.get("href"):
            return  # Telegram keeps the text and makes no link
        extra["url"] = attributes["href"]
    elif tag == "tg-emoji":
        if not attributes.get("emoji-id"):
            raise parse_error('Tag "tg-emoji" must have attribute "emoji-id"')
        extra["custom_emoji_id"] = attributes["emoji-id"]
    elif tag == "code" and stack and stack[-1][0] == "pre":
        language = attributes.get("class", "")
        if language.startswith("language-"):  # <pre><code class="language-x"> is one entity
            stack[-1][1]["language"] = language.removeprefix("language-")
            return
    elif tag == "pre" and attributes.get("language"):
        extra["language"] = attributes["language"]
    elif tag == "blockquote" and "expandable" in attributes:
        kind = "expandable_blockquote"
    out.entity(kind, start, **extra)
