"""Domain errors. Adapters turn them into HTTP statuses, CLI exit codes and page messages.

Each error carries a stable machine `code` and a message for people; messages are English here
and translated by the adapter through the i18n catalogue when shown on a page.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TodokeError(Exception):
    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(TodokeError):
    code = "invalid_input"
    http_status = 422


class NotFound(TodokeError):
    code = "not_found"
    http_status = 404


class PermissionDenied(TodokeError):
    code = "permission_denied"
    http_status = 403


class AuthenticationFailed(TodokeError):
    code = "authentication_failed"
    http_status = 401


class TooManyAttempts(TodokeError):
    code = "too_many_attempts"
    http_status = 429

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


class Conflict(TodokeError):
    code = "conflict"
    http_status = 409
