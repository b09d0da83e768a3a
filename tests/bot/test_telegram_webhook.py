"""Telegram by webhook: the secret checked, updates answered, a second delivery ignored."""

from __future__ import annotations

import logging

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
