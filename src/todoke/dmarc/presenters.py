"""Analysis results turned into the schemas the API and `--json` output share."""

from __future__ import annotations

from todoke.dmarc.analyses import AnalysedSource, PatternView
from todoke.dmarc.analysis import reason_text
from todoke.dmarc.analysis.advice import sender_name
from todoke.dmarc.analysis.texts import as_locale
from todoke.dmarc.insights import PatternsAnswer, SourcesPage
from todoke.dmarc.posture import DomainReadiness, InventoryEntry
from todoke.dmarc.schemas import (
    AffectedSourceOut,
    BlockerOut,
    InventoryOut,
    PatternOut,
    PatternsOut,
    ReadinessOut,
    SenderOut,
    SourceOut,
    SourcesOut,
)
from todoke.dmarc.shapes import SenderIdentity


def sender_out(sender: SenderIdentity | None) -> SenderOut | None:
    if sender is None:
        return None
    return SenderOut(
        key=sender.key,
        name=sender.name,
        name_ja=sender.name_ja,
        category=sender.category,
        matched_by=sender.matched_by,
        tags=list(sender.tags),
    )


def source_out(source: AnalysedSource) -> SourceOut:
    return SourceOut(
        rank=source.rank,
        source_ip=source.source_ip,
        ptr_name=source.ptr_name,
        sender=sender_out(source.sender),
        messages=source.messages,
        dmarc_pass=source.dmarc_pass,
        dmarc_fail=source.dmarc_fail,
        spf_aligned=source.spf_aligned,
        dkim_aligned=source.dkim_aligned,
        classification=source.kind,
        rule=source.rule,
        dominant_pattern=source.dominant_pattern,
    )


def sources_out(page: SourcesPage) -> SourcesOut:
    return SourcesOut(
        domain=page.domain,
        since=page.since,
        until=page.until,
        computed_at=page.computed_at,
        page=page.page,
        per_page=page.per_page,
        total=page.total,
        pages=page.pages,
        messages=page.messages,
        dmarc_pass=page.dmarc_pass,
        sources=[source_out(source) for source in page.sources],
    )


def pattern_out(view: PatternView, locale: str) -> PatternOut:
    lang = as_locale(locale)
    return PatternOut(
        pattern=view.pattern_id,
        messages=view.messages,
        title=view.advice.title,
        meaning=view.advice.meaning,
        why=view.advice.why,
        action=view.advice.action,
        sender_specific=view.advice.sender_specific,
        sender_fixes=dict(view.sender_fixes),
        sources=[
            AffectedSourceOut(
                source_ip=source.source_ip,
                sender=sender_name(source.sender, lang),
                messages=source.messages,
            )
            for source in view.sources
        ],
        source_count=view.source_count,
    )


def patterns_out(domain: str, answer: PatternsAnswer, locale: str) -> PatternsOut:
    return PatternsOut(
        domain=domain,
        since=answer.since,
        until=answer.until,
        computed_at=answer.computed_at,
        patterns=[pattern_out(view, locale) for view in answer.patterns],
    )


def readiness_out(domain: str, answer: DomainReadiness, locale: str) -> ReadinessOut:
    lang = as_locale(locale)
    readiness = answer.readiness
    proposal = readiness.next_record
    return ReadinessOut(
        domain=domain,
        since=answer.since,
        until=answer.until,
        computed_at=answer.computed_at,
        stage=readiness.stage,
        ready=readiness.ready,
        enough_data=readiness.enough_data,
        days_with_data=readiness.days_with_data,
        pass_rate_14=readiness.pass_rate_14,
        pass_rate_30=readiness.pass_rate_30,
        legitimate_messages_30=readiness.legitimate_messages_30,
        next_record=proposal.record if proposal else None,
        next_record_alternative=proposal.alternative if proposal else None,
        blockers=[
            BlockerOut(
                source_ip=blocker.source,
                sender=sender_name(blocker.sender, lang),
                classification=blocker.kind,
                messages=blocker.messages,
                failing=blocker.failing,
                dominant_pattern=blocker.dominant_pattern,
                blocking=blocker.blocking,
                sources=blocker.sources,
            )
            for blocker in readiness.blockers
        ],
        reasons=[reason_text(reason, locale=lang) for reason in readiness.reasons],
    )


def inventory_out(entry: InventoryEntry) -> InventoryOut:
    return InventoryOut(
        domain=entry.domain,
        organizational_domain=entry.organizational_domain,
        status=entry.status,
        messages=entry.messages,
        dmarc_pass=entry.dmarc_pass,
        recommendation=entry.recommendation,
    )
