"""check_host() behaviours beyond the suite: shared cache, concurrency, order, limits."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.domains.spf import SpfLimits, SpfResult, check_helo, check_host, check_mail_from

ZONE = """
$ORIGIN example.test.
@           IN SOA ns1 hostmaster 1 3600 600 86400 120
@           IN TXT "v=spf1 include:_a.example.test include:_b.example.test -all"
_a          IN TXT "v=spf1 a:shared.example.test ip4:198.51.100.0/24 -all"
_b          IN TXT "v=spf1 a:shared.example.test mx:mxs.example.test -all"
shared      IN A 192.0.2.10
mxs         IN MX 10 mx1
mxs         IN MX 20 mx2
mxs         IN MX 30 mx3
mxs         IN MX 40 mx4
mxs         IN MX 50 mx5
mx1         IN A 192.0.2.21
mx2         IN A 192.0.2.22
mx3         IN A 192.0.2.23
mx4         IN A 192.0.2.24
mx5         IN A 192.0.2.25
early       IN TXT "v=spf1 ip4:192.0.2.1 a:never.example.test -all"
broken      IN TXT "v=spf1 a:down.example.test -all"
mail        IN TXT "v=spf1 a -all"
mail        IN A 192.0.2.30
redir       IN TXT "v=spf1 redirect=_b.example.test"
voids       IN TXT "v=spf1 a:n1.example.test a:n2.example.test ip4:192.0.2.99 -all"
"""


@pytest.fixture
def zone(dns_server: LocalDNSServer) -> LocalDNSServer:
    dns_server.add_zone(ZONE)
    return dns_server


def run(resolver_factory: ResolverFactory, ip: str, domain: str, **limits: float) -> SpfResult:
    return asyncio.run(
        check_host(
            ip,
            domain,
            f"user@{domain}",
            helo="client.example.org",
            resolver=resolver_factory(),
            limits=SpfLimits(**limits),  # type: ignore[arg-type]
        )
    )


def test_a_name_used_twice_is_queried_once(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    outcome = run(resolver_factory, "192.0.2.25", "example.test")
    assert outcome.result == "pass"
    assert zone.queries.count(("shared.example.test.", "A")) == 1
    assert outcome.lookups == 5  # include, a, include, a, mx


def test_mx_hosts_are_resolved_concurrently(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.latency = 0.3
    started = time.monotonic()
    outcome = run(resolver_factory, "192.0.2.25", "_b.example.test")
    elapsed = time.monotonic() - started
    assert outcome.result == "pass"
    assert outcome.mechanism == "mx:mxs.example.test"
    # TXT, A, MX and five A answers, 0.3 s each: 2.4 s one by one, 1.2 s with the five at once.
    # The bound sits between the two with room for a loaded machine (1.54 s seen under load).
    assert elapsed < 1.9


def test_mechanisms_after_a_match_are_never_looked_up(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    outcome = run(resolver_factory, "192.0.2.1", "early.example.test")
    assert (outcome.result, outcome.mechanism, outcome.lookups) == ("pass", "ip4:192.0.2.1", 0)
    assert not any(name == "never.example.test." for name, _ in zone.queries)


def test_servfail_on_a_mechanism_is_temperror(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.fail("down.example.test", "servfail")
    outcome = run(resolver_factory, "192.0.2.1", "broken.example.test")
    assert outcome.result == "temperror"
    assert "down.example.test" in outcome.explanation


def test_void_lookups_are_counted_and_limited(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    outcome = run(resolver_factory, "192.0.2.99", "voids.example.test")
    assert (outcome.result, outcome.void_lookups) == ("pass", 2)
    limited = run(resolver_factory, "192.0.2.99", "voids.example.test", void_lookups=1)
    assert limited.result == "permerror"
    assert "a:n2.example.test" in limited.explanation


def test_lookup_limit_is_configurable(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    outcome = run(resolver_factory, "192.0.2.25", "example.test", dns_lookups=4)
    assert outcome.result == "permerror"
    assert "more than 4" in outcome.explanation


def test_redirect_reports_where_the_match_was(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    outcome = run(resolver_factory, "192.0.2.10", "redir.example.test")
    assert (outcome.result, outcome.domain, outcome.mechanism_domain) == (
        "pass",
        "redir.example.test",
        "_b.example.test",
    )


def test_ipv4_mapped_client_is_checked_as_ipv4(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    assert run(resolver_factory, "::ffff:192.0.2.1", "early.example.test").result == "pass"


def test_slow_dns_beyond_the_time_limit_is_temperror(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    zone.latency = 0.4
    outcome = run(resolver_factory, "192.0.2.25", "example.test", elapsed_seconds=0.3)
    assert outcome.result == "temperror"
    assert "longer than 0.3 s" in outcome.explanation


def test_helo_identity_is_checked_as_postmaster(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    outcome = asyncio.run(
        check_helo("192.0.2.30", "mail.example.test", resolver=resolver_factory())
    )
    assert (outcome.result, outcome.domain) == ("pass", "mail.example.test")


def test_null_sender_falls_back_to_the_helo_name(
    zone: LocalDNSServer, resolver_factory: ResolverFactory
) -> None:
    outcome = asyncio.run(
        check_mail_from("192.0.2.31", "<>", helo="mail.example.test", resolver=resolver_factory())
    )
    assert (outcome.result, outcome.domain) == ("fail", "mail.example.test")


def test_invalid_client_address_is_a_value_error(resolver_factory: ResolverFactory) -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        run(resolver_factory, "192.0.2.300", "example.test")
