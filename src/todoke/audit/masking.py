"""Personal data masking for audit details: enough to recognise, not enough to harvest."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SECRET_KEY_PARTS = ("password", "secret", "token", "private_key", "api_key", "passphrase")
REDACTED = "[redacted]"

_EMAIL = re.compile(r"(?P<local>[^\s@<>\"(),;:\[\]]+)@(?P<domain>[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def mask_email(address: str) -> str:
    """`taro.yamada@example.jp` -> `t***@example.jp` (the domain stays: it is what we analyse)."""
    return _EMAIL.sub(lambda m: f"{m.group('local')[:1]}***@{m.group('domain')}", address)


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in SECRET_KEY_PARTS)


def mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_email(value)
    if isinstance(value, Mapping):
        return mask_details(value)
    if isinstance(value, list | tuple):
        return [mask_value(item) for item in value]
    return value


def mask_details(details: Mapping[str, Any]) -> dict[str, Any]:
    masked: dict[str, Any] = {}
    for key, value in details.items():
        masked[str(key)] = REDACTED if _is_secret_key(str(key)) else mask_value(value)
    return masked
