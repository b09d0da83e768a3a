"""Soak two `outreach run --webhook` instances on PostgreSQL: an hour's events in minutes.

A broadcast to every member of a Khánh Hòa commune goes out at the cap while members write
(their replies are timed); a campaign for 200 members in Hà Nội fires about halfway through
it (the broadcast starts accordingly); at 35% the first instance is SIGKILLed and a third
replaces it. The fake Telegram runs in this process and stands in for the load balancer.
Doubles after the kill are reported, not hidden. Prints a table, then one JSON line.

    python bench/soak.py [--members 6000] [--rate 100] [--writers 4] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import load_campaign
from bot.simulator import FakeTelegram
from bot.simulator.instances import OutreachProcess, busiest_second
from db.audience import Audience
from db.base import utcnow
from db.broadcasts import create_broadcast
from db.content import load_items
from db.engine import create_db_engine, session_factory
from db.migrate import upgrade
from db.models import (
    Area,
    Broadcast,
    BroadcastStatus,
    Campaign,
    CampaignFiring,
    Channel,
    Delivery,
    Role,
    Subscriber,
)
from db.outbox import IN_DOUBT
from messages.packs import read_packs
from schedules.files import parse_campaign

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
URL = "https://bot.example.org/webhooks/telegram"
TEXT = "Thông báo: hỗ trợ lãi suất vay vốn cho HTX nông nghiệp năm 2027"
QUESTION = "Cho hỏi thủ tục vay vốn hỗ trợ lãi suất thế nào ạ"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "copyMessage"})
CAMPAIGN_CHATS = range(900_001, 900_201)
REPLY_TIMEOUT = 10.0
SLUG = "soak-khau-hieu"


class Tally:
    """Read the fake's call log once, incrementally: accepted sends by chat and when."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake, self.seen = fake, 0
        self.big: list[tuple[int, float]] = []  # (chat, accepted at) of the big broadcast
        self.every: list[tuple[int, float]] = []  # every accepted send

    def update(self) -> int:
        """Take in new calls; return how many big-broadcast copies were accepted so far."""
        calls = self.fake.calls
        for call in calls[self.seen :]:
            if call.method in SENDS and call.status == 200:
                chat = int(call.params["chat_id"])
                self.every.append((chat, call.at))
                if call.params.get("text") == TEXT:
                    self.big.append((chat, call.at))
        self.seen = len(calls)
        return len(self.big)


