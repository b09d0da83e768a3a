"""Keep the Zalo OA access token fresh: OAuth v4 refresh under a lock, the new pair saved first.

Zalo's access token lasts about 25 hours; the refresh token lasts about 3 months and can be
used once: each refresh returns a new pair and the old refresh token dies. So a refresh runs
under a lock (an asyncio lock in the process, the token row locked FOR UPDATE on PostgreSQL so
that two instances never spend the same refresh token), and the new pair is committed before
it is used. When a refresh fails, sends wait (they are retried later) and the admins are told
once, in plain words, what to do.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from base64 import urlsafe_b64encode
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import FailureKind, SendFailure
from bot.channels.http import JsonClient
from db.engine import is_postgresql
from db.models import OAuthToken

log = logging.getLogger(__name__)

PROVIDER = "zalo_oa"
REFRESH_LIFETIME = timedelta(days=90)  # Zalo's stated lifetime of a refresh token
MARGIN = timedelta(minutes=10)  # refresh this long before the access token would expire
COOL_DOWN = timedelta(minutes=5)  # after a failed refresh, wait before trying again
Alert = Callable[[str], Awaitable[None]]


class TokenProblem(Exception):
    """The OA is not connected or its authorisation could not be renewed."""


@dataclass(frozen=True)
class Pair:
    """An access token and the refresh token that comes with it."""

    access_token: str
    refresh_token: str
    expires_in: timedelta


def pkce_pair() -> tuple[str, str]:
    """Return a PKCE code verifier and its S256 challenge, for `outreach zalo connect`."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, urlsafe_b64encode(digest).decode().rstrip("=")


class ZaloOAuth:
    """The OAuth v4 endpoint: exchange an authorization code or a refresh token for a pair."""

    def __init__(self, oauth_url: str, app_id: str, app_secret: str) -> None:
        self.http = JsonClient(f"{oauth_url.rstrip('/')}/v4/oa/", "Zalo OAuth", connections=2)
        self.app_id, self.app_secret = app_id, app_secret

    def permission_url(self, redirect_uri: str, challenge: str, state: str) -> str:
        """Return the page where the OA admin lets this app act for the OA."""
        query = urlencode(
            {
                "app_id": self.app_id,
                "redirect_uri": redirect_uri,
                "code_challenge": challenge,
                "state": state,
            }
        )
        return f"{self.http.base}permission?{query}"

    async def exchange(self, grant: dict[str, str]) -> Pair:
        """Ask for a pair with a grant (authorization_code or refresh_token); raise TokenProblem."""
        form = {"app_id": self.app_id, **grant}
        try:
            status, answer = await self.http.post(
                "access_token", form, headers={"secret_key": self.app_secret}, form=True
            )
        except SendFailure as failure:
            raise TokenProblem(f"Zalo OAuth unreachable: {failure.reason}") from failure
        if "access_token" not in answer or "refresh_token" not in answer:
            name = answer.get("error_name") or answer.get("message") or f"HTTP {status}"
            detail = answer.get("error_description") or answer.get("error_reason") or ""
            raise TokenProblem(f"Zalo refused ({answer.get('error', status)} {name}) {detail}")
        seconds = int(str(answer.get("expires_in") or 90000))
        return Pair(answer["access_token"], answer["refresh_token"], timedelta(seconds=seconds))

    async def close(self) -> None:
        """Close connections."""
        await self.http.close()


def save_pair(session: Session, pair: Pair, now: datetime) -> OAuthToken:
    """Store a new pair as the current one (the caller commits)."""
    row = session.get(OAuthToken, PROVIDER) or OAuthToken(provider=PROVIDER)
    row.access_token, row.refresh_token = pair.access_token, pair.refresh_token
    row.access_expires_at = now + pair.expires_in
    row.refresh_expires_at = now + REFRESH_LIFETIME
    row.updated_at, row.last_error = now, None
    session.add(row)
    return row


