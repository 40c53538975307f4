"""Domain errors. Adapters turn them into HTTP statuses, CLI exit codes and page messages.

Each error carries a stable machine `code` and a message for people. The message is written as
an English catalogue template marked with `N_`, with `%(name)s` placeholders for the values
given as keywords: `InvalidInput(N_("month %(month)r is not a month"), month=text)`. `message`
is the English text (API answers, CLI output, logs); a page words the same error in the
reader's language from `template` and `values` (`todoke.web.error_text.worded`). A template
with values writes a literal percent sign as `%%`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol


class Translatable(Protocol):
    """A message for people kept as its catalogue template and the values it names."""

    @property
    def template(self) -> str: ...

    @property
    def values(self) -> Mapping[str, object]: ...


def english(template: str, values: Mapping[str, object]) -> str:
    """The template filled in as written, which is the English text."""
    return template % values if values else template


class TodokeError(Exception):
    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400

    def __init__(self, template: str, /, **values: Any) -> None:
        message = english(template, values)
        super().__init__(message)
        self.template = template
        self.values: Mapping[str, object] = values
        self.message = message
        self.details = values


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

    def __init__(self, template: str, /, *, retry_after_seconds: int) -> None:
        super().__init__(template, retry_after_seconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


class Conflict(TodokeError):
    code = "conflict"
    http_status = 409
