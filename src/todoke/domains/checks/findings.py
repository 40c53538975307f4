"""What a domain check finds: a stable id, a status, the values behind it, and its words.

A finding's id (`spf.lookup_limit`) never changes once shipped: people filter on it, the
inventory's history compares it across runs, and the DMARC advice links to it. The words live in
`messages/<section>.toml`, one table per id with `en`/`ja` `message` and `advice`; the values are
filled in as plain text (escaping is the web layer's job).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final

from todoke.core.texts import Locale, as_locale, fallbacks, fill, load_file, text

MESSAGES_DIR: Final = Path(__file__).resolve().parent / "messages"

#: The sections of a check, in the order people read them.
SECTIONS: Final = ("spf", "dkim", "dmarc", "bimi", "mta_sts", "tlsrpt", "mx")


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a check status, not a password
    INFO = "info"
    WARN = "warn"
    FAIL = "fail"

    @property
    def severity(self) -> int:
        """pass < info < warn < fail, for "the worst finding" of a section or a domain."""
        return _SEVERITY[self]


_SEVERITY: Final = {Status.PASS: 0, Status.INFO: 1, Status.WARN: 2, Status.FAIL: 3}

Value = str | int | float


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation about a domain's published records."""

    #: "<section>.<name>", e.g. "spf.lookup_limit"; the section is the file its words live in
    id: str
    status: Status
    #: values the message and advice name ({count}, {record}, {selector}...)
    values: Mapping[str, Value] = field(default_factory=dict)
    #: what was seen, verbatim (records, the include chain, a certificate subject)
    evidence: tuple[str, ...] = ()

    @property
    def section(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.id.split(".", 1)[1]


@dataclass(frozen=True, slots=True)
class FindingText:
    message: str
    advice: str


def describe(finding: Finding, locale: str) -> FindingText:
    """The finding's message and advice in `locale` (ja or en), its values filled in."""
    lang: Locale = as_locale(locale)
    data = load_file(MESSAGES_DIR / f"{finding.section}.toml")
    if finding.name not in data:
        data = load_file(MESSAGES_DIR / "common.toml")
    missing = fallbacks(data, lang)
    values = dict(finding.values)
    return FindingText(
        message=fill(text(data, finding.name, lang, "message"), values, missing),
        advice=fill(text(data, finding.name, lang, "advice"), values, missing),
    )


def worst(findings: list[Finding] | tuple[Finding, ...]) -> Status:
    """The most severe status among `findings`; PASS for none."""
    return max((item.status for item in findings), key=lambda s: s.severity, default=Status.PASS)
