"""Reports arriving by mail: the built-in SMTP receiver and the IMAP poller (real Dovecot)."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import Tenant
from tests.rig.imap_server import DovecotServer
from todoke.authz import CLI_ACTOR
from todoke.dmarc.intake import limits_from
from todoke.dmarc.mailboxes import MailboxSettings, PollResult, add_mailbox, poll_mailbox
from todoke.dmarc.models import DmarcMailbox, DmarcReport, TlsReport
from todoke.dmarc.receiver import ReceiverConfig, make_controller
from todoke.runtime import Runtime

SAMPLES = Path(__file__).parents[2].parent / "shared" / "testdata" / "dmarc"
FASTMAIL = SAMPLES / "fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz"


def report_mail(attachment: bytes, filename: str, subtype: str = "gzip") -> bytes:
    message = EmailMessage()
    message["From"] = "noreply-dmarc@reporter.example"
    message["To"] = "dmarc@reports.todoke.example"
    message["Subject"] = f"Report Domain: example.com Submitter: reporter.example {filename}"
    message.set_content("This is an aggregate report.")
    message.add_attachment(attachment, maintype="application", subtype=subtype, filename=filename)
    return message.as_bytes(policy=SMTP_POLICY)  # CRLF line ends, as on the wire


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def receiver(runtime: Runtime, tenant: Tenant) -> Iterator[tuple[str, int]]:
    config = ReceiverConfig(
        domain="reports.todoke.example",
        max_message_bytes=200_000,
        limits=limits_from(runtime.settings),
    )
    port = _free_port()
    controller = make_controller(runtime.session, config, host="127.0.0.1", port=port)
    controller.start()
    yield "127.0.0.1", port
    controller.stop()


def count(runtime: Runtime, model: type[DmarcReport] | type[TlsReport]) -> int:
    with runtime.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_receiver_stores_a_report_sent_to_the_rua_address(
    receiver: tuple[str, int], runtime: Runtime
) -> None:
    with smtplib.SMTP(*receiver) as smtp:
        refused = smtp.sendmail(
            "noreply-dmarc@reporter.example",
            ["dmarc+todoke-kyokai@reports.todoke.example"],
            report_mail(FASTMAIL.read_bytes(), FASTMAIL.name),
        )
    assert refused == {}
    with runtime.session() as session:
        stored = session.scalars(select(DmarcReport)).one()
    assert (stored.reporter_org, stored.report_id, stored.channel) == (
        "FastMail Pty Ltd",
        "102675056",
        "smtp",
    )


def test_receiver_refuses_unknown_mailboxes_oversized_and_reportless_mail(
    receiver: tuple[str, int], runtime: Runtime
) -> None:
    with smtplib.SMTP(*receiver) as smtp:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as unknown:
            smtp.sendmail(
                "a@b.example", ["postmaster@reports.todoke.example"], b"Subject: x\r\n\r\n"
            )
        assert unknown.value.recipients["postmaster@reports.todoke.example"][0] == 550
        with pytest.raises(smtplib.SMTPDataError) as reportless:
            smtp.sendmail(
                "a@b.example", ["dmarc@reports.todoke.example"], b"Subject: hello\r\n\r\nhi\r\n"
            )
        assert reportless.value.smtp_code == 554
    with smtplib.SMTP(*receiver) as smtp, pytest.raises(smtplib.SMTPException) as big:
        smtp.sendmail(
            "a@b.example", ["dmarc@reports.todoke.example"], (b"x" * 70 + b"\r\n") * 4_000
        )
    assert getattr(big.value, "smtp_code", 0) == 552
    assert count(runtime, DmarcReport) == 0


def register_mailbox(
    runtime: Runtime, tenant: Tenant, server: DovecotServer, username: str, password: str
) -> DmarcMailbox:
    with runtime.session() as session, session.begin():
        return add_mailbox(
            session,
            org=tenant.org,
            settings=MailboxSettings(
                label="rua",
                host=server.host,
                port=server.port,
                security="none",
                username=username,
                password=password,
            ),
            secret_key=runtime.settings.secret_key_bytes(),
            acting_user=CLI_ACTOR,
        )


def poll(runtime: Runtime, mailbox: DmarcMailbox) -> PollResult:
    return poll_mailbox(
        runtime.session,
        mailbox.id,
        secret_key=runtime.settings.secret_key_bytes(),
        limits=limits_from(runtime.settings),
        now=runtime.clock.now,
    )


def test_imap_poller_reads_unseen_reports_once_and_marks_them(
    imap_server: DovecotServer, runtime: Runtime, tenant: Tenant
) -> None:
    account = imap_server.add_account("dmarc-poll@kyokai.example.jp", "imap-password-1")
    imap_server.deliver(account, report_mail(FASTMAIL.read_bytes(), FASTMAIL.name))
    tls = (SAMPLES / "rfc8460.json").read_bytes()
    imap_server.deliver(account, report_mail(tls, "report.json", subtype="tlsrpt+json"))
    imap_server.deliver(account, b"From: someone@example.jp\r\nSubject: hi\r\n\r\nnot a report\r\n")
    mailbox = register_mailbox(runtime, tenant, imap_server, account.username, account.password)
    assert "imap-password-1" not in mailbox.password_sealed
    first = poll(runtime, mailbox)
    assert (first.error, first.messages) == (None, 3)
    assert dict(first.summary.reports) == {"aggregate": 1, "tls": 1}
    assert len(first.summary.errors) == 1
    assert imap_server.count(account, "INBOX", "UNSEEN") == 0
    second = poll(runtime, mailbox)
    assert second.messages == 0
    assert (count(runtime, DmarcReport), count(runtime, TlsReport)) == (1, 1)


def test_imap_poll_with_a_wrong_password_is_recorded_not_raised(
    imap_server: DovecotServer, runtime: Runtime, tenant: Tenant
) -> None:
    account = imap_server.add_account("dmarc-wrong@kyokai.example.jp", "right-password")
    mailbox = register_mailbox(runtime, tenant, imap_server, account.username, "wrong-password")
    result = poll(runtime, mailbox)
    assert result.error is not None
    assert "AUTHENTICATIONFAILED" in result.error.upper()
    with runtime.session() as session:
        stored = session.get(DmarcMailbox, mailbox.id)
        assert stored is not None
        assert stored.last_result is not None
        assert stored.last_result["error"] == result.error
