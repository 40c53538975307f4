"""check_host() of RFC 7208 §4 on dnspython's async resolver.

Mechanisms are evaluated strictly left to right (§4.6.2) with one shared lookup budget
(§4.6.4). Concurrency is used only inside one mechanism, where the RFC defines the result
over a set of names regardless of order: the address lookups of mx (§5.4) and of ptr and
%{p} validation (§5.5). Their answers are read back in order, so the outcome is the one a
sequential evaluation would reach.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv6Address, ip_network
from typing import Literal

import dns.asyncresolver

from todoke.core.clock import SYSTEM_CLOCK, Clock
from todoke.domains.spf.identity import client_address, domain_problem, mail_from_identity
from todoke.domains.spf.lookup import DnsCache, DnsLookupError, InvalidDomainName
from todoke.domains.spf.macros import (
    MacroContext,
    MacroString,
    SpfSyntaxError,
    domain_for_query,
    expand,
    parse_macro_string,
)
from todoke.domains.spf.record import Mechanism, Modifier, SpfRecord, is_spf_record, parse_record

SpfResultCode = Literal["pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"]
IPAddress = IPv4Address | IPv6Address


@dataclass(frozen=True)
class SpfLimits:
    """Processing limits of RFC 7208 §4.6.4 (defaults are the RFC's)."""

    dns_lookups: int = 10
    void_lookups: int = 2
    mx_names: int = 10
    ptr_names: int = 10
    #: §4.6.4: bound the elapsed time, at least 20 s; exceeding it is a temperror
    elapsed_seconds: float = 20.0


DEFAULT_LIMITS = SpfLimits()


@dataclass(frozen=True)
class SpfResult:
    result: SpfResultCode
    #: for people: the domain's own exp= text on fail, else why this result came out
    explanation: str
    domain: str
    #: the term that decided, as written (e.g. "-all", "include:_spf.example.net")
    mechanism: str | None = None
    #: the domain whose record holds `mechanism` (differs from `domain` after redirect=)
    mechanism_domain: str | None = None
    lookups: int = 0
    void_lookups: int = 0
    #: the text the domain published through exp= (RFC 7208 §6.2), only on fail
    exp: str | None = None


class _PermError(Exception):
    pass


class _TempError(Exception):
    pass


@dataclass
class _Outcome:
    result: SpfResultCode
    domain: str
    mechanism: Mechanism | None = None
    exp: str | None = None


@dataclass
class _Evaluation:
    ip: IPAddress
    context: MacroContext
    dns: DnsCache
    limits: SpfLimits
    lookups: int = 0
    void_lookups: int = 0
    _validated: dict[str, str | None] = field(default_factory=dict)

    def count_lookup(self, term: str) -> None:
        self.lookups += 1
        if self.lookups > self.limits.dns_lookups:
            raise _PermError(
                f"more than {self.limits.dns_lookups} DNS-querying terms at {term!r} "
                "(RFC 7208 §4.6.4)"
            )

    def count_void(self, void: bool, term: str) -> None:
        if not void:
            return
        self.void_lookups += 1
        if self.void_lookups > self.limits.void_lookups:
            raise _PermError(
                f"more than {self.limits.void_lookups} lookups found nothing, the last at "
                f"{term!r} (RFC 7208 §4.6.4)"
            )

    async def check(self, domain: str) -> _Outcome:
        """check_host() for `domain`: record selection, mechanisms, then redirect=."""
        record = await self.fetch_record(domain)
        if record is None:
            return _Outcome("none", domain)
        for mechanism in record.mechanisms:
            if mechanism.costs_lookup:
                self.count_lookup(mechanism.text)
            if await self.matches(mechanism, domain):
                outcome = _Outcome(mechanism.result, domain, mechanism)
                if outcome.result == "fail" and record.explanation is not None:
                    outcome.exp = await self.explain(record.explanation, domain)
                return outcome
        if record.redirect is not None:
            return await self.redirect(record.redirect, domain)
        return _Outcome("neutral", domain)  # §4.7

    async def fetch_record(self, domain: str) -> SpfRecord | None:
        try:
            answer = await self.dns.txt(domain)
        except InvalidDomainName:
            return None
        except DnsLookupError as error:
            raise _TempError(str(error)) from None
        records = [text for text in answer.values if is_spf_record(text)]
        if not records:
            return None
        if len(records) > 1:
            raise _PermError(f"{domain} publishes {len(records)} SPF records (RFC 7208 §4.5)")
        try:
            text = records[0].decode("ascii")
        except UnicodeDecodeError:
            raise _PermError(
                f"the SPF record of {domain} contains non-ASCII bytes (RFC 7208 §3)"
            ) from None
        try:
            return parse_record(text)
        except SpfSyntaxError as error:
            raise _PermError(f"the SPF record of {domain} is invalid: {error.message}") from None

    async def redirect(self, modifier: Modifier, domain: str) -> _Outcome:
        self.count_lookup(modifier.text)
        target = await self.target(modifier.value, domain)
        outcome = _Outcome("none", domain) if target is None else await self.check(target)
        if outcome.result == "none":
            raise _PermError(f"{modifier.text!r}: {target} has no SPF record (RFC 7208 §6.1)")
        return outcome

    async def target(self, spec: MacroString | None, domain: str) -> str | None:
        """The name a domain-spec points at, or None when expansion gives no usable name."""
        if spec is None:
            return domain
        context = await self.macro_context(spec, domain)
        name = domain_for_query(expand(spec, context))
        labels = name.split(".")
        if not name or any(not label or len(label) > 63 for label in labels):
            return None
        return name

    async def macro_context(self, spec: MacroString, domain: str) -> MacroContext:
        context = replace(self.context, domain=domain)
        if "p" in spec.letters:
            context = replace(context, validated_name=await self.validated_name(domain))
        return context

    async def matches(self, mechanism: Mechanism, domain: str) -> bool:
        kind = mechanism.kind
        if kind == "all":
            return True
        if kind in ("ip4", "ip6"):
            return mechanism.network is not None and self.ip in mechanism.network
        target = await self.target(mechanism.domain_spec, domain)
        if kind == "include":
            return await self.include(mechanism, target)
        if target is None:
            return False
        try:
            if kind == "a":
                return await self.match_a(mechanism, target)
            if kind == "mx":
                return await self.match_mx(mechanism, target)
            if kind == "ptr":
                return await self.match_ptr(mechanism, target)
            answer = await self.dns.addresses(target, 4)  # exists: always A (§5.7)
            self.count_void(answer.void, mechanism.text)
            return not answer.void
        except InvalidDomainName:
            return False
        except DnsLookupError as error:
            raise _TempError(f"{mechanism.text!r}: {error}") from None

    async def include(self, mechanism: Mechanism, target: str | None) -> bool:
        # §5.2: pass matches; fail, softfail, neutral do not; none is a permerror.
        outcome = _Outcome("none", "") if target is None else await self.check(target)
        if outcome.result == "none":
            raise _PermError(f"{mechanism.text!r}: {target} has no SPF record (RFC 7208 §5.2)")
        return outcome.result == "pass"

    def in_prefix(self, mechanism: Mechanism, addresses: tuple[IPAddress, ...]) -> bool:
        length = mechanism.cidr4 if self.ip.version == 4 else mechanism.cidr6
        return any(
            self.ip in ip_network((address, length), strict=False)
            for address in addresses
            if address.version == self.ip.version
        )

    async def match_a(self, mechanism: Mechanism, target: str) -> bool:
        answer = await self.dns.addresses(target, self.ip.version)
        self.count_void(answer.void, mechanism.text)
        return self.in_prefix(mechanism, answer.values)

    async def match_mx(self, mechanism: Mechanism, target: str) -> bool:
        answer = await self.dns.mx(target)
        self.count_void(answer.void, mechanism.text)
        # RFC 7505: a null MX (".") names no host to look up.
        exchanges = [name for name in answer.values if name not in ("", ".")]
        if len(exchanges) > self.limits.mx_names:
            raise _PermError(
                f"{mechanism.text!r}: {target} has {len(exchanges)} MX hosts, more than "
                f"{self.limits.mx_names} (RFC 7208 §4.6.4)"
            )
        lookups = [self.dns.addresses(name, self.ip.version) for name in exchanges]
        for result in await asyncio.gather(*lookups, return_exceptions=True):
            if isinstance(result, InvalidDomainName):
                continue
            if isinstance(result, BaseException):
                raise result
            if self.in_prefix(mechanism, result.values):
                return True
        return False

    async def match_ptr(self, mechanism: Mechanism, target: str) -> bool:
        names = await self.validated_names(mechanism.text)
        wanted = target.lower()
        return any(name == wanted or name.endswith("." + wanted) for name in names)

    async def validated_names(self, term: str | None) -> list[str]:
        """Names of the client whose forward lookup returns its address (§5.5), lowercased."""
        try:
            answer = await self.dns.ptr(self.ip)
        except DnsLookupError:
            return []  # §5.5: a DNS error on the PTR lookup means no match
        if term is not None:
            self.count_void(answer.void, term)
        names = list(answer.values[: self.limits.ptr_names])  # §4.6.4: ignore the rest
        lookups = [self.dns.addresses(name, self.ip.version) for name in names]
        results = await asyncio.gather(*lookups, return_exceptions=True)
        return [
            name.lower()
            for name, result in zip(names, results, strict=True)
            if not isinstance(result, BaseException) and self.ip in result.values
        ]

    async def validated_name(self, domain: str) -> str | None:
        """%{p} (§7.3): the domain itself, else a subdomain of it, else any validated name."""
        if domain not in self._validated:
            names = await self.validated_names(None)
            wanted = domain.lower()
            chosen = [name for name in names if name == wanted]
            chosen += [name for name in names if name.endswith("." + wanted)]
            self._validated[domain] = next(iter(chosen or names), None)
        return self._validated[domain]

    async def explain(self, modifier: Modifier, domain: str) -> str | None:
        """The exp= text (§6.2); any problem means no explanation, never a different result."""
        try:
            target = await self.target(modifier.value, domain)
            if target is None:
                return None
            answer = await self.dns.txt(target)
            if len(answer.values) != 1:
                return None
            text = parse_macro_string(answer.values[0].decode("ascii"), explanation=True)
            return expand(text, await self.macro_context(text, domain))
        except (DnsLookupError, InvalidDomainName, UnicodeDecodeError, SpfSyntaxError):
            return None


async def check_host(
    ip: str | IPAddress,
    domain: str,
    sender: str,
    *,
    helo: str,
    resolver: dns.asyncresolver.Resolver,
    limits: SpfLimits = DEFAULT_LIMITS,
    receiver: str = "unknown",
    clock: Clock = SYSTEM_CLOCK,
) -> SpfResult:
    """Evaluate the SPF policy of `domain` for mail from `sender` sent by `ip` (RFC 7208 §4).

    Raises ValueError only for an `ip` that is not an IP address.
    """
    address = client_address(ip)
    domain = domain[:-1] if domain.endswith(".") else domain
    local_part, _, sender_domain = sender.rpartition("@")
    if not local_part:
        # §4.3: no local-part means "postmaster"; a bare domain is its own sender domain.
        local_part, sender_domain = "postmaster", sender_domain or domain
        sender = f"postmaster@{sender_domain}"
    problem = domain_problem(domain)
    if problem is not None:
        return SpfResult("none", f"{domain!r} {problem}, so it has no SPF policy", domain)
    context = MacroContext(
        sender=sender,
        local_part=local_part,
        sender_domain=sender_domain,
        domain=domain,
        ip=address,
        helo=helo,
        receiver=receiver,
        timestamp=int(clock.now().timestamp()),
    )
    evaluation = _Evaluation(address, context, DnsCache(resolver), limits)
    try:
        async with asyncio.timeout(limits.elapsed_seconds):
            outcome = await evaluation.check(domain)
    except _PermError as error:
        return _error_result("permerror", str(error), domain, evaluation)
    except (_TempError, TimeoutError) as error:
        reason = str(error) or f"evaluation took longer than {limits.elapsed_seconds:g} s"
        return _error_result("temperror", reason, domain, evaluation)
    return SpfResult(
        result=outcome.result,
        explanation=outcome.exp or _default_explanation(outcome, address),
        domain=domain,
        mechanism=outcome.mechanism.text if outcome.mechanism else None,
        mechanism_domain=outcome.domain if outcome.mechanism else None,
        lookups=evaluation.lookups,
        void_lookups=evaluation.void_lookups,
        exp=outcome.exp,
    )


def _error_result(
    result: SpfResultCode, reason: str, domain: str, evaluation: _Evaluation
) -> SpfResult:
    return SpfResult(
        result, reason, domain, lookups=evaluation.lookups, void_lookups=evaluation.void_lookups
    )


def _default_explanation(outcome: _Outcome, ip: IPAddress) -> str:
    if outcome.result == "none":
        return f"{outcome.domain} publishes no SPF record"
    if outcome.mechanism is None:
        return f"no mechanism of {outcome.domain} matched {ip}; the default is neutral (§4.7)"
    verdict = {
        "pass": "designates",
        "fail": "does not designate",
        "softfail": "discourages",
        "neutral": "makes no assertion about",
    }[outcome.result]
    return f"{outcome.domain} {verdict} {ip} as a sender (matched {outcome.mechanism.text})"


async def check_mail_from(
    ip: str | IPAddress,
    mail_from: str,
    *,
    helo: str,
    resolver: dns.asyncresolver.Resolver,
    limits: SpfLimits = DEFAULT_LIMITS,
    receiver: str = "unknown",
    clock: Clock = SYSTEM_CLOCK,
) -> SpfResult:
    """The MAIL FROM check a receiver does (RFC 7208 §2.4), HELO for the null sender."""
    domain, sender = mail_from_identity(mail_from, helo)
    return await check_host(
        ip,
        domain,
        sender,
        helo=helo,
        resolver=resolver,
        limits=limits,
        receiver=receiver,
        clock=clock,
    )


async def check_helo(
    ip: str | IPAddress,
    helo: str,
    *,
    resolver: dns.asyncresolver.Resolver,
    limits: SpfLimits = DEFAULT_LIMITS,
    receiver: str = "unknown",
    clock: Clock = SYSTEM_CLOCK,
) -> SpfResult:
    """The HELO identity check (RFC 7208 §2.3): sender postmaster@helo."""
    return await check_host(
        ip,
        helo,
        f"postmaster@{helo}",
        helo=helo,
        resolver=resolver,
        limits=limits,
        receiver=receiver,
        clock=clock,
    )
