"""The test-mail verdict as it crosses the boundary, with the error pattern's advice."""

from __future__ import annotations

from pydantic import BaseModel, Field

from todoke.dmarc.analysis.advice import advise
from todoke.domains.message_check import MessageVerdict


class SignatureOut(BaseModel):
    domain: str
    selector: str
    result: str
    aligned: bool
    reason: str


class PatternOut(BaseModel):
    id: str
    title: str
    meaning: str
    action: str


class MessageVerdictOut(BaseModel):
    header_from: str = Field(description="RFC5322.From domain, the one DMARC protects")
    envelope_from: str = Field(description="MAIL FROM (Return-Path) domain, the one SPF checks")
    client_ip: str
    helo: str
    spf: str
    spf_explanation: str
    spf_aligned: bool
    dkim: list[SignatureOut]
    arc: str
    arc_reason: str
    dmarc: str = Field(description="pass, fail, or none when the domain publishes no policy")
    policy: str | None = Field(description="The DMARC record that applies, as published")
    policy_found_at: str | None
    pattern: PatternOut | None
    list_unsubscribe: str | None
    one_click_unsubscribe: bool


def verdict_out(verdict: MessageVerdict, locale: str) -> MessageVerdictOut:
    pattern = None
    if verdict.pattern is not None:
        advice = advise(
            verdict.pattern,
            locale=locale,
            domain=verdict.header_from,
            sender=None,
            shape=None,
            sender_fix=None,
        )
        pattern = PatternOut(
            id=verdict.pattern, title=advice.title, meaning=advice.meaning, action=advice.action
        )
    return MessageVerdictOut(
        header_from=verdict.header_from,
        envelope_from=verdict.envelope_from_domain,
        client_ip=verdict.envelope.client_ip,
        helo=verdict.envelope.helo,
        spf=verdict.spf.result,
        spf_explanation=verdict.spf.explanation,
        spf_aligned=verdict.spf_aligned,
        dkim=[
            SignatureOut(
                domain=s.domain,
                selector=s.selector,
                result=s.result,
                aligned=s.aligned,
                reason=s.reason,
            )
            for s in verdict.dkim
        ],
        arc=verdict.arc,
        arc_reason=verdict.arc_reason,
        dmarc=verdict.dmarc,
        policy=verdict.policy.record if verdict.policy else None,
        policy_found_at=verdict.policy.found_at if verdict.policy else None,
        pattern=pattern,
        list_unsubscribe=verdict.list_unsubscribe,
        one_click_unsubscribe=verdict.one_click_unsubscribe,
    )
