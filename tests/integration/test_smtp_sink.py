"""The SMTP half of the rig, driven by smtplib as a real client would."""

from __future__ import annotations

import smtplib
import socket
import ssl

import pytest

from tests.rig.smtp_sink import SMTPSink
from tests.rig.tls import CertificateAuthority

MESSAGE = (
    b"From: Sender <sender@example.test>\r\n"
    b"To: Rcpt <rcpt@example.org>\r\n"
    b"Subject: rig\r\n"
    b"\r\n"
    b"Hello over the rig.\r\n"
    b".leading dot survives\r\n"
)
# Many short lines: one long line would trip the 1000-octet line limit (500) before the size.
OVERSIZE = MESSAGE + (b"x" * 70 + b"\r\n") * 30


def connect(sink: SMTPSink) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", sink.port, local_hostname="client.example.test", timeout=5)
    client.ehlo()
    return client


def trusting(test_ca: CertificateAuthority) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(test_ca.cert_path))


def test_starttls_delivery_is_recorded(smtp_sink: SMTPSink, test_ca: CertificateAuthority) -> None:
    with connect(smtp_sink) as client:
        assert client.has_extn("starttls")
        client.starttls(context=trusting(test_ca))
        client.ehlo()
        refused = client.sendmail("sender@example.test", ["rcpt@example.org"], MESSAGE)
    assert refused == {}
    (message,) = smtp_sink.messages
    assert message.mail_from == "sender@example.test"
    assert message.rcpt_tos == ("rcpt@example.org",)
    assert message.data == MESSAGE
    assert message.tls is True
    assert message.helo == "client.example.test"
    assert message.peer[0] == "127.0.0.1"
    assert message.parsed()["Subject"] == "rig"


def test_plaintext_delivery_is_recorded_as_not_tls(smtp_sink: SMTPSink) -> None:
    with connect(smtp_sink) as client:
        client.sendmail("sender@example.test", ["rcpt@example.org"], MESSAGE)
    assert [m.tls for m in smtp_sink.wait_for_messages(1)] == [False]


def test_certificate_is_not_trusted_without_the_test_ca(smtp_sink: SMTPSink) -> None:
    with connect(smtp_sink) as client, pytest.raises(ssl.SSLCertVerificationError):
        client.starttls(context=ssl.create_default_context())


def test_certificate_verifies_for_the_mx_name(
    smtp_sink: SMTPSink, test_ca: CertificateAuthority
) -> None:
    # smtplib checks the certificate against the address it dialled, so speak SMTP by hand to
    # ask for mx.example.test as an MTA would after an MX lookup.
    with socket.create_connection(("127.0.0.1", smtp_sink.port), timeout=5) as raw:
        with raw.makefile("rb") as reader:
            assert reader.readline().startswith(b"220 ")
            raw.sendall(b"EHLO client.example.test\r\n")
            # The EHLO reply runs over several lines; the last one has a space after the code.
            assert any(line.startswith(b"250 ") for line in iter(reader.readline, b""))
            raw.sendall(b"STARTTLS\r\n")
            assert reader.readline().startswith(b"220 ")
        with trusting(test_ca).wrap_socket(raw, server_hostname="mx.example.test") as tls:
            certificate = tls.getpeercert()
    assert certificate is not None
    assert ("DNS", "mx.example.test") in certificate["subjectAltName"]


def test_rejected_recipient_gets_550_and_others_still_receive(smtp_sink: SMTPSink) -> None:
    smtp_sink.reject("Reject@Example.org")
    with connect(smtp_sink) as client:
        refused = client.sendmail(
            "sender@example.test", ["reject@example.org", "rcpt@example.org"], MESSAGE
        )
    assert refused == {"reject@example.org": (550, b"5.1.1 No such user")}
    assert [m.rcpt_tos for m in smtp_sink.messages] == [("rcpt@example.org",)]


def test_only_rejected_recipients_means_no_message(smtp_sink: SMTPSink) -> None:
    smtp_sink.reject("reject@example.org", 450, "4.2.1 Try later")
    with connect(smtp_sink) as client, pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        client.sendmail("sender@example.test", ["reject@example.org"], MESSAGE)
    assert refused.value.recipients == {"reject@example.org": (450, b"4.2.1 Try later")}
    assert smtp_sink.messages == []


def test_data_reply_fails_the_transaction(smtp_sink: SMTPSink) -> None:
    smtp_sink.data_reply = "451 4.3.0 Try again later"
    with connect(smtp_sink) as client, pytest.raises(smtplib.SMTPDataError) as error:
        client.sendmail("sender@example.test", ["rcpt@example.org"], MESSAGE)
    assert error.value.smtp_code == 451
    assert smtp_sink.messages == []


def test_oversize_message_declared_with_size_is_refused_with_552(
    test_ca: CertificateAuthority,
) -> None:
    with SMTPSink(test_ca.server_context(), max_message_size=1024) as sink, connect(sink) as client:
        assert client.esmtp_features["size"] == "1024"
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("sender@example.test", ["rcpt@example.org"], OVERSIZE)
        assert refused.value.smtp_code == 552
        assert sink.messages == []


def test_oversize_data_without_size_is_refused_with_552(test_ca: CertificateAuthority) -> None:
    with SMTPSink(test_ca.server_context(), max_message_size=1024) as sink, connect(sink) as client:
        assert client.mail("sender@example.test")[0] == 250
        assert client.rcpt("rcpt@example.org")[0] == 250
        code, _ = client.data(OVERSIZE)
        assert code == 552
        assert sink.messages == []


def test_require_starttls_refuses_mail_before_tls(test_ca: CertificateAuthority) -> None:
    with SMTPSink(test_ca.server_context(), require_starttls=True) as sink, connect(sink) as client:
        code, _ = client.mail("sender@example.test")
        assert code == 530
        client.starttls(context=trusting(test_ca))
        client.ehlo()
        client.sendmail("sender@example.test", ["rcpt@example.org"], MESSAGE)
    assert [m.tls for m in sink.messages] == [True]


def test_waiting_for_a_message_that_never_comes_times_out(smtp_sink: SMTPSink) -> None:
    with pytest.raises(TimeoutError, match="expected 1 message"):
        smtp_sink.wait_for_messages(1, timeout=0.1)
