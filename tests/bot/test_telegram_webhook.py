"""Telegram by webhook: the secret checked, updates answered, a second delivery ignored."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.app import OutreachApp, webhook_secret
from bot.simulator import FakeTelegram
from tests.chat import Chat
from tests.conftest import make_app

URL = "https://bot.example.org/webhooks/telegram"


def origin(app: OutreachApp) -> str:
    assert app.web is not None
    return f"http://127.0.0.1:{app.web.port}"


async def test_updates_come_by_webhook_with_the_secret(
    database_url: str, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(database_url, telegram, telegram_webhook_url=URL)
    await app.start()
    try:
        telegram.webhook_origin = origin(app)
        assert telegram.webhook["url"] == URL
        assert telegram.webhook["secret_token"] == webhook_secret(telegram.token)
        chat = Chat(telegram, 9100)
        await chat.say("/start", "đồng ý")  # the consent question: the member was answered
        assert not [c for c in telegram.calls if c.method == "getUpdates"]

        with caplog.at_level(logging.WARNING, logger="bot.web"):
            update = {"update_id": 1, "message": {"message_id": 1, "text": "/stop"}}
            assert await telegram.push_raw(update, "guessed") == 403
            assert await telegram.push_raw(update, None) == 403
        refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        assert len(refused) == 2 and "wrong or missing secret token" in refused[0]

        answers = len(telegram.messages(9100))
        first = telegram.webhook_pushes[0].update_id
        assert await telegram.push_again(first) == 200  # Telegram thought it was lost
        chat.send("xin chào")  # a later update is still answered, and only it
        await chat.expect("")
        assert len(telegram.messages(9100)) == answers + 1  # one answer, to the new message
    finally:
        await app.stop()


async def test_a_second_instance_ignores_an_update_the_first_handled(
    database_url: str, telegram: FakeTelegram
) -> None:
    first = make_app(database_url, telegram, telegram_webhook_url=URL)
    second = make_app(database_url, telegram, telegram_webhook_url=URL)
    await first.start()
    await second.start()
    try:
        telegram.webhook_origin = origin(first)
        chat = Chat(telegram, 9200)
        await chat.say("/start", "đồng ý")
        bot_messages = len(telegram.messages(9200))
        update = telegram.webhook_pushes[0].update_id
        telegram.webhook_origin = origin(second)  # the load balancer now sends elsewhere
        assert await telegram.push_again(update) == 200
        chat.send("/help")
        await chat.expect("")
        # /help was answered; the /start delivered again to the other instance was not.
        assert len(telegram.messages(9200)) == bot_messages + 1
    finally:
        await second.stop()
        await first.stop()


def start_update(chat_id: int, update_id: int) -> dict[str, Any]:
    """A member's /start as Telegram posts it."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Lê Văn Cường"}
    message = {
        "message_id": 1,
        "from": user,
        "chat": {"id": chat_id, "first_name": "Lê Văn Cường", "type": "private"},
        "date": int(time.time()),
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }
    return {"update_id": update_id, "message": message}


async def test_oversized_and_non_json_bodies_are_refused_and_not_handled(
    database_url: str, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(database_url, telegram, telegram_webhook_url=URL)
    await app.start()
    try:
        telegram.webhook_origin = origin(app)
        telegram.add_chat(9300)
        secret = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(telegram.token)}
        url = f"{origin(app)}/webhooks/telegram"
        # A real /start, padded with blanks to 10 MB: valid JSON, a valid update, too big.
        padded = json.dumps(start_update(9300, 900_001)).encode() + b" " * (10 * 1024 * 1024)
        as_json = {**secret, "Content-Type": "application/json"}

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the server must count
            for start in range(0, len(padded), 64 * 1024):
                yield padded[start : start + 64 * 1024]

        small = json.dumps(start_update(9300, 900_002)).encode()
        with caplog.at_level(logging.WARNING, logger="bot.web"):
            async with httpx.AsyncClient(timeout=10) as http:
                declared = await http.post(url, content=padded, headers=as_json)
                chunked = await http.post(url, content=chunks(), headers=as_json)
                plain = await http.post(
                    url, content=small, headers={**secret, "Content-Type": "text/plain"}
                )
                missing = await http.post(url, content=small, headers=secret)
        assert (declared.status_code, chunked.status_code) == (413, 413)
        assert (plain.status_code, missing.status_code) == (415, 415)
        refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
        assert sum("more than the 1048576 allowed" in line for line in refused) == 2
        assert sum("not application/json" in line for line in refused) == 2

        chat = Chat(telegram, 9300)  # the member's next message is the first one handled
        await chat.say("/help", "Các lệnh anh/chị dùng được")
        texts = [m["text"] for m in telegram.messages(9300)]
        assert len(texts) == 1 and "Chào anh/chị" not in texts[0]  # no /start was handled

        json_with_charset = {**as_json, "Content-Type": "application/json; charset=utf-8"}
        async with httpx.AsyncClient(timeout=10) as http:
            fine = await http.post(url, content=small, headers=json_with_charset)
        assert fine.status_code == 200
        await chat.expect("Chào anh/chị")
    finally:
        await app.stop()
