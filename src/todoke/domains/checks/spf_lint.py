"""What an SPF tree's terms say: the "all" verdict, ptr, broad ranges, size, unreachable terms.

Pure: reads a walked `SpfNode` tree, returns findings. Ranges, sizes and unreachable terms are
judged only in records the checked organisation publishes itself (same organisational domain);
a provider's include is the provider's to fix and its ranges are its business (Microsoft 365
publishes /15 networks on purpose).
"""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Network, IPv6Network
from typing import Final

from todoke.domains.checks.findings import Finding, Status, Value
from todoke.domains.checks.spf_tree import SpfNode
from todoke.domains.spf.record import Mechanism

#: RFC 7208 §3.4: name plus all TXT records of the name under 450 octets fits a 512-octet UDP
#: answer; larger answers need EDNS0 or a TCP retry, which some receivers do not make.
ANSWER_OCTETS: Final = 450
#: A pass range shorter than these is more than one organisation normally owns: a /16 is
#: 65,536 IPv4 addresses, a /32 is what a regional registry gives a whole ISP in IPv6.
#: At or below the "fail" lengths the range is a real share of the Internet (a /8 is 1/256 of
#: all IPv4 addresses) and amounts to +all for anyone renting a server in it.
BROAD_IP4: Final = 16
BROAD_IP4_FAIL: Final = 8
BROAD_IP6: Final = 32
BROAD_IP6_FAIL: Final = 16


def effective_all(node: SpfNode) -> tuple[SpfNode, Mechanism] | None:
    """The "all" that ends evaluation of `node`: its own first "all", else the one of the
    record redirect= leads to (RFC 7208 §5.1, §6.1)."""
    if node.record is None:
        return None
    for mechanism in node.record.mechanisms:
        if mechanism.kind == "all":
            return node, mechanism
    redirect = next((term for term in node.terms if term.kind == "redirect"), None)
    if redirect is None or redirect.child is None:
        return None
    return effective_all(redirect.child)


def all_findings(root: SpfNode) -> list[Finding]:
    """The root's verdict for addresses nothing else matched, and includes that pass anyone."""
    findings: list[Finding] = []
    found = effective_all(root)
    if found is None:
        if not any(term.kind == "redirect" for term in root.terms):
            findings.append(Finding("spf.all_missing", Status.WARN, {"domain": root.domain}))
    else:
        node, mechanism = found
        status = {"+": Status.FAIL, "?": Status.WARN, "~": Status.INFO}.get(mechanism.qualifier)
        name = {"+": "all_pass", "?": "all_neutral", "~": "all_softfail"}.get(mechanism.qualifier)
        if status is not None and name is not None:
            values = {"domain": node.domain, "term": mechanism.text}
            findings.append(Finding(f"spf.{name}", status, values, (node.chain(),)))
    for node, term in root.visits():
        if term.kind != "include" or term.child is None or term.mechanism is None:
            continue
        if term.mechanism.qualifier != "+":
            continue
        inner = effective_all(term.child)
        if inner is not None and inner[1].qualifier == "+":
            values = {"term": term.text, "target": term.child.domain}
            evidence = (node.chain(term), term.child.texts[0] if term.child.texts else "")
            findings.append(Finding("spf.include_pass_all", Status.FAIL, values, evidence))
    return findings


def ptr_finding(root: SpfNode) -> list[Finding]:
    """RFC 7208 §5.5: ptr is slow, unreliable and SHOULD NOT be published."""
    chains = tuple(node.chain(term) for node, term in root.visits() if term.kind == "ptr")
    if not chains:
        return []
    return [Finding("spf.ptr", Status.WARN, {"count": len(chains)}, chains)]


def macro_finding(root: SpfNode) -> list[Finding]:
    chains = tuple(node.chain(term) for node, term in root.visits() if term.macro)
    if not chains:
        return []
    return [Finding("spf.macros", Status.INFO, {"count": len(chains)}, chains)]


def broad_range_finding(owned: list[SpfNode]) -> list[Finding]:
    """Pass ranges wider than one organisation's, in the organisation's own records."""
    broad: list[tuple[Status, str, str]] = []
    for node in owned:
        for mechanism in node.record.mechanisms if node.record else ():
            status = _breadth(mechanism)
            if status is not None:
                broad.append((status, mechanism.text, f"{node.chain()}: {mechanism.text}"))
    if not broad:
        return []
    status = Status.FAIL if any(item[0] is Status.FAIL for item in broad) else Status.WARN
    values: dict[str, Value] = {"terms": ", ".join(item[1] for item in broad)}
    values["count"] = len(broad)
    return [Finding("spf.broad_range", status, values, tuple(item[2] for item in broad))]


def _breadth(mechanism: Mechanism) -> Status | None:
    if mechanism.qualifier != "+":
        return None  # -ip4:10.0.0.0/8 takes addresses away; that is never too broad
    lengths: list[tuple[int, int, int]] = []
    if isinstance(mechanism.network, IPv4Network):
        lengths.append((mechanism.network.prefixlen, BROAD_IP4, BROAD_IP4_FAIL))
    elif isinstance(mechanism.network, IPv6Network):
        lengths.append((mechanism.network.prefixlen, BROAD_IP6, BROAD_IP6_FAIL))
    elif mechanism.kind in ("a", "mx"):
        # a/16 authorises the /16 around each address of the host (RFC 7208 §5.6).
        lengths += [(mechanism.cidr4, BROAD_IP4, BROAD_IP4_FAIL)]
        lengths += [(mechanism.cidr6, BROAD_IP6, BROAD_IP6_FAIL)]
    if any(length <= fail for length, _, fail in lengths):
        return Status.FAIL
    if any(length < warn for length, warn, _ in lengths):
        return Status.WARN
    return None


def size_findings(owned: list[SpfNode]) -> list[Finding]:
    """RFC 7208 §3.4: records that risk a truncated UDP answer."""
    findings: list[Finding] = []
    for node in owned:
        if node.record is None or node.answer_octets <= ANSWER_OCTETS:
            continue
        length = len(node.record.text)
        status = Status.WARN if length > ANSWER_OCTETS else Status.INFO
        values: dict[str, Value] = {"domain": node.domain, "length": length}
        values |= {"total": node.answer_octets, "limit": ANSWER_OCTETS}
        findings.append(Finding("spf.too_long", status, values))
    return findings


def ignored_terms_finding(owned: list[SpfNode]) -> list[Finding]:
    """Terms after "all" are never evaluated (§5.1), nor is redirect= beside "all" (§6.1)."""
    findings: list[Finding] = []
    for node in owned:
        ignored = list(_after_all(node))
        if ignored:
            values = {"domain": node.domain, "terms": " ".join(ignored)}
            evidence = (node.record.text if node.record else "",)
            findings.append(Finding("spf.ignored_terms", Status.INFO, values, evidence))
    return findings


def _after_all(node: SpfNode) -> Iterator[str]:
    if node.record is None:
        return
    seen_all = False
    for term in node.record.terms:
        if seen_all and (isinstance(term, Mechanism) or term.name == "redirect"):
            yield term.text
        seen_all = seen_all or (isinstance(term, Mechanism) and term.kind == "all")
