"""Failure reports: RFC 6591 ARF and plain-text reports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.unit.dmarc_parsing.reports import plain_text_failure_email
from todoke.dmarc.parsing import parse_report_bytes
from todoke.dmarc.report_types import FailureReport

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "dmarc"

ARF_HEADERS_ONLY = b"""From: "Receiver" <ruf@Receiver.Example>
To: dmarc-ruf@example.com
Subject: =?utf-8?q?DMARC_Failure_report_for_example.com?=
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b1"

--b1
Content-Type: text/plain

A failure report.
--b1
Content-Type: message/feedback-report

Feedback-Type: auth-failure
Version: 1
User-Agent: Receiver/2.1
Auth-Failure: dkim
Source-IP: 2001:0db8:0000::0025
Reported-Domain: Example.com.
Original-Mail-From: <bounce@mailer.example>
Original-Rcpt-To: <user@receiver.example>
Arrival-Date: Thu, 2 May 2024 09:15:00 -0400
Delivery-Result: spam
DKIM-Domain: Example.com
DKIM-Selector: s1
Identity-Alignment: spf
Authentication-Results: receiver.example; dkim=fail header.d=example.com;
  spf=pass smtp.mailfrom=mailer.example

--b1
Content-Type: text/rfc822-headers

From: =?utf-8?b?5bGK44GR?= <news@Example.com>
Subject: =?utf-8?b?5qGI5YaF?=
Message-ID: <abc@mailer.example>

--b1--
"""


def only_failure(data: bytes, name: str = "ruf.eml") -> FailureReport:
    outcome = parse_report_bytes(data, name=name)
    assert outcome.errors == []
    (report,) = outcome.reports
    assert isinstance(report, FailureReport)
    return report


def test_linkedin_arf_sample_is_read() -> None:
    report = only_failure((SAMPLES / "dmarc_ruf_report_linkedin.eml").read_bytes())
    assert (report.reporter, report.feedback_type, report.auth_failure) == (
        "linkedin.com",
        "auth-failure",
        "dmarc",
    )
    assert (report.source_ip, report.reported_domain, report.delivery_result) == (
        "10.10.10.10",
        "example.com",
        "delivered",
    )
    assert report.arrival_date == datetime(2019, 4, 30, 2, 9, tzinfo=UTC)
    assert (report.header_from, report.subject) == (
        "example.com",
        "Subject line, could be UTF8 encoded",
    )
    assert report.message_id == "<01010101010101010101010101010101@ABAB01MS0016.someserver.loc>"
    assert (report.original_rcpt_to, report.original_mail_from) == ("recipient@linkedin.com", None)
    assert report.user_agent == "Lua/1.0"
    assert report.authentication_results is not None
    assert "dmarc=fail" in report.authentication_results
    assert report.original_headers is not None
    assert "X-OnPremExternalIP: 10.10.10.10" in report.original_headers


def test_arf_with_rfc822_headers_part_reads_every_field() -> None:
    report = only_failure(ARF_HEADERS_ONLY)
    assert report.reporter == "receiver.example"
    assert (report.auth_failure, report.source_ip, report.reported_domain) == (
        "dkim",
        "2001:db8::25",
        "example.com",
    )
    assert (report.original_mail_from, report.original_rcpt_to) == (
        "bounce@mailer.example",
        "<user@receiver.example>",
    )
    assert report.arrival_date == datetime(2024, 5, 2, 13, 15, tzinfo=UTC)
    assert (report.dkim_domain, report.dkim_selector, report.identity_alignment) == (
        "example.com",
        "s1",
        "spf",
    )
    assert (report.header_from, report.subject, report.message_id) == (
        "example.com",
        "案内",
        "<abc@mailer.example>",
    )
    assert report.authentication_results == (
        "receiver.example; dkim=fail header.d=example.com; spf=pass smtp.mailfrom=mailer.example"
    )


def test_arf_of_another_feedback_type_is_refused() -> None:
    data = ARF_HEADERS_ONLY.replace(b"Feedback-Type: auth-failure", b"Feedback-Type: abuse")
    outcome = parse_report_bytes(data, name="abuse.eml")
    assert [e.code for e in outcome.errors] == ["failure.unsupported_feedback_type"]


def test_plain_text_failure_report_is_read_best_effort() -> None:
    report = only_failure(plain_text_failure_email())
    assert (report.reporter, report.reported_domain, report.source_ip) == (
        "receiver.example",
        "example.com",
        "198.51.100.25",
    )
    assert report.arrival_date == datetime(2024, 5, 1, 1, 20, 30, tzinfo=UTC)
    assert (report.identity_alignment, report.delivery_result, report.auth_failure) == (
        "dkim",
        "spam",
        "dmarc",
    )
    assert (report.subject, report.message_id) == (
        "Urgent wire transfer",
        "<spoof-1@mailer.example>",
    )
    assert report.header_from == "example.com"


def test_ordinary_text_mail_is_not_a_failure_report() -> None:
    data = (
        plain_text_failure_email()
        .replace(b"Sender IP Address", b"Weather")
        .replace(b"Sender Domain", b"Mood")
    )
    data = data.replace(b"SPF Alignment", b"Lunch").replace(b"DKIM Alignment", b"Tea")
    data = data.replace(b"DMARC Results", b"Dinner")
    outcome = parse_report_bytes(data, name="chat.eml")
    assert [e.code for e in outcome.errors] == ["email.no_report"]
