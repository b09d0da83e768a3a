"""Check the fake Telegram answers python-telegram-bot and raw HTTP clients like Telegram."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter

from bot.simulator import FakeTelegram
from tests.simulator.helpers import KEYBOARD, call

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[2]


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
    assert fake.calls == [] and fake.messages() == []
    assert fake.stats()["messages"] == 0 and fake.stats()["busiest_second"] == 0


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
    keys = ("messages", "http_429", "duplicates", "chats", "busiest_second")
    assert {k: stats[k] for k in keys} == {
        "messages": 3,
        "http_429": 1,
        "duplicates": 0,
        "chats": 3,
        "busiest_second": 3,  # the 429 to chat 1 says all four came within one second
    }, err
    assert stats["first_at"] <= stats["last_at"] and process.returncode == 0