def admin(sql: str) -> None:
    """Run one statement on the server's `test` database, outside a transaction."""
    engine = create_engine(f"{SERVER}/test", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


def area_of(session: Session, province: str) -> tuple[int, int]:
    """Return a province's id and the id of its first commune."""
    parent = session.scalar(select(Area.id).where(Area.name == province))
    commune = session.scalar(select(Area.id).where(Area.parent_id == parent).order_by(Area.id))
    if parent is None or commune is None:
        raise RuntimeError(f"no area {province!r}: are the areas loaded?")
    return parent, commune


def subscribers(chats: range, area: int, now: datetime) -> list[dict[str, Any]]:
    """Build rows of active Telegram members with these chat ids, as bench/broadcast.py does."""
    return [
        {"channel": Channel.TELEGRAM, "chat_id": str(i), "display_name": f"Thành viên {i}",
         "area_id": area, "role": Role.MEMBER, "status": "active", "consent_at": now,
         "created_at": now, "conv_state": "idle", "conv_data": {}}
        for i in chats
    ]  # fmt: skip


def prepare(sessions: sessionmaker[Session], members: int) -> int:
    """Load content and members (Khánh Hòa, plus 200 in Hà Nội); return Khánh Hòa's id."""
    now = utcnow()
    with sessions.begin() as session:
        load_items(session, read_packs(), now)
        province, commune = area_of(session, "Tỉnh Khánh Hòa")
        session.execute(insert(Subscriber), subscribers(range(1, members + 1), commune, now))
        other = area_of(session, "Thành phố Hà Nội")[1]
        session.execute(insert(Subscriber), subscribers(CAMPAIGN_CHATS, other, now))
    return province


def campaign_text(now: datetime) -> tuple[str, datetime]:
    """Write a campaign firing once, at the next local minute 40 s ahead; return it and when."""
    at = (now.astimezone(TZ) + timedelta(seconds=40 + 59)).replace(second=0, microsecond=0)
    quiet = [(at + timedelta(hours=h)).strftime("%H:%M") for h in (6, 7)]  # far from `at`
    return (
        f"id: {SLUG}\nname: Khẩu hiệu (soak)\n"
        f"window: {{from: {at:%Y-%m-%d}, to: {at:%Y-%m-%d}}}\n"
        "audience: {provinces: [Hà Nội]}\n"
        "pool: {items: [khau-hieu-03, khau-hieu-04, khau-hieu-05]}\n"
        f'cadence: {{times: ["{at:%H:%M}"]}}\n'
        f'quiet_hours: {{from: "{quiet[0]}", to: "{quiet[1]}"}}\n'
    ), at


def load_soak_campaign(sessions: sessionmaker[Session]) -> datetime:
    """Load the campaign as `outreach campaign load` does; return when it is to fire."""
    now = utcnow()
    yaml, at = campaign_text(now)
    with sessions.begin() as session:
        load_campaign(session, parse_campaign(yaml, "soak.yaml"), now=now, created_by="bench")
    return at


def create_big(sessions: sessionmaker[Session], province: int) -> int:
    """Create the broadcast to every member in the province, due now; return its id."""
    now = utcnow()
    with sessions.begin() as session:
        audience = Audience(area_ids=(province,))
        made = create_broadcast(
            session, text=TEXT, audience=audience, send_at=now, created_by="bench", now=now
        )
    return made.id


def all_done(sessions: sessionmaker[Session], big: int) -> bool:
    """Tell whether the big broadcast is done, and the campaign fired and its sends are done."""
    with sessions() as session:
        fired = select(Campaign.id).join(CampaignFiring).where(Campaign.slug == SLUG)
        mine = (Broadcast.id == big) | Broadcast.campaign_id.in_(fired)
        statuses = list(session.scalars(select(Broadcast.status).where(mine)))
        return session.scalar(fired) is not None and set(statuses) == {BroadcastStatus.DONE}


def outcome(sessions: sessionmaker[Session], big: int) -> dict[str, Any]:
    """Read the campaign's firing (outcome, lateness) and the big broadcast's in-doubt resends."""
    mine = (Delivery.broadcast_id == big) & (Delivery.error == IN_DOUBT)
    with sessions() as session:
        row = session.scalar(select(CampaignFiring).join(Campaign).where(Campaign.slug == SLUG))
        requeued = session.scalar(select(func.count()).select_from(Delivery).where(mine))
    late = (row.fired_at - row.planned_at).total_seconds() if row else None
    return {
        "in_doubt_sent_again": requeued,
        "campaign_fired": row is not None and row.outcome.value in ("sent", "late"),
        "campaign_outcome": row.outcome.value if row else None,
        "campaign_late_s": round(late, 1) if late is not None else None,
    }


async def timed_reply(fake: FakeTelegram, chat: int, text_: str) -> tuple[float, float | None]:
    """Write as a member; return when, and the seconds until the bot's first other reply."""
    injected = time.monotonic()
    fake.send_text(chat, text_)
    while True:
        left = injected + REPLY_TIMEOUT - time.monotonic()
        try:
            message = await fake.next_message(chat, timeout=max(0.01, left))
        except TimeoutError:
            return injected, None
        if message.get("text") != TEXT:
            break
    arrived = [
        c.at
        for c in reversed(fake.calls[-5000:])
        if c.method in SENDS and c.status == 200 and c.at >= injected
        and int(c.params.get("chat_id", 0)) == chat and c.params.get("text") != TEXT
    ]  # fmt: skip
    return injected, (min(arrived) if arrived else time.monotonic()) - injected


async def members_write(
    fake: FakeTelegram, members: int, per_second: int, stop: asyncio.Event
) -> list[tuple[float, float | None]]:
    """Have `per_second` members a second write, each a different chat, until `stop`."""
    tasks: list[asyncio.Task[tuple[float, float | None]]] = []
    step, chat = 1 / per_second, 0
    while not stop.is_set():
        chat = chat % members + 1
        tasks.append(asyncio.create_task(timed_reply(fake, chat, QUESTION)))
        await asyncio.sleep(step)
    return list(await asyncio.gather(*tasks))


async def kill_and_replace(
    fake: FakeTelegram, tally: Tally, members: int, instances: list[OutreachProcess]
) -> float:
    """At 35% of the broadcast SIGKILL the first instance; start a third 5 s on; return when."""
    await fake.wait_for(lambda: tally.update() >= 0.35 * members, timeout=members)
    killed = time.monotonic()
    await instances[0].stop(signal.SIGKILL)
    fake.webhook_origin = instances[1].origin  # the load balancer sees it gone
    await asyncio.sleep(5)
    third = OutreachProcess(instances[0].env, instances[0].folder, URL)
    instances.append(third)
    await third.start()
    fake.webhook_origin = third.origin
    return killed


def percentile(values: list[float], share: float) -> float | None:
    """Return the nearest-rank percentile, or None when there is nothing to rank."""
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, int(share * len(ranked)))] if ranked else None


