"""Typed reports as the parsers give them: aggregate (RFC 7489 / RFC 9990), failure (RFC 6591
ARF and plain text), and SMTP TLS (RFC 8460). Pure data: no database, no I/O.

Values are normalised on the way in so every later stage can compare them directly: results and
policies lower-case, domains lower-case without a trailing dot, IP addresses in their compressed
canonical text, timestamps aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

AggregateSchema = Literal["rfc9990", "rfc7489", "draft"]
ReportKind = Literal["aggregate", "failure", "tls"]


@dataclass(slots=True, frozen=True)
class DkimAuthResult:
    domain: str
    selector: str | None
    #: pass, fail, none, neutral, policy, temperror, permerror
    result: str
    human_result: str | None = None


@dataclass(slots=True, frozen=True)
class SpfAuthResult:
    domain: str
    #: "mfrom" or "helo" (RFC 7489 scope); None when the reporter omits it
    scope: str | None
    #: pass, fail, softfail, neutral, none, temperror, permerror
    result: str
    human_result: str | None = None


@dataclass(slots=True, frozen=True)
class PolicyOverride:
    #: forwarded, sampled_out, trusted_forwarder, mailing_list, local_policy, policy_test_mode,
    #: other (RFC 7489 / RFC 9990 PolicyOverrideType)
    type: str
    comment: str | None = None


@dataclass(slots=True)
class AggregateRecord:
    source_ip: str
    count: int
    #: none, quarantine, reject (what the receiver did)
    disposition: str
    #: DMARC-aligned DKIM and SPF verdicts from policy_evaluated: "pass" or "fail"
    dkim_aligned: str
    spf_aligned: str
    header_from: str
    envelope_from: str | None = None
    envelope_to: str | None = None
    overrides: tuple[PolicyOverride, ...] = ()
    dkim: tuple[DkimAuthResult, ...] = ()
    spf: tuple[SpfAuthResult, ...] = ()

    @property
    def dmarc_pass(self) -> bool:
        return self.dkim_aligned == "pass" or self.spf_aligned == "pass"


@dataclass(slots=True, frozen=True)
class PolicyPublished:
    domain: str
    #: none, quarantine, reject
    p: str
    sp: str | None = None
    #: RFC 9990: policy for non-existent subdomains
    np: str | None = None
    adkim: str | None = None  # "r" or "s"
    aspf: str | None = None
    pct: int | None = None  # RFC 7489 only; RFC 9990 removed it
    fo: str | None = None
    testing: bool | None = None  # RFC 9990 t=y
    discovery_method: str | None = None  # RFC 9990: "psl" or "treewalk"
    psd: str | None = None


@dataclass(slots=True)
class AggregateReport:
    schema: AggregateSchema
    org_name: str
    report_id: str
    begin: datetime
    end: datetime
    policy: PolicyPublished
    records: list[AggregateRecord]
    email: str | None = None
    extra_contact_info: str | None = None
    generator: str | None = None
    errors: tuple[str, ...] = ()
    xml_lang: str | None = None
    kind: ReportKind = field(default="aggregate", init=False)

    @property
    def domain(self) -> str:
        return self.policy.domain

    @property
    def message_count(self) -> int:
        return sum(record.count for record in self.records)


@dataclass(slots=True)
class FailureReport:
    """One failed message as a receiver reported it (RFC 6591 ARF or a plain-text report)."""

    reporter: str  # the reporting organisation or the report mail's From domain
    feedback_type: str  # "auth-failure" for DMARC failure reports
    arrival_date: datetime | None
    source_ip: str | None
    reported_domain: str | None
    auth_failure: str | None  # dmarc, dkim, spf, adsp, bodyhash, revoked, signature
    original_mail_from: str | None = None
    original_rcpt_to: str | None = None
    delivery_result: str | None = None  # delivered, spam, policy, reject, other
    dkim_domain: str | None = None
    dkim_selector: str | None = None
    identity_alignment: str | None = None
    authentication_results: str | None = None
    header_from: str | None = None
    subject: str | None = None
    message_id: str | None = None
    #: The returned original headers (and body, if sent); personal data, shown only to
    #: users allowed to see it.
    original_headers: str | None = None
    user_agent: str | None = None
    kind: ReportKind = field(default="failure", init=False)


@dataclass(slots=True, frozen=True)
class TLSFailureDetail:
    result_type: str  # e.g. certificate-expired, starttls-not-supported, sts-policy-invalid
    failed_session_count: int
    sending_mta_ip: str | None = None
    receiving_mx_hostname: str | None = None
    receiving_mx_helo: str | None = None
    receiving_ip: str | None = None
    additional_information: str | None = None
    failure_reason_code: str | None = None


@dataclass(slots=True, frozen=True)
class TLSPolicyResult:
    policy_type: str  # sts, tlsa, no-policy-found
    policy_domain: str
    total_successful: int
    total_failure: int
    policy_strings: tuple[str, ...] = ()
    mx_hosts: tuple[str, ...] = ()
    failures: tuple[TLSFailureDetail, ...] = ()


@dataclass(slots=True)
class TLSReport:
    organization_name: str
    report_id: str
    begin: datetime
    end: datetime
    policies: list[TLSPolicyResult]
    contact_info: str | None = None
    kind: ReportKind = field(default="tls", init=False)


ParsedReport = AggregateReport | FailureReport | TLSReport
