"""Check the fake Telegram answers python-telegram-bot and raw HTTP clients like Telegram."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter

from bot.simulator import FakeTelegram

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[2]
KEYBOARD = {"inline_keyboard": [[{"text": "Đăng ký", "callback_data": "join:1"}]]}


class FakeClock:
    """A clock the test moves by hand, so rate limits need no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.add_chat(42)
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


@pytest.fixture
async def http(fake: FakeTelegram) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fake.base_url + fake.token + "/") as client:
        yield client


async def call(http: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, dict]:
    response = await http.post(method, json=params)
    return response.status_code, response.json()


def retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after  # an int in PTB 22 (with a warning), a timedelta later
    return value.total_seconds() if isinstance(value, dtm.timedelta) else value


# --- python-telegram-bot, unchanged -----------------------------------------------------------


async def test_ptb_get_me_send_edit_delete(fake: FakeTelegram, bot: Bot) -> None:
    assert bot.id == 123456 and bot.username == "htx_outreach_bot"
    assert bot.first_name == "Bản tin HTX"
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Có", callback_data="yes")]])
    sent = await bot.send_message(
        42, "<b>Xin chào</b> bà con 🌾 &amp; HTX", parse_mode="HTML", reply_markup=markup
    )
    assert sent.text == "Xin chào bà con 🌾 & HTX"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 8)]
    assert sent.reply_markup == markup and sent.from_user and sent.from_user.id == bot.id
    edited = await bot.edit_message_text("Đã nhận", chat_id=42, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.text == "Đã nhận" and edited.edit_date is not None
    stored = fake.messages(42)
    assert [m["text"] for m in stored] == ["Đã nhận"]
    assert "reply_markup" not in stored[0]  # editing text without a keyboard removes it
    await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=markup)
    assert fake.messages(42)[0]["reply_markup"] == markup.to_dict()
    assert await bot.delete_message(42, sent.message_id) is True
    assert fake.messages(42) == []
    assert [c.method for c in fake.calls] == [
        "getMe",
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
    ]
    assert fake.calls[1].params["chat_id"] == 42  # decoded from the form body
    assert fake.calls[1].params["reply_markup"] == markup.to_dict()


async def test_ptb_uploads_a_photo_as_multipart(fake: FakeTelegram, bot: Bot) -> None:
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    sent = await bot.send_photo(42, photo=photo, caption="<i>Ảnh</i> vụ lúa", parse_mode="HTML")
    assert sent.caption == "Ảnh vụ lúa" and len(sent.photo) == 3
    assert fake.calls[-1].params["photo"]["file_size"] == len(photo)
    again = await bot.send_photo(42, photo=sent.photo[-1].file_id)
    assert again.photo[-1].file_id == sent.photo[-1].file_id
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(42, photo=sent.photo[-1].file_id, caption="x" * 1025)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_ptb_sees_retry_after_forbidden_and_migration(fake: FakeTelegram, bot: Bot) -> None:
    fake.add_chat(43)
    fake.add_chat(-100)
    fake.fail_chat(42, 429, "Too Many Requests: retry after 7", retry_after=7)
    fake.fail_chat(43, 403, "Forbidden: bot was blocked by the user", times=1)
    fake.fail_chat(
        -100,
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to=-1001234567890,
    )
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(42, "Chào")
    assert retry_seconds(retry.value) == 7
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(43, "Chào")
    assert (await bot.send_message(43, "Chào lại")).text == "Chào lại"  # times=1 is spent
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-100, "Chào nhóm")
    assert migrated.value.new_chat_id == -1001234567890
    assert fake.http_429 == 1
    fake.clear_failures()
    assert (await bot.send_message(42, "Hết lỗi")).text == "Hết lỗi"


# --- request encodings and routing ------------------------------------------------------------


async def test_form_and_json_bodies_decode_alike(
    fake: FakeTelegram, http: httpx.AsyncClient
) -> None:
    form = {
        "chat_id": "42",
        "text": "Bằng form",
        "reply_markup": json.dumps(KEYBOARD),
        "disable_notification": "true",
    }
    assert (await http.post("sendMessage", data=form)).status_code == 200
    status, body = await call(
        http,
        "sendMessage",
        chat_id="42",
        text="Bằng JSON",
        reply_markup=KEYBOARD,
        disable_notification=True,
    )
    assert status == 200 and body["result"]["reply_markup"] == KEYBOARD
    by_form, by_json = (c.params for c in fake.calls)
    assert by_form == {**by_json, "text": "Bằng form"}
    assert by_form["chat_id"] == 42 and by_form["disable_notification"] is True
    by_query = await http.get("sendMessage", params={"chat_id": 42, "text": "Bằng GET"})
    assert by_query.json()["result"]["message_id"] == 3


