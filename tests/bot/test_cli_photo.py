"""`broadcast create --photo`: a URL as it is, an image file kept by its hash and served at /m/.

Telegram takes a photo by file id or URL, the Zalo Bot Platform and the Zalo OA by URL only:
what the CLI accepts is checked when the broadcast is created, in the one form all take.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import zlib
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.simulator import FakeTelegram
from db.engine import create_db_engine
from db.models import Broadcast
from tests.bot.test_cli import run
from tests.conftest import make_app
from tests.factories import add_subscribers, commune_id

PUBLIC = "https://bot.example.org"
KH = "Tỉnh Khánh Hòa"
LATER = ["--at", "2099-01-01 07:30"]  # kept, not sent: what is checked here is the photo
TAKES = "--photo takes an https:// URL, or the path of a JPEG, PNG or WebP image of at most 10 MB"


def png(width: int = 2, height: int = 2) -> bytes:
    """Write a small real PNG (grey pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


def members(database_url: str) -> None:
    engine = create_db_engine(database_url)
    with Session(engine) as session, session.begin():
        add_subscribers(session, [6601, 6602], area_id=commune_id(session, "Xã Mỹ Sơn", KH))
    engine.dispose()


def photos(database_url: str) -> list[str | None]:
    engine = create_db_engine(database_url)
    with Session(engine) as session:
        found = list(session.scalars(select(Broadcast.photo).order_by(Broadcast.id)))
    engine.dispose()
    return found


async def status_of(port: int, raw_path: str) -> int:
    """Ask the server for a path exactly as written (no client tidies `..` away)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {raw_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


async def test_an_image_file_is_kept_by_its_hash_and_served_alone(
    database_url: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    members(database_url)
    folder = tmp_path / "media"
    (tmp_path / "secret.txt").write_text("not for the internet")
    photo = tmp_path / "gia-lua.png"
    photo.write_bytes(png())
    name = f"{hashlib.sha256(photo.read_bytes()).hexdigest()}.png"
    env = {
        "DATABASE_URL": database_url,
        "OUTREACH_PUBLIC_URL": PUBLIC,
        "OUTREACH_MEDIA_DIR": str(folder),
    }
    for _ in range(2):  # the same photo twice: kept once
        made = run(
            "broadcast",
            "create",
            "--text",
            "Giá lúa",
            "--photo",
            str(photo),
            *LATER,
            env=env,
            cwd=tmp_path,
        )
        assert made.returncode == 0, made.stderr
    assert photos(database_url) == [f"{PUBLIC}/m/{name}"] * 2
    assert [p.name for p in folder.iterdir()] == [name]
    assert (folder / name).read_bytes() == photo.read_bytes()

    (folder / "notes.txt").write_text("kept here by someone else")
    (folder / f"{'0' * 64}.jpg").mkdir()  # a name that fits, but not a file
    app = make_app(database_url, telegram, outreach_public_url=PUBLIC, outreach_media_dir=folder)
    await app.start()
    try:
        assert app.web is not None
        base = f"http://127.0.0.1:{app.web.port}"
        async with httpx.AsyncClient(base_url=base) as client:
            served = await client.get(f"/m/{name}")
            assert served.status_code == 200
            assert served.content == photo.read_bytes()
            assert served.headers["content-type"] == "image/png"
            assert "immutable" in served.headers["cache-control"]
            for path in (
                f"/m/{'f' * 64}.png",  # a name that fits, of nothing stored
                "/m/notes.txt",
                f"/m/{'0' * 64}.jpg",
                f"/m/{name[:-4]}.txt",
                f"/m/{name.upper()}",
            ):
                assert (await client.get(path)).status_code == 404, path
        for raw in (
            "/m/../etc/passwd",
            "/m/%2e%2e%2fetc%2fpasswd",
            "/m/..%2f..%2fsecret.txt",
            f"/m/..%2fmedia%2f{name}",
        ):
            assert await status_of(app.web.port, raw) == 404, raw
    finally:
        await app.stop()


def test_photo_is_a_url_or_an_image_file_and_anything_else_one_line(
    database_url: str, tmp_path: Path
) -> None:
    members(database_url)
    env = {"DATABASE_URL": database_url, "OUTREACH_MEDIA_DIR": str(tmp_path / "media")}
    for url in ("https://example.org/gia-lua.jpg", "http://example.org/a.png?size=800"):
        made = run(
            "broadcast",
            "create",
            "--text",
            "Giá lúa",
            "--photo",
            url,
            *LATER,
            env=env,
            cwd=tmp_path,
        )
        assert made.returncode == 0, made.stderr
    (tmp_path / "ghi-chu.txt").write_text("Giá lúa tuần này", encoding="utf-8")
    (tmp_path / "cong-van.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    (tmp_path / "anh.png").write_bytes(png())
    with (tmp_path / "to.jpg").open("wb") as big:  # 10 MB and one byte, Telegram's limit over
        big.write(b"\xff\xd8\xff\xe0")
        big.truncate(10 * 1024 * 1024 + 1)
    for given, said in [
        ("AgACAgUAAxkBAAIBZ2ZlYWZ1bGx5X2FfZmlsZV9pZA", "is neither an http(s) URL nor a file here"),
        ("khong-co.jpg", "'khong-co.jpg' is neither an http(s) URL nor a file here"),
        ("ftp://example.org/a.jpg", "is neither an http(s) URL nor a file here"),
        ("ghi-chu.txt", "ghi-chu.txt is not a JPEG, PNG or WebP image"),
        ("cong-van.pdf", "cong-van.pdf is not a JPEG, PNG or WebP image"),
        ("to.jpg", "to.jpg: 10.0 MB is too big"),
        (
            "anh.png",
            "--photo FILE needs OUTREACH_PUBLIC_URL, the address where Telegram and Zalo "
            "fetch it; or give an https:// URL",
        ),
    ]:
        refused = run("broadcast", "create", "--text", "x", "--photo", given, env=env, cwd=tmp_path)
        assert refused.returncode == 2, (given, refused.stdout)
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and said in lines[0], (given, refused.stderr)
        assert given == "anh.png" or TAKES in lines[0], (given, lines)
    assert photos(database_url) == [
        "https://example.org/gia-lua.jpg",
        "http://example.org/a.png?size=800",
    ]  # nothing refused was scheduled
    assert not (tmp_path / "media").exists()
