"""Parse Telegram's MarkdownV2 and legacy Markdown parse modes into plain text and entities."""

from __future__ import annotations

import re

from bot.simulator.telegram_entities import ParsedText, byte_offset, parse_error

_MD2_MARKS = (
    ("||", "spoiler"),
    ("__", "underline"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)
_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
}
_MD2_TEXT_RE = re.compile(r"[^\\_*\[\]()~`>#+\-=|{}.!\n]+")
_MD2_PRE_RE = re.compile(r"```(?:([^\s`\\]+)\n)?((?:[^`\\]|\\.|`(?!``))*)```", re.S)
_MD2_CODE_RE = re.compile(r"`((?:[^`\\]|\\.)*)`", re.S)
_MD2_URL_RE = re.compile(r"\(((?:[^)\\]|\\.)*)\)", re.S)
_MD2_ESCAPED_RE = re.compile(r"\\(.)", re.S)


def parse_markdown_v2(src: str) -> tuple[str, list[dict]]:
    """Parse MarkdownV2: reserved characters must be escaped, entities must be closed."""
    out, stack, i, quote = ParsedText(), [], 0, None  # stack: (kind, start position, byte offset)
    while i < len(src):
        ch = src[i]
        at_line_start = i == 0 or src[i - 1] == "\n"
        if at_line_start and quote is not None and ch != ">":
            out.pos -= 1  # the blockquote ends before the newline that ended its last line
            out.entity("blockquote", quote)
            out.pos, quote = out.pos + 1, None
        if match := _MD2_TEXT_RE.match(src, i):
            out.add(match.group())
            i = match.end()
        elif ch == "\\" and i + 1 < len(src) and ord(src[i + 1]) <= 126:
            out.add(src[i + 1])
            i += 2
        elif ch == "\n":
            out.add(ch)
            i += 1
        elif ch == ">" and at_line_start:
            quote = out.pos if quote is None else quote
            i += 1
        elif ch == "`":
            i = _md2_code(src, i, out)
        elif ch == "[":
            stack.append(("text_link", out.pos, byte_offset(src, i)))
            i += 1
        elif ch == "]" and stack and stack[-1][0] == "text_link":
            match = _MD2_URL_RE.match(src, i + 1)
            if match is None:
                raise parse_error(f"Can't find end of a URL at byte offset {byte_offset(src, i)}")
            out.entity("text_link", stack.pop()[1], url=_MD2_ESCAPED_RE.sub(r"\1", match[1]))
            i = match.end()
        elif mark := next((m for m in _MD2_MARKS if src.startswith(m[0], i)), None):
            if stack and stack[-1][0] == mark[1]:
                out.entity(mark[1], stack.pop()[1])
            else:
                stack.append((mark[1], out.pos, byte_offset(src, i)))
            i += len(mark[0])
        else:
            raise parse_error(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
    if quote is not None:
        out.entity("blockquote", quote)
    if stack:
        kind, _, offset = stack[-1]
        raise parse_error(f"Can't find end of {_MD2_NAMES[kind]} entity at byte offset {offset}")
    return out.result()


def _md2_code(src: str, i: int, out: ParsedText) -> int:
    pre = src.startswith("```", i)
    match = (_MD2_PRE_RE if pre else _MD2_CODE_RE).match(src, i)
    if match is None:
        raise parse_error(
            f"Can't find end of {'Pre' if pre else 'Code'} entity at byte "
            f"offset {byte_offset(src, i)}"
        )
    start = out.pos
    out.add(_MD2_ESCAPED_RE.sub(r"\1", match.groups()[-1]))
    if pre:
        out.entity("pre", start, **({"language": match[1]} if match[1] else {}))
    else:
        out.entity("code", start)
    return match.end()


_MD_RE = re.compile(
    r"\*([^*]*)\*|_([^_]*)_|```(?:([^\s`]+)\n)?([^`]*)```|`([^`]*)`"
    r"|\[([^\]]*)\]\(([^)]*)\)|\\([_*`\[])"
)


def parse_markdown(src: str) -> tuple[str, list[dict]]:
    """Parse legacy Markdown: *bold* _italic_ `code` ```pre``` [text](url), no nesting."""
    out, i = ParsedText(), 0
    for match in _MD_RE.finditer(src):
        _md_plain(src, i, match.start(), out)
        bold, italic, language, pre, code, label, url, escaped = match.groups()
        start = out.pos
        out.add(
            next(part for part in (bold, italic, pre, code, label, escaped) if part is not None)
        )
        if escaped is None:
            kind = (
                "bold"
                if bold is not None
                else "italic"
                if italic is not None
                else "pre"
                if pre is not None
                else "code"
                if code is not None
                else "text_link"
            )
            extra = (
                {"url": url}
                if kind == "text_link"
                else ({"language": language} if language else {})
            )
            out.entity(kind, start, **extra)
        i = match.end()
    _md_plain(src, i, len(src), out)
    return out.result()


def _md_plain(src: str, start: int, end: int, out: ParsedText) -> None:
    if stray := re.search(r"[*_`\[]", src[start:end]):
        raise parse_error(
            "Can't find end of the entity starting at byte offset "
            f"{byte_offset(src, start + stray.start())}"
        )
    out.add(src[start:end])
