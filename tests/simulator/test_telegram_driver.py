"""Check what tests do through the fake: act as users, press buttons, wait for the bot."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.simulator import FakeTelegram
from tests.simulator.helpers import KEYBOARD, call

pytestmark = pytest.mark.asyncio


# --- injected updates -------------------------------------------------------------------------


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