def copies(sent: list[tuple[int, float]], chats: range) -> tuple[int, int]:
    """Return how many of these chats got no copy, and how many more than one."""
    counts = Counter(chat for chat, _ in sent if chat in chats)
    return len(chats) - len(counts), sum(1 for n in counts.values() if n > 1)


def figures(
    args: argparse.Namespace, tally: Tally, replies: list[tuple[float, float | None]], due: float
) -> dict[str, Any]:
    """Turn what was recorded into the reported figures (`due`: the campaign's monotonic time)."""
    first, last = min(at for _, at in tally.big), max(at for _, at in tally.big)
    during = [latency for at, latency in replies if first <= at <= last]
    answered = [x for x in during if x is not None]
    rate = len(tally.big) / (last - first) if last > first else 0.0
    channel = sum(1 for _, at in tally.every if first <= at <= last) / max(last - first, 1e-9)
    lost, doubled = copies(tally.big, range(1, args.members + 1))
    c_lost, c_doubled = copies(tally.every, CAMPAIGN_CHATS)
    c_times = [round(at - due, 1) for c, at in tally.every if c in CAMPAIGN_CHATS]
    p = {f"reply_p{n}_s": percentile(answered, n / 100) for n in (50, 95, 99)}
    return {
        "bench": "soak", "members": args.members, "rate_cap": args.rate,
        "replies": len(during), "reply_timeouts": len(during) - len(answered),
        **{k: round(v, 3) if v is not None else None for k, v in p.items()},
        "reply_max_s": round(max(answered), 3) if answered else None,
        "rate": round(rate, 1), "rate_ratio": round(rate / args.rate, 3),
        "channel_rate_ratio": round(channel / args.rate, 3),
        "busiest_second": busiest_second([at for _, at in tally.every]),
        "lost": lost, "doubled": doubled, "campaign_lost": c_lost,
        "campaign_doubled": c_doubled, "campaign_first_copy_s": min(c_times, default=None),
        "campaign_last_copy_s": max(c_times, default=None),
        "big_broadcast_ends_s": round(last - due, 1),
        "http_429": tally.fake.http_429,
    }  # fmt: skip


async def drive(
    args: argparse.Namespace,
    fake: FakeTelegram,
    sessions: sessionmaker[Session],
    province: int,
    instances: list[OutreachProcess],
) -> dict[str, Any]:
    """Start both broadcasts, members writing and the kill; wait until all is sent; measure."""
    planned = await asyncio.to_thread(load_soak_campaign, sessions)
    # Start the big broadcast so that the campaign fires about halfway through it.
    lead = (planned - utcnow()).total_seconds() - 0.5 * args.members / args.rate
    await asyncio.sleep(max(0.0, lead))
    big = await asyncio.to_thread(create_big, sessions, province)
    tally, stop = Tally(fake), asyncio.Event()
    writing = asyncio.create_task(members_write(fake, args.members, args.writers, stop))
    chaos = asyncio.create_task(kill_and_replace(fake, tally, args.members, instances))
    limit = time.monotonic() + 3 * args.members / args.rate + 180
    while not await asyncio.to_thread(all_done, sessions, big):
        if time.monotonic() > limit:
            raise RuntimeError("the broadcasts were not done in time")
        await asyncio.sleep(0.5)
    stop.set()
    replies, killed = await writing, await chaos
    tally.update()
    due = time.monotonic() + (planned - utcnow()).total_seconds()
    result = figures(args, tally, replies, due)
    result["killed_at_s"] = round(killed - min(at for _, at in tally.big), 1)
    done = await asyncio.to_thread(outcome, sessions, big)
    return {**result, **done, "campaign_planned": planned.strftime("%H:%M")}


