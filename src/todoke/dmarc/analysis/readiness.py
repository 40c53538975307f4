"""Policy readiness: how far a domain is on the way from `p=none` to `p=reject`, and the next
DMARC record to publish.

Definitions:

- *Legitimate mail* is all mail except that of `spoofing_suspected` sources, and except the
  failing mail of `unknown` sources (nobody vouches for it; its passing mail is aligned, so it
  is the owner's). The legitimate pass rate is its DMARC-passing share.
- A *blocker* is a non-spoofing source that would lose mail under quarantine or reject,
  listed with its volumes, largest failing volume first. It is *blocking* when the owner can
  fix it (`misconfigured`, `third_party_unaligned`) and it failed at least
  `BLOCKER_MIN_MESSAGES` messages and `BLOCKER_SHARE` of the legitimate mail in 30 days.
  Forwarded and unknown sources are listed but do not block: the owner cannot fix forwarding,
  and an unknown source becomes blocking once the owner registers it as their own.
- *Ready* for the next step: at least `MIN_DAYS` days of reports, the legitimate pass rate
  over 14 and over 30 days at least the step's threshold (a window without legitimate mail is
  skipped, not both), and nothing blocking. Quarantine needs `QUARANTINE_PASS_RATE`; reject
  needs `REJECT_PASS_RATE`, because a rejected message is gone while a quarantined one can
  still be found in the spam folder. Blockers use the 30-day window so that a monthly
  newsletter is seen before the policy tightens.

The staircase (stage -> next record when ready):
`no_policy` -> p=none; `monitoring`/`ready_for_quarantine` -> p=quarantine with pct=25
(RFC 7489) or t=y (RFC 9989); `quarantine_partial` -> full quarantine; `quarantine`/
`ready_for_reject` -> p=reject; `reject_partial` -> full reject; `enforced` -> sp/np=reject if
the record sets them weaker, else nothing left to do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

from todoke.dmarc.analysis import record
from todoke.dmarc.analysis.classify import ClassificationKind
from todoke.dmarc.analysis.patterns import PatternId
from todoke.dmarc.analysis.texts import as_locale, fallbacks, fill, load, text
from todoke.dmarc.report_types import PolicyPublished
from todoke.dmarc.shapes import SenderIdentity

Stage = Literal[
    "no_policy",
    "monitoring",
    "ready_for_quarantine",
    "quarantine_partial",
    "quarantine",
    "ready_for_reject",
    "reject_partial",
    "enforced",
]
ProposalStep = Literal[
    "start_monitoring", "quarantine_gradual", "quarantine_full", "reject", "reject_full",
    "subdomains",
]  # fmt: skip
ReasonId = Literal[
    "no_policy",
    "insufficient_data",
    "no_legitimate_mail",
    "pass_rate_low",
    "blockers",
    "mail_being_lost",
    "ready_quarantine",
    "wording_pct_or_testing",
    "ready_full_quarantine",
    "ready_reject",
    "ready_full_reject",
    "subdomains",
    "enforced",
    "no_report_address",
]
REASON_IDS: Final[tuple[ReasonId, ...]] = get_args(ReasonId)

MIN_DAYS: Final = 14
QUARANTINE_PASS_RATE: Final = 0.98
REJECT_PASS_RATE: Final = 0.99
BLOCKER_SHARE: Final = 0.005
BLOCKER_MIN_MESSAGES: Final = 10
#: failing sources listed one by one besides those blocking; the rest are added up per kind
LISTED_BLOCKERS: Final = 20
#: RFC 7489 §6.6.4 sampling for the first quarantine step: about a quarter of failing mail.
FIRST_QUARANTINE_PCT: Final = "25"
FIXABLE_KINDS: Final[frozenset[ClassificationKind]] = frozenset(
    {"misconfigured", "third_party_unaligned"}
)
READINESS_FILE: Final = "readiness.toml"


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """One source's roll-up over a window, as the storage layer provides it."""

    source: str  # the source IP address (or a label for a group of them)
    kind: ClassificationKind
    sender: SenderIdentity | None
    messages: int
    passing: int
    dominant_pattern: PatternId | None = None
    #: more than one: a group of small failing sources of one kind (see `condense`)
    sources: int = 1

    @property
    def failing(self) -> int:
        return max(self.messages - self.passing, 0)


@dataclass(frozen=True, slots=True)
class Blocker:
    source: str
    kind: ClassificationKind
    sender: SenderIdentity | None
    messages: int
    failing: int
    dominant_pattern: PatternId | None
    #: whether it stops the next step (see the module's definition)
    blocking: bool
    #: more than one: the smaller failing sources of `kind`, added up
    sources: int = 1


@dataclass(frozen=True, slots=True)
class RecordProposal:
    step: ProposalStep
    #: the TXT record to publish at _dmarc.<domain>, in the wording RFC 7489 receivers read
    record: str
    #: the same step in RFC 9989 wording (t=y) where the two differ
    alternative: str | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    id: ReasonId
    #: values for the text's placeholders, already formatted for people
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Readiness:
    stage: Stage
    #: the criteria for `next_record` are met
    ready: bool
    enough_data: bool
    days_with_data: int
    pass_rate_14: float | None
    pass_rate_30: float | None
    legitimate_messages_30: int
    blockers: tuple[Blocker, ...]
    next_record: RecordProposal | None
    reasons: tuple[Reason, ...]


