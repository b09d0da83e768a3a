"""Post JSON to a chat platform over one pooled aiohttp session; network trouble is transient.

aiohttp rather than httpx on the bulk path: httpcore's pool scans every connection for
each request, which capped a 64-connection sender at about 260 messages a second.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from bot.channels.base import FailureKind, SendFailure

JSON_HEADERS = {"content-type": "application/json"}


class JsonClient:
    """One platform's API: `base` + method name, JSON in and out."""

    def __init__(
        self, base: str, platform: str, *, connections: int = 64, timeout: float = 15.0
    ) -> None:
        self.base, self.platform, self.connections = base, platform, connections
        self.timeout = aiohttp.ClientTimeout(total=timeout, connect=5.0)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the running event loop, as aiohttp requires.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.connections, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
        return self._session

    async def post(
        self,
        method: str,
        body: dict[str, Any],
        timeout: float | None = None,
        *,
        headers: dict[str, str] | None = None,
        form: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        """Post a JSON body (or a form); return the HTTP status and the decoded answer."""
        payload: Any = body if form else json.dumps(body, ensure_ascii=False).encode()
        sent = headers if form else {**JSON_HEADERS, **headers} if headers else JSON_HEADERS
        # aiohttp reads timeout=None as "no timeout at all": pass the session's instead.
        limit = self.timeout if timeout is None else aiohttp.ClientTimeout(timeout, connect=5)
        request = self._client().post(self.base + method, data=payload, headers=sent, timeout=limit)
        return await self._answer(request)

    async def get(
        self, method: str, *, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Get a JSON answer; network trouble is transient, as for post."""
        return await self._answer(self._client().get(self.base + method, headers=headers))

    async def _answer(self, request: Any) -> tuple[int, dict[str, Any]]:
        try:
            async with request as response:
                status, content = response.status, await response.read()
        except TimeoutError as exc:
            reason = f"timed out waiting for {self.platform}"
            raise SendFailure(FailureKind.TRANSIENT, reason) from exc
        except aiohttp.ClientConnectorError as exc:  # nothing reached it: the whole channel
            reason = f"cannot reach {self.platform}: {exc}"
            raise SendFailure(FailureKind.UNAVAILABLE, reason, retry_after=5.0) from exc
        except aiohttp.ClientError as exc:
            raise SendFailure(FailureKind.TRANSIENT, f"network error: {exc}") from exc
        try:
            answer = json.loads(content)
        except ValueError:
            raise SendFailure(FailureKind.TRANSIENT, f"HTTP {status} without JSON") from None
        if not isinstance(answer, dict):
            raise SendFailure(FailureKind.TRANSIENT, f"HTTP {status}: unexpected answer")
        return status, answer

    async def close(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
