"""SMTP TLS reports (RFC 8460)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.dmarc_parsing.reports import gzipped, tls_json
from todoke.dmarc.parsing import FileError, parse_report_bytes
from todoke.dmarc.report_types import TLSReport

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "dmarc"


def only_tls(data: bytes) -> TLSReport:
    outcome = parse_report_bytes(data, name="tls.json")
    assert outcome.errors == []
    (report,) = outcome.reports
    assert isinstance(report, TLSReport)
    return report


def refused(data: bytes) -> FileError:
    outcome = parse_report_bytes(data, name="tls.json")
    assert outcome.reports == []
    (error,) = outcome.errors
    return error


def test_rfc8460_sample_is_read() -> None:
    report = only_tls((SAMPLES / "rfc8460.json").read_bytes())
    assert (report.organization_name, report.report_id) == (
        "Company-X",
        "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
    )
    assert report.begin == datetime(2016, 4, 1, tzinfo=UTC)
    assert report.contact_info == "sts-reporting@company-x.example"
    (policy,) = report.policies
    assert (policy.policy_type, policy.policy_domain) == ("sts", "company-y.example")
    assert (policy.total_successful, policy.total_failure) == (5326, 303)
    assert policy.mx_hosts == ("*.mail.company-y.example",)
    assert policy.policy_strings[1] == "mode: testing"
    assert [f.failed_session_count for f in policy.failures] == [100, 200, 3]
    first, second, third = policy.failures
    assert (first.result_type, first.sending_mta_ip) == (
        "certificate-expired",
        "2001:db8:abcd:12::1",
    )
    assert second.receiving_ip == "203.0.113.56"
    assert second.additional_information is not None
    assert third.failure_reason_code == "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"


def test_gzipped_tls_report_is_read() -> None:
    assert (
        only_tls(gzipped((SAMPLES / "rfc8460.json").read_bytes())).organization_name == "Company-X"
    )


def test_missing_report_id_names_the_field() -> None:
    document = json.loads(tls_json())
    del document["report-id"]
    error = refused(json.dumps(document).encode())
    assert (error.code, "report-id" in error.message) == ("report.missing_field", True)


@pytest.mark.parametrize(
    ("override", "path"),
    [
        (
            {"date-range": {"start-datetime": "soon", "end-datetime": "2024-01-01T00:00:00Z"}},
            "start-datetime",
        ),
        ({"policies": {"not": "a list"}}, "policies"),
        ({"organization-name": 42}, "organization-name"),
    ],
)
def test_wrong_field_type_names_the_field(override: dict[str, object], path: str) -> None:
    error = refused(tls_json(**override))
    assert error.code == "tls.invalid_field"
    assert path in error.message


def test_negative_session_count_names_its_path() -> None:
    document = json.loads(tls_json())
    document["policies"][0]["summary"]["total-failure-session-count"] = -1
    error = refused(json.dumps(document).encode())
    assert "policies[0].summary.total-failure-session-count" in error.message


def test_invalid_utf8_json_is_an_encoding_error() -> None:
    assert refused(tls_json().replace(b"Example", b"Ex\xffample")).code == "encoding.invalid"
