"""MTA-STS (RFC 8461): the `_mta-sts` TXT record, the HTTPS policy, and the MX hosts it covers.

A sender that finds the record fetches `https://mta-sts.<domain>/.well-known/mta-sts.txt` and,
in `enforce` mode, delivers only to MX hosts the policy's `mx` patterns cover, over TLS with a
valid certificate. So a broken policy or an MX the patterns miss is a delivery failure waiting to
happen, and both are reported as such.
"""

from __future__ import annotations

import asyncio
from typing import Final

from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.findings import Finding, Status
from todoke.domains.checks.https_fetch import Fetched, FetchError, fetch
from todoke.domains.checks.mta_sts_record import (
    STS_VERSION,
    RecordError,
    StsRecord,
    parse_sts_record,
    select,
    txt_records,
)
from todoke.domains.mta_sts_policy import MtaStsPolicy, PolicyError, parse_policy, uncovered
from todoke.domains.spf.lookup import Answer, DnsLookupError

SECTION: Final = "mta_sts"
POLICY_PATH: Final = "/.well-known/mta-sts.txt"
#: RFC 8461 §3.2 calls for max_age "weeks or greater"; under a day caches churn
ONE_DAY: Final = 86_400
ONE_WEEK: Final = 7 * ONE_DAY
#: §3.3: the policy is served as text/plain
POLICY_MEDIA_TYPES: Final = ("text/plain",)

#: every finding this section can emit, with the values it fills
FINDINGS: Final[dict[str, frozenset[str]]] = {
    "missing": frozenset({"name"}),
    "record_invalid": frozenset({"name", "reason"}),
    "policy_unreachable": frozenset({"url", "reason"}),
    "certificate_invalid": frozenset({"url", "reason"}),
    "policy_invalid": frozenset({"url", "reason"}),
    "enforce": frozenset({"id", "max_age"}),
    "testing": frozenset({"id", "max_age"}),
    "mode_none": frozenset({"id"}),
    "mx_covered": frozenset({"hosts", "patterns"}),
    "mx_mismatch": frozenset({"hosts", "patterns", "count"}),
    "no_mx": frozenset({"domain"}),
    "max_age_short": frozenset({"max_age"}),
    "max_age_low": frozenset({"max_age", "days"}),
    "repeated_fields": frozenset({"fields"}),
    "dns_error": frozenset({"name", "rdtype", "reason"}),
}

_PROBLEM_FINDING: Final = {
    "certificate": "certificate_invalid",
    "content_type": "policy_invalid",
    "too_large": "policy_invalid",
}


def _finding(
    kind: str, status: Status, evidence: tuple[str, ...] = (), /, **values: str | int
) -> Finding:
    return Finding(id=f"{SECTION}.{kind}", status=status, values=values, evidence=evidence)


async def check(context: CheckContext) -> list[Finding]:
    record_name = f"_mta-sts.{context.domain}"
    texts = await txt_records(context, record_name)
    if not texts:
        return [_finding("missing", Status.INFO, name=record_name)]
    record = _record(record_name, texts)
    if isinstance(record, Finding):
        return [record]
    url = f"https://mta-sts.{context.domain}{POLICY_PATH}"
    fetched, mx = await asyncio.gather(_fetch_policy(context, url), _mx_hosts(context))
    if isinstance(fetched, Finding):
        return [fetched]
    try:
        policy = parse_policy(fetched.body)
    except PolicyError as error:
        return [
            _finding(
                "policy_invalid", Status.FAIL, _policy_evidence(fetched), url=url, reason=str(error)
            )
        ]
    return _policy_findings(context, record, policy, fetched, mx)


def _record(name: str, texts: tuple[str, ...]) -> StsRecord | Finding:
    chosen = select(texts, STS_VERSION)
    evidence = texts
    if len(chosen) > 1:
        reason = f"{len(chosen)} records begin with {STS_VERSION}; senders then use none (§3.1)"
        return _finding("record_invalid", Status.FAIL, evidence, name=name, reason=reason)
    try:
        return parse_sts_record(chosen[0] if chosen else texts[0])
    except RecordError as error:
        return _finding("record_invalid", Status.FAIL, evidence, name=name, reason=str(error))


async def _fetch_policy(context: CheckContext, url: str) -> Fetched | Finding:
    try:
        return await fetch(context.dns, context.options.https, url, media_types=POLICY_MEDIA_TYPES)
    except FetchError as error:
        name = _PROBLEM_FINDING.get(error.problem, "policy_unreachable")
        return _finding(name, Status.FAIL, (error.reason,), url=url, reason=error.reason)


async def _mx_hosts(context: CheckContext) -> Answer[str] | Finding:
    try:
        return await context.dns.mx(context.domain)
    except DnsLookupError as error:
        return _finding(
            "dns_error", Status.WARN, name=error.name, rdtype=error.rdtype, reason=str(error)
        )


def _policy_findings(
    context: CheckContext,
    record: StsRecord,
    policy: MtaStsPolicy,
    fetched: Fetched,
    mx: Answer[str] | Finding,
) -> list[Finding]:
    evidence = (f"_mta-sts.{context.domain} TXT id={record.id}", *_policy_evidence(fetched))
    findings = [_mode_finding(record, policy, evidence)]
    if policy.repeated:
        findings.append(_finding("repeated_fields", Status.WARN, fields=", ".join(policy.repeated)))
    if policy.max_age < ONE_DAY:
        findings.append(_finding("max_age_short", Status.WARN, max_age=policy.max_age))
    elif policy.max_age < ONE_WEEK:
        findings.append(
            _finding(
                "max_age_low", Status.INFO, max_age=policy.max_age, days=policy.max_age // ONE_DAY
            )
        )
    if policy.mode != "none":
        findings.append(_mx_finding(context.domain, policy, mx))
    return findings


def _mode_finding(record: StsRecord, policy: MtaStsPolicy, evidence: tuple[str, ...]) -> Finding:
    if policy.mode == "enforce":
        return _finding("enforce", Status.PASS, evidence, id=record.id, max_age=policy.max_age)
    if policy.mode == "testing":
        return _finding("testing", Status.INFO, evidence, id=record.id, max_age=policy.max_age)
    return _finding("mode_none", Status.WARN, evidence, id=record.id)


def _mx_finding(domain: str, policy: MtaStsPolicy, mx: Answer[str] | Finding) -> Finding:
    if isinstance(mx, Finding):
        return mx
    hosts = tuple(host for host in mx.values if host != ".")
    if not hosts:
        return _finding("no_mx", Status.INFO, domain=domain)
    patterns = ", ".join(policy.mx)
    missed = uncovered(policy.mx, hosts)
    evidence = tuple(f"MX {host}" for host in hosts)
    if missed:
        return _finding(
            "mx_mismatch",
            Status.FAIL,
            evidence,
            hosts=", ".join(missed),
            patterns=patterns,
            count=len(missed),
        )
    return _finding("mx_covered", Status.PASS, evidence, hosts=", ".join(hosts), patterns=patterns)


def _policy_evidence(fetched: Fetched) -> tuple[str, ...]:
    text = fetched.body[:2000].decode("utf-8", errors="backslashreplace")
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()][:20]
    return (f"{fetched.url} ({fetched.address}, {fetched.media_type or 'no Content-Type'})", *lines)
