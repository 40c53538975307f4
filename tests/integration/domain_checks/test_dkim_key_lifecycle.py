"""DKIM keys from generation to revocation, checked against DNS served by the local server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.hashes import SHA256
from sqlalchemy import select, text

from tests.conftest import Tenant
from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.audit.models import AuditEvent
from todoke.core.errors import InvalidInput, PermissionDenied
from todoke.core.secrets import SecretBox
from todoke.domains import dkim_keys
from todoke.domains.dkim_record import parse_key_record
from todoke.domains.models import DkimKey
from todoke.domains.services import register_domain
from todoke.domains.spf.lookup import DnsCache
from todoke.runtime import Runtime

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SOA = "$ORIGIN kyokai.test.\n@ IN SOA ns1 hostmaster 1 3600 600 86400 120\n"


@pytest.fixture
def domain(runtime: Runtime, tenant: Tenant) -> str:
    with runtime.session() as session, session.begin():
        register_domain(
            session, org=tenant.org, name="kyokai.test", sends_mail=True, acting_user=tenant.owner
        )
    return "kyokai.test"


def generate(runtime: Runtime, tenant: Tenant, key_type: dkim_keys.KeyType) -> tuple[str, str]:
    with runtime.session() as session, session.begin():
        key = dkim_keys.generate_key(
            session,
            org=tenant.org,
            domain="kyokai.test",
            key_type=key_type,
            secret_key=runtime.settings.secret_key_bytes(),
            now=NOW,
            acting_user=tenant.owner,
        )
        return key.selector, dkim_keys.txt_value(key)


def publish(dns_server: LocalDNSServer, records: dict[str, str]) -> None:
    lines = "".join(
        f'{selector}._domainkey IN TXT "{value}"\n' for selector, value in records.items()
    )
    dns_server.replace_zones(SOA + lines)


def verify(
    runtime: Runtime, tenant: Tenant, resolver_factory: ResolverFactory, selector: str
) -> str:
    found = asyncio.run(
        dkim_keys.published_key(DnsCache(resolver_factory()), "kyokai.test", selector)
    )
    with runtime.session() as session, session.begin():
        key = dkim_keys.verify_publication(
            session,
            org=tenant.org,
            domain="kyokai.test",
            selector=selector,
            published=found,
            now=NOW,
            acting_user=tenant.owner,
        )
        return key.state


def call(runtime: Runtime, tenant: Tenant, action: str, selector: str) -> str:
    with runtime.session() as session, session.begin():
        key: DkimKey = getattr(dkim_keys, action)(
            session,
            org=tenant.org,
            domain="kyokai.test",
            selector=selector,
            now=NOW,
            acting_user=tenant.owner,
        )
        return key.state


def states(runtime: Runtime) -> dict[str, str]:
    with runtime.session() as session:
        return {key.selector: key.state for key in session.scalars(select(DkimKey))}


def test_key_cannot_sign_before_its_record_is_seen_in_dns(
    runtime: Runtime,
    tenant: Tenant,
    domain: str,
    dns_server: LocalDNSServer,
    resolver_factory: ResolverFactory,
) -> None:
    selector, _value = generate(runtime, tenant, "rsa")
    publish(dns_server, {})
    with pytest.raises(InvalidInput, match="no DKIM key record is published"):
        verify(runtime, tenant, resolver_factory, selector)
    with pytest.raises(InvalidInput, match="only a key verified in DNS can sign"):
        call(runtime, tenant, "activate_key", selector)
    assert states(runtime) == {selector: "generated"}


def test_a_different_published_key_is_named_with_the_record_to_publish(
    runtime: Runtime,
    tenant: Tenant,
    domain: str,
    dns_server: LocalDNSServer,
    resolver_factory: ResolverFactory,
) -> None:
    first, _ = generate(runtime, tenant, "ed25519")
    _, other_value = generate(runtime, tenant, "ed25519")
    publish(dns_server, {first: other_value})
    with pytest.raises(InvalidInput, match="publishes a different key"):
        verify(runtime, tenant, resolver_factory, first)


def test_rotation_keeps_the_old_key_published_until_it_is_revoked(
    runtime: Runtime,
    tenant: Tenant,
    domain: str,
    dns_server: LocalDNSServer,
    resolver_factory: ResolverFactory,
) -> None:
    old, old_value = generate(runtime, tenant, "rsa")
    publish(dns_server, {old: old_value})
    assert verify(runtime, tenant, resolver_factory, old) == "published"
    assert call(runtime, tenant, "activate_key", old) == "active"
    new, new_value = generate(runtime, tenant, "ed25519")
    publish(dns_server, {old: old_value, new: new_value})
    assert verify(runtime, tenant, resolver_factory, new) == "published"
    with pytest.raises(InvalidInput, match="is signing"):
        call(runtime, tenant, "revoke_key", old)
    assert call(runtime, tenant, "activate_key", new) == "active"
    assert states(runtime) == {old: "retired", new: "active"}
    assert call(runtime, tenant, "revoke_key", old) == "revoked"
    with runtime.session() as session:
        revoked = session.scalar(select(DkimKey).where(DkimKey.selector == old))
        assert revoked is not None
        assert dkim_keys.txt_value(revoked) == "v=DKIM1; k=rsa; p="
        assert revoked.private_key_sealed == ""
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("domains.dkim_key.%"))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == [
        "domains.dkim_key.generated",
        "domains.dkim_key.verified",
        "domains.dkim_key.activated",
        "domains.dkim_key.generated",
        "domains.dkim_key.verified",
        "domains.dkim_key.activated",
        "domains.dkim_key.revoked",
    ]


@pytest.mark.parametrize("key_type", ["rsa", "ed25519"])
def test_active_key_signs_what_its_published_record_verifies(
    runtime: Runtime,
    tenant: Tenant,
    domain: str,
    dns_server: LocalDNSServer,
    resolver_factory: ResolverFactory,
    key_type: dkim_keys.KeyType,
) -> None:
    selector, value = generate(runtime, tenant, key_type)
    publish(dns_server, {selector: value})
    verify(runtime, tenant, resolver_factory, selector)
    call(runtime, tenant, "activate_key", selector)
    with runtime.session() as session:
        domain_id = session.scalar(select(DkimKey.domain_id))
        assert domain_id is not None
        signer = dkim_keys.signing_key(
            session, domain_id=domain_id, secret_key=runtime.settings.secret_key_bytes()
        )
    assert signer is not None
    assert signer[0] == selector
    published = parse_key_record(value)
    message = b"From: office@kyokai.test\r\n"
    if isinstance(signer[1], rsa.RSAPrivateKey):
        signature = signer[1].sign(message, padding.PKCS1v15(), SHA256())
        assert isinstance(published.public_key, rsa.RSAPublicKey)
        published.public_key.verify(signature, message, padding.PKCS1v15(), SHA256())
        assert published.bits == 2048
    else:
        assert isinstance(signer[1], ed25519.Ed25519PrivateKey)
        assert isinstance(published.public_key, ed25519.Ed25519PublicKey)
        published.public_key.verify(signer[1].sign(message), message)


def test_private_keys_are_not_stored_in_clear(
    runtime: Runtime, tenant: Tenant, domain: str
) -> None:
    generate(runtime, tenant, "rsa")
    with runtime.session() as session:
        stored = session.execute(text("SELECT private_key_sealed FROM dkim_key")).scalar_one()
    pem = SecretBox(runtime.settings.secret_key_bytes(), dkim_keys.PRIVATE_KEY_PURPOSE).open(stored)
    body_lines = [line for line in pem.splitlines() if "PRIVATE KEY" not in line]
    assert len(body_lines) > 10
    assert "PRIVATE KEY" not in stored
    # A whole 64-character line of the key's base64 cannot occur in ciphertext by chance.
    assert [line for line in body_lines if len(line) == 64 and line in stored] == []


def test_viewer_cannot_generate_keys(runtime: Runtime, tenant: Tenant, domain: str) -> None:
    with runtime.session() as session, session.begin(), pytest.raises(PermissionDenied):
        dkim_keys.generate_key(
            session,
            org=tenant.org,
            domain="kyokai.test",
            key_type="rsa",
            secret_key=runtime.settings.secret_key_bytes(),
            now=NOW,
            acting_user=tenant.viewer,
        )
