"""Share what the simulator's tests send: a keyboard and a raw Bot API call."""

from __future__ import annotations

from typing import Any

import httpx

KEYBOARD = {"inline_keyboard": [[{"text": "Đăng ký", "callback_data": "join:1"}]]}


async def call(http: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, dict]:
    response = await http.post(method, json=params)
    return response.status_code, response.json()
