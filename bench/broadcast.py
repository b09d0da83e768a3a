"""Measure a broadcast against the limit-enforcing fake Telegram, beside the usual PTB loop.

For each cap (messages a second), the fake Telegram runs in its own process and answers 429
above the cap in any sliding second, or above one message a second to a chat. Our dispatcher
sends one broadcast to N subscribers (at most cap x seconds) from a real database; then the
baseline most
python-telegram-bot users write - a loop over chat ids through PTB's AIORateLimiter - sends
the same number of messages to the same server. Prints a table, then one JSON line.

    python bench/broadcast.py [--n 20000] [--caps 1000,30] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import insert, select

from bot.channels.telegram_sender import TelegramSender
from bot.dispatcher import Dispatcher, Route
from bot.ratelimit import ChannelLimiter
from db.audience import Audience
from db.base import utcnow
from db.broadcasts import create_broadcast
from db.engine import create_db_engine, session_factory
from db.migrate import upgrade
from db.models import Area, AreaLevel, Broadcast, BroadcastStatus, Channel, Role, Subscriber

TOKEN = "123456:BENCH-TOKEN"
TEXT = "Thông báo: lớp tập huấn VietGAP tại xã Mỹ Sơn, Thứ Ba 15/12/2026 07:30."


@dataclass
class Run:
    """What one sender achieved against one cap."""

    delivered: int
    duplicates: int
    lost: int
    http_429: int
    busiest_second: int
    seconds: float
    cpu_ms_per_msg: float

    def rate(self) -> float:
        """Messages a second, first to last accepted send."""
        return self.delivered / self.seconds if self.seconds > 0 else 0.0


class FakeServer:
    """The fake Telegram in a separate process, with its statistics over HTTP."""

    def __init__(self, cap: int, chats: int) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.simulator.telegram_api",
                "--port",
                "0",
                "--token",
                TOKEN,
                "--rate-limit",
                str(cap),
                "--per-chat-limit",
                "1",
                "--chats",
                f"1-{chats}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line.startswith("READY "):
            raise RuntimeError(f"fake Telegram did not start: {line!r}")
        self.base_url = line.split()[1]
        self.root = self.base_url.removesuffix("/bot")

    def stats(self) -> dict[str, float]:
        """Read what the server counted."""
        return httpx.get(f"{self.root}/_sim/stats").json()  # type: ignore[no-any-return]

    def reset(self) -> None:
        """Forget recorded sends and rate-limit history."""
        httpx.post(f"{self.root}/_sim/reset")

    def stop(self) -> None:
        """Stop the server process."""
        self.process.terminate()
        self.process.wait(10)


def cpu_seconds() -> float:
    """Return this process's CPU time, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def prepare_database(url: str, n: int) -> None:
    """Migrate, load areas, add n subscribers and a broadcast to all of them, due now."""
    engine = create_db_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as session:
        area = session.scalar(select(Area.id).where(Area.level == AreaLevel.COMMUNE).limit(1))
        now = utcnow()
        rows = [
            {
                "channel": Channel.TELEGRAM,
                "chat_id": str(i),
                "display_name": f"Thành viên {i}",
                "area_id": area,
                "role": Role.MEMBER,
                "status": "active",
                "consent_at": now,
                "created_at": now,
                "conv_state": "idle",
                "conv_data": {},
            }
            for i in range(1, n + 1)
        ]
        session.execute(insert(Subscriber), rows)
        create_broadcast(
            session, text=TEXT, audience=Audience(), send_at=now, created_by="bench", now=now
        )
    engine.dispose()


def outcome(server: FakeServer, expected: int, cpu: float) -> Run:
    """Turn the server's counts into a run's figures."""
    stats = server.stats()
    delivered = int(stats["messages"])
    seconds = float(stats["last_at"] or 0) - float(stats["first_at"] or 0)
    return Run(
        delivered=delivered,
        duplicates=int(stats["duplicates"]),
        lost=expected - int(stats["chats"]),
        http_429=int(stats["http_429"]),
        busiest_second=int(stats["busiest_second"]),
        seconds=seconds,
        cpu_ms_per_msg=1000 * cpu / max(1, delivered),
    )


