"""Simulate the messaging platforms the bot talks to, for tests, demos and benchmarks."""

from bot.simulator.telegram_api import FakeTelegram
from bot.simulator.telegram_state import Call

__all__ = ["Call", "FakeTelegram"]
