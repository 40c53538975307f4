"""SMTP TLS reports (RFC 8460 section 4) from JSON.

TLS reports are small and machine-written, so the parser is strict: a field with the wrong type
refuses the report with the field's path in the message, rather than storing a guess.
"""

from __future__ import annotations

import json
from datetime import datetime

from todoke.dmarc.parsing import values
from todoke.dmarc.parsing.errors import ParseRefused
from todoke.dmarc.report_types import TLSFailureDetail, TLSPolicyResult, TLSReport
from todoke.i18n import N_

#: top-level fields of RFC 8460 section 4.3; a JSON document with none of them is something else
_REPORT_FIELDS = frozenset({"organization-name", "date-range", "report-id", "policies"})


def _missing(path: str) -> ParseRefused:
    return ParseRefused(
        "report.missing_field", N_("The TLS report has no %(path)r field."), path=path
    )


def _invalid(path: str, template: str) -> ParseRefused:
    """`template` names what the field should be, with `%(path)r` for the field."""
    return ParseRefused("tls.invalid_field", template, path=path)


def _object(value: object, path: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _invalid(path, N_("The TLS report field %(path)r is not an object."))
    return value


def _string(document: dict[str, object], key: str, path: str, *, required: bool) -> str | None:
    value = document.get(key)
    if value is None:
        if required:
            raise _missing(f"{path}{key}")
        return None
    if not isinstance(value, str):
        raise _invalid(f"{path}{key}", N_("The TLS report field %(path)r is not a string."))
    return values.clean(value)


def _count(document: dict[str, object], key: str, path: str) -> int:
    value = document.get(key)
    if value is None:
        raise _missing(f"{path}{key}")
    # bool is an int subclass in Python; JSON true is not a count
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _invalid(
            f"{path}{key}", N_("The TLS report field %(path)r is not a non-negative integer.")
        )
    return value


def _strings(value: object, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):  # some reporters send one mx-host as a plain string
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(path, N_("The TLS report field %(path)r is not a list of strings."))
    return tuple(item.strip() for item in value if item.strip())


def _failure(value: object, path: str) -> TLSFailureDetail:
    detail = _object(value, path)
    result_type = _string(detail, "result-type", path + ".", required=True)
    return TLSFailureDetail(
        result_type=(result_type or "").lower(),
        failed_session_count=_count(detail, "failed-session-count", path + "."),
        sending_mta_ip=values.ip_address(
            _string(detail, "sending-mta-ip", path + ".", required=False)
        ),
        receiving_mx_hostname=values.domain(
            _string(detail, "receiving-mx-hostname", path + ".", required=False)
        ),
        receiving_mx_helo=_string(detail, "receiving-mx-helo", path + ".", required=False),
        receiving_ip=values.ip_address(_string(detail, "receiving-ip", path + ".", required=False)),
        additional_information=_string(
            detail, "additional-information", path + ".", required=False
        ),
        failure_reason_code=_string(detail, "failure-reason-code", path + ".", required=False),
    )


def _policy_result(value: object, path: str) -> TLSPolicyResult:
    entry = _object(value, path)
    if "policy" not in entry:
        raise _missing(f"{path}.policy")
    policy = _object(entry["policy"], f"{path}.policy")
    if "summary" not in entry:
        raise _missing(f"{path}.summary")
    summary = _object(entry["summary"], f"{path}.summary")
    policy_domain = values.domain(
        _string(policy, "policy-domain", f"{path}.policy.", required=True)
    )
    if policy_domain is None:
        raise _missing(f"{path}.policy.policy-domain")
    details = entry.get("failure-details") or []
    if not isinstance(details, list):
        raise _invalid(
            f"{path}.failure-details", N_("The TLS report field %(path)r is not a list.")
        )
    return TLSPolicyResult(
        policy_type=(
            _string(policy, "policy-type", f"{path}.policy.", required=True) or ""
        ).lower(),
        policy_domain=policy_domain,
        total_successful=_count(summary, "total-successful-session-count", f"{path}.summary."),
        total_failure=_count(summary, "total-failure-session-count", f"{path}.summary."),
        policy_strings=_strings(policy.get("policy-string"), f"{path}.policy.policy-string"),
        mx_hosts=tuple(
            host.lower() for host in _strings(policy.get("mx-host"), f"{path}.policy.mx-host")
        ),
        failures=tuple(
            _failure(item, f"{path}.failure-details[{index}]") for index, item in enumerate(details)
        ),
    )


def _datetime(date_range: dict[str, object], key: str) -> datetime:
    if key not in date_range:
        raise _missing(f"date-range.{key}")
    parsed = values.iso_datetime(date_range[key])
    if parsed is None:
        raise _invalid(
            f"date-range.{key}", N_("The TLS report field %(path)r is not an RFC 3339 date-time.")
        )
    return parsed


def _load(data: bytes) -> object:
    try:
        text = data.decode("utf-8-sig")  # RFC 8460 section 4.3: UTF-8 JSON
    except UnicodeDecodeError as error:
        raise ParseRefused(
            "encoding.invalid",
            N_("The JSON is not valid UTF-8 (bad byte at offset %(offset)s)."),
            offset=error.start,
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseRefused(
            "tls.invalid_json",
            N_("The JSON is not well-formed at line %(line)s, column %(column)s: %(reason)s."),
            line=error.lineno,
            column=error.colno,
            reason=error.msg,
        ) from None
    except (RecursionError, ValueError) as error:  # absurd nesting, 5,000-digit numbers
        raise ParseRefused(
            "tls.invalid_json", N_("The JSON cannot be read: %(reason)s."), reason=str(error)
        ) from None


def parse_tls(data: bytes) -> TLSReport:
    document = _load(data)
    if not isinstance(document, dict) or _REPORT_FIELDS.isdisjoint(document):
        raise ParseRefused(
            "tls.not_a_report",
            N_(
                "The JSON is not an SMTP TLS report (RFC 8460): it has none of "
                "organization-name, date-range, report-id or policies."
            ),
        )
    organization = _string(document, "organization-name", "", required=True)
    report_id = _string(document, "report-id", "", required=True)
    if organization is None or report_id is None:
        raise _missing("organization-name" if organization is None else "report-id")
    if "date-range" not in document:
        raise _missing("date-range")
    date_range = _object(document["date-range"], "date-range")
    policies = document.get("policies")
    if policies is None:
        raise _missing("policies")
    if not isinstance(policies, list):
        raise _invalid("policies", N_("The TLS report field %(path)r is not a list."))
    return TLSReport(
        organization_name=organization,
        report_id=report_id,
        begin=_datetime(date_range, "start-datetime"),
        end=_datetime(date_range, "end-datetime"),
        policies=[
            _policy_result(item, f"policies[{index}]") for index, item in enumerate(policies)
        ],
        contact_info=_string(document, "contact-info", "", required=False),
    )
