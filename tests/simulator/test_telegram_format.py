"""Check message content is refused and parsed as Telegram does: limits, markup, entities."""

from __future__ import annotations

import httpx
import pytest

from tests.simulator.helpers import call

pytestmark = pytest.mark.asyncio

LONG_BUTTON = {"inline_keyboard": [[{"text": "x", "callback_data": "đ" * 33}]]}


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": ""}, "Bad Request: message text is empty"),
        ({"text": "  \n "}, "Bad Request: message text is empty"),
        ({}, "Bad Request: message text is empty"),
        ({"text": "a" * 4097}, "Bad Request: message is too long"),
        (
            {"text": "<b>đậm", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: "
            'Can\'t find end tag corresponding to start tag "b"',
        ),
        (
            {"text": "<b>x</i>", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: "
            'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"',
        ),
        (
            {"text": "dòng<br>mới", "parse_mode": "HTML"},
            'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 5',
        ),
        (
            {"text": "Mua & bán", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Character '&' at byte offset 4 must be "
            "written as &amp; unless it starts an HTML entity",
        ),
        (
            {"text": "<span>x</span>", "parse_mode": "HTML"},
            'Bad Request: can\'t parse entities: Tag "span" must have class "tg-spoiler"',
        ),
        (
            {"text": "Giá 5.000đ", "parse_mode": "MarkdownV2"},
            "Bad Request: can't parse entities: "
            "Character '.' is reserved and must be escaped with the preceding '\\'",
        ),
        (
            {"text": "*đậm", "parse_mode": "MarkdownV2"},
            "Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0",
        ),
        ({"text": "x", "reply_markup": LONG_BUTTON}, "Bad Request: BUTTON_DATA_INVALID"),
        (
            {"text": "x", "reply_markup": {"inline_keyboard": [[{"text": "x"}]]}},
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
            "inline keyboard",
        ),
        ({"text": "x", "chat_id": 777}, "Bad Request: chat not found"),
        ({"text": "x", "chat_id": "@htx"}, "Bad Request: chat not found"),
        (
            {"text": "x", "reply_parameters": {"message_id": 99}},
            "Bad Request: message to be replied not found",
        ),
    ],
)
async def test_send_message_rejects_like_telegram(
    http: httpx.AsyncClient, params: dict, description: str
) -> None:
    status, body = await call(http, "sendMessage", **{"chat_id": 42, **params})
    assert (status, body) == (400, {"ok": False, "error_code": 400, "description": description})


async def test_html_and_markdown_entities_use_utf16_offsets(http: httpx.AsyncClient) -> None:
    html = (
        '🌾 <b>Lúa <i>thơm</i></b> <a href="https://htx.vn/?a=1&amp;b=2">web</a> '
        '<pre><code class="language-python">x &lt; 1</code></pre> <tg-spoiler>bí</tg-spoiler>'
    )
    _, body = await call(http, "sendMessage", chat_id=42, text=html, parse_mode="HTML")
    message = body["result"]
    assert message["text"] == "🌾 Lúa thơm web x < 1 bí"
    assert message["entities"] == [
        {"offset": 3, "length": 8, "type": "bold"},
        {"offset": 7, "length": 4, "type": "italic"},
        {"offset": 12, "length": 3, "type": "text_link", "url": "https://htx.vn/?a=1&b=2"},
        {"offset": 16, "length": 5, "type": "pre", "language": "python"},
        {"offset": 22, "length": 2, "type": "spoiler"},
    ]
    _, body = await call(
        http,
        "sendMessage",
        chat_id=42,
        parse_mode="MarkdownV2",
        text="*Giá* 5\\.000đ [xem](https://htx.vn/a\\)b) `x_y`",
    )
    message = body["result"]
    assert message["text"] == "Giá 5.000đ xem x_y"
    assert message["entities"] == [
        {"offset": 0, "length": 3, "type": "bold"},
        {"offset": 11, "length": 3, "type": "text_link", "url": "https://htx.vn/a)b"},
        {"offset": 15, "length": 3, "type": "code"},
    ]