async def run_ours(server: FakeServer, url: str, cap: int, n: int) -> Run:
    """Send the broadcast with our dispatcher until it is done."""
    sessions = session_factory(create_db_engine(url))
    sender = TelegramSender(TOKEN, server.base_url, paid_broadcast=cap > 30)
    route = Route(sender, ChannelLimiter(cap))
    dispatcher = Dispatcher(sessions, {Channel.TELEGRAM: route}, clock=utcnow)
    gc.collect()
    gc.freeze()  # as OutreachApp.start does once the product is built
    start = cpu_seconds()
    while True:
        if not await dispatcher.tick():
            with sessions() as session:
                if session.scalar(select(Broadcast.status)) == BroadcastStatus.DONE:
                    break
    cpu = cpu_seconds() - start
    await sender.close()
    return outcome(server, n, cpu)


async def run_baseline(server: FakeServer, cap: int, n: int, seconds: float) -> Run:
    """The usual PTB loop: `for chat in chats: await bot.send_message(...)` with AIORateLimiter."""
    from telegram import Bot
    from telegram.error import TelegramError
    from telegram.ext import AIORateLimiter, ExtBot

    limiter = AIORateLimiter(overall_max_rate=cap, overall_time_period=1, max_retries=3)
    bot: Bot = ExtBot(TOKEN, base_url=server.base_url, rate_limiter=limiter)
    deadline = time.monotonic() + seconds
    start = cpu_seconds()
    async with bot:
        for chat in range(1, n + 1):
            if time.monotonic() > deadline:
                break
            with contextlib.suppress(TelegramError):  # what such loops do
                await bot.send_message(chat, TEXT)
    cpu = cpu_seconds() - start
    return outcome(server, n, cpu)


def measure_cap(cap: int, n: int, seconds: float) -> dict[str, float]:
    """Run ours and the baseline against one cap and return the figures."""
    audience = min(n, int(cap * seconds))
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        prepare_database(url, audience)
        server = FakeServer(cap, audience)
        try:
            ours = asyncio.run(run_ours(server, url, cap, audience))
            server.reset()
            time.sleep(1.5)  # let the server's bucket refill before the baseline starts
            base = asyncio.run(run_baseline(server, cap, audience, seconds))
        finally:
            server.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "cap": cap,
        "recipients": audience,
        "delivered": ours.delivered,
        "duplicates": ours.duplicates,
        "lost": ours.lost,
        "http_429": ours.http_429,
        "busiest_second": ours.busiest_second,
        "rate": round(ours.rate(), 1),
        "rate_ratio": round(ours.rate() / cap, 3),
        "seconds": round(ours.seconds, 1),
        "cpu_ms_per_msg": round(ours.cpu_ms_per_msg, 3),
        "peak_rss_mb": round(peak, 1),
        "baseline_delivered": base.delivered,
        "baseline_rate": round(base.rate(), 1),
        "baseline_rate_ratio": round(base.rate() / cap, 3),
        "baseline_http_429": base.http_429,
        "baseline_busiest_second": base.busiest_second,
        "baseline_cpu_ms_per_msg": round(base.cpu_ms_per_msg, 3),
        "speedup": round(ours.rate() / base.rate(), 2) if base.rate() else None,
    }


def table(results: list[dict[str, float]]) -> str:
    """Lay the figures out for people."""
    rows = [
        ("cap (msg/s)", "cap"),
        ("recipients", "recipients"),
        ("delivered", "delivered"),
        ("duplicates", "duplicates"),
        ("lost", "lost"),
        ("429s received", "http_429"),
        ("busiest second (sends)", "busiest_second"),
        ("achieved rate (msg/s)", "rate"),
        ("rate / cap", "rate_ratio"),
        ("CPU ms per message", "cpu_ms_per_msg"),
        ("peak RSS (MB)", "peak_rss_mb"),
        ("baseline: delivered", "baseline_delivered"),
        ("baseline: rate", "baseline_rate"),
        ("baseline: rate / cap", "baseline_rate_ratio"),
        ("baseline: 429s", "baseline_http_429"),
        ("baseline: busiest second", "baseline_busiest_second"),
        ("baseline: CPU ms per message", "baseline_cpu_ms_per_msg"),
        ("ours / baseline rate", "speedup"),
    ]
    lines = [f"{'':32}" + "".join(f"{r['cap']:>14}" for r in results)]
    for label, key in rows[1:]:
        lines.append(f"{label:32}" + "".join(f"{r[key]!s:>14}" for r in results))
    return "\n".join(lines)


def main() -> None:
    """Parse the arguments, measure each cap, print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="subscribers (default 20000)")
    parser.add_argument("--caps", default="1000,30", help="caps to measure, messages/s")
    parser.add_argument("--seconds", type=float, default=60, help="longest run per cap")
    args = parser.parse_args()
    results = [measure_cap(int(c), args.n, args.seconds) for c in args.caps.split(",")]
    print(table(results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
