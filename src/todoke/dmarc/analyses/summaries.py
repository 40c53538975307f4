"""Totals over a whole window's sources, kept with the analysis so pages that add up every
source (the error analysis by tag, the spoofing analysis, the inventory of header-From
domains) read a few numbers instead of walking a hundred thousand rows.

Each function takes the window's sources table (largest first, rank = index + 1) and returns
JSON-ready values; `dmarc.browse_sources` and `dmarc.posture` read them back, and compute the
same functions live for a range that is no standard window.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any, Final

from todoke.dmarc.analyses.changes import (
    LISTED,
    WindowChanges,
    most_failing,
)
from todoke.dmarc.analyses.compute import SourceView

#: header-From domains kept per window, largest first: spoofers can invent subdomains by the
#: thousand, and the inventory is about the domains that carry real volume
HEADER_FROM_KEPT: Final = 1_000
SPOOFING: Final = "spoofing_suspected"


def network_of(address: str) -> str:
    """The routed block an address belongs to, for grouping one sender's addresses."""
    # /24 and /48 are the smallest blocks routed on the Internet: addresses of one sender.
    ip = ipaddress.ip_address(address)
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def tag_totals(sources: Sequence[SourceView]) -> dict[str, list[int]]:
    """Per tag of the registered sources: [sources, messages, passing, failing sources,
    failing messages]."""
    totals: dict[str, list[int]] = {}
    for view in sources:
        if view.sender is None or not view.sender.tags:
            continue
        failing = view.messages - view.dmarc_pass
        for tag in view.sender.tags:
            into = totals.setdefault(tag, [0, 0, 0, 0, 0])
            into[0] += 1
            into[1] += view.messages
            into[2] += view.dmarc_pass
            into[3] += 1 if failing > 0 else 0
            into[4] += failing
    return totals


def spoofing_totals(sources: Sequence[SourceView], top: int = LISTED) -> dict[str, Any]:
    """The spoofing-suspected sources: counts, the `top` networks by messages, and the ranks
    of the `top` largest sources."""
    count = messages = failing = 0
    ranks: list[int] = []
    networks: dict[str, list[int]] = {}
    for rank, view in enumerate(sources, start=1):
        if view.classification.kind != SPOOFING:
            continue
        count += 1
        messages += view.messages
        failing += view.messages - view.dmarc_pass
        if len(ranks) < top:
            ranks.append(rank)
        into = networks.setdefault(network_of(view.source_ip), [0, 0, 0])
        into[0] += 1
        into[1] += view.messages
        into[2] += view.messages - view.dmarc_pass
    ordered = sorted(networks.items(), key=lambda item: (-item[1][1], item[0]))
    return {
        "sources": count,
        "messages": messages,
        "dmarc_fail": failing,
        "networks": [[name, *values] for name, values in ordered[:top]],
        "top_ranks": ranks,
    }


def header_from_totals(sources: Sequence[SourceView]) -> dict[str, list[int]]:
    """Per header-From domain: [messages, passing DMARC], the HEADER_FROM_KEPT largest."""
    totals: dict[str, list[int]] = {}
    for view in sources:
        for shape, count in view.shapes:
            into = totals.setdefault(shape.header_from, [0, 0])
            into[0] += count
            if shape.spf_aligned or shape.dkim_aligned:
                into[1] += count
    if len(totals) <= HEADER_FROM_KEPT:
        return totals
    largest = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))
    return dict(largest[:HEADER_FROM_KEPT])


def highlights_json(sources: Sequence[SourceView], changes: WindowChanges) -> dict[str, Any]:
    """Everything kept with an analysis besides its rows and patterns."""
    return {
        "changes": changes.as_json(),
        "most_failing": list(most_failing(sources)),
        "tags": tag_totals(sources),
        "spoofing": spoofing_totals(sources),
        "header_from": header_from_totals(sources),
    }
