"""Error patterns: why a record's mail failed DMARC, as one stable id per failing shape.

Vocabulary used below. A result is *pass*, *failed* (SPF `fail`/`softfail`; DKIM `fail`,
`neutral` or `policy`: a signature was there and did not verify, RFC 8601 §2.7.1), *nothing*
(absent, `none`, and for SPF also `neutral`, which asserts nothing, RFC 7208 §8.2) or an *error*
(`temperror`/`permerror`). "The domain's own DKIM signature" is a signature whose d= domain
shares the header-From's organisational domain (relaxed alignment, RFC 7489 §3.1.1). Because
the shape failed DMARC, any SPF or DKIM pass left in it was for an unaligned domain.

Decision rule, first match wins:

1. DMARC passed (DKIM or SPF aligned) -> no pattern (`None`).
2. The receiver reported a `forwarded`, `mailing_list` or `trusted_forwarder` override ->
   `forwarded`: its own view of the mail flow beats our inference.
3. SPF or DKIM gave `temperror`/`permerror` -> `temporary_error`: the check itself broke (DNS
   trouble, an SPF record with a syntax error or over the 10-lookup limit, RFC 7208 §4.6.4);
   nothing else in the shape can be trusted until that is fixed.
4. The source is a known forwarding service (sender category `forwarder`) -> `forwarded`.
5. The domain's own DKIM signature failed:
   a. SPF passed for another organisation's domain and the source is not a known own, ESP or
      SaaS sender -> `forwarded`. This is the mailing-list shape (RFC 7960 §3.2.3): the list
      re-sends under its own envelope (so SPF passes for the list) and its subject tag or footer
      breaks the author's signature.
   b. otherwise -> `dkim_broken` (body or headers changed on the way, wrong or rotated key).
6. SPF and DKIM both passed (each for another domain) -> `both_unaligned`.
7. SPF passed (for another domain) -> `spf_unaligned`.
8. DKIM passed (for another domain) -> `dkim_unaligned`.
9. SPF failed and no DKIM signature verified -> `spf_fail_no_dkim`.
10. SPF gave nothing and no DKIM signature verified (none was there, or only another
    domain's that failed: a forged signature authenticates nothing) -> `no_auth`.
11. Anything else -> `other`: only result words no standard defines reach it.
"""

from __future__ import annotations

from typing import Final, Literal

from todoke.dmarc.analysis.alignment import aligned
from todoke.dmarc.shapes import AuthShape, SenderIdentity

PatternId = Literal[
    "no_auth",
    "spf_fail_no_dkim",
    "spf_unaligned",
    "dkim_unaligned",
    "both_unaligned",
    "dkim_broken",
    "forwarded",
    "temporary_error",
    "other",
]

#: Every pattern id; also the tie-break order when two patterns carry the same volume
#: (the one a domain owner can act on comes first).
PATTERN_IDS: Final[tuple[PatternId, ...]] = (
    "dkim_broken",
    "spf_fail_no_dkim",
    "no_auth",
    "temporary_error",
    "spf_unaligned",
    "dkim_unaligned",
    "both_unaligned",
    "forwarded",
    "other",
)

FORWARDING_OVERRIDES: Final = frozenset({"forwarded", "mailing_list", "trusted_forwarder"})
ERROR_RESULTS: Final = frozenset({"temperror", "permerror"})
SPF_FAILED: Final = frozenset({"fail", "softfail"})
SPF_NOTHING: Final = frozenset({"none", "neutral"})
DKIM_FAILED: Final = frozenset({"fail", "neutral", "policy"})
#: Senders whose infrastructure the domain owner configures (own servers, ESPs, SaaS tools).
CONFIGURABLE_CATEGORIES: Final = frozenset({"own", "esp", "saas"})


def _spf_nothing(result: str | None) -> bool:
    return result is None or result in SPF_NOTHING


def _dkim_nothing(result: str | None) -> bool:
    return result is None or result == "none"


def _own_dkim_failed(shape: AuthShape) -> bool:
    return shape.dkim_result in DKIM_FAILED and aligned(shape.dkim_domain, shape.header_from)


def _mailing_list_shape(shape: AuthShape, sender: SenderIdentity | None) -> bool:
    if sender is not None and sender.category in CONFIGURABLE_CATEGORIES:
        return False
    return shape.spf_result == "pass" and not aligned(shape.spf_domain, shape.header_from)


def pattern_of(shape: AuthShape, sender: SenderIdentity | None = None) -> PatternId | None:
    """The error pattern of one shape (see the module's decision rule); None if it passed."""
    if shape.dmarc_pass:
        return None
    if shape.override in FORWARDING_OVERRIDES:
        return "forwarded"
    if shape.spf_result in ERROR_RESULTS or shape.dkim_result in ERROR_RESULTS:
        return "temporary_error"
    if sender is not None and sender.category == "forwarder":
        return "forwarded"
    if _own_dkim_failed(shape):
        return "forwarded" if _mailing_list_shape(shape, sender) else "dkim_broken"
    spf_pass = shape.spf_result == "pass"
    dkim_pass = shape.dkim_result == "pass"
    if spf_pass and dkim_pass:
        return "both_unaligned"
    if spf_pass:
        return "spf_unaligned"
    if dkim_pass:
        return "dkim_unaligned"
    if shape.spf_result in SPF_FAILED:
        return "spf_fail_no_dkim"
    if _spf_nothing(shape.spf_result) and (
        _dkim_nothing(shape.dkim_result) or shape.dkim_result in DKIM_FAILED
    ):
        return "no_auth"
    return "other"
