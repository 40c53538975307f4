"""SPF (RFC 7208): record parsing, check_host() evaluation and published sender ranges."""

from todoke.domains.spf.evaluator import (
    DEFAULT_LIMITS,
    SpfLimits,
    SpfResult,
    SpfResultCode,
    check_helo,
    check_host,
    check_mail_from,
)
from todoke.domains.spf.identity import client_address, domain_problem, mail_from_identity
from todoke.domains.spf.macros import (
    MacroContext,
    MacroString,
    SpfSyntaxError,
    expand,
    parse_macro_string,
)
from todoke.domains.spf.published import PublishedNetworks, published_networks
from todoke.domains.spf.record import Mechanism, Modifier, SpfRecord, is_spf_record, parse_record

__all__ = [
    "DEFAULT_LIMITS",
    "MacroContext",
    "MacroString",
    "Mechanism",
    "Modifier",
    "PublishedNetworks",
    "SpfLimits",
    "SpfRecord",
    "SpfResult",
    "SpfResultCode",
    "SpfSyntaxError",
    "check_helo",
    "check_host",
    "check_mail_from",
    "client_address",
    "domain_problem",
    "expand",
    "is_spf_record",
    "mail_from_identity",
    "parse_macro_string",
    "parse_record",
    "published_networks",
]
