"""Advice for an error pattern, and plain sentences for a shape, in Japanese or English.

The words live in `todoke/dmarc/advice/patterns.toml` and `alignment.toml`; this module only
picks the entry and fills in the domains. See `texts` for how filling stays safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from todoke.dmarc.analysis.alignment import IdentifierCheck, explain_shape
from todoke.dmarc.analysis.patterns import PatternId
from todoke.dmarc.analysis.texts import Locale, as_locale, fallbacks, fill, load, text
from todoke.dmarc.shapes import AuthShape, SenderIdentity

PATTERNS_FILE: Final = "patterns.toml"
ALIGNMENT_FILE: Final = "alignment.toml"
ADVICE_FIELDS: Final = ("title", "meaning", "why", "action")
#: The names a pattern text may use; the tests hold patterns.toml to this list.
ADVICE_PLACEHOLDERS: Final = frozenset(
    {"domain", "sender", "spf_domain", "dkim_domain", "selector"}
)
ALIGNMENT_PLACEHOLDERS: Final = frozenset({"identifier", "result", "domain"})


@dataclass(frozen=True, slots=True)
class Advice:
    """What a pattern means and what to do, in one language, ready to show (not HTML)."""

    title: str
    meaning: str
    action: str
    #: the known sender's own fix ("In SendGrid, open Sender Authentication ..."), introduced
    #: with the sender's name; None when the sender or its fix is unknown
    sender_specific: str | None
    #: why it matters: what happens to this mail, now or under a stricter policy
    why: str
    pattern_id: PatternId


def sender_name(sender: SenderIdentity | None, locale: Locale) -> str | None:
    if sender is None:
        return None
    return sender.name_ja if locale == "ja" and sender.name_ja else sender.name


def advise(
    pattern_id: PatternId,
    *,
    locale: str,
    domain: str,
    sender: SenderIdentity | None,
    shape: AuthShape | None,
    sender_fix: str | None,
) -> Advice:
    """The advice for `pattern_id`, filled with this domain's, sender's and shape's names."""
    lang = as_locale(locale)
    data = load(PATTERNS_FILE)
    values: dict[str, object | None] = {
        "domain": domain,
        "sender": sender_name(sender, lang),
        "spf_domain": shape.spf_domain if shape else None,
        "dkim_domain": shape.dkim_domain if shape else None,
        "selector": shape.dkim_selector if shape else None,
    }
    missing = fallbacks(data, lang)

    def field(name: str) -> str:
        return fill(text(data, pattern_id, lang, name), values, missing)

    specific = None
    if sender_fix and sender_fix.strip():
        specific = fill(sender_fix.strip(), values, missing)
        if sender is not None:
            intro = text(data, "sender_specific", lang)
            specific = fill(intro, {**values, "fix": specific}, missing)
    return Advice(
        title=field("title"),
        meaning=field("meaning"),
        action=field("action"),
        sender_specific=specific,
        why=field("why"),
        pattern_id=pattern_id,
    )


def describe_check(check: IdentifierCheck, header_from: str, *, locale: str) -> str:
    """One sentence on one mechanism, e.g. "SPF passed for bounces.sendgrid.net, which is not
    example.jp, so it does not count for DMARC."."""
    lang = as_locale(locale)
    data = load(ALIGNMENT_FILE)
    template = text(data, check.mechanism, lang, check.situation)
    values = {"identifier": check.domain, "result": check.result, "domain": header_from}
    return fill(template, values, fallbacks(data, lang))


def describe_shape(shape: AuthShape, *, locale: str) -> tuple[str, str]:
    """Two sentences, SPF's then DKIM's, saying why the shape passed or failed DMARC."""
    spf, dkim = explain_shape(shape)
    return (
        describe_check(spf, shape.header_from, locale=locale),
        describe_check(dkim, shape.header_from, locale=locale),
    )
