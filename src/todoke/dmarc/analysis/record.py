"""DMARC record text: read the tags of the current record, write the next one.

A proposal must keep everything the owner already set (rua, ruf, fo, adkim, aspf, unknown
tags) and change only what the step is about. Tags are kept in their order; `v` comes first
(RFC 7489 §6.4 and RFC 9989) and `p` second, which RFC 7489 requires and RFC 9989 still
accepts; tags a step adds go right after `p`, where people look for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from todoke.dmarc.report_types import PolicyPublished

Tags = tuple[tuple[str, str], ...]
POLICIES: Final = ("none", "quarantine", "reject")


def parse_record(record: str) -> Tags | None:
    """The tags of a `v=DMARC1` record, in order and lower-cased names; None if it is not one."""
    tags: list[tuple[str, str]] = []
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if not sep:
            if part.strip():
                return None
            continue
        tags.append((name.strip().lower(), value.strip()))
    if not tags or tags[0] != ("v", "DMARC1"):
        return None
    return tuple(tags)


def tags_from_policy(policy: PolicyPublished) -> Tags:
    """The record as far as a report shows it; values equal to the defaults are left out."""
    tags: list[tuple[str, str]] = [("v", "DMARC1"), ("p", policy.p)]
    optional: Sequence[tuple[str, str | None, str | None]] = (
        ("sp", policy.sp, None),
        ("np", policy.np, None),
        ("adkim", policy.adkim, "r"),
        ("aspf", policy.aspf, "r"),
        ("fo", policy.fo, "0"),
        ("pct", str(policy.pct) if policy.pct is not None else None, "100"),
        ("t", "y" if policy.testing else None, None),
    )
    tags.extend((name, value) for name, value, default in optional if value and value != default)
    return tuple(tags)


def value(tags: Tags, name: str) -> str | None:
    for tag, found in tags:
        if tag == name:
            return found
    return None


def with_changes(tags: Tags, changes: Mapping[str, str | None]) -> Tags:
    """`tags` with `changes` applied: a value replaces or adds the tag, None removes it."""
    existing = {name for name, _ in tags}
    kept: list[tuple[str, str]] = []
    for name, found in tags:
        new = changes.get(name, found)
        if name not in ("v", "p") and new is not None:
            kept.append((name, new))
    added = [
        (name, new)
        for name, new in changes.items()
        if name not in existing and name not in ("v", "p") and new is not None
    ]
    policy = changes.get("p") or value(tags, "p") or "none"
    return (("v", "DMARC1"), ("p", policy), *added, *kept)


def render(tags: Tags) -> str:
    return "; ".join(f"{name}={found}" for name, found in tags)
