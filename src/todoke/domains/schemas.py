"""Domain inventory and DKIM keys as they cross the boundary (API, CLI --json)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from todoke.domains.checklist import ChecklistItem
from todoke.domains.checks.findings import Status
from todoke.domains.checks.schemas import FindingOut, finding_out
from todoke.domains.dkim_keys import txt_value
from todoke.domains.inventory import findings_from_rows
from todoke.domains.models import DkimKey, DomainCheckRun


class CheckRunOut(BaseModel):
    checked_at: datetime
    status: Status
    worse: list[str] = Field(description="Finding ids more severe than in the previous run")
    trigger: str
    findings: list[FindingOut]


class DkimKeyOut(BaseModel):
    selector: str
    type: str
    bits: int
    state: str = Field(description="generated, published, active, retired or revoked")
    created_at: datetime
    txt: str = Field(description="The TXT record to publish for this key now")


def run_out(run: DomainCheckRun, locale: str) -> CheckRunOut:
    return CheckRunOut(
        checked_at=run.checked_at,
        status=Status(run.status),
        worse=list(run.worse),
        trigger=run.trigger,
        findings=[finding_out(item, locale) for item in findings_from_rows(run.findings)],
    )


def key_out(key: DkimKey) -> DkimKeyOut:
    return DkimKeyOut(
        selector=key.selector,
        type=key.key_type,
        bits=key.bits,
        state=key.state,
        created_at=key.created_at,
        txt=txt_value(key),
    )


class ChecklistItemOut(BaseModel):
    id: str
    providers: list[str] = Field(description="gmail, yahoo, outlook: whose rule it is")
    status: str = Field(description="pass, warn, fail, or unknown (no evidence yet)")
    title: str
    evidence: str
    advice: str


def checklist_item_out(item: ChecklistItem) -> ChecklistItemOut:
    return ChecklistItemOut(
        id=item.id,
        providers=list(item.providers),
        status=item.status,
        title=item.title,
        evidence=item.evidence,
        advice=item.advice,
    )
