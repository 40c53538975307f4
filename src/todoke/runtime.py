"""The process-wide objects every adapter shares: settings, engine, session factory, clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import dns.asyncresolver
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from todoke.accounts.login import SessionPolicy
from todoke.accounts.throttle import ThrottlePolicy
from todoke.core.clock import SYSTEM_CLOCK, Clock
from todoke.core.context import bind_request
from todoke.core.dns import make_resolver, parse_nameserver
from todoke.db import SessionFactory, create_db_engine, make_session_factory
from todoke.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: SessionFactory
    clock: Clock = field(default=SYSTEM_CLOCK)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> Runtime:
        engine = create_db_engine(settings.effective_database_url)
        return cls(
            settings=settings, engine=engine, sessions=make_session_factory(engine), clock=clock
        )

    def session(self, *, client_ip: str | None = None) -> Session:
        return bind_request(self.sessions(), client_ip=client_ip, clock=self.clock)

    @property
    def session_policy(self) -> SessionPolicy:
        return SessionPolicy(
            idle=timedelta(minutes=self.settings.session_idle_minutes),
            absolute=timedelta(hours=self.settings.session_max_hours),
        )

    @property
    def throttle_policy(self) -> ThrottlePolicy:
        return ThrottlePolicy(
            threshold=self.settings.login_throttle_after,
            max_delay_seconds=self.settings.login_max_delay_seconds,
        )

    def resolver(self) -> dns.asyncresolver.Resolver:
        """A resolver asking the settings' nameservers, or the system's when none are set."""
        nameservers = [parse_nameserver(text) for text in self.settings.dns_nameservers]
        return make_resolver(nameservers or None)

    def close(self) -> None:
        self.engine.dispose()