def legitimate_volumes(summaries: Sequence[SourceSummary]) -> tuple[int, int]:
    """(legitimate messages, of which passing DMARC), per the module's definition."""
    messages = passing = 0
    for summary in summaries:
        if summary.kind == "spoofing_suspected":
            continue
        passing += summary.passing
        messages += summary.passing if summary.kind == "unknown" else summary.messages
    return messages, passing


def pass_rate(summaries: Sequence[SourceSummary]) -> float | None:
    messages, passing = legitimate_volumes(summaries)
    return passing / messages if messages else None


def _floor(summaries: Sequence[SourceSummary]) -> float:
    legitimate, _ = legitimate_volumes(summaries)
    return max(BLOCKER_MIN_MESSAGES, BLOCKER_SHARE * legitimate)


def _blocks(summary: SourceSummary, floor: float) -> bool:
    return summary.sources == 1 and summary.kind in FIXABLE_KINDS and summary.failing >= floor


def find_blockers(summaries: Sequence[SourceSummary]) -> tuple[Blocker, ...]:
    floor = _floor(summaries)
    found = [
        Blocker(
            source=summary.source,
            kind=summary.kind,
            sender=summary.sender,
            messages=summary.messages,
            failing=summary.failing,
            dominant_pattern=summary.dominant_pattern,
            blocking=_blocks(summary, floor),
            sources=summary.sources,
        )
        for summary in condense(summaries)
        if summary.kind != "spoofing_suspected" and summary.failing > 0
    ]
    return tuple(sorted(found, key=lambda blocker: (-blocker.failing, blocker.source)))


def condense(summaries: Sequence[SourceSummary]) -> list[SourceSummary]:
    """The same volumes with the failing legitimate sources that neither block nor are among
    the `LISTED_BLOCKERS` largest added up per kind: a big domain has thousands of forwarders
    failing a little each, and nobody reads (or should wait for) a list of them all.
    Condensing a condensed list changes nothing."""
    floor = _floor(summaries)
    candidates = [
        summary
        for summary in summaries
        if summary.kind != "spoofing_suspected" and summary.failing > 0 and summary.sources == 1
    ]
    largest = sorted(candidates, key=lambda summary: (-summary.failing, summary.source))
    kept = {id(summary) for summary in largest[:LISTED_BLOCKERS]}
    kept.update(id(summary) for summary in candidates if _blocks(summary, floor))
    condensed: list[SourceSummary] = []
    groups: dict[ClassificationKind, list[int]] = {}
    for summary in summaries:
        grouped = summary.kind != "spoofing_suspected" and summary.failing > 0
        if not grouped or id(summary) in kept:
            condensed.append(summary)
            continue
        totals = groups.setdefault(summary.kind, [0, 0, 0])
        totals[0] += summary.messages
        totals[1] += summary.passing
        totals[2] += summary.sources
    condensed.extend(
        SourceSummary(f"({kind})", kind, None, messages, passing, None, sources)
        for kind, (messages, passing, sources) in sorted(groups.items())
    )
    return condensed


def percent(rate: float) -> str:
    # Floor, not round: 97.96 % shown as "98.0%" next to a 98 % threshold would contradict
    # the verdict.
    return f"{math.floor(rate * 1000) / 10:.1f}%"


def _base_tags(
    policy: PolicyPublished | None, current_record: str | None, report_uri: str | None
) -> record.Tags:
    parsed = record.parse_record(current_record) if current_record else None
    if parsed is None:
        parsed = record.tags_from_policy(policy) if policy else (("v", "DMARC1"), ("p", "none"))
    if record.value(parsed, "rua") is None and report_uri:
        parsed = (*parsed, ("rua", report_uri))
    return parsed


def _current(policy: PolicyPublished) -> tuple[str, bool]:
    """The published p (an unknown word counts as none, RFC 7489 §6.6.3) and whether it is
    applied only partly (pct below 100, or RFC 9989 testing mode)."""
    p = policy.p if policy.p in record.POLICIES else "none"
    partial = bool(policy.testing) or (policy.pct is not None and policy.pct < 100)
    return p, partial


def _problems(
    enough: bool,
    days: int,
    rates: tuple[tuple[int, float | None], ...],
    blockers: Sequence[Blocker],
    threshold: float,
) -> list[Reason]:
    """Why the next step must wait; empty when it need not."""
    found: list[Reason] = []
    if not enough:
        found.append(Reason("insufficient_data", (("days", str(days)), ("needed", str(MIN_DAYS)))))
    if all(rate is None for _, rate in rates):
        found.append(Reason("no_legitimate_mail", (("window", "30"),)))
    for window, rate in rates:
        if rate is not None and rate < threshold:
            values = (("rate", percent(rate)), ("threshold", percent(threshold)))
            found.append(Reason("pass_rate_low", (*values, ("window", str(window)))))
    blocking = [blocker for blocker in blockers if blocker.blocking]
    if blocking:
        failing = sum(blocker.failing for blocker in blocking)
        found.append(
            Reason("blockers", (("count", str(len(blocking))), ("messages", f"{failing:,}")))
        )
    return found