async def soak(args: argparse.Namespace, url: str, folder: Path) -> dict[str, Any]:
    """Run the whole soak against the database at `url` and return the figures."""
    began, engine = time.monotonic(), create_db_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    province = prepare(sessions, args.members)
    # Telegram's own limits: the cap in any sliding second, one message a second in a chat.
    async with FakeTelegram(rate_limit=args.rate, per_chat_limit=1, any_chat=True) as fake:
        # Telegram counts a request when it arrives; this fake, which shares the bench's
        # process, when its loop reads it: a garbage collection pausing the loop would bunch
        # what arrived meanwhile into a burst the instances never sent (as in the standalone
        # fake, bot/simulator/telegram_api.py).
        gc.freeze()
        gc.disable()
        env = {**os.environ, "DATABASE_URL": url, "TELEGRAM_BOT_TOKEN": fake.token,
               "TELEGRAM_API_URL": fake.base_url, "TELEGRAM_RATE_LIMIT": str(args.rate),
               "TELEGRAM_PAID_BROADCAST": "true", "OUTREACH_TAKEOVER_SECONDS": "10",
               "OUTREACH_SCHEDULER_TICK": "2", "LOG_FORMAT": "json"}  # fmt: skip
        instances = [OutreachProcess(env, folder, URL), OutreachProcess(env, folder, URL)]
        try:
            await asyncio.gather(*(i.start() for i in instances))
            fake.webhook_origin = instances[0].origin  # the load balancer's choice
            result = await drive(args, fake, sessions, province, instances)
        finally:
            await asyncio.gather(*(i.stop() for i in instances))
    engine.dispose()
    return {**result, "wall_s": round(time.monotonic() - began, 1)}


def table(r: dict[str, Any]) -> str:
    """Lay the figures out for people: figure, value, goal, ok?"""
    goals: list[tuple[str, str, str, bool | None]] = [
        ("reply p99 (s)", "reply_p99_s", "<= 1", (r["reply_p99_s"] or 99) <= 1),
        ("reply timeouts (10 s)", "reply_timeouts", "0", r["reply_timeouts"] == 0),
        ("broadcast rate / cap", "rate_ratio", ">= 0.95", r["rate_ratio"] >= 0.95),
        ("lost", "lost", "0", r["lost"] == 0),
        ("doubled", "doubled", "0", r["doubled"] == 0),
        ("campaign lost", "campaign_lost", "0", r["campaign_lost"] == 0),
        ("campaign doubled", "campaign_doubled", "0", r["campaign_doubled"] == 0),
        ("campaign fired", "campaign_fired", "yes", r["campaign_fired"]),
    ]
    info = [("members", "members"), ("rate cap (msg/s)", "rate_cap"),
            ("replies timed during broadcast", "replies"), ("reply p50 (s)", "reply_p50_s"),
            ("reply p95 (s)", "reply_p95_s"), ("reply max (s)", "reply_max_s"),
            ("broadcast rate (msg/s)", "rate"), ("all sends / cap", "channel_rate_ratio"),
            ("busiest second (sends)", "busiest_second"), ("429s received", "http_429"),
            ("SIGKILL after first copy (s)", "killed_at_s"),
            ("in doubt after SIGKILL, sent again", "in_doubt_sent_again"),
            ("campaign planned (local)", "campaign_planned"),
            ("campaign outcome", "campaign_outcome"),
            ("campaign fired late by (s)", "campaign_late_s"),
            ("campaign first copy, after plan (s)", "campaign_first_copy_s"),
            ("campaign last copy, after plan (s)", "campaign_last_copy_s"),
            ("big broadcast's last copy, after plan (s)", "big_broadcast_ends_s"),
            ("wall time (s)", "wall_s")]  # fmt: skip
    rows = [(label, key, goal, "yes" if ok else "NO") for label, key, goal, ok in goals]
    rows += [(label, key, "", "") for label, key in info]
    lines = [f"{'figure':42}{'value':>10}  {'goal':10}ok?"]
    lines += [f"{label:42}{r[key]!s:>10}  {goal:10}{ok}" for label, key, goal, ok in rows]
    return "\n".join(lines)


def show_logs(folder: Path, lines: int = 15) -> None:
    """Print the end of each instance's log to stderr, before the folder goes."""
    for log in sorted(folder.glob("log-*.txt")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- {log.name}", *tail, sep="\n", file=sys.stderr)


def main() -> None:
    """Parse the arguments, run the soak, print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=6000, help="Khánh Hòa members")
    parser.add_argument("--rate", type=int, default=100, help="Telegram cap, messages/s")
    parser.add_argument("--writers", type=int, default=4, help="member messages a second")
    parser.add_argument("--database", help="an empty PostgreSQL database (default: throwaway)")
    args = parser.parse_args()
    name = f"soak_{secrets.token_hex(4)}"
    if not args.database:
        admin(f'CREATE DATABASE "{name}"')
    url = args.database or f"{SERVER}/{name}"
    try:
        with tempfile.TemporaryDirectory(prefix="soak-") as folder:
            try:
                result = asyncio.run(soak(args, url, Path(folder)))
            except BaseException:
                show_logs(Path(folder))
                raise
    finally:
        if not args.database:
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(table(result))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
