"""catalogue_networks with an in-memory expander: concurrency and tolerance of failures."""

from __future__ import annotations

import asyncio
from ipaddress import IPv4Network, IPv6Network, ip_network

import pytest

from todoke.dmarc.identify.catalogue import Catalogue, parse_catalogue
from todoke.dmarc.identify.published import catalogue_networks, expand_catalogue

TEXT = """
[[sender]]
key = "alpha"
name = "Alpha"
name_ja = "アルファ"
category = "esp"
spf_includes = ["spf.alpha.example", "spf2.alpha.example"]
fix_en = "a {domain}"
fix_ja = "ア {domain}"

[[sender]]
key = "beta"
name = "Beta"
name_ja = "ベータ"
category = "esp"
spf_includes = ["spf.beta.example"]
fix_en = "b {domain}"
fix_ja = "ベ {domain}"

[[sender]]
key = "gamma"
name = "Gamma"
name_ja = "ガンマ"
category = "saas"
spf_includes = ["spf.gamma.example"]
fix_en = "g {domain}"
fix_ja = "ガ {domain}"
"""

RANGES = {
    "spf.alpha.example": ["192.0.2.0/24", "2001:db8:a::/48"],
    "spf.beta.example": ["198.51.100.0/24", "192.0.2.0/24"],
    "spf.gamma.example": ["203.0.113.0/24", "0.0.0.0/1"],
}


@pytest.fixture
def catalogue() -> Catalogue:
    return parse_catalogue(TEXT)


class Expander:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.running = 0
        self.peak = 0

    async def __call__(self, domain: str) -> list[IPv4Network | IPv6Network]:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(self.delay)
            if domain not in RANGES:
                raise LookupError(f"no SPF record at {domain}")
            return [ip_network(text) for text in RANGES[domain]]
        finally:
            self.running -= 1


def test_networks_are_indexed_by_catalogue_key(catalogue: Catalogue) -> None:
    index = asyncio.run(catalogue_networks(catalogue, Expander()))
    assert index.lookup("198.51.100.9") == "beta"
    assert index.lookup("2001:db8:a::25") == "alpha"
    assert index.lookup("203.0.113.1") == "gamma"


def test_network_published_by_two_senders_goes_to_the_first(catalogue: Catalogue) -> None:
    index = asyncio.run(catalogue_networks(catalogue, Expander()))
    assert index.lookup("192.0.2.1") == "alpha"


def test_one_failing_include_is_a_problem_not_a_failure(catalogue: Catalogue) -> None:
    ranges = asyncio.run(expand_catalogue(catalogue, Expander()))
    assert [(p.key, p.domain) for p in ranges.problems if "LookupError" in p.message] == [
        ("alpha", "spf2.alpha.example")
    ]
    assert ranges.counts["alpha"] == 2
    assert ranges.index.lookup("2001:db8:a::1") == "alpha"


def test_over_broad_networks_are_skipped(catalogue: Catalogue) -> None:
    ranges = asyncio.run(expand_catalogue(catalogue, Expander()))
    assert ranges.index.lookup("10.0.0.1") is None
    assert any("0.0.0.0/1" in p.message and p.key == "gamma" for p in ranges.problems)


def test_expansions_run_concurrently_within_the_bound(catalogue: Catalogue) -> None:
    expander = Expander(delay=0.05)
    asyncio.run(expand_catalogue(catalogue, expander, concurrency=3))
    assert expander.peak == 3
