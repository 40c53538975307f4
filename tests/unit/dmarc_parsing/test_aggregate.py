"""Aggregate reports: the shipped samples, RFC 9990 fields, and reporter quirks."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

from tests.unit.dmarc_parsing.reports import RFC9990_NS, aggregate_xml, record_xml
from todoke.dmarc.parsing import FileError, ParseLimits, parse_report_bytes
from todoke.dmarc.report_types import AggregateReport

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "dmarc"
FASTMAIL = "fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz"


def parse_one(data: bytes, name: str = "report.xml") -> AggregateReport:
    outcome = parse_report_bytes(data, name=name)
    assert outcome.errors == []
    (report,) = outcome.reports
    assert isinstance(report, AggregateReport)
    return report


def refused(data: bytes) -> FileError:
    outcome = parse_report_bytes(data, name="report.xml")
    assert outcome.reports == []
    (error,) = outcome.errors
    return error


def test_rfc9990_sample_is_read_with_its_new_fields() -> None:
    report = parse_one((SAMPLES / "rfc9990-sample.xml").read_bytes())
    assert (report.schema, report.org_name, report.report_id) == (
        "rfc9990",
        "Sample Reporter",
        "3v98abbp8ya9n3va8yr8oa3ya",
    )
    assert report.generator == "Example DMARC Aggregate Reporter v1.2"
    assert (report.policy.np, report.policy.testing, report.policy.discovery_method) == (
        "none",
        False,
        "treewalk",
    )
    (record,) = report.records
    assert (record.source_ip, record.count, record.disposition) == ("192.0.2.123", 123, "pass")
    assert record.dkim[0].selector == "abc123"
    assert report.begin == datetime(1979, 8, 7, tzinfo=UTC)


def test_old_draft_sample_is_read_as_draft() -> None:
    report = parse_one((SAMPLES / "old_draft_from_wiki.xml").read_bytes())
    assert (report.schema, report.org_name, report.domain) == ("draft", "acme.com", "example.com")
    assert report.report_id == "9391651994964116463"
    (record,) = report.records
    assert (record.source_ip, record.count, record.dkim_aligned, record.spf_aligned) == (
        "72.150.241.94",
        2,
        "fail",
        "pass",
    )
    assert record.dkim[0].human_result is None  # <human_result></human_result> means absent
    assert report.policy.pct == 100


def test_fastmail_gzip_sample_is_read_with_envelope_to() -> None:
    report = parse_one((SAMPLES / FASTMAIL).read_bytes(), name=FASTMAIL)
    assert (report.schema, report.org_name, report.report_id) == (
        "rfc7489",
        "FastMail Pty Ltd",
        "102675056",
    )
    assert (report.domain, report.message_count, len(report.records)) == ("indemed.com", 1, 1)
    record = report.records[0]
    assert (record.source_ip, record.envelope_to) == ("104.195.80.20", "fastmail.fm")
    assert (record.spf[0].scope, record.spf[0].result) == ("mfrom", "softfail")
    assert report.begin == datetime.fromtimestamp(1516060800, UTC)


def test_gzip_sample_matches_its_plain_xml() -> None:
    data = gzip.decompress((SAMPLES / FASTMAIL).read_bytes())
    assert parse_one(data) == parse_one((SAMPLES / FASTMAIL).read_bytes())


def test_hand_written_rfc9990_report_keeps_every_new_field() -> None:
    record = record_xml(
        disposition="pass",
        auth="<auth_results><dkim><domain>Mail.Example.COM.</domain><selector>s2024</selector>"
        '<result>pass</result><human_result xml:lang="en">good signature</human_result></dkim>'
        "<spf><domain>example.com</domain><scope>mfrom</scope><result>fail</result>"
        "<human_result>no match</human_result></spf></auth_results>",
        extra_row="<reason><type>local_policy</type><comment>arc</comment></reason>",
    )
    data = aggregate_xml(
        namespace=RFC9990_NS,
        records=[record],
        root_attributes=' xml:lang="ja"',
        metadata_extra="<generator>Reporter 2.0</generator><error>DNS timeout</error>",
        policy="<p>reject</p><sp>quarantine</sp><np>reject</np><adkim>s</adkim><aspf>r</aspf>"
        "<testing>y</testing><discovery_method>psl</discovery_method><fo>1</fo>",
    )
    report = parse_one(data)
    assert (report.schema, report.generator, report.xml_lang) == ("rfc9990", "Reporter 2.0", "ja")
    policy = report.policy
    assert (policy.p, policy.sp, policy.np, policy.adkim, policy.aspf) == (
        "reject",
        "quarantine",
        "reject",
        "s",
        "r",
    )
    assert (policy.testing, policy.discovery_method, policy.fo, policy.pct) == (
        True,
        "psl",
        "1",
        None,
    )
    (parsed,) = report.records
    assert parsed.dkim[0].domain == "mail.example.com"
    assert parsed.dkim[0].human_result == "good signature"
    assert parsed.spf[0].human_result == "no match"
    assert parsed.overrides[0].type == "local_policy"
    assert report.errors == ("reporter error: DNS timeout",)


def test_upper_case_results_and_policies_are_lower_cased() -> None:
    record = record_xml(
        disposition="Quarantine",
        dkim="FAIL",
        spf="Pass",
        header_from="Example.COM",
        auth="<auth_results><dkim><domain>EXAMPLE.com</domain><result>PermError</result></dkim>"
        "<spf><domain>example.com</domain><result>SoftFail</result></spf></auth_results>",
    )
    report = parse_one(aggregate_xml(records=[record], policy="<p>REJECT</p><adkim>R</adkim>"))
    parsed = report.records[0]
    assert (parsed.disposition, parsed.dkim_aligned, parsed.spf_aligned) == (
        "quarantine",
        "fail",
        "pass",
    )
    assert (parsed.header_from, parsed.dkim[0].result, parsed.spf[0].result) == (
        "example.com",
        "permerror",
        "softfail",
    )
    assert (report.policy.p, report.policy.adkim) == ("reject", "r")


def test_whitespace_around_values_is_ignored() -> None:
    record = record_xml(source_ip="\n  2001:DB8:0:0::1 \t", count=" 7\n", dkim=" pass ")
    report = parse_one(aggregate_xml(records=[record], report_id="\n  id-42  \n"))
    assert (report.report_id, report.records[0].source_ip) == ("id-42", "2001:db8::1")
    assert (report.records[0].count, report.records[0].dkim_aligned) == (7, "pass")


def test_report_without_version_is_draft_schema() -> None:
    assert parse_one(aggregate_xml(version=None)).schema == "draft"


def test_report_with_version_and_no_namespace_is_rfc7489() -> None:
    assert parse_one(aggregate_xml(version="1.0")).schema == "rfc7489"


def test_rfc9990_fields_without_namespace_mark_rfc9990() -> None:
    report = parse_one(aggregate_xml(version=None, policy="<p>none</p><np>reject</np>"))
    assert report.schema == "rfc9990"


def test_several_auth_results_entries_are_merged() -> None:
    auth = (
        "<auth_results><dkim><domain>a.example</domain><result>pass</result></dkim></auth_results>"
        "<auth_results><dkim><domain>b.example</domain><result>fail</result></dkim>"
        "<spf><domain>example.com</domain><result>pass</result></spf></auth_results>"
    )
    (record,) = parse_one(aggregate_xml(records=[record_xml(auth=auth)])).records
    assert [d.domain for d in record.dkim] == ["a.example", "b.example"]
    assert len(record.spf) == 1


def test_missing_optional_fields_are_none() -> None:
    (record,) = parse_one(aggregate_xml(records=[record_xml(auth="")])).records
    assert (record.envelope_from, record.envelope_to, record.dkim, record.spf) == (
        None,
        None,
        (),
        (),
    )


def test_multi_day_range_is_kept_as_is() -> None:
    report = parse_one(aggregate_xml(begin="1700000000", end="1700604799"))
    assert (report.end - report.begin).days == 6
    assert report.begin.tzinfo is UTC


def test_record_with_invalid_ip_is_skipped_with_a_warning() -> None:
    records = [record_xml(source_ip="300.1.2.3"), record_xml(source_ip="192.0.2.9", count="5")]
    report = parse_one(aggregate_xml(records=records))
    assert [r.source_ip for r in report.records] == ["192.0.2.9"]
    assert "record 1" in report.errors[0]
    assert "300.1.2.3" in report.errors[0]


def test_record_with_non_integer_count_is_skipped_with_a_warning() -> None:
    records = [record_xml(count="many"), record_xml(count="3")]
    report = parse_one(aggregate_xml(records=records))
    assert report.message_count == 3
    assert "count" in report.errors[0]


def test_missing_report_id_is_an_error_naming_the_field() -> None:
    error = refused(aggregate_xml().replace(b"<report_id>report-1</report_id>", b""))
    assert error.code == "report.missing_field"
    assert "report_id" in error.message


def test_missing_org_name_is_an_error_naming_the_field() -> None:
    error = refused(aggregate_xml(org_name=" "))
    assert (error.code, "org_name" in error.message) == ("report.missing_field", True)


def test_missing_policy_domain_is_an_error_naming_the_field() -> None:
    error = refused(aggregate_xml().replace(b"<domain>example.com</domain>", b"", 1))
    assert (error.code, "domain" in error.message) == ("report.missing_field", True)


def test_missing_date_range_is_an_error_naming_the_field() -> None:
    data = aggregate_xml().replace(
        b"<date_range><begin>1700000000</begin><end>1700086399</end></date_range>", b""
    )
    error = refused(data)
    assert (error.code, "date_range" in error.message) == ("report.missing_field", True)


def test_non_numeric_begin_is_an_invalid_field() -> None:
    error = refused(aggregate_xml(begin="yesterday"))
    assert (error.code, "begin" in error.message) == ("report.invalid_field", True)


def test_identities_element_of_the_old_draft_is_read() -> None:
    data = aggregate_xml(version=None).replace(b"identifiers>", b"identities>")
    assert parse_one(data).records[0].header_from == "example.com"


def test_record_limit_is_enforced() -> None:

    outcome = parse_report_bytes(
        aggregate_xml(records=[record_xml()] * 5), name="r.xml", limits=ParseLimits(max_records=4)
    )
    assert [e.code for e in outcome.errors] == ["report.too_many_records"]


def test_latin1_declared_report_is_decoded() -> None:
    data = aggregate_xml(org_name="R\xe9porteur").decode().replace("UTF-8", "ISO-8859-1")
    assert parse_one(data.encode("latin-1")).org_name == "Réporteur"