async def test_unknown_method_wrong_token_and_case(
    fake: FakeTelegram, http: httpx.AsyncClient
) -> None:
    assert await call(http, "sendUnicorn") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    async with httpx.AsyncClient() as other:
        wrong = await other.post(fake.base_url + "999:WRONG/getMe")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    status, _ = await call(http, "SENDMESSAGE", chat_id=42, text="hoa thường")
    assert status == 200 and fake.calls[-1].method == "sendMessage"


# --- updates ----------------------------------------------------------------------------------


async def test_long_poll_returns_as_soon_as_an_update_arrives(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    status, _ = await call_me(fake)  # other requests are served while the poll waits
    assert status == 200
    update = fake.send_text(42, "/start abc", username="an_nguyen")
    updates = await poll
    assert time.monotonic() - started < 1
    assert [u.update_id for u in updates] == [update["update_id"]]
    message = updates[0].message
    assert message is not None and message.from_user is not None
    assert message.text == "/start abc" and message.chat.id == message.from_user.id == 42
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]
    assert message.from_user.username == "an_nguyen"


async def call_me(fake: FakeTelegram) -> tuple[int, dict]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{fake.base_url}{fake.token}/getMe")
    return response.status_code, response.json()


async def test_long_poll_returns_empty_after_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.3)) == ()
    assert 0.28 <= time.monotonic() - started < 1.5


async def test_offset_confirms_updates(fake: FakeTelegram, http: httpx.AsyncClient) -> None:
    ids = [fake.send_text(42, f"tin {n}")["update_id"] for n in range(3)]
    assert fake.pending_updates() == 3
    _, body = await call(http, "getUpdates", limit=2)
    assert [u["update_id"] for u in body["result"]] == ids[:2]
    _, body = await call(http, "getUpdates", offset=ids[1] + 1)
    assert [u["update_id"] for u in body["result"]] == ids[2:]
    assert fake.pending_updates() == 1
    _, body = await call(http, "getUpdates", offset=ids[2] + 1)
    assert body["result"] == [] and fake.pending_updates() == 0


