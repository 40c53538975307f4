"""DMARC policy records read strictly: every tag typed, every deviation named.

RFC 7489 §6.3-§6.4 and RFC 9989 (which obsoletes it) define the record as DKIM-style
`tag=value` pairs separated by ";" with `v=DMARC1` first. Receivers discard a record that does
not start that way and otherwise ignore unknown tags and replace bad values by defaults, so a
record with problems still has a meaning. `parse_dmarc_record` therefore raises only for text
that is not a DMARC record at all and returns every other problem beside the typed values,
which is what a checker needs to explain what receivers will do.

Pure and total: any string in, a record or `NotDmarcRecord` out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Final, Literal, TypeVar, cast
from urllib.parse import unquote

from todoke.core.errors import InvalidInput

Policy = Literal["none", "quarantine", "reject"]
Alignment = Literal["r", "s"]
PsdFlag = Literal["y", "n", "u"]
ProblemKind = Literal["syntax", "unknown_tag", "bad_value", "duplicate_tag"]
Severity = Literal["error", "warning"]

POLICIES: Final[tuple[Policy, ...]] = ("none", "quarantine", "reject")
VERSION: Final = "DMARC1"
#: the tags of RFC 9989's registry, the ones to recommend
KNOWN_TAGS: Final = ("v", "p", "sp", "np", "adkim", "aspf", "fo", "psd", "t", "rua", "ruf")
#: every tag some receiver in service reads (RFC 7489 §6.3 adds pct, rf and ri)
KNOWN_TAGS_7489: Final = (*KNOWN_TAGS, "pct", "rf", "ri")
#: RFC 9989 removed these; RFC 7489 receivers still read them
REMOVED_TAGS: Final = frozenset({"pct", "rf", "ri"})
FAILURE_OPTIONS: Final = frozenset({"0", "1", "d", "s"})

# dmarc-version = "v" equals %s"DMARC1"; the tag name is case-insensitive (RFC 5234 §2.3),
# the value is not (RFC 7489 §6.4 spells it out byte by byte).
_VERSION = re.compile(r"[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|\Z)")
_TERM = re.compile(r"(?P<name>[^=]*?)[ \t]*=[ \t]*(?P<value>.*)", re.DOTALL)
_TAG_NAME = re.compile(r"[A-Za-z]+")
_LIST_SPLIT = re.compile(r"[ \t]*:[ \t]*")
_URI_SPLIT = re.compile(r"[ \t]*,[ \t]*")
# RFC 7489 §6.4: dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ]
_SIZE = re.compile(r"!(?P<size>[0-9]+[kmgtKMGT]?)\Z")
_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*):(?P<rest>.*)", re.DOTALL)
# RFC 3986 §2: unreserved, reserved and percent-encoded octets only.
_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+|\"[^\"]*\"")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9\-]{1,63}(?<!-)")
_EMPTY_TERM = "an empty term between two ';' is outside the grammar (RFC 7489 §6.4)"
_K = TypeVar("_K", bound=str)


class NotDmarcRecord(InvalidInput):
    """The text does not start with `v=DMARC1`, so receivers discard it (RFC 7489 §6.6.3)."""

    code = "dmarc_record"


@dataclass(frozen=True, slots=True)
class TagProblem:
    """Something in the record a receiver will ignore, replace by a default, or may trip on."""

    kind: ProblemKind
    #: the lower-cased tag name; for a term that is not `name=value`, the term as written
    tag: str
    #: the value (or term) as written
    value: str
    #: what is allowed, language-neutral ("none, quarantine, reject", "0-100")
    expected: str
    #: "error": receivers ignore or replace it; "warning": tolerated but outside the grammar
    severity: Severity
    #: the problem in one English sentence, for logs and APIs
    message: str


@dataclass(frozen=True, slots=True)
class ReportUri:
    """One entry of rua= or ruf= (RFC 7489 §6.2, RFC 9989 "DMARC URIs")."""

    text: str
    #: the URI without the RFC 7489 size suffix
    uri: str
    scheme: str | None = None
    #: mailto: the addr-spec, percent-decoded
    address: str | None = None
    #: mailto: the lower-cased domain of the address
    domain: str | None = None
    #: RFC 7489 maximum report size ("10m" of "!10m"); RFC 9989 removed it
    size: str | None = None
    #: why receivers cannot use it, None when they can
    problem: str | None = None

    @property
    def valid(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class DmarcRecord:
    """A DMARC record with its values as receivers read them (defaults where a tag is absent
    or invalid) and the problems found on the way."""

    text: str
    #: (lower-cased name, value as written) for every tag, in order, repeats included
    tags: tuple[tuple[str, str], ...]
    problems: tuple[TagProblem, ...] = ()
    #: None when p= is absent or invalid
    p: Policy | None = None
    sp: Policy | None = None
    np: Policy | None = None
    adkim: Alignment = "r"
    aspf: Alignment = "r"
    fo: tuple[str, ...] = ("0",)
    #: None when absent (RFC 7489's default is 100; RFC 9989 has no pct)
    pct: int | None = None
    rf: tuple[str, ...] = ()
    ri: int | None = None
    #: t=y (RFC 9989 test mode)
    testing: bool = False
    psd: PsdFlag = "u"
    rua: tuple[ReportUri, ...] = ()
    ruf: tuple[ReportUri, ...] = ()
    _first: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def tag_map(self) -> Mapping[str, str]:
        """Lower-cased tag name -> value as written; the first of repeated tags wins."""
        return self._first

    def has(self, name: str) -> bool:
        return name in self._first

    def problems_of(self, kind: ProblemKind) -> tuple[TagProblem, ...]:
        return tuple(problem for problem in self.problems if problem.kind == kind)


def is_dmarc_record(text: str) -> bool:
    """Whether `text` starts with the `v=DMARC1` tag receivers look for (RFC 7489 §6.6.3 step 2;
    RFC 9989 "DNS Tree Walk" step 2)."""
    return _VERSION.match(text) is not None


def parse_dmarc_record(text: str) -> DmarcRecord:
    """Read a DMARC record; raise NotDmarcRecord when it does not start with `v=DMARC1`."""
    if not is_dmarc_record(text):
        raise NotDmarcRecord(_not_a_record(text))
    parts = text.split(";")
    problems: list[TagProblem] = []
    tags: list[tuple[str, str]] = [("v", VERSION)]
    for position, part in enumerate(parts[1:], start=1):
        term = part.strip(" \t")
        if not term:
            if position < len(parts) - 1:
                problems.append(_syntax(";;", _EMPTY_TERM, "warning"))
            continue
        tag = _read_term(term, problems)
        if tag is not None:
            tags.append(tag)
    return _typed(text, tuple(tags), problems)


def _not_a_record(text: str) -> str:
    head = text.lstrip(" \t")
    if head[:1].lower() == "v" and head != text:
        return "the record starts with white space; it must start with 'v=DMARC1'"
    match = re.match(r"[vV][ \t]*=[ \t]*([^; \t]*)", head)
    if match:
        return f"the version is {match[1]!r}; it must be exactly 'DMARC1' (case-sensitive)"
    if re.search(r"v[ \t]*=[ \t]*DMARC1", text, re.IGNORECASE):
        return "'v=DMARC1' must be the first tag of the record"
    return f"{text[:40]!r} is not a DMARC record: it must start with 'v=DMARC1'"


def _syntax(term: str, message: str, severity: Severity = "error") -> TagProblem:
    return TagProblem("syntax", term, term, "tag=value", severity, message)


def _read_term(term: str, problems: list[TagProblem]) -> tuple[str, str] | None:
    for char in term:
        # dmarc-value = %x20-3A / %x3C-7E, names are ALPHA: a full-width space, digit or
        # semicolon typed with a Japanese input method is the usual culprit.
        if not 0x20 <= ord(char) <= 0x7E:
            reason = (
                f"{term!r} contains {char!r} (U+{ord(char):04X}); tags and values are "
                "printable ASCII only (RFC 7489 §6.4)"
            )
            problems.append(_syntax(term, reason))
            return None
    match = _TERM.fullmatch(term)
    if match is None or not _TAG_NAME.fullmatch(match["name"]):
        reason = f"{term!r} is not a tag=value pair with a letters-only tag name (RFC 7489 §6.4)"
        problems.append(_syntax(term, reason))
        return None
    return match["name"].lower(), match["value"]


def _typed(text: str, tags: tuple[tuple[str, str], ...], problems: list[TagProblem]) -> DmarcRecord:
    first: dict[str, str] = {}
    for name, value in tags:
        if name in first:
            reason = (
                f"{name}= appears more than once; receivers may read either value or reject "
                "the record (RFC 6376 §3.2)"
            )
            problems.append(TagProblem("duplicate_tag", name, value, "once", "error", reason))
            continue
        first[name] = value
        if name not in KNOWN_TAGS_7489:
            reason = f"unknown tag {name}=, ignored by receivers (RFC 7489 §6.3)"
            expected = ", ".join(KNOWN_TAGS)
            problems.append(TagProblem("unknown_tag", name, value, expected, "error", reason))
    if "p" in first and tags[1][0] != "p":
        # RFC 7489 §6.4 wants p= right after v=; RFC 9989 dropped the rule.
        reason = "p= is not the second tag; RFC 7489 receivers expect it right after v=DMARC1"
        problems.append(TagProblem("syntax", "p", first["p"], "v=DMARC1; p=...", "warning", reason))
    values = _Values(first, problems)
    record = DmarcRecord(
        text=text,
        tags=tags,
        p=values.keyword("p", POLICIES),
        sp=values.keyword("sp", POLICIES),
        np=values.keyword("np", POLICIES),
        adkim=values.keyword("adkim", ("r", "s")) or "r",
        aspf=values.keyword("aspf", ("r", "s")) or "r",
        fo=values.options("fo", FAILURE_OPTIONS, "0, 1, d, s separated by ':'") or ("0",),
        pct=values.number("pct", 100),
        rf=values.options("rf", frozenset({"afrf"}), "afrf") or (),
        ri=values.number("ri", 2**32 - 1),
        testing=values.keyword("t", ("y", "n")) == "y",
        psd=values.keyword("psd", ("y", "n", "u")) or "u",
        rua=values.uris("rua"),
        ruf=values.uris("ruf"),
        _first=MappingProxyType(first),
    )
    # The typed values above add their problems as they are read.
    return replace(record, problems=tuple(problems))


@dataclass
class _Values:
    tags: Mapping[str, str]
    problems: list[TagProblem]

    def bad(self, name: str, value: str, expected: str, reason: str = "") -> None:
        why = f": {reason}" if reason else ""
        message = f"{name}={value!r} is not valid{why}; expected {expected}"
        self.problems.append(TagProblem("bad_value", name, value, expected, "error", message))

    def keyword(self, name: str, allowed: tuple[_K, ...]) -> _K | None:
        value = self.tags.get(name)
        if value is None:
            return None
        if value.lower() in allowed:
            # ABNF literals are case-insensitive (RFC 5234 §2.3): "Reject" is "reject".
            return cast(_K, value.lower())
        self.bad(name, value, ", ".join(allowed))
        return None

    def options(self, name: str, allowed: frozenset[str], expected: str) -> tuple[str, ...] | None:
        value = self.tags.get(name)
        if value is None:
            return None
        items = tuple(item.lower() for item in _LIST_SPLIT.split(value.strip(" \t")))
        if not all(item in allowed for item in items):
            self.bad(name, value, expected)
            return None
        return items

    def number(self, name: str, maximum: int) -> int | None:
        value = self.tags.get(name)
        if value is None:
            return None
        digits = value.strip(" \t")
        if not digits.isascii() or not digits.isdigit() or len(digits) > 10:
            self.bad(name, value, f"a whole number 0-{maximum}")
            return None
        number = int(digits)
        if number > maximum:
            self.bad(name, value, f"a whole number 0-{maximum}", f"{number} is too large")
            return None
        return number

    def uris(self, name: str) -> tuple[ReportUri, ...]:
        value = self.tags.get(name)
        if value is None:
            return ()
        if not value.strip(" \t"):
            self.bad(name, value, "mailto:address@example.jp", "the list is empty")
            return ()
        return tuple(parse_report_uri(item) for item in _URI_SPLIT.split(value.strip(" \t")))


def parse_report_uri(text: str) -> ReportUri:
    """One reporting URI; `problem` says why receivers cannot use it."""
    uri, size = text, None
    sized = _SIZE.search(text)
    if sized:
        uri, size = text[: sized.start()], sized["size"].lower()
    scheme_match = _SCHEME.fullmatch(uri)
    if not uri:
        return ReportUri(text, uri, problem="the URI is empty (two commas in a row?)")
    if scheme_match is None:
        hint = " (write mailto:" + uri + ")" if "@" in uri else ""
        return ReportUri(text, uri, size=size, problem=f"{uri!r} has no scheme{hint}")
    scheme = scheme_match["scheme"].lower()
    if not _URI_CHARS.fullmatch(uri):
        return ReportUri(text, uri, scheme, size=size, problem=_uri_chars_problem(uri))
    if "!" in uri:
        bang = "'!' must be percent-encoded inside a DMARC URI (RFC 7489 §6.4)"
        return ReportUri(text, uri, scheme, size=size, problem=bang)
    if scheme != "mailto":
        return ReportUri(text, uri, scheme, size=size)
    address = unquote(scheme_match["rest"].split("?", 1)[0])
    problem = _address_problem(address)
    domain = address.rpartition("@")[2].lower() if problem is None else None
    return ReportUri(text, uri, scheme, address, domain, size, problem)


def _uri_chars_problem(uri: str) -> str:
    for char in uri:
        if char != "%" and not _URI_CHARS.fullmatch(char):
            return f"{char!r} (U+{ord(char):04X}) must be percent-encoded in a URI (RFC 3986 §2)"
    return "'%' must be followed by two hexadecimal digits (RFC 3986 §2.1)"


def _address_problem(address: str) -> str | None:
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return f"{address!r} is not an email address (local-part@domain)"
    if "," in address:
        return "one address per URI; separate URIs with ','"
    if not _LOCAL_PART.fullmatch(local):
        return f"the local part {local!r} is not valid (RFC 5322 §3.4.1)"
    labels = domain.rstrip(".").split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return f"{domain!r} is not a valid domain name"
    return None
