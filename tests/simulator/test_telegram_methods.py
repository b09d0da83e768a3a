"""Check the Bot API methods: updates, webhook, commands, edits and deletes."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time

import httpx
import pytest
from telegram import Bot

from bot.simulator import FakeTelegram
from tests.simulator.helpers import KEYBOARD, call

pytestmark = pytest.mark.asyncio


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


# --- editing ----------------------------------------------------------------------------------


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
