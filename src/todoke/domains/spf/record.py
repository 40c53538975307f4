"""SPF records parsed into terms (RFC 7208 §4.6, §5, §6 and the ABNF of §12).

Pure and reusable: the evaluator, lookup counting and record linting all read `SpfRecord`.
Any syntax error anywhere in a record is a permerror (§4.6), so a record is parsed whole
before the first mechanism is evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Address, IPv6Network
from typing import Literal, cast

from todoke.domains.spf.macros import MacroString, SpfSyntaxError, parse_macro_string

Qualifier = Literal["+", "-", "~", "?"]
MechanismKind = Literal["all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"]
MatchResult = Literal["pass", "fail", "softfail", "neutral"]
QUALIFIER_RESULTS: dict[Qualifier, MatchResult] = {
    "+": "pass",
    "-": "fail",
    "~": "softfail",
    "?": "neutral",
}
MECHANISMS: frozenset[str] = frozenset(("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"))
# RFC 7208 §4.6.4: the terms that cost one of the ten DNS lookups.
LOOKUP_MECHANISMS: frozenset[str] = frozenset(("include", "a", "mx", "ptr", "exists"))
VERSION = "v=spf1"

_MODIFIER = re.compile(r"(?P<name>[A-Za-z][A-Za-z0-9_.\-]*)=(?P<value>.*)", re.DOTALL)
_DIRECTIVE = re.compile(
    r"(?P<qualifier>[+\-~?]?)(?P<name>[A-Za-z][A-Za-z0-9]*)(?P<rest>.*)", re.DOTALL
)
_DUAL_CIDR = re.compile(r"(?:/(?P<v4>[0-9]+))?(?://(?P<v6>[0-9]+))?\Z")
_NETWORK = re.compile(r"(?P<address>[^/]+)(?:/(?P<length>[0-9]+))?")
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IP4 = re.compile(rf"{_QNUM}(?:\.{_QNUM}){{3}}")
_TOPLABEL_END = re.compile(
    r"\.(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9\-]*[A-Za-z0-9])\.?\Z"
)


@dataclass(frozen=True, slots=True)
class Mechanism:
    """A directive: qualifier, mechanism and its arguments, as written in `text`."""

    qualifier: Qualifier
    kind: MechanismKind
    text: str
    #: the target domain-spec; None means the domain being evaluated
    domain_spec: MacroString | None = None
    #: ip4:/ip6: network
    network: IPv4Network | IPv6Network | None = None
    #: a/mx prefix lengths (RFC 7208 §5.6 dual-cidr-length), defaults 32 and 128
    cidr4: int = 32
    cidr6: int = 128

    @property
    def result(self) -> MatchResult:
        return QUALIFIER_RESULTS[self.qualifier]

    @property
    def costs_lookup(self) -> bool:
        return self.kind in LOOKUP_MECHANISMS


@dataclass(frozen=True, slots=True)
class Modifier:
    """name=value; `name` lower-cased. redirect/exp values are domain-specs."""

    name: str
    value: MacroString
    text: str


Term = Mechanism | Modifier


@dataclass(frozen=True, slots=True)
class SpfRecord:
    text: str
    terms: tuple[Term, ...]
    mechanisms: tuple[Mechanism, ...]
    redirect: Modifier | None
    explanation: Modifier | None

    @property
    def lookup_terms(self) -> int:
        """Terms of this record alone that cost a DNS lookup (includes not followed)."""
        return sum(m.costs_lookup for m in self.mechanisms) + (self.redirect is not None)


def is_spf_record(text: str | bytes) -> bool:
    """Whether a TXT string starts a version 1 SPF record (RFC 7208 §4.5): "v=spf1" in any
    case, then a space or the end."""
    version = VERSION.encode() if isinstance(text, bytes) else VERSION
    head = text[: len(version) + 1]
    if head[: len(version)].lower() != version:
        return False
    return len(head) == len(version) or head[len(version) :] in (" ", b" ")


def parse_record(text: str) -> SpfRecord:
    """Parse a whole SPF record; raise SpfSyntaxError naming the offending term."""
    if not is_spf_record(text):
        raise SpfSyntaxError(f"{text[:40]!r} is not an SPF record: it must start with 'v=spf1'")
    for position, char in enumerate(text):
        if not 0x20 <= ord(char) <= 0x7E:
            raise SpfSyntaxError(
                f"character {char!r} (U+{ord(char):04X}) at position {position} is not allowed: "
                "terms are visible ASCII separated by spaces only (RFC 7208 §3, §4.6.1)"
            )
    terms = tuple(parse_term(word) for word in text[len(VERSION) :].split(" ") if word)
    modifiers: dict[str, Modifier] = {}
    for term in terms:
        if isinstance(term, Modifier) and term.name in ("redirect", "exp"):
            if term.name in modifiers:
                raise SpfSyntaxError(f"modifier {term.name}= appears more than once (RFC 7208 §6)")
            modifiers[term.name] = term
    return SpfRecord(
        text=text,
        terms=terms,
        mechanisms=tuple(term for term in terms if isinstance(term, Mechanism)),
        redirect=modifiers.get("redirect"),
        explanation=modifiers.get("exp"),
    )


def parse_term(word: str) -> Term:
    """Parse one space-separated term: a modifier (name=value) or a directive."""
    modifier = _MODIFIER.fullmatch(word)
    if modifier:
        name = modifier["name"].lower()
        value = modifier["value"]
        if name in ("redirect", "exp"):
            return Modifier(name, parse_domain_spec(value, term=word), word)
        # Unknown modifiers are ignored but must still be valid macro-strings (RFC 7208 §6).
        return Modifier(
            name, _in_term(word, lambda: parse_macro_string(value, explanation=True)), word
        )
    directive = _DIRECTIVE.fullmatch(word)
    if directive is None:
        raise SpfSyntaxError(
            f"term {word!r} is neither a mechanism nor a name=value modifier (RFC 7208 §4.6.1)"
        )
    kind = directive["name"].lower()
    if kind not in MECHANISMS:
        hint = f"; {kind} is a modifier, write {kind}=" if kind in ("redirect", "exp") else ""
        raise SpfSyntaxError(f"unknown mechanism {directive['name']!r} in {word!r}{hint}")
    qualifier = cast(Qualifier, directive["qualifier"] or "+")
    return _parse_mechanism(qualifier, cast(MechanismKind, kind), directive["rest"], word)


def _parse_mechanism(qualifier: Qualifier, kind: MechanismKind, rest: str, word: str) -> Mechanism:
    if kind == "all":
        if rest:
            raise SpfSyntaxError(f"{word!r}: 'all' takes no argument (RFC 7208 §5.1)")
        return Mechanism(qualifier, kind, word)
    if kind in ("ip4", "ip6"):
        if not rest.startswith(":"):
            raise SpfSyntaxError(f"{word!r}: {kind} needs ':' and a network (RFC 7208 §5.6)")
        return Mechanism(qualifier, kind, word, network=_parse_network(kind, rest[1:], word))
    if kind in ("include", "exists"):
        if not rest.startswith(":"):
            raise SpfSyntaxError(f"{word!r}: {kind} needs ':' and a domain (RFC 7208 §5.2, §5.7)")
        return Mechanism(qualifier, kind, word, domain_spec=parse_domain_spec(rest[1:], term=word))
    if kind == "ptr":
        spec = None
        if rest:
            if not rest.startswith(":"):
                raise SpfSyntaxError(f"{word!r}: ptr takes ':domain' only (RFC 7208 §5.5)")
            spec = parse_domain_spec(rest[1:], term=word)
        return Mechanism(qualifier, kind, word, domain_spec=spec)
    # a and mx: [ ":" domain-spec ] [ dual-cidr-length ] (RFC 7208 §5.3, §5.4)
    argument = rest[1:] if rest.startswith(":") else rest
    cidr = _DUAL_CIDR.search(argument)
    assert cidr is not None  # every string ends in an empty match
    spec_text = argument[: cidr.start()]
    if not rest.startswith(":") and spec_text:
        raise SpfSyntaxError(
            f"{word!r}: expected ':domain' or '/prefix' after {kind} (RFC 7208 §5.3, §5.4)"
        )
    spec = parse_domain_spec(spec_text, term=word) if rest.startswith(":") else None
    return Mechanism(
        qualifier,
        kind,
        word,
        domain_spec=spec,
        cidr4=_prefix(cidr["v4"], 32, word),
        cidr6=_prefix(cidr["v6"], 128, word),
    )


def _prefix(digits: str | None, maximum: int, word: str) -> int:
    if digits is None:
        return maximum
    # ip4-cidr-length and ip6-cidr-length have no leading zeros (RFC 7208 §12).
    if (len(digits) > 1 and digits[0] == "0") or int(digits) > maximum:
        raise SpfSyntaxError(
            f"{word!r}: prefix length /{digits} must be 0-{maximum} without leading zeros"
        )
    return int(digits)


def _parse_network(kind: str, argument: str, word: str) -> IPv4Network | IPv6Network:
    match = _NETWORK.fullmatch(argument)
    if match is None:
        raise SpfSyntaxError(f"{word!r}: expected {kind}:address or {kind}:address/prefix")
    address = match["address"]
    if kind == "ip4":
        # RFC 7208 §5.6: four full dotted quads, no shortened or zero-padded forms.
        if not _IP4.fullmatch(address):
            raise SpfSyntaxError(f"{word!r}: {address!r} is not a dotted-quad IPv4 address")
        return IPv4Network((address, _prefix(match["length"], 32, word)), strict=False)
    try:
        if "%" in address:
            raise ValueError("zone index")
        parsed = IPv6Address(address)
    except ValueError:
        raise SpfSyntaxError(f"{word!r}: {address!r} is not an IPv6 address") from None
    return IPv6Network((parsed, _prefix(match["length"], 128, word)), strict=False)


def parse_domain_spec(text: str, *, term: str | None = None) -> MacroString:
    """A domain-spec: a macro-string ending in a macro or in '.' toplabel (RFC 7208 §7.1)."""
    where = f" in {term!r}" if term else ""
    if not text:
        raise SpfSyntaxError(f"empty domain{where} (RFC 7208 §7.1)")
    spec = _in_term(term, lambda: parse_macro_string(text))
    if not spec.ends_with_macro and not _TOPLABEL_END.search(text):
        raise SpfSyntaxError(
            f"domain {text!r}{where} must end in '.' and a top label of letters, digits and "
            "inner hyphens, not all digits, or in a macro (RFC 7208 §7.1)"
        )
    return spec


def _in_term(term: str | None, parse: Callable[[], MacroString]) -> MacroString:
    try:
        return parse()
    except SpfSyntaxError as error:
        if term is None:
            raise
        raise SpfSyntaxError(f"{error.message} (term {term!r})") from None
