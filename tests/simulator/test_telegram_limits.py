"""Check the flood limits and injected faults answer and delay like Telegram."""

from __future__ import annotations

import time

import httpx
import pytest

from bot.simulator import FakeTelegram
from tests.simulator.helpers import call

pytestmark = pytest.mark.asyncio


class FakeClock:
    """A clock the test moves by hand, so rate limits need no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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
