"""Containers: gzip, zip and report emails in the layouts reporters use."""

from __future__ import annotations

import pytest

from tests.unit.dmarc_parsing.reports import (
    aggregate_xml,
    gzipped,
    record_xml,
    report_email,
    tls_json,
    zipped,
)
from todoke.dmarc.parsing import parse_report_bytes
from todoke.dmarc.report_types import AggregateReport, TLSReport


def test_zip_with_one_good_and_one_bad_member_gives_one_report_and_one_error() -> None:
    data = zipped({"good.xml": aggregate_xml(report_id="good"), "bad.xml": b"<feedback><oops"})
    outcome = parse_report_bytes(data, name="batch.zip")
    assert [r.report_id for r in outcome.reports if isinstance(r, AggregateReport)] == ["good"]
    assert [(e.file, e.code) for e in outcome.errors] == [("batch.zip!bad.xml", "xml.truncated")]


def test_zip_directories_are_skipped() -> None:
    data = zipped({"reports/": b"", "reports/a.xml": aggregate_xml()})
    outcome = parse_report_bytes(data, name="dir.zip")
    assert (len(outcome.reports), outcome.errors) == (1, [])


def test_zip_with_many_reports_returns_each() -> None:
    members = {f"r{index}.xml": aggregate_xml(report_id=f"id-{index}") for index in range(5)}
    outcome = parse_report_bytes(zipped(members), name="many.zip")
    assert sorted(r.report_id for r in outcome.reports) == [f"id-{i}" for i in range(5)]


def test_gzip_detected_by_content_whatever_the_name() -> None:
    outcome = parse_report_bytes(gzipped(aggregate_xml()), name="report.xml")
    assert (len(outcome.reports), outcome.errors) == (1, [])


def test_concatenated_gzip_members_are_read_whole() -> None:
    report = aggregate_xml(records=[record_xml()] * 3)
    data = gzipped(report[:100]) + gzipped(report[100:])
    (parsed,) = parse_report_bytes(data, name="r.xml.gz").reports
    assert isinstance(parsed, AggregateReport)
    assert len(parsed.records) == 3


def test_email_with_a_gz_attachment_gives_the_report() -> None:
    mail = report_email(
        [(gzipped(aggregate_xml(report_id="gz-1")), "application/gzip", "r.xml.gz")]
    )
    outcome = parse_report_bytes(mail, name="mail.eml")
    assert ([r.report_id for r in outcome.reports], outcome.errors) == (["gz-1"], [])


@pytest.mark.parametrize(
    ("content_type", "wrap"),
    [
        ("application/zip", lambda data: zipped({"r.xml": data})),
        ("application/x-gzip", gzipped),
        ("application/octet-stream", gzipped),
        ("text/xml", lambda data: data),
        ("application/xml", lambda data: data),
    ],
)
@pytest.mark.parametrize("transfer_encoding", ["base64", "quoted-printable"])
@pytest.mark.parametrize("nested", [False, True])
def test_report_attachment_is_found_in_any_mime_layout(
    content_type: str, wrap: object, transfer_encoding: str, nested: bool
) -> None:
    assert callable(wrap)
    mail = report_email(
        [(wrap(aggregate_xml(report_id="layout")), content_type, "report")],
        transfer_encoding=transfer_encoding,
        nested=nested,
    )
    outcome = parse_report_bytes(mail, name="m.eml")
    assert ([r.report_id for r in outcome.reports], outcome.errors) == (["layout"], [])


def test_email_with_several_attachments_reports_each_and_names_bad_parts() -> None:
    mail = report_email(
        [
            (aggregate_xml(report_id="one"), "text/xml", "one.xml"),
            (b"\x00junk", "application/octet-stream", "junk.bin"),
            (gzipped(aggregate_xml(report_id="two")), "application/gzip", "two.xml.gz"),
        ]
    )
    outcome = parse_report_bytes(mail, name="m.eml")
    assert sorted(r.report_id for r in outcome.reports) == ["one", "two"]
    assert [(e.file, e.code) for e in outcome.errors] == [
        ("m.eml!part-3.bin", "input.unknown_format")
    ]


def test_tls_report_in_an_email_as_tlsrpt_gzip() -> None:
    mail = report_email([(gzipped(tls_json()), "application/tlsrpt+gzip", "tls.json.gz")])
    (report,) = parse_report_bytes(mail, name="tls.eml").reports
    assert isinstance(report, TLSReport)
    assert report.report_id == "tls-1"


def test_tls_report_in_an_email_as_tlsrpt_json() -> None:
    mail = report_email([(tls_json(), "application/tlsrpt+json", "tls.json")])
    (report,) = parse_report_bytes(mail, name="tls.eml").reports
    assert isinstance(report, TLSReport)


def test_mbox_saved_email_is_detected() -> None:
    mail = report_email([(aggregate_xml(), "text/xml", "r.xml")])
    outcome = parse_report_bytes(
        b"From reporter@example.net Mon Jan  1 00:00:00 2024\n" + mail, name="m"
    )
    assert len(outcome.reports) == 1


def test_zip_in_email_in_gzip_is_read_at_three_levels() -> None:
    mail = report_email([(zipped({"r.xml": aggregate_xml()}), "application/zip", "r.zip")])
    outcome = parse_report_bytes(gzipped(mail), name="mail.eml.gz")
    assert (len(outcome.reports), outcome.errors) == (1, [])
