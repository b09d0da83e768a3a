"""The send rate several instances share through PostgreSQL: reservations, pauses, debts."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, text

from bot.shared_rate import SharedRate
from db.engine import create_db_engine


@pytest.fixture
def engine(pg_url: str) -> Engine:
    engine = create_db_engine(pg_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM rate_bucket"))
    return engine


def test_reservations_beyond_the_burst_wait_their_turn(engine: Engine) -> None:
    one, two = (SharedRate(engine, "telegram", rate=30, burst=7.5) for _ in range(2))
    assert one.reserve(7) == 0  # the burst is there at once
    wait = two.reserve(7)  # the other instance's reservation comes after the first
    assert 0.2 < wait <= 7 / 30 + 0.05
    assert one.reserve(7) == pytest.approx(wait + 7 / 30, abs=0.05)


def test_a_pause_from_one_instance_holds_every_instance(engine: Engine) -> None:
    one, two = (SharedRate(engine, "telegram", rate=30, burst=7.5) for _ in range(2))
    one.reserve(1)
    one.pause(5)  # Telegram said "retry after 5" to this instance
    assert one.pending
    one.reserve(0)
    assert not one.pending
    assert two.reserve(1) == pytest.approx(5 + 1 / 30, abs=0.1)


def test_replies_owed_are_paid_by_the_next_reservation(engine: Engine) -> None:
    replies, bulk = (SharedRate(engine, "zalo_bot", rate=20, burst=5) for _ in range(2))
    replies.owe(5)
    replies.owe(5)  # ten replies went out at once
    replies.reserve(0)
    assert bulk.reserve(1) == pytest.approx((10 + 1 - 5) / 20, abs=0.05)


def test_threads_together_never_take_more_than_the_rate(engine: Engine) -> None:
    rate, burst, seconds = 200.0, 50.0, 1.0
    taken: list[float] = []
    lock = threading.Lock()
    start = time.monotonic()

    def instance() -> None:
        shared = SharedRate(engine, "telegram", rate, burst)
        while time.monotonic() - start < seconds:
            wait = shared.reserve(5)
            time.sleep(wait)
            with lock:
                taken.extend([time.monotonic()] * 5)

    threads = [threading.Thread(target=instance) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = max(taken) - start
    assert len(taken) <= burst + rate * elapsed + 5 * 4  # the last reservations in flight
    assert len(taken) >= 0.8 * rate * seconds  # and the rate is used, not wasted
