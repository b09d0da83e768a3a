"""Simulate the messaging platforms the bot talks to, for tests, demos and benchmarks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.simulator.telegram_api import FakeTelegram
    from bot.simulator.telegram_state import Call
    from bot.simulator.zalo_oa_api import FakeZaloOA

__all__ = ["Call", "FakeTelegram", "FakeZaloOA"]


def __getattr__(name: str) -> Any:
    # Imported lazily so `python -m bot.simulator.telegram_api` does not load the module twice.
    if name == "FakeTelegram":
        from bot.simulator.telegram_api import FakeTelegram

        return FakeTelegram
    if name == "Call":
        from bot.simulator.telegram_state import Call

        return Call
    if name == "FakeZaloOA":
        from bot.simulator.zalo_oa_api import FakeZaloOA

        return FakeZaloOA
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
