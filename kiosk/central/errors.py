"""Errors the central API answers with: an HTTP status, a stable key and an English message."""

from __future__ import annotations

from typing import Any

from kiosk.domain.errors import DomainError


class ApiError(Exception):
    def __init__(self, status: int, key: str, message: str = "", /, **params: Any) -> None:
        self.status = status
        self.key = key
        self.message = message or key.replace("_", " ")
        self.params = params
        super().__init__(f"{status} {key}")

    def body(self) -> dict[str, Any]:
        return {"error": self.key, "message": self.message, "params": self.params}

    @classmethod
    def rejected(cls, exc: DomainError) -> ApiError:
        """A rule refused the request: 422 with the rule's key, so the terminal can explain it."""
        params = {k: v for k, v in exc.params.items() if isinstance(v, str | int | bool)}
        return cls(422, exc.key, exc.detail or exc.key.replace("_", " "), **params)


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what}_not_found", f"{what.replace('_', ' ')} not found")
