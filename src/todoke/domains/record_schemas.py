"""The record plan as it crosses the boundary (API, `todoke domain records --json`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from todoke.domains.records import RecordPlan, SendingProfile
from todoke.settings import Settings


class ProposedRecordOut(BaseModel):
    purpose: str = Field(description="spf, dkim, dmarc, dmarc_authorisation, mx, mta_sts, ...")
    name: str
    type: str
    value: str
    action: str = Field(description="add, replace, keep, or later")
    current: list[str]
    note: str
    zone_line: str = Field(description="The record as a zone-file line")


class RecordFileOut(BaseModel):
    url: str
    content: str


class RecordPlanOut(BaseModel):
    domain: str
    sends_mail: bool
    records: list[ProposedRecordOut]
    files: list[RecordFileOut]


def plan_out(plan: RecordPlan) -> RecordPlanOut:
    return RecordPlanOut(
        domain=plan.domain,
        sends_mail=plan.sends_mail,
        records=[
            ProposedRecordOut(
                purpose=item.purpose,
                name=item.name,
                type=item.rdtype,
                value=item.value,
                action=item.action,
                current=list(item.current),
                note=item.note,
                zone_line=item.zone_line if item.action != "later" else "",
            )
            for item in plan.records
        ],
        files=[RecordFileOut(url=url, content=content) for url, content in plan.files],
    )


def profile_from(
    settings: Settings, *, bimi_logo: str | None = None, bimi_certificate: str | None = None
) -> SendingProfile:
    """Todoke's side of the records: its sending IPs and its report receiver."""
    terms = tuple(
        f"ip6:{address.strip()}" if ":" in address else f"ip4:{address.strip()}"
        for address in settings.sending_ips
    )
    receiver = settings.receiver_domain
    return SendingProfile(
        spf_terms=terms,
        report_address=f"dmarc@{receiver}",
        tls_report_address=f"tlsrpt@{receiver}",
        bimi_logo_url=bimi_logo,
        bimi_certificate_url=bimi_certificate,
    )