def _subdomain_changes(tags: record.Tags) -> dict[str, str | None]:
    weaker = ("none", "quarantine")
    return {name: "reject" for name in ("sp", "np") if record.value(tags, name) in weaker}


_STEP_CHANGES: Final[dict[ProposalStep, dict[str, str | None]]] = {
    "quarantine_gradual": {"p": "quarantine", "pct": FIRST_QUARANTINE_PCT, "t": None},
    "quarantine_full": {"p": "quarantine", "pct": None, "t": None},
    "reject": {"p": "reject", "pct": None, "t": None},
    "reject_full": {"p": "reject", "pct": None, "t": None},
}


def _proposal(step: ProposalStep, tags: record.Tags) -> RecordProposal:
    if step == "subdomains":
        return RecordProposal(
            step, record.render(record.with_changes(tags, _subdomain_changes(tags)))
        )
    proposed = record.render(record.with_changes(tags, _STEP_CHANGES[step]))
    alternative = None
    if step == "quarantine_gradual":
        testing = {"p": "quarantine", "pct": None, "t": "y"}
        alternative = record.render(record.with_changes(tags, testing))
    return RecordProposal(step, proposed, alternative)


def _staircase(
    p: str, partial: bool, ready: bool, tags: record.Tags
) -> tuple[Stage, ProposalStep | None, ReasonId]:
    """The stage, the step it leads to (None if not ready or nothing left) and the reason."""
    if p == "none":
        if ready:
            return "ready_for_quarantine", "quarantine_gradual", "ready_quarantine"
        return "monitoring", None, "ready_quarantine"
    if p == "quarantine" and partial:
        return "quarantine_partial", "quarantine_full" if ready else None, "ready_full_quarantine"
    if p == "quarantine":
        if ready:
            return "ready_for_reject", "reject", "ready_reject"
        return "quarantine", None, "ready_reject"
    if partial:
        return "reject_partial", "reject_full" if ready else None, "ready_full_reject"
    if _subdomain_changes(tags):
        return "enforced", "subdomains" if ready else None, "subdomains"
    return "enforced", None, "enforced"


def assess_readiness(
    policy: PolicyPublished | None,
    *,
    domain: str,
    last_14: Sequence[SourceSummary],
    last_30: Sequence[SourceSummary],
    days_with_data: int,
    current_record: str | None = None,
    report_uri: str | None = None,
) -> Readiness:
    """Where `domain` stands on the staircase and what to publish next (see the module).

    `current_record` is the TXT record as published, if known: its tags are kept in the
    proposal. Otherwise the proposal starts from what the report's policy shows, and
    `report_uri` (Todoke's `mailto:` report address) supplies rua when neither has one.
    """
    tags = _base_tags(policy, current_record, report_uri)
    rate_14, rate_30 = pass_rate(last_14), pass_rate(last_30)
    legitimate_30, _ = legitimate_volumes(last_30)
    blockers = find_blockers(last_30)
    enough = days_with_data >= MIN_DAYS
    named = (("domain", domain),)

    def result(
        stage: Stage, ready: bool, proposal: RecordProposal | None, reasons: list[Reason]
    ) -> Readiness:
        if proposal is not None and record.value(tags, "rua") is None:
            reasons.append(Reason("no_report_address"))
        return Readiness(
            stage,
            ready,
            enough,
            days_with_data,
            rate_14,
            rate_30,
            legitimate_30,
            blockers,
            proposal,
            tuple(reasons),
        )

    if policy is None:
        proposal = RecordProposal(
            "start_monitoring", record.render(record.with_changes(tags, {"p": "none"}))
        )
        return result("no_policy", True, proposal, [Reason("no_policy", named)])
    p, partial = _current(policy)
    threshold = (
        QUARANTINE_PASS_RATE if p == "none" or (p == "quarantine" and partial) else REJECT_PASS_RATE
    )
    problems = _problems(
        enough, days_with_data, ((14, rate_14), (30, rate_30)), blockers, threshold
    )
    ready = not problems
    stage, step, reason = _staircase(p, partial, ready, tags)
    reasons = list(problems)
    if p != "none" and any(r.id in ("pass_rate_low", "blockers") for r in problems):
        reasons.insert(0, Reason("mail_being_lost"))
    if ready or reason == "subdomains":
        rate = rate_30 if rate_30 is not None else rate_14
        values = (*named, ("rate", percent(rate) if rate is not None else "-"), ("window", "30"))
        reasons.append(Reason(reason, values))
    if step == "quarantine_gradual":
        reasons.append(Reason("wording_pct_or_testing"))
    return result(stage, ready, _proposal(step, tags) if step else None, reasons)


def reason_text(reason: Reason, *, locale: str) -> str:
    """The reason in Japanese or English, ready to show (not HTML)."""
    lang = as_locale(locale)
    data = load(READINESS_FILE)
    return fill(text(data, reason.id, lang), dict(reason.values), fallbacks(data, lang))
