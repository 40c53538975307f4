"""The owned-domain inventory: the only way to add or remove a domain."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.audit import record_audit
from todoke.authz import Actor, require
from todoke.core.errors import Conflict, InvalidInput, NotFound
from todoke.domains.models import Domain

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(text: str) -> str:
    """Lower-case A-label form without a trailing dot; InvalidInput naming what is wrong."""
    value = text.strip().rstrip(".").lower()
    if not value:
        raise InvalidInput("the domain name is empty")
    try:
        ascii_name = value.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidInput(f"{text!r} is not a valid domain name") from None
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > 253:
        raise InvalidInput(f"{text!r} is not a fully qualified domain name (e.g. example.jp)")
    bad = [label for label in labels if not _LABEL.match(label)]
    if bad:
        raise InvalidInput(f"{text!r} has an invalid label {bad[0]!r}")
    return ascii_name


def register_domain(
    session: Session, *, org: Organisation, name: str, sends_mail: bool, acting_user: Actor
) -> Domain:
    """Add a domain the organisation owns (sending or not) to its inventory."""
    require(acting_user, "domains.manage", org=org)
    domain_name = normalise_domain(name)
    existing = session.scalar(
        select(Domain).where(Domain.organisation_id == org.id, Domain.name == domain_name)
    )
    if existing is not None:
        raise Conflict(f"{domain_name} is already registered")
    domain = Domain(organisation_id=org.id, name=domain_name, sends_mail=sends_mail)
    session.add(domain)
    record_audit(
        session,
        acting_user,
        "domains.domain.registered",
        org=org,
        target=domain,
        details={"name": domain_name, "sends_mail": sends_mail},
    )
    return domain


def remove_domain(session: Session, *, org: Organisation, name: str, acting_user: Actor) -> None:
    require(acting_user, "domains.manage", org=org)
    domain_name = normalise_domain(name)
    domain = session.scalar(
        select(Domain).where(Domain.organisation_id == org.id, Domain.name == domain_name)
    )
    if domain is None:
        raise NotFound(f"{domain_name} is not registered")
    record_audit(
        session,
        acting_user,
        "domains.domain.removed",
        org=org,
        target=domain,
        details={"name": domain_name},
    )
    session.delete(domain)


def list_domains(session: Session, *, org: Organisation, acting_user: Actor) -> list[Domain]:
    require(acting_user, "domains.view", org=org)
    return list(
        session.scalars(
            select(Domain).where(Domain.organisation_id == org.id).order_by(Domain.name)
        )
    )
