"""MTA-STS policy files (RFC 8461 §3.2) parsed, and MX hosts matched against their patterns.

Pure: bytes in, a typed policy or a `PolicyError` naming the line and what is wrong. Field
names are case-sensitive (the ABNF uses %s strings), unknown fields are extensions and ignored,
and a repeated field other than `mx` keeps its first value (RFC 8461 §3.2) while the repetition
is reported, because a second `mode:` line is almost always a mistake someone wants to hear of.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

Mode = Literal["enforce", "testing", "none"]
MODES: Final[tuple[Mode, ...]] = ("enforce", "testing", "none")
VERSION: Final = "STSv1"
#: RFC 8461 §3.2: "maximum value of 31557600" (one year)
MAX_AGE_LIMIT: Final = 31_557_600
KNOWN_FIELDS: Final = ("version", "mode", "max_age", "mx")

_FIELD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}\Z")
# sts-policy-vchar: VCHAR or UTF-8 beyond ASCII, with inner white space only.
_VALUE = re.compile(r"[^\x00-\x20\x7f](?:[ \t]*[^\x00-\x20\x7f])*\Z")
_MAX_AGE = re.compile(r"[0-9]{1,10}\Z")
# RFC 5321 Domain: sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\Z")


class PolicyError(ValueError):
    """The policy file is not a valid MTA-STS policy; the message says why, in English."""


@dataclass(frozen=True, slots=True)
class MtaStsPolicy:
    mode: Mode
    max_age: int
    #: mx patterns as written, lower-cased ("mail.example.jp", "*.example.jp")
    mx: tuple[str, ...]
    version: str = VERSION
    #: unknown fields, first value of each (RFC 8461 §3.2: ignored by senders)
    extensions: Mapping[str, str] = field(default_factory=dict)
    #: fields given more than once where only one is allowed; the first value counts
    repeated: tuple[str, ...] = ()


def parse_policy(data: bytes | str) -> MtaStsPolicy:
    """The policy in `data`, or PolicyError naming the first problem."""
    text = _text(data)
    fields: dict[str, str] = {}
    mx: list[str] = []
    repeated: list[str] = []
    for number, line in _lines(text):
        name, value = _field(number, line)
        if name == "mx":
            mx.append(_mx_pattern(number, value))
        elif name in fields:
            repeated.append(name)
        else:
            fields[name] = value
    return _policy(fields, mx, repeated)


def _text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PolicyError(f"not UTF-8 text (byte {error.start})") from None


def _lines(text: str) -> Iterable[tuple[int, str]]:
    # sts-policy-term is LF or CRLF; blank lines are tolerated as every sender we know does.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if line.strip(" \t"):
            yield number, line


def _field(number: int, line: str) -> tuple[str, str]:
    name, separator, rest = line.partition(":")
    if not separator:
        raise PolicyError(f"line {number} is not 'name: value': {_quote(line)}")
    if not _FIELD_NAME.match(name):
        raise PolicyError(f"line {number}: {_quote(name)} is not a valid field name")
    value = rest.strip(" \t")
    if not _VALUE.match(value):
        raise PolicyError(f"line {number}: field {name} has no value or a control character")
    lowered = name.lower()
    if lowered in KNOWN_FIELDS and name != lowered:
        raise PolicyError(f"line {number}: field names are case-sensitive, write {lowered}")
    return name, value


def _mx_pattern(number: int, value: str) -> str:
    host = value[2:] if value.startswith("*.") else value
    if not _DOMAIN.match(host):
        raise PolicyError(f"line {number}: mx {_quote(value)} is not a host name or *.domain")
    return value.lower()


def _policy(fields: dict[str, str], mx: list[str], repeated: list[str]) -> MtaStsPolicy:
    version = fields.get("version")
    if version is None:
        raise PolicyError("the version field is missing (version: STSv1)")
    if version != VERSION:
        raise PolicyError(f"version is {_quote(version)}, not STSv1")
    mode = fields.get("mode")
    if mode is None:
        raise PolicyError("the mode field is missing (enforce, testing or none)")
    if mode not in MODES:
        raise PolicyError(f"mode {_quote(mode)} is not enforce, testing or none")
    max_age_text = fields.get("max_age")
    if max_age_text is None:
        raise PolicyError("the max_age field is missing")
    if not _MAX_AGE.match(max_age_text):
        raise PolicyError(f"max_age {_quote(max_age_text)} is not a number of seconds")
    max_age = int(max_age_text)
    if max_age > MAX_AGE_LIMIT:
        raise PolicyError(f"max_age {max_age} is over the limit of {MAX_AGE_LIMIT} (one year)")
    if not mx and mode != "none":
        raise PolicyError(f"no mx field, which mode {mode} needs")
    extensions = {name: value for name, value in fields.items() if name not in KNOWN_FIELDS}
    return MtaStsPolicy(
        mode=mode,
        max_age=max_age,
        mx=tuple(dict.fromkeys(mx)),
        extensions=extensions,
        repeated=tuple(dict.fromkeys(repeated)),
    )


def _quote(text: str) -> str:
    return repr(text[:60] + ("..." if len(text) > 60 else ""))


def mx_matches(pattern: str, host: str) -> bool:
    """Whether MX `host` is covered by `pattern` (RFC 8461 §4.1).

    A wildcard covers exactly one leftmost label: `*.example.jp` covers `mx1.example.jp` but
    neither `example.jp` nor `a.mx1.example.jp`. Comparison ignores case and a final dot.
    """
    name = host.rstrip(".").lower()
    wanted = pattern.rstrip(".").lower()
    if wanted.startswith("*."):
        first, dot, rest = name.partition(".")
        return bool(first) and bool(dot) and rest == wanted[2:]
    return name == wanted


def uncovered(patterns: Iterable[str], hosts: Iterable[str]) -> tuple[str, ...]:
    """The MX hosts no pattern covers, in the order given."""
    wanted = tuple(patterns)
    return tuple(host for host in hosts if not any(mx_matches(p, host) for p in wanted))
