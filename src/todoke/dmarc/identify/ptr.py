"""Reverse DNS (PTR) for report source addresses: bounded, cached, and never slower than asked.

parsedmarc resolves every source address inline while parsing, so one slow nameserver stalls a
whole ingest. Here names are looked up in bulk after parsing, with a cap on concurrent queries, a
cache that honours the answer's TTL, and a total deadline: whatever is not resolved by then is
reported as "timeout" and the batch moves on. Offline mode (air-gapped installs, tests) answers
without sending a packet.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import dns.asyncresolver
import dns.exception
import dns.name
import dns.resolver
import dns.reversename

from todoke.core.clock import SYSTEM_CLOCK, Clock

PtrStatus = Literal["ok", "nxdomain", "nodata", "timeout", "servfail", "offline"]

# A PTR rarely changes, but a long-lived cache would keep a re-assigned address's old owner.
MIN_TTL = 3600.0
MAX_TTL = 86400.0
# RFC 2308 §5 lets negative answers be cached; keep them short so a newly published PTR shows up.
NEGATIVE_TTL = 900.0
# RFC 2308 §7.1: a server failure may be cached, for at most five minutes.
FAILURE_TTL = 300.0
# A report batch may name hundreds of thousands of addresses; past this many cached answers the
# expired go first, then the oldest (dicts keep insertion order).
MAX_ENTRIES = 200_000
# Only the first few PTR names are forward-checked; real hosts publish one.
_FCRDNS_NAMES = 3


@dataclass(frozen=True, slots=True)
class PtrAnswer:
    """What reverse DNS says about one address."""

    #: the PTR target, lower case without the trailing dot; the forward-confirmed one if any
    name: str | None
    status: PtrStatus
    #: FCrDNS: the name's A/AAAA records contain the address. None when not checked.
    forward_confirmed: bool | None = None

    @property
    def confirmed_name(self) -> str | None:
        """The name only if forward-confirmed: a PTR alone is chosen by whoever owns the
        address block, so it proves nothing about the sender."""
        return self.name if self.forward_confirmed else None


@dataclass(frozen=True, slots=True)
class _Entry:
    answer: PtrAnswer
    expires: float


class PtrResolver:
    """Resolves PTR names through an injected resolver, with a cache shared across calls.

    One instance lives as long as its worker; the cache is in memory and per instance.
    """

    def __init__(
        self,
        resolver: dns.asyncresolver.Resolver,
        *,
        clock: Clock = SYSTEM_CLOCK,
        concurrency: int = 32,
        offline: bool = False,
        forward_confirm: bool = False,
        min_ttl: float = MIN_TTL,
        max_ttl: float = MAX_TTL,
        negative_ttl: float = NEGATIVE_TTL,
        failure_ttl: float = FAILURE_TTL,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        if not 0 <= min_ttl <= max_ttl:
            raise ValueError(f"need 0 <= min_ttl <= max_ttl, got {min_ttl} and {max_ttl}")
        self._resolver = resolver
        self._clock = clock
        self._concurrency = concurrency
        self.offline = offline
        self.forward_confirm = forward_confirm
        self._min_ttl = min_ttl
        self._max_ttl = max_ttl
        self._negative_ttl = negative_ttl
        self._failure_ttl = failure_ttl
        self._max_entries = max(1, max_entries)
        self._cache: dict[str, _Entry] = {}

    async def lookup_many(self, ips: Iterable[str], *, deadline_s: float) -> dict[str, PtrAnswer]:
        """An answer for every address in `ips` (keyed as given) within `deadline_s` seconds.

        Cached answers are served even offline; the rest are resolved concurrently, at most
        `concurrency` queries at a time. ValueError if an item is not an IP address.
        """
        given = list(ips)
        canonical = {ip: _canonical(ip) for ip in given}
        now = self._now()
        answers: dict[str, PtrAnswer] = {}
        pending: list[str] = []
        for address in dict.fromkeys(canonical.values()):
            cached = self._cache.get(address)
            if cached is not None and cached.expires > now:
                answers[address] = cached.answer
            elif self.offline:
                answers[address] = PtrAnswer(None, "offline")
            else:
                pending.append(address)
        if pending:
            answers.update(await self._resolve_all(pending, deadline_s))
        return {ip: answers[canonical[ip]] for ip in given}

    async def _resolve_all(self, addresses: list[str], deadline_s: float) -> dict[str, PtrAnswer]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(deadline_s, 0.0)
        # Made per call: an asyncio.Semaphore belongs to the loop that first waits on it.
        gate = asyncio.Semaphore(self._concurrency)
        tasks = {
            address: asyncio.create_task(self._resolve_one(address, gate, deadline))
            for address in addresses
        }
        try:
            _, unfinished = await asyncio.wait(tasks.values(), timeout=max(deadline_s, 0.0))
        finally:
            # Also when our caller is cancelled: no query may outlive the call that asked.
            for task in tasks.values():
                task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        results: dict[str, PtrAnswer] = {}
        for address, task in tasks.items():
            if task in unfinished or task.cancelled():
                results[address] = PtrAnswer(None, "timeout")
            else:
                results[address] = task.result()
        return results

    async def _resolve_one(
        self, address: str, gate: asyncio.Semaphore, deadline: float
    ) -> PtrAnswer:
        async with gate:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return PtrAnswer(None, "timeout")
            query = dns.reversename.from_address(address)
            status, answer = await self._query(query, "PTR", remaining)
        if answer is None or answer.rrset is None:
            result = PtrAnswer(None, status)
            self._store(address, result, 0.0)
            return result
        names = sorted(str(record.target).rstrip(".").lower() for record in answer)
        result = PtrAnswer(names[0], "ok")
        if self.forward_confirm:
            result = await self._confirmed(address, names, deadline, gate)
        self._store(address, result, float(answer.rrset.ttl))
        return result

    async def _confirmed(
        self, address: str, names: list[str], deadline: float, gate: asyncio.Semaphore
    ) -> PtrAnswer:
        for name in names[:_FCRDNS_NAMES]:
            if await self._forward_confirms(name, address, deadline, gate):
                return PtrAnswer(name, "ok", forward_confirmed=True)
        return PtrAnswer(names[0], "ok", forward_confirmed=False)

    async def _forward_confirms(
        self, name: str, address: str, deadline: float, gate: asyncio.Semaphore
    ) -> bool:
        # FCrDNS, the "iprev" check of RFC 8601 §3: the name must resolve back to the address.
        rdtype = "AAAA" if ":" in address else "A"
        async with gate:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return False
            _, answer = await self._query(dns.name.from_text(name), rdtype, remaining)
        if answer is None:
            return False
        return any(_canonical(record.address) == address for record in answer)

    async def _query(
        self, name: dns.name.Name, rdtype: str, lifetime: float
    ) -> tuple[PtrStatus, dns.resolver.Answer | None]:
        try:
            answer = await self._resolver.resolve(name, rdtype, lifetime=lifetime)
        except dns.resolver.NXDOMAIN:
            return "nxdomain", None
        except dns.resolver.NoAnswer:
            return "nodata", None
        except dns.exception.Timeout:
            return "timeout", None
        except dns.exception.DNSException:
            # NoNameservers (SERVFAIL or REFUSED from every server) and malformed answers.
            return "servfail", None
        return "ok", answer

    def _store(self, address: str, answer: PtrAnswer, ttl: float) -> None:
        if answer.status == "ok":
            lifetime = min(max(ttl, self._min_ttl), self._max_ttl)
        elif answer.status in ("nxdomain", "nodata"):
            lifetime = self._negative_ttl
        elif answer.status == "servfail":
            lifetime = self._failure_ttl
        else:
            # A timeout says more about this call's deadline than about the name.
            return
        now = self._now()
        self._cache.pop(address, None)
        if len(self._cache) >= self._max_entries:
            self._evict(now)
        self._cache[address] = _Entry(answer, now + lifetime)

    def _evict(self, now: float) -> None:
        expired = [address for address, entry in self._cache.items() if entry.expires <= now]
        for address in expired:
            del self._cache[address]
        excess = len(self._cache) - self._max_entries + 1
        for address in list(itertools.islice(self._cache, max(excess, 0))):
            del self._cache[address]

    def forget(self) -> None:
        """Drop every cached answer."""
        self._cache.clear()

    def _now(self) -> float:
        return self._clock.now().timestamp()


def _canonical(ip: str) -> str:
    try:
        return ipaddress.ip_address(ip.strip()).compressed
    except ValueError:
        raise ValueError(f"not an IP address: {ip!r}") from None