class TokenKeeper:
    """Hand out a valid access token, refreshing it when it is about to expire."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        oauth: ZaloOAuth,
        *,
        clock: Callable[[], datetime],
        alert: Alert | None = None,
    ) -> None:
        self.sessions, self.oauth, self.clock, self.alert = sessions, oauth, clock, alert
        self._lock = asyncio.Lock()
        self._token: tuple[str, datetime] | None = None
        self._failed_at: datetime | None = None
        self._rejected: str | None = None  # the last token Zalo refused
        self._for_update = is_postgresql(sessions.kw["bind"])

    async def access_token(self) -> str:
        """Return a token valid for a few minutes more, or raise SendFailure (unavailable)."""
        if (token := self._fresh()) is not None:
            return token
        async with self._lock:  # one refresh at a time; the others wait and reuse its result
            if (token := self._fresh()) is not None:
                return token
            try:
                return await self._renew()
            except TokenProblem as problem:  # deliveries wait, no attempt spent
                wait = COOL_DOWN.total_seconds()
                raise SendFailure(FailureKind.UNAVAILABLE, str(problem), retry_after=wait) from None

    def forget(self, token: str) -> None:
        """Drop a token Zalo called invalid or expired, so the next call renews it."""
        self._rejected = token
        if self._token is not None and self._token[0] == token:
            self._token = None

    def _fresh(self) -> str | None:
        if self._token is not None and self._token[1] - MARGIN > self.clock():
            return self._token[0]
        return None

    async def _renew(self) -> str:
        now = self.clock()
        if self._failed_at is not None and now - self._failed_at < COOL_DOWN:
            raise TokenProblem("Zalo OA authorisation failed a moment ago; waiting to retry")
        session = self.sessions()
        try:
            row = await asyncio.to_thread(self._locked_row, session)
            if row.access_expires_at - MARGIN > now and row.access_token != self._rejected:
                self._token = (row.access_token, row.access_expires_at)  # renewed elsewhere
                await asyncio.to_thread(session.commit)
                return row.access_token
            pair = await self._refresh(session, row, now)
            save_pair(session, pair, now)
            await asyncio.to_thread(session.commit)  # saved before use: the old one is dead
        finally:
            await asyncio.to_thread(session.close)
        self._token, self._failed_at = (pair.access_token, now + pair.expires_in), None
        log.info("Zalo OA access token renewed; valid until %s", now + pair.expires_in)
        return pair.access_token

    def _locked_row(self, session: Session) -> OAuthToken:
        query = select(OAuthToken).where(OAuthToken.provider == PROVIDER)
        if self._for_update:  # two instances never spend the same single-use refresh token
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:
            raise TokenProblem("the Zalo OA is not connected: run `outreach zalo connect`")
        return row

    async def _refresh(self, session: Session, row: OAuthToken, now: datetime) -> Pair:
        if row.refresh_expires_at <= now:
            problem = TokenProblem(
                f"the Zalo OA refresh token expired on {row.refresh_expires_at:%Y-%m-%d}"
            )
        else:
            grant = {"grant_type": "refresh_token", "refresh_token": row.refresh_token}
            try:
                return await self.oauth.exchange(grant)
            except TokenProblem as exc:
                problem = exc
        await self._failed(session, row, str(problem), now)
        raise problem

    async def _failed(self, session: Session, row: OAuthToken, reason: str, now: datetime) -> None:
        """Record the failure, and tell the admins the first time it happens."""
        first = row.last_error is None
        row.last_error = reason[:300]
        await asyncio.to_thread(session.commit)
        self._failed_at = now
        log.error(
            "Zalo OA token refresh failed: %s. Zalo OA messages wait until this is fixed: "
            "run `outreach zalo connect` to authorise the app again.",
            reason,
        )
        if first and self.alert is not None:
            await self.alert(alert_text(reason))


def alert_text(reason: str) -> str:
    """Write the admins' alert: what broke, what it means, what to do."""
    return (
        "⚠️ Không gia hạn được quyền gửi tin của Zalo OA.\n"
        f"Lý do: {reason}\n"
        "Trong lúc này, tin gửi qua Zalo OA đang chờ (không mất). "
        "Cách khắc phục: quản trị viên chạy lệnh `outreach zalo connect` và đăng nhập "
        "tài khoản quản trị OA để cấp quyền lại."
    )
