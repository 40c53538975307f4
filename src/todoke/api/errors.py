"""One error shape for the whole API: `{"error": {"code": ..., "message": ...}}`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_payload(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


#: The error responses every authenticated route can give, for OpenAPI.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: _doc("Not logged in, or the session expired (code `login_required`)"),
    403: _doc("Missing permission (`permission_denied`) or CSRF token (`csrf_rejected`)"),
    422: _doc("Invalid input (`invalid_input`); the message names the field"),
    429: _doc("Too many attempts (`too_many_attempts`); see Retry-After"),
}
