"""When a stored analysis no longer matches its data, derived from stored data only.

An analysis remembers what it saw (`DmarcSourceAnalysis`): the domain's newest report id and
report count (any new or removed report), the day it ends on (the window moves at midnight
UTC), a digest of its other inputs (registered sources with labels and tags, the sender
catalogue, `ANALYSIS_VERSION`) and the newest identification time of the organisation's
sources. Identification re-checks addresses weekly and mostly finds nothing new, so a newer
identification only makes an analysis stale when an address *in it* now has another PTR name
or sender than the one it was analysed with.

Known limit: identification backdates an unanswered PTR lookup (to retry it within the hour),
so a change it records that way is only seen with the domain's next report or at midnight.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Final, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from todoke.dmarc.analyses.rows import ip_key
from todoke.dmarc.identify import Catalogue
from todoke.dmarc.models import (
    DmarcAnalysedSource,
    DmarcReport,
    DmarcSource,
    DmarcSourceAnalysis,
    SourceNetwork,
)

#: Bump when classification, pattern or readiness rules change what an analysis holds.
#: 2: changes against the period before are stored with each analysis.
ANALYSIS_VERSION: Final = 2
#: Past this many re-identified addresses, recomputing is cheaper than comparing them.
COMPARE_AT_MOST: Final = 50_000
KEY_CHUNK: Final = 1_000

StaleReason = Literal["never", "day", "reports", "inputs", "identification"]


@dataclass(frozen=True, slots=True)
class Watermark:
    report_max_id: int
    report_count: int
    identified_until: datetime | None
    inputs_digest: str


@lru_cache(maxsize=4)
def _catalogue_digest(catalogue: Catalogue) -> str:
    return hashlib.sha1(repr(catalogue.entries).encode(), usedforsecurity=False).hexdigest()


def inputs_digest(session: Session, org_id: int, catalogue: Catalogue) -> str:
    networks = session.execute(
        select(SourceNetwork.network, SourceNetwork.label, SourceNetwork.tags)
        .where(SourceNetwork.organisation_id == org_id)
        .order_by(SourceNetwork.network)
    ).all()
    text = json.dumps(
        [ANALYSIS_VERSION, _catalogue_digest(catalogue), [list(row) for row in networks]],
        ensure_ascii=False,
    )
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def current_watermark(
    session: Session, *, org_id: int, domain: str, catalogue: Catalogue
) -> Watermark:
    newest, count = session.execute(
        select(func.max(DmarcReport.id), func.count()).where(
            DmarcReport.organisation_id == org_id, DmarcReport.domain == domain
        )
    ).one()
    identified = session.scalar(
        select(func.max(DmarcSource.identified_at)).where(DmarcSource.organisation_id == org_id)
    )
    return Watermark(
        report_max_id=int(newest or 0),
        report_count=int(count or 0),
        identified_until=identified,
        inputs_digest=inputs_digest(session, org_id, catalogue),
    )


def stale_reason(
    header: DmarcSourceAnalysis | None, watermark: Watermark, today: date
) -> StaleReason | None:
    """Why `header` must be recomputed, identification aside (see `identification_changed`)."""
    if header is None:
        return "never"
    if header.until != today:
        return "day"
    if (header.report_max_id, header.report_count) != (
        watermark.report_max_id,
        watermark.report_count,
    ):
        return "reports"
    if header.inputs_digest != watermark.inputs_digest:
        return "inputs"
    return None


def identification_changed(
    session: Session, header: DmarcSourceAnalysis
) -> tuple[bool, datetime | None]:
    """Whether an address of the analysis was identified differently since it was computed,
    and the newest identification time looked at (the analysis' next watermark if not)."""
    source = DmarcSource
    query = select(
        source.source_ip, source.ptr_name, source.sender_key, source.matched_by,
        source.identified_at,
    ).where(source.organisation_id == header.organisation_id)  # fmt: skip
    if header.identified_until is None:
        query = query.where(source.identified_at.is_not(None))
    else:
        query = query.where(source.identified_at > header.identified_until)
    rows = session.execute(query.limit(COMPARE_AT_MOST + 1)).all()
    if not rows:
        return False, header.identified_until
    if len(rows) > COMPARE_AT_MOST:
        return True, None
    newest = max(row[4] for row in rows if row[4] is not None)
    now_known = {ip_key(row[0]): (row[1], row[2], row[3]) for row in rows}
    return _differs(session, header.id, now_known), newest


def _differs(
    session: Session,
    analysis_id: int,
    now_known: dict[str | None, tuple[str | None, str | None, str | None]],
) -> bool:
    keys: Sequence[str] = sorted(key for key in now_known if key is not None)
    row = DmarcAnalysedSource
    for start in range(0, len(keys), KEY_CHUNK):
        analysed = session.execute(
            select(row.ip_key, row.ptr_name, row.known_sender_key, row.known_matched_by).where(
                row.analysis_id == analysis_id, row.ip_key.in_(keys[start : start + KEY_CHUNK])
            )
        )
        for key, ptr_name, sender_key, matched_by in analysed:
            if now_known[key] != (ptr_name, sender_key, matched_by):
                return True
    return False
