"""Hold the fake Zalo Official Account's state: OAuth tokens, users, sent messages and rules.

Nothing here does I/O; ``FakeZaloOA`` (``zalo_oa_api``) serves it over HTTP. Every rule reads
``clock``, the wall time in epoch seconds, so tests move time instead of sleeping. The call log
and its waiters are a ``CallLog`` (``call_log``), as in the other fakes.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as day_time
from typing import Any
from zoneinfo import ZoneInfo

from bot.simulator.call_log import CallLog, LoggedCalls
from bot.simulator.limits import SlidingWindow
from bot.simulator.telegram_errors import ApiError
from bot.simulator.telegram_limits import Faults
from bot.simulator.zalo_bot_api import _length as text_length  # composed characters, as Zalo

REPLY_WINDOW = 48 * 3600.0  # consultation (free) messages: 48 h after the user's last event
MAX_SILENCE = 7 * 86400.0  # no message at all to a user silent for longer
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NIGHT = (day_time(22), day_time(7))  # no promotion from 22:00 to 07:00, local time
MAX_TEXT = 2000  # composed (NFC) characters
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 100
MAX_PROMOTION_HEADER = 100  # a promotion message's header line
ACCESS_TOKEN_TTL = 90_000  # 25 h
REFRESH_TOKEN_TTL = 90 * 86400
CODE_TTL = 600
DEFAULT_DISPLAY_NAME = "Nguyễn Văn An"
_PHONE = re.compile(r"84\d{9}")

ERRORS = {
    -32: "Request exceeds the rate limit",
    -108: "Phone number is invalid",
    -118: "Zalo account does not exist or is disabled",
    -124: "Access token has expired",
    -144: "OA has exceeded its daily quota",
    -201: "Parameters are invalid",
    -210: "Parameter exceeds the limit",
    -211: "Out of quota",
    -213: "User has not followed the OA",
    -216: "Access token is invalid",
    -230: "User has not interacted with the OA in the last 7 days",
    -232: "Consultation messages are only allowed within 48 hours of the user's last interaction",
    -235: "Promotion messages are not allowed between 22:00 and 07:00",
    -1123: "Template is not approved or does not exist",
    -1139: "Template data is invalid",
}
OAUTH_ERRORS = {  # error_name, error_description
    -14001: ("Invalid app secret", "The secret_key header does not match the app secret"),
    -14002: ("Invalid parameter", "grant_type must be refresh_token or authorization_code"),
    -14003: ("Invalid app id", "The app_id does not match the app"),
    -14014: ("Invalid refresh token", "Refresh token is invalid or has expired"),
    -14019: ("Invalid authorization code", "Authorization code is invalid or has expired"),
}


def sign(app_id: str, body: str, timestamp: str, oa_secret: str) -> str:
    """Return the X-ZEvent-Signature header Zalo sends with a webhook event."""
    mac = hashlib.sha256((app_id + body + timestamp + oa_secret).encode()).hexdigest()
    return f"mac={mac}"


def pkce_challenge(code_verifier: str) -> str:
    """Return the S256 code challenge of a PKCE code verifier (base64url, no padding)."""
    digest = hashlib.sha256(code_verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class OAError(ApiError):
    """An API error, answered with HTTP 200 as ``{"error": code, "message": ...}``."""

    def body(self) -> dict:
        return {"error": self.code, "message": self.description}


class OAuthError(ApiError):
    """An error of the OAuth token endpoint, answered with HTTP 200 in Zalo's OAuth shape."""

    def body(self) -> dict:
        name, description = OAUTH_ERRORS.get(self.code, ("Unknown error", "Request failed"))
        return {
            "error": self.code,
            "error_name": name,
            "error_reason": self.description,
            "error_description": description,
        }


def oa_error(code: int) -> OAError:
    """Return the API error with that code and Zalo's message for it."""
    return OAError(code, ERRORS[code])


@dataclass
class OAUser:
    """A Zalo user as the OA knows them."""

    user_id: str
    display_name: str
    followed: bool
    last_interaction: float
    phone: str | None = None


