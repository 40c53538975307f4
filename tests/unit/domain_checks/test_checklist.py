"""The bulk-sender checklist judged from findings, report figures and a test mail."""

from __future__ import annotations

import tomllib

from todoke.domains.checklist import ITEMS_FILE, RULES, AlignmentEvidence, checklist, judge
from todoke.domains.checks import Finding, Status

GOOD = [
    Finding("spf.ok", Status.PASS),
    Finding("dkim.key_found", Status.PASS),
    Finding("dmarc.policy_none", Status.WARN),
    Finding("mx.fcrdns_ok", Status.PASS),
]


def statuses(**kwargs: object) -> dict[str, str]:
    judged = judge(
        kwargs.get("findings", GOOD),  # type: ignore[arg-type]
        alignment=kwargs.get("alignment"),  # type: ignore[arg-type]
        message=None,
        received_with_tls=kwargs.get("tls"),  # type: ignore[arg-type]
    )
    return {rule: status for rule, (status, _values) in judged.items()}


def test_nothing_without_evidence_passes() -> None:
    assert statuses(findings=[]) == dict.fromkeys(RULES, "unknown")


def test_findings_and_report_figures_decide_their_lines() -> None:
    result = statuses(alignment=AlignmentEvidence(messages=1000, aligned=990, days=30), tls=True)
    assert result == {
        "spf": "pass",
        "dkim": "pass",
        "dmarc": "warn",
        "alignment": "pass",
        "fcrdns": "pass",
        "tls": "pass",
        "one_click_unsubscribe": "unknown",
        "spam_rate": "unknown",
    }


def test_missing_key_and_low_alignment_fail() -> None:
    findings = [Finding("spf.ok", Status.PASS), Finding("dkim.no_key", Status.WARN)]
    result = statuses(findings=findings, alignment=AlignmentEvidence(1000, 700, 30))
    assert (result["dkim"], result["alignment"]) == ("fail", "fail")


def test_every_line_has_words_for_every_status_in_both_languages() -> None:
    with ITEMS_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    for rule in RULES:
        for lang in ("ja", "en"):
            keys = set(data[rule][lang])
            assert {"title", "advice", "pass", "warn", "fail", "unknown"} <= keys, (rule, lang)


def test_japanese_evidence_names_the_figures() -> None:
    items = checklist(GOOD, locale="ja", alignment=AlignmentEvidence(1000, 990, 30))
    alignment = next(item for item in items if item.id == "alignment")
    assert alignment.evidence == (
        "直近 30 日間、このドメインの正規メールの 99.0% が DMARC に合格しました"
        "（レポート上 1000 通）。"
    )
