"""Source classification: what one sending source is, judged from its reported mail.

A *source* is one IP address sending mail with one header-From domain over a period; the input
is its authentication shapes with message counts and the sender Todoke recognised (None when
nobody did). These are the product's definitions:

- `aligned_pass`: at least 98 % of its messages pass DMARC (`ALIGNED_PASS_SHARE`). Receivers
  round, forward and sample; 2 % leaves room for that without hiding a broken stream.
- `forwarded`: the mail was relayed by someone else. Evidence per shape: the `forwarded`
  error pattern (receiver override, mailing-list shape, known forwarding service); or mail that
  passed only thanks to aligned DKIM while SPF did not align, when the receiver said it was
  forwarded, the sender is a forwarding service or a mailbox provider relaying it, or (for an
  unrecognised source) SPF failed for the domain's own envelope, which is what forwarding does
  to SPF (RFC 7960 §3.1.1). A source that passes but mostly like this is `forwarded`.
- `misconfigured`: an own source or a known sender failing in a way the owner can fix (SPF
  record, DKIM key, DNS error); also an unrecognised source that the domain's own SPF record
  authorises (SPF aligned-passed for part of its mail), since only the owner can put it there.
- `third_party_unaligned`: a known ESP or SaaS (not the owner's own server) whose mail passes
  SPF and/or DKIM for the service's own domains but not for the header-From domain.
- `spoofing_suspected`: an unrecognised source whose mail passed neither SPF nor DKIM for any
  domain: nothing vouches for it.
- `unknown`: everything else, e.g. an unrecognised source that authenticates as some other
  domain (an ESP we do not know yet, or a spammer using its own envelope), or DNS errors.

Mixed shapes from one source: unless it reaches the aligned-pass share, every message votes for
a kind by its shape (aligned passes do not vote; they only count towards the share) and the
largest volume wins. Equal volumes go to the kind earlier in `KIND_TIE_ORDER`, which keeps a
source in front of the owner as mail to fix rather than writing it off as spoofing. The
dominant error pattern is the failing pattern with the most messages, ties broken by
`PATTERN_IDS` order. Shapes with a count of zero or less are ignored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeVar

from todoke.dmarc.analysis.alignment import aligned
from todoke.dmarc.analysis.patterns import (
    FORWARDING_OVERRIDES,
    PATTERN_IDS,
    SPF_FAILED,
    PatternId,
    pattern_of,
)
from todoke.dmarc.shapes import AuthShape, SenderIdentity

ClassificationKind = Literal[
    "aligned_pass",
    "forwarded",
    "misconfigured",
    "third_party_unaligned",
    "spoofing_suspected",
    "unknown",
]
ClassificationRule = Literal[
    "no_mail", "pass_share", "pass_share_forwarded", "failing_majority", "authorised_by_spf"
]
CLASSIFICATION_KINDS: Final[tuple[ClassificationKind, ...]] = (
    "aligned_pass",
    "forwarded",
    "misconfigured",
    "third_party_unaligned",
    "spoofing_suspected",
    "unknown",
)
ALIGNED_PASS_SHARE: Final = 0.98
KIND_TIE_ORDER: Final[tuple[ClassificationKind, ...]] = (
    "misconfigured",
    "third_party_unaligned",
    "forwarded",
    "unknown",
    "spoofing_suspected",
)
UNALIGNED_PATTERNS: Final[frozenset[PatternId]] = frozenset(
    {"spf_unaligned", "dkim_unaligned", "both_unaligned"}
)
RELAYING_CATEGORIES: Final = frozenset({"forwarder", "mailbox_provider"})

_Key = TypeVar("_Key", bound=str)


@dataclass(frozen=True, slots=True)
class Classification:
    kind: ClassificationKind
    #: the failing pattern with the most messages; None when nothing failed
    dominant_pattern: PatternId | None
    messages: int
    passing: int
    failing: int
    #: failing messages per pattern, largest first
    pattern_volumes: tuple[tuple[PatternId, int], ...]
    #: which rule of the module's definition decided `kind`
    rule: ClassificationRule

    @property
    def pass_share(self) -> float | None:
        return self.passing / self.messages if self.messages else None


def _forwarded_pass(shape: AuthShape, sender: SenderIdentity | None) -> bool:
    if not shape.dkim_aligned or shape.spf_aligned:
        return False
    if shape.override in FORWARDING_OVERRIDES:
        return True
    if sender is not None:
        return sender.category in RELAYING_CATEGORIES
    return shape.spf_result in SPF_FAILED and aligned(shape.spf_domain, shape.header_from)


def _failing_kind(
    shape: AuthShape, pattern: PatternId, sender: SenderIdentity | None
) -> ClassificationKind:
    if pattern == "forwarded":
        return "forwarded"
    if sender is None:
        vouched = shape.spf_result == "pass" or shape.dkim_result == "pass"
        return "unknown" if vouched or pattern == "temporary_error" else "spoofing_suspected"
    if sender.category == "forwarder":
        return "forwarded"
    if pattern in UNALIGNED_PATTERNS and sender.category != "own":
        return "third_party_unaligned"
    return "misconfigured"


def _largest(volumes: Counter[_Key], order: Sequence[_Key]) -> _Key | None:
    # Counter.__missing__ is slow and most keys are absent: iterate what is present.
    best: _Key | None = None
    best_rank = (0, 0)
    for index, key in enumerate(order):
        volume = volumes.get(key, 0)
        if volume > 0 and (volume, -index) > best_rank:
            best, best_rank = key, (volume, -index)
    return best


def classify_source(
    shapes: Sequence[tuple[AuthShape, int]], sender: SenderIdentity | None
) -> Classification:
    """Classify one source from its shapes and message counts (see the module's rules)."""
    votes: Counter[ClassificationKind] = Counter()
    patterns: Counter[PatternId] = Counter()
    messages = passing = spf_authorised = 0
    for shape, count in shapes:
        if count <= 0:
            continue
        messages += count
        pattern = pattern_of(shape, sender)
        if pattern is None:
            passing += count
            spf_authorised += count if shape.spf_aligned else 0
            votes["forwarded" if _forwarded_pass(shape, sender) else "aligned_pass"] += count
        else:
            patterns[pattern] += count
            votes[_failing_kind(shape, pattern, sender)] += count
    dominant = _largest(patterns, PATTERN_IDS)
    volumes = tuple(
        sorted(patterns.items(), key=lambda item: (-item[1], PATTERN_IDS.index(item[0])))
    )

    def result(kind: ClassificationKind, rule: ClassificationRule) -> Classification:
        return Classification(
            kind, dominant, messages, passing, messages - passing, volumes, rule=rule
        )

    if messages == 0:
        return result("unknown", "no_mail")
    if passing >= ALIGNED_PASS_SHARE * messages:
        if votes["forwarded"] * 2 > messages:
            return result("forwarded", "pass_share_forwarded")
        return result("aligned_pass", "pass_share")
    kind = _largest(votes, KIND_TIE_ORDER) or "unknown"
    if kind in ("spoofing_suspected", "unknown") and spf_authorised > 0:
        return result("misconfigured", "authorised_by_spf")
    return result(kind, "failing_majority")
