"""Measure counting and snapshotting an audience of every subscriber, on SQLite and PostgreSQL.

Fills a fresh database with N active subscribers spread over all communes (default
1,000,000), then times `count_audience` and `snapshot` (one INSERT ... SELECT) for an
audience of all of them, and reports the process's peak memory before and after, to show
that it does not grow with the audience. Prints a table, then one JSON line.

    python bench/audience.py [--n 1000000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text

from db.audience import Audience, count_audience, snapshot
from db.base import utcnow
from db.broadcasts import create_broadcast
from db.engine import create_db_engine, session_factory
from db.migrate import upgrade
from db.models import Area, AreaLevel

FILL_SQLITE = """
WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < :n)
INSERT INTO subscriber (channel, chat_id, display_name, area_id, role, status, consent_at,
                        created_at, conv_state, conv_data)
SELECT 'telegram', CAST(x AS TEXT), 'Thành viên ' || x, :first + (x % :communes), 'member',
       'active', :now, :now, 'idle', '{}'
FROM seq
"""
FILL_POSTGRES = """
INSERT INTO subscriber (channel, chat_id, display_name, area_id, role, status, consent_at,
                        created_at, conv_state, conv_data)
SELECT 'telegram', x::text, 'Thành viên ' || x, :first + (x % :communes), 'member',
       'active', :now, :now, 'idle', '{}'
FROM generate_series(1, :n) AS x
"""


def peak_rss_mb() -> float:
    """Return this process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill(engine: Engine, n: int) -> float:
    """Insert n active subscribers in one statement; return the seconds it took."""
    with session_factory(engine).begin() as session:
        first, last = session.execute(
            select(func.min(Area.id), func.max(Area.id)).where(Area.level == AreaLevel.COMMUNE)
        ).one()
    sql = FILL_POSTGRES if engine.dialect.name == "postgresql" else FILL_SQLITE
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            text(sql),
            {"n": n, "first": first, "communes": last - first + 1, "now": utcnow().isoformat()},
        )
    return time.perf_counter() - started


def measure(engine: Engine, backend: str, n: int) -> dict[str, float | str]:
    """Fill, then time count and snapshot for an audience of everyone."""
    upgrade(engine)
    fill_seconds = fill(engine, n)
    before = peak_rss_mb()
    sessions = session_factory(engine)
    with sessions.begin() as session:
        started = time.perf_counter()
        counted = count_audience(session, Audience())
        count_seconds = time.perf_counter() - started
        broadcast = create_broadcast(
            session,
            text="Tin",
            audience=Audience(),
            send_at=utcnow(),
            created_by="bench",
            now=utcnow(),
        )
    with sessions.begin() as session:
        started = time.perf_counter()
        created = snapshot(session, broadcast, utcnow())
    snapshot_seconds = time.perf_counter() - started
    return {
        "backend": backend,
        "subscribers": n,
        "counted": counted,
        "deliveries": created,
        "fill_s": round(fill_seconds, 2),
        "count_s": round(count_seconds, 3),
        "snapshot_s": round(snapshot_seconds, 2),
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def sqlite_run(n: int) -> dict[str, float | str]:
    """Measure on a fresh SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'audience.db'}")
        try:
            return measure(engine, "sqlite", n)
        finally:
            engine.dispose()


def postgres_run(server: str, n: int) -> dict[str, float | str]:
    """Measure on a fresh PostgreSQL database, dropped afterwards."""
    name = f"outreach_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_db_engine(f"{server}/{name}")
    try:
        return measure(engine, "postgresql", n)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    """Parse arguments, measure both backends, print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument(
        "--pg",
        default="postgresql+psycopg://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL without a database name",
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    results = [] if args.skip_sqlite else [sqlite_run(args.n)]
    results.append(postgres_run(args.pg, args.n))
    keys = [
        "subscribers",
        "counted",
        "deliveries",
        "fill_s",
        "count_s",
        "snapshot_s",
        "rss_before_mb",
        "peak_rss_mb",
    ]
    print(f"{'':16}" + "".join(f"{r['backend']:>14}" for r in results))
    for key in keys:
        print(f"{key:16}" + "".join(f"{r[key]!s:>14}" for r in results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
