"""Slowing down password guessing, per account and per client address.

After `threshold` wrong passwords in a row an account waits 30 s before the next try, doubling
with each further failure up to `max_delay` (OWASP's "exponential back-off" rather than a hard
lock-out, so an attacker cannot lock a real user out for long). An address gets four times the
account threshold, because an office NAT puts many honest users behind one address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from todoke.accounts.models import LoginThrottle

BASE_DELAY_SECONDS = 30
IP_THRESHOLD_FACTOR = 4


@dataclass(frozen=True)
class ThrottlePolicy:
    threshold: int
    max_delay_seconds: int

    def delay_after(self, failures: int, threshold: int) -> int:
        if failures < threshold:
            return 0
        exponent = min(failures - threshold, 16)
        return int(min(self.max_delay_seconds, BASE_DELAY_SECONDS * 2**exponent))


def throttle_keys(email: str, ip: str | None) -> list[tuple[str, int]]:
    """The keys a login attempt counts against, with each key's threshold factor."""
    keys = [(f"account:{email}", 1)]
    if ip:
        keys.append((f"ip:{ip}", IP_THRESHOLD_FACTOR))
    return keys


def seconds_locked(session: Session, email: str, ip: str | None, now: datetime) -> int:
    """How long this attempt must still wait (0: go ahead)."""
    wait = 0
    for key, _factor in throttle_keys(email, ip):
        row = session.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            wait = max(wait, math.ceil((row.locked_until - now).total_seconds()))
    return wait


def record_failure(
    session: Session, policy: ThrottlePolicy, email: str, ip: str | None, now: datetime
) -> int:
    """Count a wrong password; return the wait now imposed (0 if none yet)."""
    imposed = 0
    for key, factor in throttle_keys(email, ip):
        row = session.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0)
            session.add(row)
        row.failures += 1
        row.last_failure_at = now
        delay = policy.delay_after(row.failures, policy.threshold * factor)
        if delay:
            row.locked_until = now + timedelta(seconds=delay)
            imposed = max(imposed, delay)
    return imposed


def record_success(session: Session, email: str) -> None:
    row = session.get(LoginThrottle, f"account:{email}")
    if row is not None:
        session.delete(row)
