"""Stored monthly digests: which one answers a request, and storing them (the service).

- A stored digest that is current (`digest_freshness`) answers, "as of" when it was computed.
- One never computed (a month nobody asked for, a new domain) is computed for the request and
  stored, so the next request reads it; so is an out-of-date one of a small domain
  (`RECOMPUTE_ON_READ_MAX_SOURCES` addresses in the month), which costs well under a second.
- An out-of-date one of a big domain answers as of its computation until the worker's next
  round (`digest_job`): recomputing it costs seconds, and the page must answer in 300 ms.

Digests are derived data, recomputed from audited inputs, so storing one is not audited;
anyone who may read the digest may cause it to be stored (it is what they are shown anyway).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Final

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.dmarc.analyses import serve
from todoke.dmarc.digest_compute import ComputedDigest, compute_digest
from todoke.dmarc.digest_data import DIGEST_DATA, DigestData, MonthPeriod
from todoke.dmarc.digest_freshness import month_watermark, stale_reason
from todoke.dmarc.identify import Catalogue
from todoke.dmarc.models import DmarcMonthDigest

log = logging.getLogger(__name__)

#: the same bound as stored analyses: a month of this many addresses recomputes in well under
#: a second, so a small domain's digest follows a new report at once
RECOMPUTE_ON_READ_MAX_SOURCES: Final = serve.RECOMPUTE_ON_READ_MAX_SOURCES


def find_digest(
    session: Session, *, org_id: int, domain: str, month: date
) -> DmarcMonthDigest | None:
    return session.scalar(
        select(DmarcMonthDigest).where(
            DmarcMonthDigest.organisation_id == org_id,
            DmarcMonthDigest.domain == domain,
            DmarcMonthDigest.month == month,
        )
    )


def stored_data(row: DmarcMonthDigest) -> DigestData:
    return DIGEST_DATA.validate_python(row.data)


def store_digest(
    session: Session, *, org: Organisation, computed: ComputedDigest, acting_user: Actor
) -> DmarcMonthDigest:
    """Make `computed` the stored digest of its domain and month, in the caller's
    transaction."""
    require(acting_user, "dmarc.view", org=org)
    data, watermark = computed.data, computed.watermark
    session.execute(
        delete(DmarcMonthDigest).where(
            DmarcMonthDigest.organisation_id == org.id,
            DmarcMonthDigest.domain == data.domain,
            DmarcMonthDigest.month == data.month,
        )
    )
    row = DmarcMonthDigest(
        organisation_id=org.id,
        domain=data.domain,
        month=data.month,
        until=data.until,
        computed_at=computed.computed_at,
        compute_ms=computed.compute_ms,
        report_max_id=watermark.report_max_id,
        report_count=watermark.report_count,
        identified_until=watermark.identified_until,
        inputs_digest=watermark.inputs_digest,
        sources=data.sources,
        data=DIGEST_DATA.dump_python(data, mode="json"),
    )
    session.add(row)
    session.flush()
    return row


def replace_digest(
    open_session: Callable[[], Session],
    *,
    org: Organisation,
    computed: ComputedDigest,
    acting_user: Actor,
) -> None:
    """Store `computed` in a short transaction of its own (the worker computes outside it)."""
    with open_session() as session, session.begin():
        store_digest(session, org=org, computed=computed, acting_user=acting_user)


def current_digest(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    period: MonthPeriod,
    acting_user: Actor,
    catalogue: Catalogue,
) -> tuple[DigestData, datetime]:
    """The digest answering `period` and when it was computed (see the module)."""
    row = find_digest(session, org_id=org.id, domain=domain, month=period.month)
    if row is not None and _answers(session, row, org, period, catalogue):
        try:
            return stored_data(row), row.computed_at
        except ValidationError:  # written by another version: compute it again
            log.info("stored digest %d of %s does not read back; recomputing", row.id, domain)
    computed = compute_digest(
        session, org=org, domain=domain, period=period, acting_user=acting_user,
        catalogue=catalogue,
    )  # fmt: skip
    if not _saw_mail(computed.data):
        # Nothing to read back that costs anything to compute; and a domain typed into the
        # address bar must not leave a row behind.
        return computed.data, computed.computed_at
    # Best effort, as for analyses computed on demand: on SQLite a read transaction cannot
    # take the write lock once another writer has committed, and two requests may race for
    # the same month; the answer is right either way and the worker stores it.
    try:
        with session.begin_nested():
            store_digest(session, org=org, computed=computed, acting_user=acting_user)
    except (OperationalError, IntegrityError) as error:
        log.info("digest of %s for %s not stored now: %s", domain, period.month, error)
    return computed.data, computed.computed_at


def _saw_mail(data: DigestData) -> bool:
    return bool(data.summary.days or data.previous.days or data.readiness.days_with_data)


def _answers(
    session: Session,
    row: DmarcMonthDigest,
    org: Organisation,
    period: MonthPeriod,
    catalogue: Catalogue,
) -> bool:
    if row.sources > RECOMPUTE_ON_READ_MAX_SOURCES:
        return True
    watermark = month_watermark(
        session, org=org, domain=row.domain, period=period, catalogue=catalogue
    )
    return stale_reason(session, row, watermark, period) is None
