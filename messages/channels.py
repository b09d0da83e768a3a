"""Fit rendered HTML to each channel: the markup officers may use, Telegram's length limits,
plain text for Zalo.

What officers write (the CLI, the bot, a template's text) is plain text: `<`, `>` and `&` are
shown as typed. Formatting is allowed only in the forms every channel takes: `<b>`, `<i>`,
`<u>`, `<s>`, `<code>`, `<pre>`, `<blockquote>` and `<a href="https://…">`, which Telegram
shows and `plain` turns into readable plain text for Zalo (a link is written out). `to_html`
turns such text into Telegram HTML, refusing a tag outside that set by name; an HTML entity
(`&lt;`, what Telegram's own `text_html` gives) is kept, so the HTML of an officer's Telegram
message passes through unchanged. `check_html` checks finished HTML the same way, strictly.

Telegram counts a message's length after parsing its HTML, in UTF-16 code units: 4,096 for a
text, 1,024 for a photo's caption. A longer text is split at paragraph boundaries (then at
lines, then at spaces), and a caption too long for its photo goes in a follow-up message.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_TAG = re.compile(r"<[^>]+>")

# --- the markup officers may use ---------------------------------------------------------

ALLOWED_TAGS = ("b", "i", "u", "s", "code", "pre", "blockquote", "a")
ALLOWED_HINT = 'use <b>, <i>, <u>, <s>, <code>, <pre>, <blockquote> or <a href="https://…">'
# Names that make "<name …>" a tag rather than text ("x <y và y> z" is text, "<span>" a tag).
_NAMES = """a abbr address area article aside audio b base bdi bdo big blink blockquote body br
    button canvas caption center cite code col colgroup data datalist dd del details dfn dialog
    div dl dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5
    h6 head header hgroup hr html i iframe img input ins kbd label legend li link main map mark
    marquee menu meta meter nav noscript object ol optgroup option output p param picture pre
    progress q rp rt ruby s samp script search section select slot small source span strike
    strong style sub summary sup svg table tbody td template textarea tfoot th thead time title
    tr track tt u ul var video wbr tg-spoiler tg-emoji tg-time"""
HTML_NAMES = frozenset(_NAMES.split())
_MARKUP = re.compile(
    r"(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);)"
    r"|(?P<tag><(?P<close>/?)(?P<name>[a-zA-Z][a-zA-Z0-9-]*)(?P<attrs>(?:\s[^<>]*)?)>)"
    r"|(?P<bare>[<>&])"
)
_ATTRIBUTE = re.compile(r"""([^\s=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+)))?""")
_LINK = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_CODE_CLASS = re.compile(r"[\w+#.-]*")


class MarkupProblem(ValueError):
    """Markup a channel would refuse; the message names the tag, `reason` says what is wrong."""

    def __init__(self, message: str, reason: str, **details: Any) -> None:
        super().__init__(message)
        self.reason, self.details = reason, details


def to_html(text: str) -> str:
    """Turn what an officer wrote into Telegram HTML: plain text, the allowed tags kept.

    A stray `<`, `>` or `&` is escaped (shown as typed), an HTML entity is kept, a tag outside
    the allowed set is refused by name. Nesting is checked on the finished HTML (`check_html`),
    as a template's tags may open and close in different parts of it.
    """
    return _MARKUP.sub(_converted, text)


def _converted(match: re.Match[str]) -> str:
    if match["entity"]:
        return match["entity"]
    if match["bare"]:
        return html.escape(match["bare"], quote=False)
    if match["name"].lower() not in HTML_NAMES:  # "<y và y>": text, not a tag
        return html.escape(match["tag"], quote=False)
    return _tag(match["close"] == "/", match["name"].lower(), match["attrs"], match["tag"])


def _tag(closing: bool, name: str, attrs: str, written: str) -> str:
    """Check one tag and write it the way Telegram reads it."""
    shown = f"<{'/' if closing else ''}{name}>"
    if name not in ALLOWED_TAGS:
        raise MarkupProblem(f"tag {shown} is not allowed; {ALLOWED_HINT}", "tag", tag=shown)
    attributes = _attributes(attrs.strip().rstrip("/").strip(), shown)
    if attrs.strip().endswith("/"):
        raise MarkupProblem(f"tag {written} cannot close itself", "malformed", tag=written)
    if closing:
        if attributes:
            raise MarkupProblem(
                f"closing tag {written} takes nothing else", "malformed", tag=written
            )
        return shown
    if name == "a":
        href = attributes.pop("href", None)
        if href is None or not _LINK.fullmatch(href):
            raise MarkupProblem(f'link {written} needs href="https://…"', "link", tag=written)
        _no_other(attributes, shown)
        return f'<a href="{html.escape(href)}">'
    if name == "code" and "class" in attributes and _CODE_CLASS.fullmatch(attributes["class"]):
        language = attributes.pop("class")
        _no_other(attributes, shown)
        return f'<code class="{language}">'
    if name == "blockquote" and attributes.get("expandable") == "":
        attributes.pop("expandable")
        _no_other(attributes, shown)
        return "<blockquote expandable>"
    _no_other(attributes, shown)
    return shown


def _attributes(text: str, tag: str) -> dict[str, str]:
    found: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _ATTRIBUTE.match(text, position)
        if match is None:
            raise MarkupProblem(f"tag {tag} is malformed", "malformed", tag=tag)
        value = next((v for v in match.groups()[1:] if v is not None), "")
        found[match[1].lower()] = html.unescape(value)
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return found


def _no_other(attributes: dict[str, str], tag: str) -> None:
    if attributes:
        name = next(iter(attributes))
        raise MarkupProblem(
            f"attribute {name!r} is not allowed in {tag}", "attribute", tag=tag, attribute=name
        )


def check_html(markup: str) -> str:
    """Check finished Telegram HTML: allowed tags only, each closed in order, '&' as entities.

    Return it unchanged; raise MarkupProblem naming the first tag at fault.
    """
    stack: list[str] = []
    for match in _MARKUP.finditer(markup):
        if match["bare"] and match["bare"] != ">":
            shown = html.escape(match["bare"])
            raise MarkupProblem(
                f"a bare {match['bare']!r} in HTML: write {shown}", "bare", character=shown
            )
        if not match["tag"]:
            continue
        name = match["name"].lower()
        if name not in HTML_NAMES:
            raise MarkupProblem(
                f"tag <{name}> is not allowed; {ALLOWED_HINT}", "tag", tag=f"<{name}>"
            )
        _tag(match["close"] == "/", name, match["attrs"], match["tag"])
        if match["close"] != "/":
            stack.append(name)
        elif not stack:
            raise MarkupProblem(
                f"closing tag </{name}> has no opening <{name}>", "unopened", tag=f"</{name}>"
            )
        elif stack[-1] != name:
            raise MarkupProblem(
                f"tag <{stack[-1]}> is not closed before </{name}>",
                "unclosed",
                tag=f"<{stack[-1]}>",
            )
        else:
            stack.pop()
    if stack:
        tag = f"<{stack[-1]}>"
        raise MarkupProblem(f"tag {tag} is not closed (add </{stack[-1]}>)", "unclosed", tag=tag)
    return markup


# --- Telegram's limits -------------------------------------------------------------------


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


_ANCHOR = re.compile(r"<a\s[^>]*?href=\"([^\"]*)\"[^>]*>(.*?)</a>", re.DOTALL | re.IGNORECASE)


def plain(markup: str) -> str:
    """Turn our Telegram HTML into plain text for channels without markup (Zalo).

    A link's address is written out after its text ("Xem: https://…" stays as it is).
    """
    return visible(_ANCHOR.sub(_written_out, markup))


def _written_out(match: re.Match[str]) -> str:
    url, text = html.unescape(match[1]), match[2]
    shown = visible(text).strip()
    if not shown or shown == url or url.removeprefix("https://").removeprefix("http://") == shown:
        return html.escape(url, quote=False)
    return f"{text} ({html.escape(url, quote=False)})"


MAX_PARTS = 5  # a message longer than five Telegram messages belongs on a web page


def telegram_parts(markup: str, photo: bool) -> int:
    """Count the Telegram messages a broadcast goes as: split text, or a caption and the rest."""
    return len(caption_and_rest(markup)[1]) + 1 if photo else len(split_text(markup))
