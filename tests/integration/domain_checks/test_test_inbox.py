"""Test mail sent over SMTP to a user's own address at the receiver: checked, kept, private."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator

import pytest

from tests.conftest import Tenant
from tests.integration.domain_checks.test_message_check import message, signed, zones
from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.dmarc.intake import limits_from
from todoke.dmarc.receiver import ReceiverConfig, make_controller
from todoke.domains.test_inbox import TestMailbox, inbox_address, latest_results, user_for
from todoke.runtime import Runtime

DOMAIN = "reports.todoke.example"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def receiver(
    runtime: Runtime, tenant: Tenant, dns_server: LocalDNSServer, resolver_factory: ResolverFactory
) -> Iterator[tuple[str, int]]:
    dns_server.add_zone(zones())
    mailbox = TestMailbox(
        runtime.session,
        secret_key=runtime.settings.secret_key_bytes(),
        receiver_domain=DOMAIN,
        resolver=resolver_factory,
        tls_offered=False,
    )
    config = ReceiverConfig(
        domain=DOMAIN,
        max_message_bytes=200_000,
        limits=limits_from(runtime.settings),
        extra_mailboxes=(mailbox,),
    )
    port = _free_port()
    controller = make_controller(runtime.session, config, host="127.0.0.1", port=port)
    controller.start()
    yield "127.0.0.1", port
    controller.stop()


def address_of(runtime: Runtime, user_id: int) -> str:
    return inbox_address(
        user_id, secret_key=runtime.settings.secret_key_bytes(), receiver_domain=DOMAIN
    )


def test_mail_to_my_address_is_checked_and_only_i_see_it(
    runtime: Runtime, tenant: Tenant, receiver: tuple[str, int]
) -> None:
    mine = address_of(runtime, tenant.analyst.id)
    data = signed(message("From: office@kyokai.test"), "kyokai.test", "sel1")
    with smtplib.SMTP(*receiver) as smtp:
        smtp.ehlo("out.kyokai.test")
        refused = smtp.sendmail("bounce@kyokai.test", [mine], data)
    assert refused == {}
    with runtime.session() as session:
        analyst = session.merge(tenant.analyst)
        (result,) = latest_results(session, user=analyst)
        assert result.verdict["client_ip"] == "127.0.0.1"
        assert result.verdict["helo"] == "out.kyokai.test"
        assert result.verdict["envelope_from"] == "kyokai.test"
        assert [s["result"] for s in result.verdict["dkim"]] == ["pass"]
        assert result.with_tls is None  # this receiver offers no STARTTLS
        assert latest_results(session, user=session.merge(tenant.owner)) == []


def test_forged_or_foreign_addresses_are_refused(
    runtime: Runtime, tenant: Tenant, receiver: tuple[str, int]
) -> None:
    mine = address_of(runtime, tenant.analyst.id)
    forged = mine.replace(f"u{tenant.analyst.id}-", f"u{tenant.owner.id}-")
    with smtplib.SMTP(*receiver) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp.sendmail("x@kyokai.test", [forged], message("From: x@kyokai.test"))
    assert (
        user_for(forged, secret_key=runtime.settings.secret_key_bytes(), receiver_domain=DOMAIN)
        is None
    )
    assert (
        user_for(
            mine.upper(), secret_key=runtime.settings.secret_key_bytes(), receiver_domain=DOMAIN
        )
        == tenant.analyst.id
    )


def test_unreadable_test_mail_is_refused_with_the_reason(
    runtime: Runtime, tenant: Tenant, receiver: tuple[str, int]
) -> None:
    mine = address_of(runtime, tenant.analyst.id)
    with smtplib.SMTP(*receiver) as smtp, pytest.raises(smtplib.SMTPDataError) as refused:
        smtp.sendmail("x@kyokai.test", [mine], b"Subject: no from\r\n\r\nbody\r\n")
    assert refused.value.smtp_code == 554
    assert b"exactly one From header" in refused.value.smtp_error
