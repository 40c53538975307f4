"""identify_source: own sources first, then PTR suffix, then published SPF ranges."""

from __future__ import annotations

import pytest

from todoke.dmarc.identify.catalogue import Catalogue, load_catalogue, parse_catalogue
from todoke.dmarc.identify.networks import NetworkIndex
from todoke.dmarc.identify.sources import OwnSource, identify_source, own_index

GOOGLE_RANGE = "209.85.128.0/17"


@pytest.fixture
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture
def published() -> NetworkIndex[str]:
    return NetworkIndex.build([(GOOGLE_RANGE, "google"), ("167.89.0.0/17", "sendgrid")])


def test_own_source_outranks_ptr_and_published_ranges(
    catalogue: Catalogue, published: NetworkIndex[str]
) -> None:
    own = own_index([OwnSource.parse("209.85.220.0/24", "本社メールサーバー", ["office", "smtp"])])
    identity = identify_source(
        "209.85.220.41",
        ptr_name="mail-sor-f41.google.com",
        own=own,
        published=published,
        catalogue=catalogue,
    )
    assert identity is not None
    assert (identity.key, identity.matched_by, identity.category) == ("own", "own_source", "own")
    assert identity.name == "本社メールサーバー"
    assert identity.tags == ("office", "smtp")


def test_most_specific_own_source_supplies_the_tags(catalogue: Catalogue) -> None:
    own = own_index(
        [
            OwnSource.parse("192.0.2.0/24", "DC", ["datacentre"]),
            OwnSource.parse("192.0.2.25", "MTA", ["smtp", "smtp"]),
        ]
    )
    identity = identify_source(
        "192.0.2.25", ptr_name=None, own=own, published=NetworkIndex.empty(), catalogue=catalogue
    )
    assert identity is not None
    assert (identity.name, identity.tags) == ("MTA", ("smtp",))


def test_ptr_suffix_outranks_published_ranges(
    catalogue: Catalogue, published: NetworkIndex[str]
) -> None:
    # An address inside Google's published range whose PTR says SendGrid: the PTR wins.
    identity = identify_source(
        "209.85.220.41",
        ptr_name="o1.ptr2625.sendgrid.net",
        own=NetworkIndex.empty(),
        published=published,
        catalogue=catalogue,
    )
    assert identity is not None
    assert (identity.key, identity.matched_by) == ("sendgrid", "ptr")


def test_longest_ptr_suffix_wins() -> None:
    text = """
[[sender]]
key = "parent"
name = "Parent"
name_ja = "親"
category = "esp"
ptr_suffixes = ["mail.example"]
fix_en = "x {domain}"
fix_ja = "エックス {domain}"

[[sender]]
key = "child"
name = "Child"
name_ja = "子"
category = "saas"
ptr_suffixes = ["out.mail.example"]
fix_en = "y {domain}"
fix_ja = "ワイ {domain}"
"""
    catalogue = parse_catalogue(text)
    empty: NetworkIndex[str] = NetworkIndex.empty()
    own: NetworkIndex[OwnSource] = NetworkIndex.empty()

    def key_for(ptr: str) -> str | None:
        identity = identify_source(
            "198.51.100.1", ptr_name=ptr, own=own, published=empty, catalogue=catalogue
        )
        return identity.key if identity else None

    assert key_for("a.out.mail.example") == "child"
    assert key_for("a.in.mail.example") == "parent"
    assert key_for("a.mail.example.org") is None


@pytest.mark.parametrize("ptr_name", ["evilgoogle.com", "google.com.attacker.example", None, ""])
def test_ptr_must_match_at_a_label_boundary_else_ranges_decide(
    catalogue: Catalogue, published: NetworkIndex[str], ptr_name: str | None
) -> None:
    identity = identify_source(
        "167.89.1.1",
        ptr_name=ptr_name,
        own=NetworkIndex.empty(),
        published=published,
        catalogue=catalogue,
    )
    assert identity is not None
    assert (identity.key, identity.matched_by) == ("sendgrid", "spf_range")


def test_unknown_source_is_none(catalogue: Catalogue, published: NetworkIndex[str]) -> None:
    assert (
        identify_source(
            "203.0.113.9",
            ptr_name="host.evilgoogle.com",
            own=NetworkIndex.empty(),
            published=published,
            catalogue=catalogue,
        )
        is None
    )


def test_published_key_missing_from_catalogue_is_ignored(catalogue: Catalogue) -> None:
    stale = NetworkIndex.build([("203.0.113.0/24", "no_longer_listed")])
    assert (
        identify_source(
            "203.0.113.9",
            ptr_name=None,
            own=NetworkIndex.empty(),
            published=stale,
            catalogue=catalogue,
        )
        is None
    )
