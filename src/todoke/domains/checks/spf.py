"""SPF checks: the domain's record and its whole include tree, as receivers will read them.

Receivers stop with permerror at the eleventh DNS-querying term (RFC 7208 §4.6.4), at the third
lookup that finds nothing, at an include without a record (§5.2) and at several records (§4.5);
the lookups are counted here over the tree as a receiver meets it when nothing matches, which is
the case for every forged message. Parsing is the evaluator's own (`todoke.domains.spf.record`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from todoke.dmarc.analysis.alignment import organizational_domain
from todoke.domains.checks.context import CheckContext
from todoke.domains.checks.findings import Finding, Status, Value
from todoke.domains.checks.spf_lint import (
    all_findings,
    broad_range_finding,
    ignored_terms_finding,
    macro_finding,
    ptr_finding,
    size_findings,
)
from todoke.domains.checks.spf_tree import MAX_RECORDS, SpfNode, Term, walk_tree
from todoke.domains.spf.lookup import DnsLookupError

#: RFC 7208 §4.6.4
LOOKUP_LIMIT: Final = 10
VOID_LIMIT: Final = 2
MX_NAMES_LIMIT: Final = 10
#: From this many lookups on, one more include from a provider breaks the record.
LOOKUP_WARNING: Final = 8
#: Lookups listed one by one in the evidence; a hostile tree can have hundreds.
EVIDENCE_LOOKUPS: Final = 30

#: Every finding name this section emits and the values it always fills (the placeholders its
#: words may use); "dns_error" takes its words from common.toml.
FINDINGS: Final[dict[str, frozenset[str]]] = {
    "missing": frozenset({"domain"}),
    "multiple": frozenset({"domain", "count"}),
    "syntax": frozenset({"domain", "reason"}),
    "dns_error": frozenset({"name", "rdtype", "reason"}),
    "include_missing": frozenset({"domain", "term", "target"}),
    "include_loop": frozenset({"term", "target"}),
    "include_pass_all": frozenset({"term", "target"}),
    "lookup_limit": frozenset({"count", "limit"}),
    "void_lookups": frozenset({"count", "limit"}),
    "mx_limit": frozenset({"term", "count", "limit"}),
    "all_pass": frozenset({"domain", "term"}),
    "all_neutral": frozenset({"domain", "term"}),
    "all_softfail": frozenset({"domain", "term"}),
    "all_missing": frozenset({"domain"}),
    "ptr": frozenset({"count"}),
    "macros": frozenset({"count"}),
    "broad_range": frozenset({"terms", "count"}),
    "too_long": frozenset({"domain", "length", "total", "limit"}),
    "ignored_terms": frozenset({"domain", "terms"}),
    "ok": frozenset({"domain", "record", "lookups"}),
}


async def check(context: CheckContext) -> list[Finding]:
    tree = await walk_tree(context.dns, context.domain)
    return findings_for(tree)


def findings_for(tree: SpfNode) -> list[Finding]:
    """Every finding about a walked tree, most severe concerns first within each topic."""
    if tree.record is None:
        return root_problem(tree)
    organisation = organizational_domain(tree.domain)
    owned = [node for node in tree.nodes() if _owned(node, organisation)]
    findings = [
        *node_problems(tree),
        *lookup_findings(tree),
        *void_findings(tree),
        *mx_findings(tree),
        *all_findings(tree),
        *ptr_finding(tree),
        *broad_range_finding(owned),
        *size_findings(owned),
        *ignored_terms_finding(owned),
        *macro_finding(tree),
    ]
    # spf.ok means receivers get a result from the record (no permerror, nothing unread);
    # warnings beside it are advice. The bulk-sender checklist counts on that meaning.
    if not any(item.status is Status.FAIL or item.name == "dns_error" for item in findings):
        values: dict[str, Value] = {"domain": tree.domain, "record": tree.record.text}
        values["lookups"] = lookup_count(tree)
        findings.insert(0, Finding("spf.ok", Status.PASS, values, (tree.record.text,)))
    return findings


def root_problem(tree: SpfNode) -> list[Finding]:
    if tree.problem == "missing":
        return [Finding("spf.missing", Status.FAIL, {"domain": tree.domain})]
    return list(_problem(tree, None))


def node_problems(tree: SpfNode) -> list[Finding]:
    """Records below the root that make receivers stop with permerror or temperror."""
    findings: dict[tuple[str, ...], Finding] = {}
    for node, term in tree.visits():
        if term.error is not None:
            finding = _dns_error(term.error, node.chain(term))
            findings.setdefault((finding.id, str(finding.values["name"])), finding)
        if term.child is None or term.child.record is not None:
            continue
        for finding in _problem(term.child, (node, term)):
            findings.setdefault((finding.id, term.child.chain()), finding)
    return list(findings.values())


def _problem(node: SpfNode, parent: tuple[SpfNode, Term] | None) -> Iterator[Finding]:
    chain = (node.chain(),)
    if node.problem == "missing" and parent is not None:
        values = {"domain": parent[0].domain, "term": parent[1].text, "target": node.domain}
        yield Finding("spf.include_missing", Status.FAIL, values, chain)
    elif node.problem == "loop" and parent is not None:
        values = {"term": parent[1].text, "target": node.domain}
        yield Finding("spf.include_loop", Status.FAIL, values, chain)
    elif node.problem == "multiple":
        counted: dict[str, Value] = {"domain": node.domain, "count": len(node.texts)}
        yield Finding("spf.multiple", Status.FAIL, counted, (*node.texts, *chain))
    elif node.problem == "syntax":
        values = {"domain": node.domain, "reason": node.detail}
        yield Finding("spf.syntax", Status.FAIL, values, (*node.texts, *chain))
    elif node.problem == "dns_error" and node.error is not None:
        yield _dns_error(node.error, node.chain())


def _dns_error(error: DnsLookupError, chain: str) -> Finding:
    reason = str(error).removeprefix(f"DNS error looking up {error.rdtype} {error.name}: ")
    values = {"name": error.name, "rdtype": error.rdtype, "reason": reason}
    return Finding("spf.dns_error", Status.WARN, values, (chain,))


def lookup_count(tree: SpfNode) -> int:
    return sum(term.lookups for _, term in tree.visits())


def lookup_findings(tree: SpfNode) -> list[Finding]:
    """RFC 7208 §4.6.4: at most 10 DNS-querying terms in the whole evaluation."""
    costly = [(node, term) for node, term in tree.visits() if term.lookups]
    count = len(costly)
    if count < LOOKUP_WARNING:
        return []
    evidence = [
        f"{number}{' (over the limit)' if number == LOOKUP_LIMIT + 1 else ''}: {node.chain(term)}"
        for number, (node, term) in enumerate(costly[:EVIDENCE_LOOKUPS], start=1)
    ]
    if count > EVIDENCE_LOOKUPS:
        evidence.append(f"... and {count - EVIDENCE_LOOKUPS} more")
    if any(node.problem == "walk_limit" for node in tree.nodes()):
        evidence.append(f"(the walk stopped after {MAX_RECORDS} records: the count is a minimum)")
    status = Status.FAIL if count > LOOKUP_LIMIT else Status.WARN
    values: dict[str, Value] = {"count": count, "limit": LOOKUP_LIMIT}
    return [Finding("spf.lookup_limit", status, values, tuple(evidence))]


def void_findings(tree: SpfNode) -> list[Finding]:
    """RFC 7208 §4.6.4: receivers SHOULD stop at the third lookup that finds nothing."""
    chains = tuple(node.chain(term) for node, term in tree.visits() if term.void)
    if not chains:
        return []
    status = Status.FAIL if len(chains) > VOID_LIMIT else Status.WARN
    values: dict[str, Value] = {"count": len(chains), "limit": VOID_LIMIT}
    return [Finding("spf.void_lookups", status, values, chains)]


def mx_findings(tree: SpfNode) -> list[Finding]:
    """RFC 7208 §4.6.4: an mx term whose domain has more than 10 exchanges is a permerror."""
    return [
        Finding(
            "spf.mx_limit",
            Status.FAIL,
            {"term": term.text, "count": term.mx_names, "limit": MX_NAMES_LIMIT},
            (node.chain(term),),
        )
        for node, term in tree.visits()
        if term.mx_names > MX_NAMES_LIMIT
    ]


def _owned(node: SpfNode, organisation: str) -> bool:
    return node.record is not None and organizational_domain(node.domain) == organisation
