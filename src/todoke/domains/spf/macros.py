"""SPF macro strings (RFC 7208 §7): parsed once from a record, expanded per evaluation.

Expansion is pure: the one letter that needs DNS, %{p}, arrives already resolved in the
context, so the evaluator decides when (and whether) to spend lookups on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from urllib.parse import quote

from todoke.core.errors import InvalidInput

MACRO_LETTERS = frozenset("slodiphcrtv")
# RFC 7208 §7.2: c, r and t only make sense in an explanation shown to a person.
EXPLANATION_ONLY_LETTERS = frozenset("crt")
_DELIMITERS = ".-+,/_="
_MACRO_BODY = re.compile(
    r"(?P<letter>[A-Za-z])(?P<digits>[0-9]*)(?P<reverse>[rR]?)(?P<delims>[.\-+,/_=]*)"
)
# RFC 7208 §7.3: a domain name built by expansion is cut from the left to 253 octets.
MAX_DOMAIN_LENGTH = 253


class SpfSyntaxError(InvalidInput):
    """A record, term or macro string that breaks the RFC 7208 grammar (a permerror)."""

    code = "spf_syntax"


@dataclass(frozen=True, slots=True)
class Macro:
    """One %{...} expansion: letter, how many right-hand parts, reversal, split characters."""

    letter: str
    parts: int | None = None
    reverse: bool = False
    delimiters: str = ""
    url_escape: bool = False

    def __str__(self) -> str:
        letter = self.letter.upper() if self.url_escape else self.letter
        parts = "" if self.parts is None else str(self.parts)
        return f"%{{{letter}{parts}{'r' if self.reverse else ''}{self.delimiters}}}"


@dataclass(frozen=True, slots=True)
class MacroString:
    """A parsed macro-string: literal text and macros, in order, plus the source text."""

    tokens: tuple[str | Macro, ...]
    text: str
    #: True when the text ends in a macro-expand ("%{..}", "%%", "%_" or "%-"), which
    #: satisfies the domain-end rule of RFC 7208 §7.1 without a literal top label.
    ends_with_macro: bool

    @property
    def letters(self) -> frozenset[str]:
        return frozenset(token.letter for token in self.tokens if isinstance(token, Macro))

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class MacroContext:
    """The values macros expand to (RFC 7208 §7.2) for one step of one evaluation."""

    sender: str
    local_part: str
    sender_domain: str
    domain: str
    ip: IPv4Address | IPv6Address
    helo: str
    #: the validated name of the client (%{p}); None expands to "unknown"
    validated_name: str | None = None
    receiver: str = "unknown"
    timestamp: int = 0


def parse_macro_string(text: str, *, explanation: bool = False) -> MacroString:
    """Parse `text` as a macro-string, or as an explain-string (spaces and c/r/t allowed)."""
    tokens: list[str | Macro] = []
    literal: list[str] = []
    ends_with_macro = False
    position = 0
    while position < len(text):
        char = text[position]
        if char != "%":
            _check_literal(text, position, explanation=explanation)
            literal.append(char)
            position += 1
            ends_with_macro = False
            continue
        following = text[position + 1 : position + 2]
        escapes = {"%": "%", "_": " ", "-": "%20"}
        if following in escapes:
            literal.append(escapes[following])
            position += 2
        elif following == "{":
            end = text.find("}", position)
            if end < 0:
                raise SpfSyntaxError(
                    f"macro at position {position} of {text!r} has no closing '}}'"
                )
            if literal:
                tokens.append("".join(literal))
                literal = []
            tokens.append(_parse_macro(text[position + 2 : end], text, explanation=explanation))
            position = end + 1
        else:
            raise SpfSyntaxError(
                f"'%' at position {position} of {text!r} must be followed by '{{', '%', '_' or "
                "'-' (RFC 7208 §7.1); write '%%' for a literal percent sign"
            )
        ends_with_macro = True
    if literal:
        tokens.append("".join(literal))
    return MacroString(tuple(tokens), text, ends_with_macro)


def _check_literal(text: str, position: int, *, explanation: bool) -> None:
    # macro-literal = %x21-24 / %x26-7E; explain-string adds SP (RFC 7208 §7.1, §6.2).
    code = ord(text[position])
    if 0x21 <= code <= 0x7E or (explanation and code == 0x20):
        return
    raise SpfSyntaxError(
        f"character {text[position]!r} (U+{code:04X}) at position {position} of {text!r} is not "
        "allowed: SPF text is visible 7-bit ASCII (RFC 7208 §7.1)"
    )


def _parse_macro(body: str, text: str, *, explanation: bool) -> Macro:
    match = _MACRO_BODY.fullmatch(body)
    if match is None:
        raise SpfSyntaxError(
            f"macro %{{{body}}} in {text!r} is malformed: expected a letter, optional digits, "
            "optional 'r' and delimiters from '.-+,/_=' (RFC 7208 §7.1)"
        )
    letter = match["letter"]
    lowered = letter.lower()
    if lowered not in MACRO_LETTERS:
        raise SpfSyntaxError(f"unknown macro letter {letter!r} in {text!r} (RFC 7208 §7.2)")
    if lowered in EXPLANATION_ONLY_LETTERS and not explanation:
        raise SpfSyntaxError(
            f"macro letter {letter!r} in {text!r} is only allowed in explanation text "
            "(RFC 7208 §7.2)"
        )
    parts: int | None = None
    if match["digits"]:
        parts = int(match["digits"])
        if parts == 0:
            raise SpfSyntaxError(
                f"macro %{{{body}}} in {text!r} keeps zero parts; the count must be nonzero "
                "(RFC 7208 §7.3)"
            )
    return Macro(lowered, parts, bool(match["reverse"]), match["delims"], letter.isupper())


def expand(macro_string: MacroString, context: MacroContext) -> str:
    """The text `macro_string` stands for in `context` (RFC 7208 §7.3)."""
    return "".join(
        token if isinstance(token, str) else _expand_macro(token, context)
        for token in macro_string.tokens
    )


def _expand_macro(macro: Macro, context: MacroContext) -> str:
    value = _letter_value(macro.letter, context)
    delimiters = macro.delimiters or "."
    parts = re.split("[" + re.escape(delimiters) + "]", value)
    if macro.reverse:
        parts.reverse()
    if macro.parts is not None:
        parts = parts[-macro.parts :]
    value = ".".join(parts)
    # RFC 7208 §7.3: upper-case letters are URL-escaped; everything outside the RFC 3986
    # unreserved set is escaped.
    return quote(value, safe="~") if macro.url_escape else value


def _letter_value(letter: str, context: MacroContext) -> str:
    ip = context.ip
    values = {
        "s": context.sender,
        "l": context.local_part,
        "o": context.sender_domain,
        "d": context.domain,
        "h": context.helo,
        "r": context.receiver,
        "t": str(context.timestamp),
        "v": "in-addr" if ip.version == 4 else "ip6",
        "p": context.validated_name or "unknown",
        "c": str(ip),
        "i": dotted_address(ip),
    }
    return values[letter]


def dotted_address(ip: IPv4Address | IPv6Address) -> str:
    """%{i}: dotted quad for IPv4, 32 dot-separated nibbles for IPv6 (RFC 7208 §7.3)."""
    if ip.version == 4:
        return str(ip)
    return ".".join(ip.exploded.replace(":", ""))


def domain_for_query(expanded: str) -> str:
    """An expanded domain-spec as a query name: trailing dot dropped, cut to 253 octets by
    removing labels from the left (RFC 7208 §7.3)."""
    name = expanded[:-1] if expanded.endswith(".") else expanded
    while len(name) > MAX_DOMAIN_LENGTH and "." in name:
        name = name.split(".", 1)[1]
    return name
