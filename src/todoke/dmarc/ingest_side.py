"""Storing failure (RFC 6591) and SMTP TLS (RFC 8460) reports: one row each, de-duplicated."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from todoke.dmarc.models import DmarcFailureReport, TlsReport
from todoke.dmarc.report_types import FailureReport, TLSReport


def _failure_fingerprint(report: FailureReport) -> str:
    parts = (
        report.reporter,
        report.message_id,
        report.arrival_date.isoformat() if report.arrival_date else None,
        report.source_ip,
        report.reported_domain,
        report.original_rcpt_to,
        report.auth_failure,
    )
    text = "\x1f".join("" if part is None else part for part in parts)
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def store_failure(
    session: Session, organisation_id: int, report: FailureReport, source_name: str, channel: str
) -> bool:
    """Store one failure report; False when the same one is already stored."""
    fingerprint = _failure_fingerprint(report)
    exists = session.scalar(
        select(DmarcFailureReport.id).where(
            DmarcFailureReport.organisation_id == organisation_id,
            DmarcFailureReport.fingerprint == fingerprint,
        )
    )
    if exists is not None:
        return False
    session.add(
        DmarcFailureReport(
            organisation_id=organisation_id,
            fingerprint=fingerprint,
            reporter=report.reporter[:300],
            feedback_type=report.feedback_type[:32],
            arrival_date=report.arrival_date,
            source_ip=report.source_ip,
            reported_domain=report.reported_domain,
            auth_failure=report.auth_failure,
            delivery_result=report.delivery_result,
            header_from=report.header_from,
            dkim_domain=report.dkim_domain,
            dkim_selector=report.dkim_selector,
            original_mail_from=report.original_mail_from,
            original_rcpt_to=report.original_rcpt_to,
            subject=report.subject,
            message_id=report.message_id,
            original_headers=report.original_headers,
            authentication_results=report.authentication_results,
            source_name=source_name[:500],
            channel=channel,
        )
    )
    return True


def store_tls(
    session: Session, organisation_id: int, report: TLSReport, source_name: str, channel: str
) -> bool:
    """Store one SMTP TLS report; False when the same one is already stored."""
    exists = session.scalar(
        select(TlsReport.id).where(
            TlsReport.organisation_id == organisation_id,
            TlsReport.organization_name == report.organization_name,
            TlsReport.report_id == report.report_id,
        )
    )
    if exists is not None:
        return False
    policies = [
        {
            "policy_type": policy.policy_type,
            "policy_domain": policy.policy_domain,
            "policy_strings": list(policy.policy_strings),
            "mx_hosts": list(policy.mx_hosts),
            "total_successful": policy.total_successful,
            "total_failure": policy.total_failure,
            "failures": [
                {
                    "result_type": failure.result_type,
                    "failed_session_count": failure.failed_session_count,
                    "sending_mta_ip": failure.sending_mta_ip,
                    "receiving_mx_hostname": failure.receiving_mx_hostname,
                    "receiving_ip": failure.receiving_ip,
                    "additional_information": failure.additional_information,
                    "failure_reason_code": failure.failure_reason_code,
                }
                for failure in policy.failures
            ],
        }
        for policy in report.policies
    ]
    session.add(
        TlsReport(
            organisation_id=organisation_id,
            organization_name=report.organization_name[:300],
            report_id=report.report_id[:300],
            begin_at=report.begin,
            end_at=report.end,
            contact_info=report.contact_info,
            policies=policies,
            total_successful=sum(p.total_successful for p in report.policies),
            total_failure=sum(p.total_failure for p in report.policies),
            source_name=source_name[:500],
            channel=channel,
        )
    )
    return True