async def test_a_newer_poll_ends_the_older_with_conflict(http: httpx.AsyncClient) -> None:
    first = asyncio.create_task(call(http, "getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(call(http, "getUpdates", timeout=0))
    status, body = await first
    assert status == 409 and body["description"].startswith("Conflict: terminated by other")
    assert (await second)[0] == 200


async def test_webhook_blocks_polling_until_deleted(
    fake: FakeTelegram, http: httpx.AsyncClient
) -> None:
    status, body = await call(
        http, "setWebhook", url="https://htx.example/hook", secret_token="s3cret_-"
    )
    assert (status, body["description"]) == (200, "Webhook was set")
    assert fake.webhook["secret_token"] == "s3cret_-"
    assert (await call(http, "getWebhookInfo"))[1]["result"]["url"] == "https://htx.example/hook"
    assert (await call(http, "getUpdates"))[0] == 409
    assert (await call(http, "setWebhook", url="http://plain.example"))[0] == 400
    fake.send_text(42, "bỏ đi")
    _, body = await call(http, "deleteWebhook", drop_pending_updates=True)
    assert body["description"] == "Webhook was deleted" and fake.pending_updates() == 0
    assert (await call(http, "getUpdates"))[1]["result"] == []


async def test_commands_and_menu_button(http: httpx.AsyncClient) -> None:
    commands = [{"command": "start", "description": "Bắt đầu"}]
    assert (await call(http, "setMyCommands", commands=commands))[1]["result"] is True
    assert (await call(http, "getMyCommands"))[1]["result"] == commands
    vi = {"language_code": "vi"}
    assert (await call(http, "getMyCommands", **vi))[1]["result"] == []
    assert (await call(http, "setMyCommands", commands=[{"command": "Start", "description": "x"}]))[
        0
    ] == 400
    assert (await call(http, "deleteMyCommands"))[1]["result"] is True
    assert (await call(http, "getMyCommands"))[1]["result"] == []
    assert (await call(http, "setChatMenuButton", menu_button={"type": "commands"}))[0] == 200
    for method in ("logOut", "close"):
        assert (await call(http, method))[1] == {"ok": True, "result": True}


async def test_injected_media_and_contact_updates(fake: FakeTelegram) -> None:
    photo = fake.send_photo(42, caption="Ruộng lúa")["message"]
    assert photo["caption"] == "Ruộng lúa" and all(
        isinstance(p["file_id"], str) for p in photo["photo"]
    )
    sticker = fake.send_sticker(42)["message"]
    contact = fake.send_contact(42, "+84901234567")["message"]
    assert sticker["sticker"]["file_id"] and contact["contact"]["phone_number"] == "+84901234567"
    assert [photo["message_id"], sticker["message_id"], contact["message_id"]] == [1, 2, 3]
    group = fake.send_text(-100, "Chào cả nhóm")["message"]
    assert group["chat"]["type"] == "group" and group["from"]["id"] != -100


# --- buttons ----------------------------------------------------------------------------------


async def test_press_makes_a_query_answer_callback_accepts_once(
    fake: FakeTelegram, http: httpx.AsyncClient
) -> None:
    with pytest.raises(LookupError):
        fake.press(42, "join:1")
    _, sent = await call(http, "sendMessage", chat_id=42, text="Tham gia?", reply_markup=KEYBOARD)
    query = fake.press(42, "join:1")["callback_query"]
    assert query["message"]["message_id"] == sent["result"]["message_id"]
    assert query["data"] == "join:1" and query["from"]["id"] == 42
    with pytest.raises(LookupError, match="never had a button"):
        fake.press(42, "join:2")
    assert fake.press(42, "join:2", strict=False)["callback_query"]["data"] == "join:2"
    message_id = sent["result"]["message_id"]
    await call(http, "editMessageReplyMarkup", chat_id=42, message_id=message_id)
    with pytest.raises(LookupError):  # no message shows a keyboard any more
        fake.press(42, "join:1")
    stale = fake.press(42, "join:1", message_id=message_id)["callback_query"]
    assert "reply_markup" not in stale["message"]  # a stale button can still be pressed
    answer = {"callback_query_id": query["id"], "text": "Đã ghi nhận"}
    assert await call(http, "answerCallbackQuery", **answer) == (200, {"ok": True, "result": True})
    again = await call(http, "answerCallbackQuery", **answer)
    assert again[0] == 400 and "query is too old" in again[1]["description"]
    bogus = await call(http, "answerCallbackQuery", callback_query_id="123")
    assert bogus[0] == 400


# --- validation -------------------------------------------------------------------------------

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


async def test_edits_and_deletes_are_checked(fake: FakeTelegram, http: httpx.AsyncClient) -> None:
    _, body = await call(http, "sendMessage", chat_id=42, text="Gốc", reply_markup=KEYBOARD)
    message_id = body["result"]["message_id"]
    same = await call(
        http,
        "editMessageText",
        chat_id=42,
        message_id=message_id,
        text="Gốc",
        reply_markup=KEYBOARD,
    )
    assert same[0] == 400 and same[1]["description"].startswith(
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    missing = await call(http, "editMessageText", chat_id=42, message_id=999, text="Mới")
    assert missing[1]["description"] == "Bad Request: message to edit not found"
    caption = await call(http, "editMessageCaption", chat_id=42, message_id=message_id, caption="x")
    assert caption[0] == 400
    user_message = fake.send_text(42, "tin của tôi")["message"]["message_id"]
    not_mine = await call(http, "editMessageText", chat_id=42, message_id=user_message, text="x")
    assert not_mine[1]["description"] == "Bad Request: message can't be edited"
    assert (await call(http, "deleteMessage", chat_id=42, message_id=message_id))[0] == 200
    gone = await call(http, "deleteMessage", chat_id=42, message_id=message_id)
    assert gone[1]["description"] == "Bad Request: message to delete not found"
    bad_action = await call(http, "sendChatAction", chat_id=42, action="dancing")
    assert bad_action[0] == 400
    assert (await call(http, "sendChatAction", chat_id=42, action="typing"))[0] == 200


# --- limits and faults ------------------------------------------------------------------------


async def test_rate_limits_answer_429_with_retry_after() -> None:
    clock = FakeClock()
    async with FakeTelegram(rate_limit=2, per_chat_limit=0.5, clock=clock) as fake:
        for chat_id in (1, 2, 3):
            fake.add_chat(chat_id)
        async with httpx.AsyncClient(base_url=fake.base_url + fake.token + "/") as http:
            assert (await call(http, "sendMessage", chat_id=1, text="a"))[0] == 200
            status, body = await call(http, "sendMessage", chat_id=1, text="b")
            assert status == 429 and body == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 2",
                "parameters": {"retry_after": 2},
            }
            assert (await call(http, "sendMessage", chat_id=2, text="c"))[0] == 200
            over = await call(http, "sendMessage", chat_id=3, text="d")  # bot bucket is empty
            assert over[1]["parameters"] == {"retry_after": 1}
            assert (await call(http, "sendChatAction", chat_id=3, action="typing"))[0] == 200
            clock.now += 0.5
            assert (await call(http, "sendMessage", chat_id=3, text="d"))[0] == 200
            clock.now += 1.5
            assert (await call(http, "sendMessage", chat_id=1, text="b"))[0] == 200
        assert fake.http_429 == 2
        assert fake.stats()["messages"] == 4


async def test_hang_chat_makes_the_client_time_out(
    fake: FakeTelegram, http: httpx.AsyncClient
) -> None:
    fake.hang_chat(42, 2.0, times=1)
    with pytest.raises(httpx.ReadTimeout):
        await http.post("sendMessage", json={"chat_id": 42, "text": "chậm"}, timeout=0.2)
    assert [m["text"] for m in fake.messages(42)] == ["chậm"]  # it was delivered anyway
    started = time.monotonic()
    assert (await call(http, "sendMessage", chat_id=42, text="nhanh"))[0] == 200
    assert time.monotonic() - started < 0.5


# --- waiting helpers --------------------------------------------------------------------------


async def test_next_message_is_a_cursor_per_chat(
    fake: FakeTelegram, http: httpx.AsyncClient
) -> None:
    fake.add_chat(43)
    await call(http, "sendMessage", chat_id=42, text="một")
    assert (await fake.next_message(42))["text"] == "một"
    later = asyncio.create_task(fake.next_message(42, timeout=2))
    await call(http, "sendMessage", chat_id=43, text="khác")
    await asyncio.sleep(0.01)
    assert not later.done()  # a message to another chat does not move this cursor
    await call(http, "sendMessage", chat_id=42, text="hai")
    assert (await later)["text"] == "hai"
    assert (await fake.next_message(43))["text"] == "khác"
    with pytest.raises(TimeoutError, match=r"(?s)no new message to chat 42.*sendMessage"):
        await fake.next_message(42, timeout=0.05)


async def test_wait_call_and_wait_for(fake: FakeTelegram, http: httpx.AsyncClient) -> None:
    async def send_later() -> None:
        await asyncio.sleep(0.05)
        await call(http, "sendMessage", chat_id=42, text="xong")
        await call(http, "sendMessage", chat_id=42, text="")

    task = asyncio.create_task(send_later())
    calls = await fake.wait_call("sendMessage", timeout=2)
    assert calls[0].params["text"] == "xong" and calls[0].status == 200
    await fake.wait_for(lambda: len(fake.calls) == 2, timeout=2)
    await task
    assert len(await fake.wait_call("sendMessage")) == 1  # the failed one does not count
    with pytest.raises(TimeoutError):
        await fake.wait_call("sendMessage", count=2, timeout=0.05)


# --- standalone -------------------------------------------------------------------------------


async def test_control_endpoints_read_and_reset(
    fake: FakeTelegram, http: httpx.AsyncClient
) -> None:
    for text in ("a", "a", "b"):
        await call(http, "sendMessage", chat_id=42, text=text)
    root = fake.base_url.removesuffix("/bot")
    async with httpx.AsyncClient() as client:
        stats = (await client.get(root + "/_sim/stats")).json()
        assert {k: stats[k] for k in ("messages", "http_429", "duplicates", "chats")} == {
            "messages": 3,
            "http_429": 0,
            "duplicates": 1,
            "chats": 1,
        }
        assert (await client.post(root + "/_sim/reset")).json() == {"ok": True}
    assert fake.calls == [] and fake.messages() == [] and fake.stats()["messages"] == 0


async def test_standalone_main_prints_ready_and_stats() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.simulator.telegram_api",
        "--port",
        "0",
        "--rate-limit",
        "30",
        "--per-chat-limit",
        "1",
        "--chats",
        "1-5",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        ready = (await asyncio.wait_for(process.stdout.readline(), 10)).decode().split()
        assert ready[0] == "READY" and ready[1].startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=ready[1] + "123456:TEST-TOKEN/") as http:
            codes = [
                (await call(http, "sendMessage", chat_id=chat, text="Chào"))[0]
                for chat in (1, 2, 3, 1)
            ]
        assert codes == [200, 200, 200, 429]
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    stats = json.loads(out.decode().strip().splitlines()[-1])
    assert {k: stats[k] for k in ("messages", "http_429", "duplicates", "chats")} == {
        "messages": 3,
        "http_429": 1,
        "duplicates": 0,
        "chats": 3,
    }, err
    assert stats["first_at"] <= stats["last_at"] and process.returncode == 0
