"""State changes of the DMARC area other than ingest: the organisation's own sending sources."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.audit import record_audit
from todoke.authz import Actor, require
from todoke.core.errors import Conflict, InvalidInput, NotFound
from todoke.dmarc.models import DmarcSource, SourceNetwork
from todoke.i18n import N_

MAX_TAGS = 20
MAX_TAG_LENGTH = 40


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An address or CIDR; host bits must be zero so "192.0.2.7/24" is refused, not guessed."""
    value = text.strip()
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        reason = str(error)
    try:  # the usual slip: an address of the range instead of its start
        start = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise InvalidInput(
            N_("%(network)r is not an IP address or CIDR range: %(reason)s"),
            network=value,
            reason=reason,
        ) from None
    raise InvalidInput(
        N_("%(network)r is not the start of its range: did you mean %(start)s?"),
        network=value,
        start=str(start),
    )


def _clean_tags(tags: Sequence[str]) -> list[str]:
    cleaned = sorted({tag.strip() for tag in tags if tag.strip()})
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(N_("at most %(count)s tags per source"), count=MAX_TAGS)
    too_long = [tag for tag in cleaned if len(tag) > MAX_TAG_LENGTH]
    if too_long:
        raise InvalidInput(
            N_("tag %(tag)r is longer than %(count)s characters"),
            tag=too_long[0],
            count=MAX_TAG_LENGTH,
        )
    return cleaned


def register_source(
    session: Session,
    *,
    org: Organisation,
    cidr: str,
    label: str,
    tags: Sequence[str],
    acting_user: Actor,
) -> SourceNetwork:
    """Register an address range the organisation sends from, so reports can name it."""
    require(acting_user, "dmarc.manage_sources", org=org)
    network = str(parse_network(cidr))
    if session.scalar(
        select(SourceNetwork.id).where(
            SourceNetwork.organisation_id == org.id, SourceNetwork.network == network
        )
    ):
        raise Conflict(N_("%(network)s is already registered"), network=str(network))
    source = SourceNetwork(
        organisation_id=org.id,
        network=network,
        label=label.strip()[:200] or network,
        tags=_clean_tags(tags),
    )
    session.add(source)
    _forget_identification(session, org)
    record_audit(
        session,
        acting_user,
        "dmarc.source.registered",
        org=org,
        target=source,
        details={"network": network, "label": source.label, "tags": source.tags},
    )
    return source


def remove_source(
    session: Session, *, org: Organisation, source_id: int, acting_user: Actor
) -> None:
    require(acting_user, "dmarc.manage_sources", org=org)
    source = session.get(SourceNetwork, source_id)
    if source is None or source.organisation_id != org.id:
        raise NotFound(N_("no registered source %(id)s"), id=source_id)
    record_audit(
        session,
        acting_user,
        "dmarc.source.removed",
        org=org,
        target=source,
        details={"network": source.network},
    )
    session.delete(source)
    _forget_identification(session, org)


def _forget_identification(session: Session, org: Organisation) -> None:
    """Registered sources take precedence in identification, so every address is looked at
    again by the next identification run."""
    session.execute(
        update(DmarcSource).where(DmarcSource.organisation_id == org.id).values(identified_at=None)
    )


def list_sources(session: Session, *, org: Organisation, acting_user: Actor) -> list[SourceNetwork]:
    require(acting_user, "dmarc.view", org=org)
    return list(
        session.scalars(
            select(SourceNetwork)
            .where(SourceNetwork.organisation_id == org.id)
            .order_by(SourceNetwork.network)
        )
    )
