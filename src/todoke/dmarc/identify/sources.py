"""Naming the sender behind a report's source address."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address

from todoke.dmarc.identify.catalogue import Catalogue
from todoke.dmarc.identify.networks import AnyNetwork, NetworkIndex, parse_network
from todoke.dmarc.shapes import SenderIdentity


@dataclass(frozen=True, slots=True)
class OwnSource:
    """An address range the organisation registered as its own, with its label and tags."""

    network: AnyNetwork
    label: str
    tags: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, cidr: str, label: str, tags: Sequence[str] = ()) -> OwnSource:
        """From user input: "192.0.2.0/24" or a single address; tags sorted, duplicates dropped."""
        return cls(parse_network(cidr), label.strip(), tuple(sorted(set(tags))))


def own_index(sources: Iterable[OwnSource]) -> NetworkIndex[OwnSource]:
    return NetworkIndex.build((source.network, source) for source in sources)


def identify_source(
    ip: str | IPv4Address | IPv6Address,
    *,
    ptr_name: str | None,
    own: NetworkIndex[OwnSource],
    published: NetworkIndex[str],
    catalogue: Catalogue,
) -> SenderIdentity | None:
    """Who sent from `ip`, or None if nothing Todoke knows claims it.

    The first rule that matches wins:

    1. **Own sources**: the most specific network the organisation registered. What the domain
       owner told us outranks any inference, and its tags travel with the identity.
    2. **PTR name**: the catalogue entry with the longest `ptr_suffixes` entry that `ptr_name`
       equals or ends in at a label boundary ("o1.sendgrid.net" matches "sendgrid.net";
       "evilgoogle.com" does not match "google.com"). Pass a forward-confirmed name
       (`PtrAnswer.confirmed_name`): whoever holds an address block chooses its PTR names.
    3. **Published SPF ranges**: the sender whose SPF includes list the most specific network
       containing `ip`. Last, because ranges are shared (a cloud's addresses serve many
       tenants) while a provider's own reverse names are not.
    """
    source = own.lookup(ip)
    if source is not None:
        return SenderIdentity(
            key="own",
            name=source.label,
            name_ja=source.label,
            category="own",
            matched_by="own_source",
            tags=source.tags,
        )
    if ptr_name:
        entry = catalogue.match_ptr(ptr_name)
        if entry is not None:
            return entry.identity("ptr")
    key = published.lookup(ip)
    if key is not None:
        entry = catalogue.get(key)
        if entry is not None:
            return entry.identity("spf_range")
    return None
