"""Periodic jobs, run once per interval across any number of worker processes.

A job is claimed by a conditional UPDATE on its `periodic_job` row (due, and not leased by a live
worker), which is atomic on both engines, so two workers on two machines never run the same
round. A worker that dies mid-job leaves a lease that expires; the next worker takes over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from todoke.runtime import Runtime
from todoke.worker.models import PeriodicJobState

log = logging.getLogger(__name__)

JobFunction = Callable[[Session], str | None]
#: A job that opens its own transactions (e.g. one per batch of reports) gets the runtime.
RuntimeJobFunction = Callable[[Runtime], str | None]


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: timedelta
    run: JobFunction | RuntimeJobFunction
    #: True when `run` takes the runtime and manages its own transactions.
    own_transactions: bool = False
    #: How long a claim stays valid; a job must finish well within it.
    lease: timedelta = timedelta(minutes=10)


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Scheduler:
    def __init__(
        self, runtime: Runtime, jobs: Sequence[PeriodicJob], *, holder: str | None = None
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"periodic job names must be unique: {names}")
        self.runtime = runtime
        self.jobs = list(jobs)
        self.holder = holder or default_holder()

    def _ensure_rows(self, session: Session, now: datetime) -> None:
        insert = (
            postgresql.insert
            if session.get_bind().dialect.name == "postgresql"
            else (sqlite.insert)
        )
        for job in self.jobs:
            session.execute(
                insert(PeriodicJobState)
                .values(name=job.name, next_run_at=now, runs=0)
                .on_conflict_do_nothing(index_elements=["name"])
            )

    def _claim(self, job: PeriodicJob) -> bool:
        now = self.runtime.clock.now()
        with self.runtime.session() as session, session.begin():
            self._ensure_rows(session, now)
            result = session.execute(
                update(PeriodicJobState)
                .where(
                    PeriodicJobState.name == job.name,
                    PeriodicJobState.next_run_at <= now,
                    or_(
                        PeriodicJobState.leased_until.is_(None), PeriodicJobState.leased_until < now
                    ),
                )
                .values(leased_until=now + job.lease, lease_holder=self.holder, last_started_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    def _finish(self, job: PeriodicJob, error: str | None) -> None:
        now = self.runtime.clock.now()
        with self.runtime.session() as session, session.begin():
            session.execute(
                update(PeriodicJobState)
                .where(
                    PeriodicJobState.name == job.name, PeriodicJobState.lease_holder == self.holder
                )
                .values(
                    leased_until=None,
                    lease_holder=None,
                    last_finished_at=now,
                    next_run_at=now + job.interval,
                    last_error=error,
                    runs=PeriodicJobState.runs + 1,
                )
                .execution_options(synchronize_session=False)
            )

    def _run(self, job: PeriodicJob) -> str | None:
        if job.own_transactions:
            return job.run(self.runtime)  # type: ignore[arg-type]
        with self.runtime.session() as session, session.begin():
            return job.run(session)  # type: ignore[arg-type]

    def run_due(self) -> list[str]:
        """Run every job that is due and not held elsewhere; return the names run."""
        ran: list[str] = []
        for job in self.jobs:
            if not self._claim(job):
                continue
            error: str | None = None
            try:
                summary = self._run(job)
                log.info("job %s done: %s", job.name, summary or "ok")
            except Exception as exc:  # one failing job must not stop the others
                error = f"{type(exc).__name__}: {exc}"
                log.exception("job %s failed", job.name)
            self._finish(job, error)
            ran.append(job.name)
        return ran

    def states(self) -> list[PeriodicJobState]:
        with self.runtime.session() as session:
            return list(session.scalars(select(PeriodicJobState).order_by(PeriodicJobState.name)))

    def loop(self, stop: threading.Event, tick_seconds: float) -> None:
        log.info(
            "worker %s started with jobs: %s", self.holder, ", ".join(job.name for job in self.jobs)
        )
        while not stop.is_set():
            self.run_due()
            stop.wait(tick_seconds)
        log.info("worker %s stopped", self.holder)
