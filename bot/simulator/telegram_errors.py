"""Describe the error answers of the Bot API, as the fake Telegram sends them."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer of the Bot API; the HTTP status equals ``error_code`` as on Telegram."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")
