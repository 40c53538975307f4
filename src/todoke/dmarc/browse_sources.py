"""The sources table read as a whole for the sources page: the error analysis by tag of the
registered sources, and the spoofing-suspected sources with the networks they come from.
Both read `insights.domain_sources` (stored analysis or live) and check `dmarc.view`."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.dmarc import insights, services
from todoke.dmarc.analyses import AnalysedSource, SourceFilter

#: the page size the analyses read the sources table with
_SCAN_PAGE = 500
#: how many networks and sources the spoofing analysis names
TOP_NETWORKS = 10


def _all_sources(
    session: Session,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    since: date | None,
    wanted: SourceFilter,
) -> Iterator[AnalysedSource]:
    page = 1
    while True:
        found = insights.domain_sources(
            session, org=org, domain=domain, acting_user=acting_user, since=since, page=page,
            per_page=_SCAN_PAGE, wanted=wanted,
        )  # fmt: skip
        yield from found.sources
        if page >= found.pages:
            return
        page += 1


@dataclass(frozen=True)
class TagRow:
    tag: str
    sources: int
    messages: int
    dmarc_pass: int
    #: how many of the tagged sources have failing mail, and that mail
    failing_sources: int
    dmarc_fail: int


def tag_analysis(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    since: date | None = None,
) -> list[TagRow]:
    """Per tag of the registered sources: the domain's mail from sources carrying it in the
    period (the sources table filtered by the tag), its pass rate and failing volume."""
    require(acting_user, "dmarc.view", org=org)
    tags = sorted(
        {tag for source in services.list_sources(session, org=org, acting_user=acting_user)
         for tag in source.tags}
    )  # fmt: skip
    rows = []
    for tag in tags:
        found = list(_all_sources(session, org, domain, acting_user, since, SourceFilter(tag=tag)))
        rows.append(
            TagRow(
                tag=tag,
                sources=len(found),
                messages=sum(source.messages for source in found),
                dmarc_pass=sum(source.dmarc_pass for source in found),
                failing_sources=sum(1 for source in found if source.dmarc_fail > 0),
                dmarc_fail=sum(source.dmarc_fail for source in found),
            )
        )
    return rows


@dataclass(frozen=True)
class NetworkRow:
    network: str
    sources: int
    messages: int
    dmarc_fail: int


@dataclass(frozen=True)
class SpoofingAnalysis:
    """The sources classified `spoofing_suspected` (なりすまし可能性分析): neither a registered
    source nor a known sender, and their mail does not authenticate as the domain."""

    sources: int
    messages: int
    dmarc_fail: int
    #: the domain's mail of the period, for the share
    all_messages: int
    networks: list[NetworkRow]
    top_sources: list[AnalysedSource]


def _network_of(address: str) -> str:
    # /24 and /48 are the smallest blocks routed on the Internet: addresses of one sender.
    ip = ipaddress.ip_address(address)
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def spoofing_analysis(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    since: date | None = None,
    top: int = TOP_NETWORKS,
) -> SpoofingAnalysis:
    require(acting_user, "dmarc.view", org=org)
    wanted = SourceFilter(kind="spoofing_suspected")
    found = list(_all_sources(session, org, domain, acting_user, since, wanted))
    summary = insights.domain_sources(
        session, org=org, domain=domain, acting_user=acting_user, since=since, per_page=1
    )
    networks: dict[str, list[int]] = {}
    for source in found:
        into = networks.setdefault(_network_of(source.source_ip), [0, 0, 0])
        into[0] += 1
        into[1] += source.messages
        into[2] += source.dmarc_fail
    ordered = sorted(networks.items(), key=lambda item: (-item[1][1], item[0]))
    return SpoofingAnalysis(
        sources=len(found),
        messages=sum(source.messages for source in found),
        dmarc_fail=sum(source.dmarc_fail for source in found),
        all_messages=summary.messages,
        networks=[NetworkRow(name, *values) for name, values in ordered[:top]],
        top_sources=found[:top],
    )
