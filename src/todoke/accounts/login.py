"""Logging in and out, and server-side sessions.

`attempt_login` never raises for a wrong password: the failure (and its audit event and throttle
count) must be committed, so it returns an outcome the adapter commits and then renders.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from todoke.accounts.models import User, WebSession
from todoke.accounts.passwords import hash_password, needs_rehash, verify_password
from todoke.accounts.throttle import (
    ThrottlePolicy,
    record_failure,
    record_success,
    seconds_locked,
)
from todoke.audit import record_audit
from todoke.authz import SystemActor
from todoke.core.context import client_ip, clock_of
from todoke.core.errors import AuthenticationFailed, TodokeError, TooManyAttempts

# Writing last_seen_at on every request would turn every page view into a write.
LAST_SEEN_GRANULARITY = timedelta(minutes=1)
LOGIN_ACTOR = SystemActor("login")


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None = None
    token: str | None = None
    failure: TodokeError | None = None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def attempt_login(
    session: Session,
    *,
    email: str,
    password: str,
    throttle: ThrottlePolicy,
    sessions: SessionPolicy,
    user_agent: str | None = None,
) -> LoginOutcome:
    now = clock_of(session).now()
    ip = client_ip(session)
    address = email.strip().lower()[:320]
    wait = seconds_locked(session, address, ip, now)
    if wait:
        return LoginOutcome(
            failure=TooManyAttempts(
                f"too many failed logins; try again in {wait} seconds", retry_after_seconds=wait
            )
        )
    user = session.scalar(select(User).where(User.email == address))
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        imposed = record_failure(session, throttle, address, ip, now)
        record_audit(
            session,
            LOGIN_ACTOR,
            "accounts.login.failed",
            org=user.organisation if user else None,
            target=user,
            details={"email": address, "throttled_seconds": imposed},
        )
        return LoginOutcome(failure=AuthenticationFailed("wrong email address or password"))
    record_success(session, address)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=token_digest(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=min(now + sessions.idle, now + sessions.absolute),
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    record_audit(session, user, "accounts.login.succeeded", target=user)
    return LoginOutcome(user=user, token=token)


def find_live_session(session: Session, token: str) -> WebSession | None:
    """The live session behind a cookie token, or None if unknown, expired or deactivated."""
    if not token or len(token) > 200:
        return None
    found = session.get(WebSession, token_digest(token))
    if found is None or found.expires_at <= clock_of(session).now() or not found.user.is_active:
        return None
    return found


def touch_due(session: Session, found: WebSession) -> bool:
    return clock_of(session).now() - found.last_seen_at >= LAST_SEEN_GRANULARITY


def touch_session(session: Session, found: WebSession, sessions: SessionPolicy) -> None:
    """Slide the idle expiry, never past the absolute limit."""
    now = clock_of(session).now()
    found.last_seen_at = now
    found.expires_at = min(now + sessions.idle, found.created_at + sessions.absolute)


def logout(session: Session, *, token: str, acting_user: User) -> None:
    found = session.get(WebSession, token_digest(token))
    if found is not None and found.user_id == acting_user.id:
        session.delete(found)
        record_audit(session, acting_user, "accounts.logout", target=acting_user)


def purge_expired_sessions(session: Session) -> int:
    """Delete sessions past their expiry (a periodic worker job)."""
    now = clock_of(session).now()
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
