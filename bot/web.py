"""Serve the webhook endpoints: one ASGI app, answered at once, the work done after."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import socket
import stat
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import media
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo_bot import ZaloBotChannel
from bot.channels.zalo_oa import ZaloOAChannel
from bot.monitor import CONTENT_TYPE, Monitor
from bot.settings import SettingsError

log = logging.getLogger(__name__)

TELEGRAM_PATH = "/webhooks/telegram"
ZALO_BOT_PATH = "/webhooks/zalo-bot"
ZALO_OA_PATH = "/webhooks/zalo-oa"
# The most a webhook request may carry: an update or an event is a few kilobytes. Anything
# bigger is refused before it is read whole (the README's nginx block sets the same limit).
MAX_BODY = 1024 * 1024


class Webhooks:
    """The webhook side of the channels, and the tasks still working on what came in."""

    def __init__(
        self,
        zalo_bot: ZaloBotChannel | None,
        zalo_bot_secret: str,
        *,
        monitor: Monitor,
        zalo_oa: ZaloOAChannel | None = None,
        telegram: TelegramChannel | None = None,
        telegram_secret: str = "",
        media_dir: Path = Path("media"),
    ) -> None:
        self.zalo_bot, self.zalo_bot_secret = zalo_bot, zalo_bot_secret
        self.media_dir = media_dir  # photos given as files, fetched by Telegram and Zalo
        self.zalo_oa = zalo_oa
        self.telegram, self.telegram_secret = telegram, telegram_secret
        self.telegram_paths = {TELEGRAM_PATH}  # and the path of the URL given, if another
        self.monitor = monitor
        self._working: set[asyncio.Task[None]] = set()

    def app(self) -> Starlette:
        """Build the ASGI app: the webhooks, /healthz, /metrics and the photos at /m/."""
        routes = [
            Route(media.PATH + "{name}", self.photo, methods=["GET", "HEAD"]),
            Route(ZALO_BOT_PATH, self.zalo_bot_update, methods=["POST"]),
            Route(ZALO_OA_PATH, self.zalo_oa_event, methods=["POST"]),
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
        ]
        routes += [Route(p, self.telegram_update, methods=["POST"]) for p in self.telegram_paths]
        return Starlette(routes=routes)

    async def healthz(self, request: Request) -> JSONResponse:
        """Answer 200 when the database, channels, scheduler and dispatcher are well, else 503."""
        healthy, checks = await self.monitor.health()
        body = {"status": "ok" if healthy else "failing", "checks": checks}
        return JSONResponse(body, status_code=200 if healthy else 503)

    async def metrics(self, request: Request) -> Response:
        """Give Prometheus every figure in its text format."""
        return Response(await self.monitor.metrics(), media_type=CONTENT_TYPE)

    async def photo(self, request: Request) -> Response:
        """Serve a stored photo by its name (a content hash): nothing else on disk is reachable."""
        name = request.path_params["name"]
        if not media.NAME.fullmatch(name):
            return PlainTextResponse("Not Found", status_code=404)
        path = self.media_dir / name
        try:
            found = os.stat(path)
        except OSError:
            found = None
        if found is None or not stat.S_ISREG(found.st_mode):
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(
            path,
            media_type=media.content_type(name),
            stat_result=found,
            headers={"Cache-Control": "public, max-age=31536000, immutable"},  # named by content
        )

    async def telegram_update(self, request: Request) -> JSONResponse:
        """Take one Telegram update: check the secret, answer at once, handle it after."""
        secret = self.telegram_secret if self.telegram is not None else None
        body = await _secret_json(request, "x-telegram-bot-api-secret-token", secret, "telegram")
        if isinstance(body, JSONResponse):
            return body
        if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
            return JSONResponse({"message": "Bad Request"}, status_code=400)
        assert self.telegram is not None  # no secret to match without it
        self._later(self.telegram.process(body))  # a second delivery is ignored there
        return JSONResponse({"message": "Success"})

    async def zalo_oa_event(self, request: Request) -> JSONResponse:
        """Take one Zalo OA event: check its signature and age, answer at once, handle it after."""
        if self.zalo_oa is None:
            log.warning(
                "zalo OA webhook refused from %s: no Zalo OA is configured", _caller(request)
            )
            return JSONResponse({"message": "Forbidden"}, status_code=403)
        body = await _json_body(request, "zalo OA")
        if isinstance(body, JSONResponse):
            return body
        given = request.headers.get("x-zevent-signature", "")
        event = self.zalo_oa.verify(body, given)  # logs why it refuses: signature or age
        if event is None:
            return JSONResponse({"message": "Forbidden"}, status_code=403)
        self._later(self.zalo_oa.process(event))  # replays are ignored there
        return JSONResponse({"message": "Success"})

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        """Do the work after answering, keeping hold of it until it is done."""
        task = asyncio.create_task(work)
        self._working.add(task)
        task.add_done_callback(self._working.discard)

    async def zalo_bot_update(self, request: Request) -> JSONResponse:
        """Take one Zalo Bot update: check its secret, answer at once, handle it after."""
        secret = self.zalo_bot_secret if self.zalo_bot is not None else None
        body = await _secret_json(request, "x-bot-api-secret-token", secret, "zalo")
        if isinstance(body, JSONResponse):
            return body
        update = body.get("result", body) if isinstance(body, dict) else None
        if not isinstance(update, dict):
            return JSONResponse({"message": "Bad Request"}, status_code=400)
        assert self.zalo_bot is not None  # no secret to match without it
        self._later(self.zalo_bot.process(update))  # replays are ignored there
        return JSONResponse({"message": "Success"})

    async def drain(self) -> None:
        """Let updates already taken in finish before shutting down."""
        if self._working:
            await asyncio.gather(*self._working, return_exceptions=True)


async def _secret_json(request: Request, header: str, secret: str | None, platform: str) -> Any:
    """Return a webhook's JSON body if it carries the secret, else the 403, 415, 413 or 400.

    `secret` is None when that channel is not configured: every request is refused.
    """
    given = request.headers.get(header, "")
    if secret is None or not hmac.compare_digest(given.encode(), secret.encode()):
        log.warning(
            "%s webhook refused from %s: wrong or missing secret token", platform, _caller(request)
        )
        return JSONResponse({"message": "Forbidden"}, status_code=403)
    body = await _json_body(request, platform)
    if isinstance(body, JSONResponse):
        return body
    try:
        return json.loads(body)
    except ValueError:
        return JSONResponse({"message": "Bad Request"}, status_code=400)


async def _json_body(request: Request, platform: str) -> bytes | JSONResponse:
    """Read a webhook's body, or answer 415 to one not JSON and 413 to one over MAX_BODY.

    A body is refused by its declared length before a byte of it is read, and one sent in
    chunks (no length given) as soon as it passes the limit: never read whole into memory.
    """
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "application/json":
        log.warning(
            "%s webhook refused from %s: content type %r, not application/json",
            platform,
            _caller(request),
            kind or "(none)",
        )
        return JSONResponse({"message": "Unsupported Media Type"}, status_code=415)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return _too_large(request, platform, f"{declared} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return _too_large(request, platform, f"over {MAX_BODY} bytes sent")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(request: Request, platform: str, size: str) -> JSONResponse:
    log.warning(
        "%s webhook refused from %s: a body of %s, more than the %d allowed",
        platform,
        _caller(request),
        size,
        MAX_BODY,
    )
    return JSONResponse({"message": "Payload Too Large"}, status_code=413)


def _caller(request: Request) -> str:
    return request.client.host if request.client else "?"


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # SIGINT and SIGTERM belong to the app, which stops us in order


class WebServer:
    """Uvicorn inside our event loop; the signals stay with the app."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        # log_config=None: uvicorn's lines go through our handler (JSON, redacted), not its own.
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off", log_config=None
        )
        self.server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start serving and wait until the socket listens."""
        config = self.server.config
        # Bound here, so a taken port is an error we can word (uvicorn would sys.exit).
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((config.host, config.port))
        except OSError as exc:
            sock.close()
            raise SettingsError(
                f"cannot listen on {config.host}:{config.port} ({exc.strerror}): "
                "set OUTREACH_WEB_HOST / OUTREACH_WEB_PORT"
            ) from None
        self._task = asyncio.create_task(self.server.serve(sockets=[sock]))
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start
            await asyncio.sleep(0.02)

    @property
    def port(self) -> int:
        """Return the port listened on (the one chosen when configured as 0)."""
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop accepting requests and wait for the server to close."""
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
