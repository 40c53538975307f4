"""The sources of a domain added up for the sources page: the error analysis by tag of the
registered sources, and the spoofing-suspected sources with the networks they come from. Both
read the totals kept with the window's analysis (`dmarc.highlights.window_totals`; computed
live for another range) and check `dmarc.view`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, require
from todoke.dmarc import services
from todoke.dmarc.analyses import AnalysedSource
from todoke.dmarc.highlights import window_totals


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
    kept = window_totals(
        session, org=org, domain=domain, acting_user=acting_user, since=since
    ).kept["tags"]
    return [TagRow(tag, *kept.get(tag, (0, 0, 0, 0, 0))) for tag in tags]


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


def spoofing_analysis(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    acting_user: Actor,
    since: date | None = None,
) -> SpoofingAnalysis:
    require(acting_user, "dmarc.view", org=org)
    totals = window_totals(session, org=org, domain=domain, acting_user=acting_user, since=since)
    kept = totals.kept["spoofing"]
    ranks = [int(rank) for rank in kept["top_ranks"]]
    rows = totals.rows(ranks)
    return SpoofingAnalysis(
        sources=int(kept["sources"]),
        messages=int(kept["messages"]),
        dmarc_fail=int(kept["dmarc_fail"]),
        all_messages=totals.messages,
        networks=[NetworkRow(name, *values) for name, *values in kept["networks"]],
        top_sources=[rows[rank] for rank in ranks if rank in rows],
    )
