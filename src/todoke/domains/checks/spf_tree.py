"""A domain's SPF tree: its record and every record reached through include: and redirect=.

The lint needs what a receiver meets when no mechanism matches, the case of a forger's address:
every term evaluated, every include followed, redirect= taken unless the record has an "all"
(RFC 7208 §6.1). Records of one level are fetched concurrently through the check's shared DNS
cache, and the terms are kept in record order, so the tree reads back in the order a receiver
evaluates it (§4.6.2) however the answers arrived.

Only literal targets are followed; a target built from macros (§7) depends on the message and is
marked instead. A hostile tree cannot make the walk endless: loops are cut where a domain
reappears on its own path, and at most MAX_RECORDS records are fetched per tree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final, Literal

from todoke.domains.spf.lookup import Answer, DnsCache, DnsLookupError, InvalidDomainName
from todoke.domains.spf.macros import MacroString, SpfSyntaxError, domain_for_query
from todoke.domains.spf.record import Mechanism, Modifier, SpfRecord, is_spf_record, parse_record

#: Records fetched per tree at most. Real trees (Google Workspace, Microsoft 365 and a few ESPs)
#: stay under 30; past 10 lookups receivers give up anyway, so the count is then a lower bound.
MAX_RECORDS: Final = 100

NodeProblem = Literal["missing", "multiple", "syntax", "loop", "dns_error", "walk_limit"]


@dataclass
class Term:
    """One term of a record, and what looking it up found."""

    text: str
    #: the mechanism kind, or "redirect"
    kind: str
    #: DNS lookups it costs under RFC 7208 §4.6.4 (include, a, mx, ptr, exists, redirect)
    lookups: int = 0
    #: the lookup found nothing (NXDOMAIN or no records): a void lookup (§4.6.4)
    void: bool = False
    #: mx: the exchange names, each costing address lookups of its own, at most 10 (§4.6.4)
    mx_names: int = 0
    #: the target depends on the message (macros), so it was not looked up
    macro: bool = False
    #: include: and redirect=: the record they lead to
    child: SpfNode | None = None
    error: DnsLookupError | None = None
    mechanism: Mechanism | None = None


@dataclass
class SpfNode:
    """One record of the tree, reached from the root through `path`."""

    domain: str
    #: the root domain, then each term followed to get here
    path: tuple[str, ...]
    #: SPF records published at `domain` (several is a permerror, §4.5)
    texts: tuple[str, ...] = ()
    #: RFC 7208 §3.4: the name plus all TXT records there, in octets
    answer_octets: int = 0
    record: SpfRecord | None = None
    problem: NodeProblem | None = None
    #: the syntax error, or the DNS error text
    detail: str = ""
    error: DnsLookupError | None = None
    terms: list[Term] = field(default_factory=list)

    def chain(self, term: Term | None = None) -> str:
        """ "example.jp -> include:_spf.example.net -> ..." up to this node (or `term`)."""
        return " -> ".join(self.path if term is None else (*self.path, term.text))

    def visits(self) -> Iterator[tuple[SpfNode, Term]]:
        """Every (record, term) in the order a receiver evaluates them when nothing matches."""
        for term in self.terms:
            yield self, term
            if term.child is not None:
                yield from term.child.visits()

    def nodes(self) -> Iterator[SpfNode]:
        yield self
        for term in self.terms:
            if term.child is not None:
                yield from term.child.nodes()


async def walk_tree(dns: DnsCache, domain: str) -> SpfNode:
    """The SPF tree of `domain`; DNS errors below the root are kept in the nodes they hit."""
    return await _Walk(dns).node(domain, (domain,), frozenset({domain.lower()}))


@dataclass
class _Walk:
    dns: DnsCache
    budget: int = MAX_RECORDS

    async def node(self, domain: str, path: tuple[str, ...], seen: frozenset[str]) -> SpfNode:
        node = SpfNode(domain, path)
        if self.budget <= 0:
            node.problem = "walk_limit"
            return node
        self.budget -= 1
        try:
            answer = await self.dns.txt(domain)
        except InvalidDomainName as error:
            node.problem, node.detail = "missing", str(error)
            return node
        except DnsLookupError as error:
            node.problem, node.detail, node.error = "dns_error", str(error), error
            return node
        self.read(node, answer)
        if node.record is not None:
            node.terms = await self.terms(node, node.record, seen)
        return node

    def read(self, node: SpfNode, answer: Answer[bytes]) -> None:
        node.answer_octets = len(node.domain) + sum(len(text) for text in answer.values)
        found = [text for text in answer.values if is_spf_record(text)]
        node.texts = tuple(text.decode("latin-1") for text in found)
        if not found:
            node.problem = "missing"
        elif len(found) > 1:
            node.problem = "multiple"
        else:
            try:
                node.record = parse_record(found[0].decode("ascii"))
            except UnicodeDecodeError:
                node.problem, node.detail = "syntax", "the record contains non-ASCII bytes (§3)"
            except SpfSyntaxError as error:
                node.problem, node.detail = "syntax", error.message

    async def terms(self, node: SpfNode, record: SpfRecord, seen: frozenset[str]) -> list[Term]:
        pending = [self.mechanism(node, mechanism, seen) for mechanism in record.mechanisms]
        has_all = any(mechanism.kind == "all" for mechanism in record.mechanisms)
        if record.redirect is not None and not has_all:
            pending.append(self.redirect(node, record.redirect, seen))
        return list(await asyncio.gather(*pending))

    async def mechanism(self, node: SpfNode, mechanism: Mechanism, seen: frozenset[str]) -> Term:
        term = Term(
            mechanism.text, mechanism.kind, int(mechanism.costs_lookup), mechanism=mechanism
        )
        if not mechanism.costs_lookup or mechanism.kind == "ptr":
            return term  # ptr depends on the client's address (§5.5)
        target = literal_target(mechanism.domain_spec, node.domain)
        if target is None:
            term.macro = True
        elif mechanism.kind == "include":
            term.child = await self.follow(node, term, target, seen)
        else:
            await self.look_up(term, target)
        return term

    async def redirect(self, node: SpfNode, modifier: Modifier, seen: frozenset[str]) -> Term:
        term = Term(modifier.text, "redirect", 1)
        target = literal_target(modifier.value, node.domain)
        if target is None:
            term.macro = True
        else:
            term.child = await self.follow(node, term, target, seen)
        return term

    async def follow(self, node: SpfNode, term: Term, target: str, seen: frozenset[str]) -> SpfNode:
        path = (*node.path, term.text)
        if target.lower() in seen:
            return SpfNode(target, path, problem="loop")
        return await self.node(target, path, seen | {target.lower()})

    async def look_up(self, term: Term, target: str) -> None:
        """a, mx and exists: the query a receiver makes for an IPv4 client, most mail's case
        (a asks A, exists always asks A, §5.7); void when it finds nothing."""
        try:
            if term.kind == "mx":
                exchanges = await self.dns.mx(target)
                term.void = exchanges.void
                # RFC 7505: a null MX names no host to look up.
                term.mx_names = len([name for name in exchanges.values if name not in ("", ".")])
            else:
                term.void = (await self.dns.addresses(target, 4)).void
        except InvalidDomainName:
            term.void = True
        except DnsLookupError as error:
            term.error = error


def literal_target(spec: MacroString | None, domain: str) -> str | None:
    """The name a domain-spec points at, or None when it holds macros (§7.1)."""
    if spec is None:
        return domain
    if spec.letters:
        return None
    # Without macro letters only literals and the %%, %_, %- escapes remain.
    return domain_for_query("".join(token for token in spec.tokens if isinstance(token, str)))
