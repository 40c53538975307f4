"""Shapes crossing the API boundary."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    slug: str
    name: str


class MeOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: str
    permissions: list[str]
    locale: str | None
    organisation: OrganisationOut


class LocaleIn(BaseModel):
    locale: Literal["ja", "en"] | None


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    occurred_at: datetime
    actor_label: str
    action: str
    target_type: str | None
    target_id: str | None
    ip: str | None
    details: dict[str, Any]
    hash: str


class AuditEventPage(BaseModel):
    items: list[AuditEventOut]
    page: int
    per_page: int
    total: int


class BrokenLinkOut(BaseModel):
    event_id: int | None
    chain: str
    seq: int
    reason: str


class AuditVerifyOut(BaseModel):
    ok: bool
    events_checked: int
    broken: BrokenLinkOut | None


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable", "not_migrated"]
    version: str
