"""Per-session context that adapters set and services read: client address and clock.

Kept in `Session.info` so service signatures stay about the business (org, input, acting_user)
while audit events still learn where a request came from and tests still control time.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from todoke.core.clock import SYSTEM_CLOCK, Clock

_IP_KEY = "todoke_client_ip"
_CLOCK_KEY = "todoke_clock"


def bind_request(session: Session, *, client_ip: str | None, clock: Clock | None = None) -> Session:
    session.info[_IP_KEY] = client_ip
    if clock is not None:
        session.info[_CLOCK_KEY] = clock
    return session


def client_ip(session: Session) -> str | None:
    value = session.info.get(_IP_KEY)
    return value if isinstance(value, str) else None


def clock_of(session: Session) -> Clock:
    value = session.info.get(_CLOCK_KEY)
    return value if value is not None else SYSTEM_CLOCK
