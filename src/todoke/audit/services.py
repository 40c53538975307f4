"""Writing audit events (inside the caller's transaction) and verifying the chains."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from todoke.audit.chain import (
    GENESIS_HASH,
    chain_name,
    event_hash,
    hashed_fields,
    normalise_details,
)
from todoke.audit.masking import mask_details
from todoke.audit.models import AuditChainHead, AuditEvent
from todoke.authz.actors import Actor, SystemActor
from todoke.core.context import client_ip, clock_of

if TYPE_CHECKING:
    from todoke.accounts.models import Organisation


def _lock_chain_head(session: Session, chain: str) -> AuditChainHead:
    """Create the chain's head if needed, then hold its row lock until the transaction ends."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(AuditChainHead)
        .values(chain=chain, seq=0, hash=GENESIS_HASH)
        .on_conflict_do_nothing(index_elements=["chain"])
    )
    # On SQLite the writer already holds the database lock (BEGIN IMMEDIATE).
    return session.scalars(
        select(AuditChainHead)
        .where(AuditChainHead.chain == chain)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def record_audit(
    session: Session,
    actor: Actor,
    action: str,
    *,
    org: Organisation | None = None,
    target: Any = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the organisation's chain, in the caller's transaction.

    `target` is a model instance (its table name and id are recorded) or None. Personal data in
    `details` is masked and secrets are dropped before anything is stored.
    """
    user = None if isinstance(actor, SystemActor) else actor
    label = actor.label if isinstance(actor, SystemActor) else actor.email
    if org is not None:
        organisation_id: int | None = org.id
    else:
        organisation_id = user.organisation_id if user is not None else None
    chain = chain_name(organisation_id)
    head = _lock_chain_head(session, chain)
    target_type = getattr(target, "__tablename__", None) if target is not None else None
    target_id = getattr(target, "id", None) if target is not None else None
    session.flush()  # a new target gets its id before we record it
    if target is not None and target_id is None:
        target_id = getattr(target, "id", None)
    occurred_at = clock_of(session).now()
    fields = hashed_fields(
        chain=chain,
        seq=head.seq + 1,
        organisation_id=organisation_id,
        occurred_at=occurred_at,
        actor_user_id=user.id if user is not None else None,
        actor_label=label if user is not None else f"system:{label}",
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        ip=client_ip(session),
        details=normalise_details(mask_details(details or {})),
    )
    digest = event_hash(head.hash, fields)
    event = AuditEvent(
        chain=chain,
        seq=fields["seq"],
        organisation_id=organisation_id,
        occurred_at=occurred_at,
        actor_user_id=fields["actor_user_id"],
        actor_label=fields["actor_label"],
        action=action,
        target_type=fields["target_type"],
        target_id=fields["target_id"],
        ip=fields["ip"],
        details=fields["details"],
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(event)
    head.seq = event.seq
    head.hash = digest
    return event


@dataclass(frozen=True)
class BrokenLink:
    event_id: int | None
    chain: str
    seq: int
    reason: str


@dataclass
class ChainVerification:
    events_checked: int = 0
    chains: dict[str, int] = field(default_factory=dict)
    broken: BrokenLink | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _stored_fields(event: AuditEvent) -> dict[str, Any]:
    return hashed_fields(
        chain=event.chain,
        seq=event.seq,
        organisation_id=event.organisation_id,
        occurred_at=event.occurred_at,
        actor_user_id=event.actor_user_id,
        actor_label=event.actor_label,
        action=event.action,
        target_type=event.target_type,
        target_id=event.target_id,
        ip=event.ip,
        details=event.details,
    )


def _events_in_order(session: Session, chain: str | None) -> Iterator[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.chain, AuditEvent.seq)
    if chain is not None:
        query = query.where(AuditEvent.chain == chain)
    yield from session.scalars(query.execution_options(yield_per=2000))


def verify_chains(session: Session, *, chain: str | None = None) -> ChainVerification:
    """Recompute every chain (or one) and stop at the first broken link."""
    result = ChainVerification()
    current_chain: str | None = None
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for event in _events_in_order(session, chain):
        if event.chain != current_chain:
            if current_chain is not None:
                result.broken = _check_head(session, current_chain, expected_seq - 1, expected_prev)
                if result.broken:
                    return result
            current_chain, expected_prev, expected_seq = event.chain, GENESIS_HASH, 1
        problem = _check_event(event, expected_seq, expected_prev)
        if problem:
            result.broken = BrokenLink(event.id, event.chain, event.seq, problem)
            return result
        result.events_checked += 1
        result.chains[event.chain] = event.seq
        expected_prev, expected_seq = event.hash, event.seq + 1
    if current_chain is not None:
        result.broken = _check_head(session, current_chain, expected_seq - 1, expected_prev)
    for head in session.scalars(select(AuditChainHead)):
        if head.seq > 0 and head.chain not in result.chains and chain in (None, head.chain):
            result.broken = BrokenLink(None, head.chain, head.seq, "events missing: chain is empty")
            return result
    return result


def _check_event(event: AuditEvent, expected_seq: int, expected_prev: str) -> str | None:
    if event.seq != expected_seq:
        return f"sequence gap: expected seq {expected_seq}, found {event.seq}"
    if event.prev_hash != expected_prev:
        return "prev_hash does not match the hash of the event before it"
    if event_hash(event.prev_hash, _stored_fields(event)) != event.hash:
        return "content altered: recomputed hash differs from the stored hash"
    return None


def _check_head(session: Session, chain: str, last_seq: int, last_hash: str) -> BrokenLink | None:
    head = session.get(AuditChainHead, chain)
    if head is None:
        return BrokenLink(None, chain, last_seq, "chain head missing")
    if head.seq != last_seq or head.hash != last_hash:
        return BrokenLink(
            None, chain, head.seq, f"events missing after seq {last_seq}: head records {head.seq}"
        )
    return None
