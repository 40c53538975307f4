"""Periodic jobs: each round runs once across workers; failures are recorded, not fatal."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import OffsetClock, Tenant, login
from todoke.accounts.models import WebSession
from todoke.runtime import Runtime
from todoke.worker.jobs import builtin_jobs
from todoke.worker.scheduler import PeriodicJob, Scheduler


def _counting_job(calls: list[str]) -> PeriodicJob:
    def run(_session: Session) -> str:
        calls.append("ran")
        return "counted"

    return PeriodicJob("test.count", timedelta(minutes=5), run)


def test_two_workers_run_a_due_job_once(runtime: Runtime, clock: OffsetClock) -> None:
    calls: list[str] = []
    job = _counting_job(calls)
    first, second = Scheduler(runtime, [job], holder="a"), Scheduler(runtime, [job], holder="b")
    assert first.run_due() == ["test.count"]
    assert second.run_due() == []
    clock.advance(timedelta(minutes=5, seconds=1))
    assert second.run_due() == ["test.count"]
    assert first.run_due() == []
    assert calls == ["ran", "ran"]
    assert first.states()[0].runs == 2


def test_a_live_lease_keeps_others_off_and_an_expired_one_is_taken_over(
    runtime: Runtime, clock: OffsetClock
) -> None:
    calls: list[str] = []
    job = _counting_job(calls)
    crashed = Scheduler(runtime, [job], holder="crashed")
    assert crashed._claim(job)  # claimed, then the process "dies" before finishing
    survivor = Scheduler(runtime, [job], holder="survivor")
    assert survivor.run_due() == []
    clock.advance(job.lease + timedelta(seconds=1))
    assert survivor.run_due() == ["test.count"]


def test_a_failing_job_is_recorded_and_others_still_run(runtime: Runtime) -> None:
    calls: list[str] = []

    def broken(_session: Session) -> str:
        raise ValueError("boom")

    scheduler = Scheduler(
        runtime, [PeriodicJob("test.broken", timedelta(minutes=1), broken), _counting_job(calls)]
    )
    assert scheduler.run_due() == ["test.broken", "test.count"]
    states = {state.name: state for state in scheduler.states()}
    assert states["test.broken"].last_error == "ValueError: boom"
    assert states["test.count"].last_error is None
    assert calls == ["ran"]


def test_builtin_job_purges_expired_sessions(
    runtime: Runtime, tenant: Tenant, client: TestClient, clock: OffsetClock
) -> None:
    login(client, tenant.owner.email)
    clock.advance(timedelta(hours=13))
    assert "accounts.purge_expired" in Scheduler(runtime, builtin_jobs()).run_due()
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0
