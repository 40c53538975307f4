"""The worker's domain job: check every registered domain once per interval, keep history."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from todoke.domains.checks.options import options_from
from todoke.domains.inventory import run_scheduled_checks
from todoke.runtime import Runtime
from todoke.worker.scheduler import PeriodicJob


def check_domain_inventory(runtime: Runtime) -> str:
    """Check the domains due (never checked, or not within `domain_check_interval_hours`)."""
    settings = runtime.settings
    result = asyncio.run(
        run_scheduled_checks(
            runtime.session,
            resolver=runtime.resolver(),
            options=options_from(settings),
            now=runtime.clock.now(),
            interval=timedelta(hours=settings.domain_check_interval_hours),
        )
    )
    return f"{result.checked} domains checked, {result.worse} worse, {result.failed} failed"


#: asks every 30 minutes which domains are due; each is checked once per interval
DOMAIN_JOBS = (
    PeriodicJob(
        "domains.check_inventory",
        timedelta(minutes=30),
        check_domain_inventory,
        own_transactions=True,
        lease=timedelta(minutes=30),
    ),
)
