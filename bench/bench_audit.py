"""Audit trail: how fast services can append events, and how fast `audit verify` recomputes.

An auditor runs `todoke audit verify` over years of events, so verification speed matters; the
append rate bounds every state change, since each one writes its event in its transaction.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import engines, fresh_database, timed, write_result
from todoke.accounts.services import create_organisation, sync_builtin_roles
from todoke.audit import record_audit, verify_chains
from todoke.authz import CLI_ACTOR
from todoke.runtime import Runtime
from todoke.settings import Settings

SINGLE_TRANSACTIONS = 2_000
BATCHED_EVENTS = 50_000


def measure(engine_name: str, workdir: Path) -> dict[str, float]:
    with fresh_database(engine_name, workdir) as url:
        runtime = Runtime.from_settings(
            Settings(data_dir=workdir, database_url=url, secret_key="bench")  # type: ignore[arg-type]
        )
        with runtime.session() as session, session.begin():
            sync_builtin_roles(session)
            org = create_organisation(session, name="bench", slug="bench", acting_user=CLI_ACTOR)
        with timed() as single:
            for index in range(SINGLE_TRANSACTIONS):
                with runtime.session() as session, session.begin():
                    record_audit(
                        session,
                        CLI_ACTOR,
                        "bench.single",
                        org=org,
                        details={"index": index, "to": "someone@example.jp"},
                    )
        with timed() as batched, runtime.session() as session, session.begin():
            for index in range(BATCHED_EVENTS):
                record_audit(session, CLI_ACTOR, "bench.batched", org=org, details={"index": index})
        with timed() as verify, runtime.session() as session:
            result = verify_chains(session)
        assert result.ok
        runtime.close()
        total = result.events_checked
        return {
            "append_one_per_transaction_per_s": round(SINGLE_TRANSACTIONS / single.seconds),
            "append_in_one_transaction_per_s": round(BATCHED_EVENTS / batched.seconds),
            "verify_events_per_s": round(total / verify.seconds),
            "events_verified": total,
        }


def main() -> None:
    figures: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for engine_name in engines():
            figures[engine_name] = measure(engine_name, Path(directory))
            print(engine_name, figures[engine_name])
    print("written to", write_result("audit", figures))
