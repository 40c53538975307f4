"""The audit trail: written with the change, chained, append-only, verified."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from tests.conftest import Tenant
from todoke.audit import AuditEvent, record_audit, verify_chains
from todoke.audit.chain import chain_name
from todoke.authz import CLI_ACTOR
from todoke.cli.main import app as cli
from todoke.runtime import Runtime


def _record(runtime: Runtime, tenant: Tenant, count: int) -> None:
    for index in range(count):
        with runtime.session(client_ip="192.0.2.7") as session, session.begin():
            record_audit(
                session,
                tenant.owner,
                "test.event",
                org=tenant.org,
                details={
                    "index": index,
                    "contact": "taro.yamada@example.jp",
                    "api_token": "s3cr3t",
                },
            )


def _drop_protection(runtime: Runtime) -> None:
    with runtime.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_update ON audit_event")


def _cli_verify(runtime: Runtime) -> tuple[int, str]:
    env = {
        "TODOKE_DATABASE_URL": runtime.settings.effective_database_url,
        "TODOKE_DATA_DIR": str(runtime.settings.data_dir),
    }
    result = CliRunner().invoke(cli, ["audit", "verify"], env=env)
    return result.exit_code, result.output


def test_events_record_who_what_where_with_personal_data_masked(
    runtime: Runtime, tenant: Tenant
) -> None:
    _record(runtime, tenant, 1)
    with runtime.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "test.event")).one()
    assert event.actor_label == tenant.owner.email
    assert event.ip == "192.0.2.7"
    assert event.chain == chain_name(tenant.org.id)
    assert event.details == {"index": 0, "contact": "t***@example.jp", "api_token": "[redacted]"}
    assert event.occurred_at.tzinfo is not None


def test_untouched_trail_verifies(runtime: Runtime, tenant: Tenant) -> None:
    _record(runtime, tenant, 5)
    with runtime.session() as session:
        result = verify_chains(session)
    # tenant creation wrote 4 events (organisation + 3 users) before ours
    assert result.ok
    assert result.events_checked == 9
    code, output = _cli_verify(runtime)
    assert code == 0
    assert "intact: 9 events" in output


def test_database_refuses_update_and_delete(runtime: Runtime, tenant: Tenant) -> None:
    _record(runtime, tenant, 1)
    for statement in ("UPDATE audit_event SET action = 'forged'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as connection:
            connection.execute(text(statement))
    with runtime.session() as session:
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.seq == 5)) == "test.event"


def test_altered_row_is_named_by_verify(runtime: Runtime, tenant: Tenant) -> None:
    _record(runtime, tenant, 3)
    _drop_protection(runtime)
    with runtime.engine.begin() as connection:
        victim = connection.execute(
            text(
                "SELECT id FROM audit_event WHERE action = 'test.event' "
                "ORDER BY seq LIMIT 1 OFFSET 1"
            )
        ).scalar_one()
        connection.execute(
            text("UPDATE audit_event SET actor_label = 'someone-else' WHERE id = :id"),
            {"id": victim},
        )
    with runtime.session() as session:
        result = verify_chains(session)
    assert result.broken is not None
    assert result.broken.event_id == victim
    assert "content altered" in result.broken.reason
    code, output = _cli_verify(runtime)
    assert code == 5
    assert f"event id {victim}" in output
    assert "seq 6" in output


def test_deleted_tail_is_detected(runtime: Runtime, tenant: Tenant) -> None:
    _record(runtime, tenant, 2)
    _drop_protection(runtime)
    with runtime.engine.begin() as connection:
        connection.execute(
            text("DELETE FROM audit_event WHERE seq = (SELECT MAX(seq) FROM audit_event)")
        )
    with runtime.session() as session:
        result = verify_chains(session)
    assert result.broken is not None
    assert "events missing" in result.broken.reason


def test_concurrent_writers_never_fork_a_chain(runtime: Runtime, tenant: Tenant) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(10):
                with runtime.session() as session, session.begin():
                    record_audit(session, CLI_ACTOR, "test.concurrent", org=tenant.org)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with runtime.session() as session:
        result = verify_chains(session)
        seqs = session.scalars(
            select(AuditEvent.seq)
            .where(AuditEvent.chain == chain_name(tenant.org.id))
            .order_by(AuditEvent.seq)
        ).all()
    assert result.ok
    assert list(seqs) == list(range(1, 45))


def test_a_failed_change_leaves_no_event(runtime: Runtime, tenant: Tenant) -> None:
    def failing_change() -> None:
        with runtime.session() as session, session.begin():
            record_audit(session, tenant.owner, "test.rolled_back", org=tenant.org)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    with runtime.session() as session:
        assert (
            session.scalar(select(AuditEvent).where(AuditEvent.action == "test.rolled_back"))
            is None
        )
        assert verify_chains(session).ok
