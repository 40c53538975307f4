"""The record plan as it crosses the boundary (API, `todoke domain records --json`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from todoke.domains.records import RecordPlan


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