class ZaloOAState(LoggedCalls):
    """Tokens, users, the OA's messages, quotas, the rate limit, faults and the call log."""

    def __init__(
        self,
        *,
        app_id: str,
        app_secret: str,
        oa_secret: str,
        oa_id: str,
        clock: Callable[[], float],
        rate_limit: float | None,
        promotion_quota: int,
        zns_quota: int,
    ) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.oa_id, self.oa_secret = oa_id, oa_secret
        self.clock = clock
        self.promotion_quota, self.zns_quota = promotion_quota, zns_quota
        self.call_log = CallLog(clock)
        self.users: dict[str, OAUser] = {}
        self.webhook_url = ""
        self.refresh_calls = 0
        self._access: dict[str, float] = {}  # valid access tokens and when they expire
        self._refresh: tuple[str, float] | None = None  # the one valid refresh token
        self._codes: dict[str, tuple[str, float]] = {}  # code -> (challenge, expires at)
        self._templates: dict[str, tuple[list[str], int]] = {}
        self._used: dict[tuple[str, date], int] = {}  # (quota, local day) -> sends
        self._sent: list[dict] = []
        self._sent_to: dict[str, list[dict]] = {}
        self._faults = Faults()
        self._refresh_faults = Faults()  # keyed by 0: refreshes are not per user
        self._window = SlidingWindow.per_second(rate_limit) if rate_limit else None

    # --- OAuth -----------------------------------------------------------------------------
    def issue_tokens(self) -> dict:
        """Make a fresh token pair as if connected; the previous refresh token stops working."""
        now = self.clock()
        access, refresh = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
        self._access[access] = now + ACCESS_TOKEN_TTL
        self._refresh = (refresh, now + REFRESH_TOKEN_TTL)
        return {"access_token": access, "refresh_token": refresh, "expires_in": "90000"}

    def authorize(self, code_challenge: str) -> str:
        """Approve the app as the OA admin would, with PKCE; return the authorization code."""
        code = secrets.token_urlsafe(32)
        self._codes[code] = (code_challenge, self.clock() + CODE_TTL)
        return code

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far expired."""
        now = self.clock()
        self._access = {token: min(at, now) for token, at in self._access.items()}

    def fail_refresh(self, error: int = -14014, times: int | None = None) -> None:
        """Answer token refreshes with this OAuth error (``times`` times, or forever)."""
        self._refresh_faults.fail(0, OAuthError(error, "injected by the test"), times)

    def check_token(self, token: str | None) -> None:
        """Accept a valid access token, or answer -216 (unknown) or -124 (expired)."""
        expires_at = self._access.get(token or "")
        if expires_at is None:
            raise oa_error(-216)
        if expires_at <= self.clock():
            raise oa_error(-124)

    def grant(self, form: dict[str, Any], secret_key: str | None) -> dict:
        """Answer POST /v4/oa/access_token: rotate a refresh token or redeem a PKCE code."""
        self.refresh_calls += 1
        if secret_key != self.app_secret:
            raise OAuthError(-14001, "wrong secret_key header")
        if form.get("app_id") != self.app_id:
            raise OAuthError(-14003, "unknown app_id")
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            return self._redeem_refresh(form.get("refresh_token"))
        if grant_type == "authorization_code":
            return self._redeem_code(form.get("code"), form.get("code_verifier"))
        raise OAuthError(-14002, f"unsupported grant_type {grant_type!r}")

    def _redeem_refresh(self, token: Any) -> dict:
        if error := self._refresh_faults.error(0):
            raise error
        current = self._refresh
        if current is None or token != current[0] or current[1] <= self.clock():
            raise OAuthError(-14014, "not the current refresh token (single use, 90 days)")
        return self.issue_tokens()

    def _redeem_code(self, code: Any, verifier: Any) -> dict:
        entry = self._codes.get(code) if isinstance(code, str) else None
        if entry is None or entry[1] <= self.clock():
            raise OAuthError(-14019, "unknown, used or expired code")
        if not isinstance(verifier, str) or pkce_challenge(verifier) != entry[0]:
            raise OAuthError(-14019, "code_verifier does not match the code_challenge")
        del self._codes[code]
        return self.issue_tokens()

    # --- users -----------------------------------------------------------------------------
    def set_webhook(self, url: str) -> None:
        """Set the webhook URL, as the OA admin does in Zalo's developer console."""
        self.webhook_url = url

    def add_user(
        self,
        user_id: str,
        *,
        display_name: str = DEFAULT_DISPLAY_NAME,
        followed: bool = True,
        phone: str | None = None,
        interacted_at: float | None = None,
    ) -> OAUser:
        """Make the user known without an event; interacted_at defaults to now."""
        when = self.clock() if interacted_at is None else interacted_at
        user = OAUser(user_id, display_name, followed, when, phone)
        self.users[user_id] = user
        return user

    def set_phone(self, user_id: str, phone: str | None) -> None:
        """Give the user the phone number ZNS messages are addressed to."""
        self.users[user_id].phone = phone

    def interact_at(self, user_id: str, when: float) -> None:
        """Set when the user last interacted with the OA (epoch seconds)."""
        self.users[user_id].last_interaction = when

    def touch(self, user_id: str, *, display_name: str | None = None) -> OAUser:
        """Record an event from the user now, making them known (not following) if new."""
        user = self.users.get(user_id)
        if user is None:
            user = self.add_user(user_id, followed=False)
        user.last_interaction = self.clock()
        if display_name is not None:
            user.display_name = display_name
        return user

    def user_id_by_app(self, user_id: str) -> str:
        """Return the user's id as the app sees it: other digits, the same every time."""
        digest = hashlib.sha256(f"{self.app_id}:{user_id}".encode()).digest()
        return str(10**18 + int.from_bytes(digest[:8]) % (9 * 10**18))

    # --- sending rules ---------------------------------------------------------------------
    def fail_user(self, user_id: str, error: int, message: str, times: int | None = None) -> None:
        """Answer sends to that user with this error (``times`` times, or forever)."""
        self._faults.fail(user_id, OAError(error, message), times)  # type: ignore[arg-type]

    def clear_failures(self) -> None:
        """Forget every fail_user and fail_refresh."""
        self._faults.clear()
        self._refresh_faults.clear()

    def check_fault(self, user_id: Any) -> None:
        """Answer the error fail_user injected for that user, if any."""
        if isinstance(user_id, str) and (error := self._faults.error(user_id)):
            raise error

    def check_consultation(self, user_id: str) -> None:
        """Allow a free message to a follower who interacted in the last 48 h, at the rate.

        At most ``rate_limit`` are accepted in any one second; refused ones do not count.
        """
        if self._silence(user_id) > REPLY_WINDOW:
            raise oa_error(-232)
        if self._window is not None:
            now = self.clock()
            if self._window.wait(now) > 0:
                raise oa_error(-32)
            self._window.take(now)

    def check_promotion(self, user_id: str) -> None:
        """Allow a paid message to a follower seen this week, by day, within the quota."""
        self._silence(user_id)
        hour = datetime.fromtimestamp(self.clock(), LOCAL_TZ).time()
        if hour >= NIGHT[0] or hour < NIGHT[1]:
            raise oa_error(-235)
        self._take_quota("promotion", self.promotion_quota, -211)

    def _silence(self, user_id: str) -> float:
        user = self.users.get(user_id)
        if user is None or not user.followed:
            raise oa_error(-213)
        silence = self.clock() - user.last_interaction
        if silence > MAX_SILENCE:
            raise oa_error(-230)
        return silence

    def _take_quota(self, kind: str, quota: int, error: int) -> int:
        """Count one send against today's (local) quota; return how many are left."""
        key = (kind, datetime.fromtimestamp(self.clock(), LOCAL_TZ).date())
        used = self._used.get(key, 0)
        if used >= quota:
            raise oa_error(error)
        self._used[key] = used + 1
        return quota - used - 1

    # --- ZNS -------------------------------------------------------------------------------
    def add_zns_template(self, template_id: str, params: list[str], max_param: int = 400) -> None:
        """Approve a ZNS template with these parameter names."""
        self._templates[template_id] = (list(params), max_param)

    def check_zns(self, phone: Any, template_id: Any, data: Any) -> tuple[str, int]:
        """Check a ZNS send; return the phone owner's user id and the quota left today."""
        template = self._templates.get(template_id) if isinstance(template_id, str) else None
        if template is None:
            raise oa_error(-1123)
        names, max_param = template
        if not isinstance(data, dict) or set(data) != set(names):
            raise oa_error(-1139)
        if any(not isinstance(v, str) or text_length(v) > max_param for v in data.values()):
            raise oa_error(-1139)
        if not isinstance(phone, str) or not _PHONE.fullmatch(phone):
            raise oa_error(-108)
        owner = next((u.user_id for u in self.users.values() if u.phone == phone), None)
        if owner is None:
            raise oa_error(-118)
        return owner, self._take_quota("zns", self.zns_quota, -144)

    # --- what was sent ---------------------------------------------------------------------
    def store(self, mode: str, user_id: str, content: dict) -> dict:
        """Keep an accepted message and wake the waiters; return it."""
        message: dict[str, Any] = {"message_id": secrets.token_hex(16), "user_id": user_id}
        message.update(mode=mode, text=None, buttons=[], image=None)
        message.update(content, at=self.clock())
        self._sent.append(message)
        self._sent_to.setdefault(user_id, []).append(message)
        self.call_log.notify()
        return message

    def messages(self, user_id: str | None = None) -> list[dict]:
        """Return the messages accepted (to one user, or to all), oldest first."""
        return list(self._sent if user_id is None else self._sent_to.get(user_id, ()))

    async def next_message(self, user_id: str, timeout: float = 5.0) -> dict:
        """Return the next message to the user not yet returned here; wait for it."""
        return await self.call_log.next_sent(self._sent_to, user_id, timeout, f"user {user_id}")
