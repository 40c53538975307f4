"""DKIM signing keys: generate, publish, verify, activate, rotate with overlap, revoke.

A key signs only after Todoke has seen its public half in DNS: signing with an unpublished key
makes every message fail DKIM. Activating a new key retires the old one, which stays published
(mail in queues and mailboxes is verified later, sometimes days later) until it is revoked.
Every change is audited; the private key never leaves the sealed column except to sign.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Final, Literal, Protocol

import dns.asyncresolver
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.audit import record_audit
from todoke.authz import Actor, require
from todoke.core.errors import Conflict, InvalidInput, NotFound
from todoke.core.secrets import SecretBox
from todoke.domains.dkim_record import DkimRecordError, parse_key_record
from todoke.domains.models import DkimKey, Domain
from todoke.domains.services import normalise_domain
from todoke.domains.spf.lookup import DnsCache

KeyType = Literal["rsa", "ed25519"]


class KeyTransition(Protocol):
    """activate_key and revoke_key: one key of a domain moves to its next state."""

    def __call__(
        self,
        session: Session,
        *,
        org: Organisation,
        domain: str,
        selector: str,
        now: datetime,
        acting_user: Actor,
    ) -> DkimKey: ...


PRIVATE_KEY_PURPOSE: Final = "dkim-private-key"
RSA_BITS: Final = 2048
_SELECTOR_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def txt_value(key: DkimKey) -> str:
    """The TXT record to publish at `<selector>._domainkey.<domain>` for the key's state."""
    if key.state == "revoked":
        return f"v=DKIM1; k={key.key_type}; p="
    return f"v=DKIM1; k={key.key_type}; p={key.public_key}"


def _new_key(key_type: KeyType) -> tuple[bytes, str, int]:
    """(PKCS#8 PEM, base64 public key for p=, bits)."""
    private: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    if key_type == "rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
        public = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        bits = RSA_BITS
    else:
        private = ed25519.Ed25519PrivateKey.generate()
        # RFC 8463 §4.2: p= is the raw 32-byte key, not a SubjectPublicKeyInfo.
        public = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        bits = 256
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, base64.b64encode(public).decode("ascii"), bits


def _domain(session: Session, org: Organisation, name: str) -> Domain:
    domain_name = normalise_domain(name)
    domain = session.scalar(
        select(Domain).where(Domain.organisation_id == org.id, Domain.name == domain_name)
    )
    if domain is None:
        raise NotFound(f"{domain_name} is not registered; register it first")
    return domain


def _selector(session: Session, domain: Domain, key_type: KeyType, now: datetime) -> str:
    """`td202611r`, `td202611e`, then `td202611r2`...: dated, so people see a key's age."""
    base = f"td{now:%Y%m}{key_type[0]}"
    taken = set(session.scalars(select(DkimKey.selector).where(DkimKey.domain_id == domain.id)))
    number = 1
    while (candidate := base if number == 1 else f"{base}{number}") in taken:
        number += 1
    return candidate


def _checked_selector(text: str) -> str:
    selector = text.strip().lower()
    labels = selector.split(".")
    if not selector or any(
        not label or len(label) > 63 or not set(label) <= _SELECTOR_CHARS for label in labels
    ):
        raise InvalidInput(f"selector {text!r} must be DNS labels of letters, digits and hyphens")
    return selector


def generate_key(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    key_type: KeyType,
    secret_key: bytes,
    now: datetime,
    acting_user: Actor,
    selector: str | None = None,
) -> DkimKey:
    """A new key for `domain`, to be published; it does not sign yet."""
    require(acting_user, "domains.manage", org=org)
    owner = _domain(session, org, domain)
    chosen = _checked_selector(selector) if selector else _selector(session, owner, key_type, now)
    exists = session.scalar(
        select(DkimKey.id).where(DkimKey.domain_id == owner.id, DkimKey.selector == chosen)
    )
    if exists is not None:
        raise Conflict(f"{owner.name} already has a key with selector {chosen}")
    pem, public, bits = _new_key(key_type)
    key = DkimKey(
        organisation_id=org.id,
        domain_id=owner.id,
        selector=chosen,
        key_type=key_type,
        bits=bits,
        public_key=public,
        private_key_sealed=SecretBox(secret_key, PRIVATE_KEY_PURPOSE).seal(pem.decode("ascii")),
        state="generated",
        created_at=now,
    )
    session.add(key)
    session.flush()
    record_audit(
        session,
        acting_user,
        "domains.dkim_key.generated",
        org=org,
        target=key,
        details={"domain": owner.name, "selector": chosen, "key_type": key_type, "bits": bits},
    )
    return key


def list_keys(
    session: Session, *, org: Organisation, domain: str, acting_user: Actor
) -> Sequence[DkimKey]:
    require(acting_user, "domains.view", org=org)
    owner = _domain(session, org, domain)
    return session.scalars(
        select(DkimKey)
        .where(DkimKey.domain_id == owner.id)
        .order_by(DkimKey.created_at, DkimKey.id)
    ).all()


