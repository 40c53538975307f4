"""The OpenSPF RFC 7208 test suite as zone text for the local DNS server.

The suite describes DNS as YAML `zonedata`; drivers (pyspf's test/testspf.py among them)
serve it with two conventions this module reproduces:

- type SPF (99) records are served as TXT unless the name lists TXT records of its own
  ("TXT: NONE" means: none). RFC 7208 §3.1 retired type SPF, so nothing queries it and we
  do not serve it at all.
- "TIMEOUT" makes the name silent for every query type not listed before it.

Two things the rig's zone text cannot say are approximated, both irrelevant to SPF results:
a TXT record with no strings at all (dnslib cannot pack one) is served as one empty string,
and non-ASCII characters, given in the YAML as code points, go out UTF-8 encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

SUITE = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "spf" / "rfc7208-tests.yml"
QUERY_TYPES = ("TXT", "A", "AAAA", "MX", "PTR")


@dataclass(frozen=True)
class SuiteCase:
    id: str
    scenario: str
    host: str
    mail_from: str
    helo: str
    results: tuple[str, ...]
    explanation: str | None
    zone_text: str
    #: (name, query type) pairs that time out
    timeouts: tuple[tuple[str, str], ...]
    strict: Any = True


def load_cases(path: Path = SUITE) -> list[SuiteCase]:
    cases = []
    with path.open(encoding="utf-8") as handle:
        scenarios = list(yaml.safe_load_all(handle))
    for scenario in scenarios:
        zone_text, timeouts = zone_for(scenario["zonedata"])
        for case_id, case in scenario["tests"].items():
            expected = case["result"]
            cases.append(
                SuiteCase(
                    id=case_id,
                    scenario=scenario["description"],
                    host=case["host"],
                    mail_from=case["mailfrom"],
                    helo=case["helo"],
                    results=tuple(expected) if isinstance(expected, list) else (expected,),
                    explanation=case.get("explanation"),
                    zone_text=zone_text,
                    timeouts=timeouts,
                    strict=case.get("strict", True),
                )
            )
    return cases


def zone_for(zonedata: dict[str, list[Any]]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Zone text for one scenario (one zone at the root holds every name) and its timeouts."""
    lines = ["$ORIGIN ."]
    timeouts: list[tuple[str, str]] = []
    for name, entries in zonedata.items():
        owner = _name(name)
        has_txt = any(isinstance(entry, dict) and "TXT" in entry for entry in entries)
        answered: set[str] = set()
        silent = False
        for entry in entries:
            if entry == "TIMEOUT":
                silent = True
                continue
            ((rtype, value),) = entry.items()
            if value == "NONE":
                continue
            if rtype == "SPF":
                if has_txt:
                    continue
                # pyspf's driver appends the TXT copies after the listed records, so they
                # never shield a type from a TIMEOUT listed later.
                rtype = "TXT"
            elif not silent:
                answered.add(rtype)
            lines.append(f"{owner} 300 IN {rtype} {_rdata(rtype, value)}")
        if silent:
            timeouts += [(name, qtype) for qtype in QUERY_TYPES if qtype not in answered]
    return "\n".join(lines) + "\n", tuple(timeouts)


def _rdata(rtype: str, value: Any) -> str:
    if rtype == "TXT":
        strings = value if isinstance(value, list) else [value]
        return " ".join(_quoted(text) for text in strings) or '""'
    if rtype == "MX":
        preference, exchange = value
        return f"{preference} {_name(exchange)}"
    if rtype in ("PTR", "CNAME"):
        return _name(value)
    return str(value)


def _quoted(text: str) -> str:
    # dnslib's lexer reads \xHH inside quotes (its \DDD is octal, unlike RFC 1035's decimal).
    escaped = "".join(
        "\\" + char
        if char in '"\\'
        else f"\\x{ord(char):02x}"
        if ord(char) < 0x20 or ord(char) == 0x7F
        else char
        for char in text
    )
    return f'"{escaped}"'


def _name(name: str) -> str:
    # Owner and target names go through dnslib's DNSLabel, which reads RFC 1035 \DDD.
    if not name or name == ".":
        return "."
    escaped = "".join(
        char if char.isascii() and (char.isalnum() or char in "-_.:/%*") else f"\\{ord(char):03d}"
        for char in name.rstrip(".")
    )
    return escaped + "."
