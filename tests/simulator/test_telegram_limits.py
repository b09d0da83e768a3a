"""Check the flood limits and injected faults answer and delay like Telegram."""

from __future__ import annotations

import time

import httpx
import pytest

from bot.simulator import FakeTelegram
from bot.simulator.limits import PerKeyWindow
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
            over = await call(http, "sendMessage", chat_id=3, text="d")  # 2 sent this second
            assert over[1]["parameters"] == {"retry_after": 1}
            assert (await call(http, "sendChatAction", chat_id=3, action="typing"))[0] == 200
            clock.now += 0.5  # a token bucket would have one send back by now; a window not
            assert (await call(http, "sendMessage", chat_id=3, text="d"))[0] == 429
            clock.now += 0.5
            assert (await call(http, "sendMessage", chat_id=3, text="d"))[0] == 200
            clock.now += 1.0
            assert (await call(http, "sendMessage", chat_id=1, text="b"))[0] == 200
        assert fake.http_429 == 3
        assert fake.stats()["messages"] == 4


async def test_no_burst_above_the_cap_in_any_second() -> None:
    clock = FakeClock()
    async with (
        FakeTelegram(rate_limit=10, clock=clock, any_chat=True) as fake,
        httpx.AsyncClient(base_url=fake.base_url + fake.token + "/") as http,
    ):
        for chat_id in range(1, 11):
            assert (await call(http, "sendMessage", chat_id=chat_id, text="x"))[0] == 200
        clock.now += 0.5  # a full bucket plus half a second's refill let 5 more through
        status, body = await call(http, "sendMessage", chat_id=11, text="x")
        assert status == 429 and body == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
        clock.now += 0.4999  # 0.9999 s after the ten: still full
        assert (await call(http, "sendMessage", chat_id=11, text="x"))[0] == 429
        clock.now += 0.0002  # 1.0001 s after: all ten have left the window
        assert (await call(http, "sendMessage", chat_id=11, text="x"))[0] == 200
        assert (await call(http, "sendMessage", chat_id=12, text="x"))[0] == 200
        stats = fake.stats()
        assert stats["messages"] == 12 and stats["http_429"] == 2
        assert stats["busiest_second"] == 10


async def test_refused_sends_do_not_count() -> None:
    clock = FakeClock()
    async with (
        FakeTelegram(rate_limit=2, clock=clock, any_chat=True) as fake,
        httpx.AsyncClient(base_url=fake.base_url + fake.token + "/") as http,
    ):
        assert (await call(http, "sendMessage", chat_id=1, text="x"))[0] == 200
        clock.now += 0.5
        assert (await call(http, "sendMessage", chat_id=2, text="x"))[0] == 200
        for _ in range(4):  # hammering while full changes nothing
            clock.now += 0.1
            assert (await call(http, "sendMessage", chat_id=3, text="x"))[0] == 429
        clock.now = 1001.0  # the first send has left; the refusals never entered
        assert (await call(http, "sendMessage", chat_id=3, text="x"))[0] == 200
        assert (await call(http, "sendMessage", chat_id=4, text="x"))[0] == 429
        clock.now = 1001.5
        assert (await call(http, "sendMessage", chat_id=4, text="x"))[0] == 200
        assert fake.http_429 == 5 and fake.stats()["busiest_second"] == 2


async def test_one_message_a_second_per_chat_without_burst() -> None:
    clock = FakeClock()
    async with (
        FakeTelegram(rate_limit=30, per_chat_limit=1, clock=clock) as fake,
        httpx.AsyncClient(base_url=fake.base_url + fake.token + "/") as http,
    ):
        fake.add_chat(42)
        fake.add_chat(43)
        assert (await call(http, "sendMessage", chat_id=42, text="một"))[0] == 200
        clock.now += 0.6
        status, body = await call(http, "sendMessage", chat_id=42, text="hai")
        assert status == 429 and body["parameters"] == {"retry_after": 1}
        assert body["description"] == "Too Many Requests: retry after 1"
        assert (await call(http, "sendMessage", chat_id=43, text="một"))[0] == 200  # other chat
        clock.now += 0.4  # a second after the first: the refused send did not count
        assert (await call(http, "sendMessage", chat_id=42, text="hai"))[0] == 200
        clock.now += 0.3  # 0.7 s after chat 43's first
        assert (await call(http, "sendMessage", chat_id=43, text="hai"))[0] == 429
        clock.now += 0.3
        assert (await call(http, "sendMessage", chat_id=43, text="hai"))[0] == 200
        assert [m["text"] for m in fake.messages(42)] == ["một", "hai"]


async def test_sends_at_exactly_the_cap_all_pass() -> None:
    clock = FakeClock()
    async with (
        FakeTelegram(rate_limit=10, per_chat_limit=1, clock=clock, any_chat=True) as fake,
        httpx.AsyncClient(base_url=fake.base_url + fake.token + "/") as http,
    ):
        statuses = []
        for n in range(30):  # 3 s at 10 a second, each chat every second
            clock.now = 1000.0 + n * 0.1
            statuses.append((await call(http, "sendMessage", chat_id=n % 10 + 1, text="x"))[0])
        assert statuses == [200] * 30
        stats = fake.stats()
        assert stats["messages"] == 30 and stats["http_429"] == 0
        assert stats["busiest_second"] == 10


async def test_busiest_second_over_the_run_and_reset() -> None:
    clock = FakeClock()
    async with (
        FakeTelegram(clock=clock, any_chat=True) as fake,  # no limits: it still counts
        httpx.AsyncClient(base_url=fake.base_url + fake.token + "/") as http,
    ):
        root = fake.base_url.removesuffix("/bot")
        for at in (0.0, 0.2, 0.9, 1.5, 1.6, 1.7, 1.8, 3.0):
            clock.now = 1000.0 + at
            assert (await call(http, "sendMessage", chat_id=1, text=str(at)))[0] == 200
        # Windows start anywhere: [0.9, 1.9) holds five, no whole clock second does.
        assert (await http.get(root + "/_sim/stats")).json()["busiest_second"] == 5
        assert (await http.post(root + "/_sim/reset")).json() == {"ok": True}
        assert fake.stats()["busiest_second"] == 0
        assert (await call(http, "sendMessage", chat_id=1, text="x"))[0] == 200
        assert fake.stats()["busiest_second"] == 1


async def test_the_per_chat_window_forgets_chats_whose_second_is_over() -> None:
    window = PerKeyWindow(1.0)
    for chat_id in range(10_000):
        assert window.wait(chat_id, 1000.0 + chat_id * 1e-5) == 0
        window.take(chat_id, 1000.0 + chat_id * 1e-5)
    assert len(window) == 10_000  # all sent within the last 0.1 s
    assert window.wait(5, 1000.5) > 0
    assert window.wait(5, 1001.05) == 0  # chats 0..5000 have left the window
    assert len(window) == 4_999
    window.take(5, 1001.05)
    assert window.wait(1, 1002.2) == 0 and len(window) == 0


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