def _key(session: Session, org: Organisation, domain: str, selector: str) -> tuple[Domain, DkimKey]:
    owner = _domain(session, org, domain)
    key = session.scalar(
        select(DkimKey).where(DkimKey.domain_id == owner.id, DkimKey.selector == selector.lower())
    )
    if key is None:
        raise NotFound(f"{owner.name} has no DKIM key with selector {selector}")
    return owner, key


async def published_key(dns: DnsCache, domain: str, selector: str) -> str | None:
    """The base64 p= value published for the selector ("" when revoked), None when absent."""
    answer = await dns.txt(f"{selector}._domainkey.{domain}")
    for item in answer.values:
        try:
            record = parse_key_record(item)
        except DkimRecordError:
            continue
        return base64.b64encode(record.key_data).decode("ascii")
    return None


def verify_publication(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    selector: str,
    published: str | None,
    now: datetime,
    acting_user: Actor,
) -> DkimKey:
    """Record that DNS carries the key (`published` is what `published_key` found)."""
    require(acting_user, "domains.manage", org=org)
    owner, key = _key(session, org, domain, selector)
    name = f"{key.selector}._domainkey.{owner.name}"
    if published is None:
        raise InvalidInput(f"no DKIM key record is published at {name} yet")
    if published != key.public_key:
        raise InvalidInput(f"{name} publishes a different key; publish: {txt_value(key)}")
    if key.state == "generated":
        key.state = "published"
    key.verified_at = now
    record_audit(
        session,
        acting_user,
        "domains.dkim_key.verified",
        org=org,
        target=key,
        details={"domain": owner.name, "selector": key.selector},
    )
    return key


async def verify_in_dns(
    sessions: Callable[[], Session],
    *,
    org: Organisation,
    domain: str,
    selector: str,
    resolver: dns.asyncresolver.Resolver,
    now: datetime,
    acting_user: Actor,
) -> DkimKey:
    """Look the key up in DNS, then record what was found, in a transaction of its own (no
    database lock is held while DNS answers)."""
    require(acting_user, "domains.manage", org=org)
    name = normalise_domain(domain)
    found = await published_key(DnsCache(resolver), name, selector.lower())
    with sessions() as session, session.begin():
        return verify_publication(
            session,
            org=org,
            domain=name,
            selector=selector,
            published=found,
            now=now,
            acting_user=acting_user,
        )


def activate_key(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    selector: str,
    now: datetime,
    acting_user: Actor,
) -> DkimKey:
    """Sign with this key from now on; the key that signed until now is retired, not revoked."""
    require(acting_user, "domains.manage", org=org)
    owner, key = _key(session, org, domain, selector)
    if key.state != "published":
        raise InvalidInput(
            f"the key {key.selector} is {key.state}; only a key verified in DNS can sign "
            "(run the publication check first)"
        )
    previous = session.scalars(
        select(DkimKey).where(DkimKey.domain_id == owner.id, DkimKey.state == "active")
    ).all()
    for old in previous:
        old.state = "retired"
        old.retired_at = now
    key.state = "active"
    key.activated_at = now
    record_audit(
        session,
        acting_user,
        "domains.dkim_key.activated",
        org=org,
        target=key,
        details={
            "domain": owner.name,
            "selector": key.selector,
            "retired": [old.selector for old in previous],
        },
    )
    return key


def revoke_key(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    selector: str,
    now: datetime,
    acting_user: Actor,
) -> DkimKey:
    """Stop the key for good: its record becomes `p=` and its private half is destroyed."""
    require(acting_user, "domains.manage", org=org)
    owner, key = _key(session, org, domain, selector)
    if key.state == "active":
        raise InvalidInput(
            f"the key {key.selector} is signing; activate another key first, then revoke this one"
        )
    if key.state == "revoked":
        raise Conflict(f"the key {key.selector} is already revoked")
    key.state = "revoked"
    key.revoked_at = now
    key.private_key_sealed = ""
    record_audit(
        session,
        acting_user,
        "domains.dkim_key.revoked",
        org=org,
        target=key,
        details={"domain": owner.name, "selector": key.selector},
    )
    return key


def signing_key(
    session: Session, *, domain_id: int, secret_key: bytes
) -> tuple[str, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey] | None:
    """(selector, private key) of the domain's active key, for the sending pipeline."""
    key = session.scalar(
        select(DkimKey).where(DkimKey.domain_id == domain_id, DkimKey.state == "active")
    )
    if key is None:
        return None
    pem = SecretBox(secret_key, PRIVATE_KEY_PURPOSE).open(key.private_key_sealed)
    private = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(private, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey):
        raise TypeError(f"unexpected private key type {type(private).__name__}")
    return key.selector, private
