"""Naming the sources in reports, off the ingest path.

Ingest only records that an address was seen. The worker then resolves PTR names (bounded in
time, cached), matches them and the senders' published SPF ranges against the catalogue, and
checks the organisation's registered sources; the answer is stored on `dmarc_source` and read by
every dashboard. Identification is derived data, recomputed from audited inputs (reports and
registered sources), so it is not itself audited.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import dns.asyncresolver
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from todoke.dmarc.identify import (
    Catalogue,
    NetworkIndex,
    OwnSource,
    PtrResolver,
    catalogue_networks,
    identify_source,
    load_catalogue,
    own_index,
)
from todoke.dmarc.identify.networks import AnyNetwork
from todoke.dmarc.models import DmarcSource, SourceNetwork
from todoke.dmarc.shapes import SenderIdentity
from todoke.domains.spf import published_networks

#: PTR names and providers' ranges change; look again after this long.
REIDENTIFY_AFTER = timedelta(days=7)
RETRY_UNRESOLVED = timedelta(hours=1)
PUBLISHED_RANGES_TTL_SECONDS = 24 * 3600
BATCH = 2_000


@dataclass
class IdentifyResult:
    addresses: int = 0
    identified: int = 0
    ptr_timeouts: int = 0


class PublishedRangesCache:
    """The catalogue senders' SPF ranges, expanded at most once a day per process."""

    def __init__(self) -> None:
        self._index: NetworkIndex[str] | None = None
        self._expires = 0.0

    async def get(
        self, catalogue: Catalogue, resolver: dns.asyncresolver.Resolver, *, offline: bool
    ) -> NetworkIndex[str]:
        if offline:
            return self._index or NetworkIndex.empty()
        if self._index is None or time.monotonic() >= self._expires:

            async def expand(domain: str) -> list[AnyNetwork]:
                return list((await published_networks(domain, resolver)).networks)

            self._index = await catalogue_networks(catalogue, expand)
            self._expires = time.monotonic() + PUBLISHED_RANGES_TTL_SECONDS
        return self._index


PUBLISHED_RANGES = PublishedRangesCache()


def own_sources_index(session: Session, organisation_id: int) -> NetworkIndex[OwnSource]:
    rows = session.scalars(
        select(SourceNetwork).where(SourceNetwork.organisation_id == organisation_id)
    )
    return own_index(OwnSource.parse(row.network, row.label, row.tags) for row in rows)


class StoredIdentity(Protocol):
    """What identification stored for an address (a `DmarcSource` row, or its columns)."""

    @property
    def sender_key(self) -> str | None: ...

    @property
    def matched_by(self) -> str | None: ...


# Built once: dashboards call identity_of for every address of a period (hundreds of thousands).
_NO_PUBLISHED_RANGES: NetworkIndex[str] = NetworkIndex.empty()


def identity_of(
    source: StoredIdentity | None,
    ip: str,
    own: NetworkIndex[OwnSource],
    catalogue: Catalogue,
) -> SenderIdentity | None:
    """The identity shown for an address: registered sources are looked up live (so a tag
    added a minute ago shows at once); everything else comes from the last identification."""
    mine = identify_source(
        ip, ptr_name=None, own=own, published=_NO_PUBLISHED_RANGES, catalogue=catalogue
    )
    if mine is not None:
        return mine
    if source is None or source.sender_key in (None, "own"):
        return None
    entry = catalogue.get(source.sender_key)
    if entry is None:
        return None
    return entry.identity("ptr" if source.matched_by == "ptr" else "spf_range")


def _pending(session: Session, cutoff: datetime, limit: int) -> Sequence[DmarcSource]:
    return session.scalars(
        select(DmarcSource)
        .where(or_(DmarcSource.identified_at.is_(None), DmarcSource.identified_at < cutoff))
        .order_by(DmarcSource.organisation_id, DmarcSource.source_ip)
        .limit(limit)
    ).all()


async def identify_pending(
    open_session: Callable[[], Session],
    *,
    resolver: dns.asyncresolver.Resolver,
    now: Callable[[], datetime],
    offline: bool = False,
    deadline_s: float = 20.0,
    catalogue: Catalogue | None = None,
    max_addresses: int = 20_000,
) -> IdentifyResult:
    """Identify addresses never identified, or not for a week, up to `max_addresses` a run."""
    catalogue = catalogue or load_catalogue()
    result = IdentifyResult()
    with open_session() as session:
        if not _pending(session, now() - REIDENTIFY_AFTER, 1):
            return result  # nothing to do: no DNS traffic at all
    published = await PUBLISHED_RANGES.get(catalogue, resolver, offline=offline)
    ptr = PtrResolver(resolver, offline=offline, forward_confirm=True)
    own_by_org: dict[int, NetworkIndex[OwnSource]] = {}
    while result.addresses < max_addresses:
        with open_session() as session:
            batch = [
                (row.organisation_id, row.source_ip)
                for row in _pending(session, now() - REIDENTIFY_AFTER, BATCH)
            ]
            for organisation_id in {org for org, _ in batch} - own_by_org.keys():
                own_by_org[organisation_id] = own_sources_index(session, organisation_id)
        if not batch:
            break
        answers = await ptr.lookup_many({ip for _, ip in batch}, deadline_s=deadline_s)
        stamp = now()
        with open_session() as session, session.begin():
            for organisation_id, ip in batch:
                answer = answers.get(ip)
                identity = identify_source(
                    ip,
                    ptr_name=answer.confirmed_name if answer else None,
                    own=own_by_org[organisation_id],
                    published=published,
                    catalogue=catalogue,
                )
                result.identified += identity is not None
                unresolved = answer is not None and answer.status in ("timeout", "offline")
                result.ptr_timeouts += unresolved
                # An unanswered lookup is tried again in an hour, not in a week.
                identified_at = stamp - REIDENTIFY_AFTER + RETRY_UNRESOLVED if unresolved else stamp
                session.execute(
                    update(DmarcSource)
                    .where(
                        DmarcSource.organisation_id == organisation_id,
                        DmarcSource.source_ip == ip,
                    )
                    .values(
                        ptr_name=answer.name if answer else None,
                        ptr_status=answer.status if answer else None,
                        sender_key=identity.key if identity else None,
                        matched_by=identity.matched_by if identity else None,
                        identified_at=identified_at,
                    )
                )
        result.addresses += len(batch)
    return result
