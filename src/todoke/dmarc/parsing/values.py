"""Normalising single values the way report_types promises: lower-case tokens and domains
without a trailing dot, compressed canonical IP text, aware UTC datetimes."""

from __future__ import annotations

import functools
import ipaddress
import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def clean(text: str | None) -> str | None:
    """Strip whitespace; reporters pad values with newlines and tabs, and empty means absent."""
    if text is None:
        return None
    stripped = text.strip()
    return stripped or None


@functools.lru_cache(maxsize=1024)
def token(text: str | None) -> str | None:
    value = clean(text)
    return value.lower() if value is not None else None


# Reports repeat the same few domains and addresses in every record; memoising the
# normalisation halves the time for a large report.
@functools.lru_cache(maxsize=8192)
def domain(text: str | None) -> str | None:
    value = token(text)
    if value is None:
        return None
    value = value.rstrip(".")
    return value or None


_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
#: dotted quad without leading zeros: exactly what ipaddress accepts and prints unchanged
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_HEXTET = "(?:0|[1-9a-f][0-9a-f]{0,3})"
#: all eight hextets, lower-case, without leading zeros: canonical (RFC 5952 section 4) unless
#: two zero hextets in a row call for "::", which the caller rules out
_FULL_IPV6 = re.compile(rf"{_HEXTET}(?::{_HEXTET}){{7}}")


@functools.lru_cache(maxsize=8192)
def ip_address(text: str | None) -> str | None:
    """Canonical text of an IPv4/IPv6 address, or None if it is not one."""
    value = clean(text)
    if value is None:
        return None
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    if _CANONICAL_IPV4.fullmatch(value):
        return value  # the common case, without ipaddress's comparatively slow parse
    if _FULL_IPV6.fullmatch(value) and ":0:0:" not in f":{value}:":
        return value  # reporters mostly write IPv6 in full; each address is new, so no cache hit
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def epoch(text: str | None) -> datetime | None:
    """RFC 7489 date_range values are seconds since the epoch (UTC); a few reporters add a
    fraction, which is harmless to drop."""
    value = clean(text)
    if value is None:
        return None
    try:
        seconds = int(value)
    except ValueError:
        try:
            as_float = float(value)
        except ValueError:
            return None
        if not math.isfinite(as_float):
            return None
        seconds = int(as_float)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def mail_date(text: str | None) -> datetime | None:
    """An RFC 5322 date; a date without a zone is taken as UTC rather than local time."""
    value = clean(text)
    if value is None:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso_datetime(text: object) -> datetime | None:
    """RFC 8460 date-time (RFC 3339); aware UTC, or None when it is not one."""
    if not isinstance(text, str):
        return None
    value = text.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
