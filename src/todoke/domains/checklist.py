"""The bulk-sender checklist: Gmail's, Yahoo's and Outlook's published sender rules, each line
judged from evidence Todoke holds (the domain check, DMARC reports, a test mail).

Sources (as published in 2024-2025): Google "Email sender guidelines" (all senders: SPF or DKIM,
valid forward and reverse DNS, TLS, spam rate under 0.3%; bulk senders over 5,000 a day: SPF
and DKIM, DMARC, alignment, one-click unsubscribe), Yahoo "Sender Best Practices" (the same for
bulk senders) and Microsoft's Outlook.com rules for high-volume senders (SPF, DKIM, DMARC at
least p=none, aligned). A line without evidence says "unknown" and how to get it, never pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, Protocol

from todoke.core.texts import as_locale, fill, load_file, text
from todoke.domains.checks import Finding, Status

ITEMS_FILE: Final = Path(__file__).resolve().parent / "advice" / "checklist.toml"
#: Google's ceiling for the user-reported spam rate; Yahoo uses the same figure.
SPAM_RATE_LIMIT: Final = 0.003
#: share of the domain's legitimate mail that must align for the line to pass
ALIGNED_SHARE: Final = 0.98

ItemStatus = Literal["pass", "warn", "fail", "unknown"]
Provider = Literal["gmail", "yahoo", "outlook"]

RULES: Final[dict[str, tuple[Provider, ...]]] = {
    "spf": ("gmail", "yahoo", "outlook"),
    "dkim": ("gmail", "yahoo", "outlook"),
    "dmarc": ("gmail", "yahoo", "outlook"),
    "alignment": ("gmail", "yahoo", "outlook"),
    "fcrdns": ("gmail", "yahoo"),
    "tls": ("gmail",),
    "one_click_unsubscribe": ("gmail", "yahoo"),
    "spam_rate": ("gmail", "yahoo"),
}


class UnsubscribeEvidence(Protocol):
    """What a test mail shows of unsubscribing (a MessageVerdict or its stored form)."""

    @property
    def one_click_unsubscribe(self) -> bool: ...

    @property
    def list_unsubscribe(self) -> str | None: ...


@dataclass(frozen=True)
class AlignmentEvidence:
    """From DMARC reports: the legitimate mail of the period and how much of it aligned."""

    messages: int
    aligned: int
    days: int


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    providers: tuple[Provider, ...]
    status: ItemStatus
    title: str
    evidence: str
    advice: str


def _findings(findings: Sequence[Finding], section: str) -> list[Finding]:
    return [item for item in findings if item.section == section]


def _worst(findings: Sequence[Finding]) -> Status | None:
    return max((item.status for item in findings), key=lambda s: s.severity, default=None)


def _from_section(
    findings: Sequence[Finding], section: str, required: str | None
) -> tuple[ItemStatus, str]:
    """pass when the section has no failure (and `required` is among its findings)."""
    found = _findings(findings, section)
    if not found:
        return "unknown", "not_checked"
    ids = {item.id for item in found}
    worst = _worst(found)
    if worst == Status.FAIL or (required is not None and required not in ids):
        return "fail", ", ".join(
            sorted(i.id for i in found if i.status in (Status.FAIL, Status.WARN))
        ) or "missing"
    if worst == Status.WARN:
        return "warn", ", ".join(sorted(i.id for i in found if i.status == Status.WARN))
    return "pass", ", ".join(sorted(ids))


def judge(
    findings: Sequence[Finding],
    *,
    alignment: AlignmentEvidence | None,
    message: UnsubscribeEvidence | None,
    received_with_tls: bool | None,
) -> dict[str, tuple[ItemStatus, dict[str, object]]]:
    """Each rule's status and the values its evidence sentence names."""
    results: dict[str, tuple[ItemStatus, dict[str, object]]] = {}
    for rule, required in (("spf", "spf.ok"), ("dkim", "dkim.key_found"), ("dmarc", None)):
        status, ids = _from_section(findings, rule, required)
        results[rule] = (status, {"findings": ids})
    fcrdns = [item for item in _findings(findings, "mx") if item.id.startswith("mx.fcrdns")]
    if not fcrdns:
        results["fcrdns"] = ("unknown", {})
    else:
        bad = [item for item in fcrdns if item.id != "mx.fcrdns_ok"]
        results["fcrdns"] = ("fail" if bad else "pass", {"count": len(fcrdns), "bad": len(bad)})
    if alignment is None or alignment.messages == 0:
        results["alignment"] = ("unknown", {})
    else:
        share = alignment.aligned / alignment.messages
        rate: ItemStatus = (
            "pass" if share >= ALIGNED_SHARE else ("warn" if share >= 0.9 else "fail")
        )
        results["alignment"] = (
            rate,
            {"share": f"{share:.1%}", "messages": alignment.messages, "days": alignment.days},
        )
    if received_with_tls is None:
        results["tls"] = ("unknown", {})
    else:
        results["tls"] = ("pass" if received_with_tls else "fail", {})
    if message is None:
        results["one_click_unsubscribe"] = ("unknown", {})
    else:
        unsubscribe: ItemStatus = "pass" if message.one_click_unsubscribe else "fail"
        results["one_click_unsubscribe"] = (
            unsubscribe,
            {"header": message.list_unsubscribe or "-"},
        )
    results["spam_rate"] = ("unknown", {"limit": f"{SPAM_RATE_LIMIT:.1%}"})
    return results


def checklist(
    findings: Sequence[Finding],
    *,
    locale: str,
    alignment: AlignmentEvidence | None = None,
    message: UnsubscribeEvidence | None = None,
    received_with_tls: bool | None = None,
) -> list[ChecklistItem]:
    lang = as_locale(locale)
    words = load_file(ITEMS_FILE)
    judged = judge(
        findings, alignment=alignment, message=message, received_with_tls=received_with_tls
    )
    items = []
    for rule, providers in RULES.items():
        status, values = judged[rule]
        items.append(
            ChecklistItem(
                id=rule,
                providers=providers,
                status=status,
                title=text(words, rule, lang, "title"),
                evidence=fill(text(words, rule, lang, status), values),
                advice=fill(text(words, rule, lang, "advice"), values),
            )
        )
    return items
