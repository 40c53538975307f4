"""The periodic jobs the worker runs. Feature issues append theirs to `builtin_jobs`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from todoke.accounts.login import purge_expired_sessions
from todoke.accounts.models import LoginThrottle
from todoke.core.context import clock_of
from todoke.worker.scheduler import PeriodicJob

THROTTLE_MEMORY = timedelta(days=1)


def purge_sessions_and_throttles(session: Session) -> str:
    sessions = purge_expired_sessions(session)
    cutoff = clock_of(session).now() - THROTTLE_MEMORY
    result = session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < cutoff))
    throttles = int(getattr(result, "rowcount", 0) or 0)
    return f"{sessions} expired sessions, {throttles} stale login counters removed"


def builtin_jobs() -> list[PeriodicJob]:
    return [
        PeriodicJob("accounts.purge_expired", timedelta(minutes=10), purge_sessions_and_throttles),
    ]
