"""The address ranges catalogue senders publish in SPF, as an index from address to sender.

Expanding SPF (nested include and redirect, RFC 7208 §5.2 and §6.1) belongs to the SPF package;
this module takes the expander as a parameter so identification does not depend on it, and so a
worker can pass one that shares its resolver and cache.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from todoke.dmarc.identify.catalogue import Catalogue
from todoke.dmarc.identify.networks import AnyNetwork, NetworkIndex

log = logging.getLogger(__name__)

Expander = Callable[[str], Awaitable[list[AnyNetwork]]]

# A provider never needs more than a /8 (IPv4) or /16 (IPv6) to send mail; a broader range in
# someone's SPF is a mistake or "+all" style laziness and would claim half the Internet.
_MIN_PREFIX = {4: 8, 6: 16}


@dataclass(frozen=True, slots=True)
class ExpansionProblem:
    """One include that could not be used; the rest of the catalogue is indexed regardless."""

    key: str
    domain: str
    message: str


@dataclass(frozen=True, slots=True)
class PublishedRanges:
    index: NetworkIndex[str]
    problems: tuple[ExpansionProblem, ...]
    #: networks indexed per catalogue key
    counts: dict[str, int]


async def expand_catalogue(
    catalogue: Catalogue, expand: Expander, *, concurrency: int = 8
) -> PublishedRanges:
    """Expand every entry's `spf_includes` concurrently and index the networks by entry key.

    A failing include (DNS error, bad record, expander bug) becomes a problem and is skipped.
    Where two entries publish the same network, the one earlier in the catalogue keeps it.
    """
    gate = asyncio.Semaphore(concurrency)
    jobs = [(entry.key, domain) for entry in catalogue for domain in entry.spf_includes]

    async def run(domain: str) -> list[AnyNetwork]:
        async with gate:
            return await expand(domain)

    outcomes = await asyncio.gather(*(run(domain) for _, domain in jobs), return_exceptions=True)
    pairs: list[tuple[AnyNetwork, str]] = []
    problems: list[ExpansionProblem] = []
    counts: dict[str, int] = {entry.key: 0 for entry in catalogue}
    for (key, domain), outcome in zip(jobs, outcomes, strict=True):
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome
        if isinstance(outcome, BaseException):
            problems.append(ExpansionProblem(key, domain, _describe(outcome)))
            continue
        for network in outcome:
            if network.prefixlen < _MIN_PREFIX[network.version]:
                problems.append(
                    ExpansionProblem(key, domain, f"ignored over-broad network {network}")
                )
                continue
            pairs.append((network, key))
            counts[key] += 1
    for problem in problems:
        log.warning("spf ranges of %s via %s: %s", problem.key, problem.domain, problem.message)
    return PublishedRanges(NetworkIndex.build(pairs), tuple(problems), counts)


async def catalogue_networks(
    catalogue: Catalogue, expand: Expander, *, concurrency: int = 8
) -> NetworkIndex[str]:
    """The catalogue key of the sender publishing each network; problems are logged."""
    return (await expand_catalogue(catalogue, expand, concurrency=concurrency)).index


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
