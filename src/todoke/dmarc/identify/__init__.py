"""Sender identification: which provider, ESP or own server sent from a report's address."""

from todoke.dmarc.identify.catalogue import (
    Catalogue,
    CatalogueCategory,
    CatalogueError,
    SenderEntry,
    load_catalogue,
    parse_catalogue,
)
from todoke.dmarc.identify.networks import NetworkIndex, parse_network
from todoke.dmarc.identify.ptr import PtrAnswer, PtrResolver, PtrStatus
from todoke.dmarc.identify.published import (
    Expander,
    ExpansionProblem,
    PublishedRanges,
    catalogue_networks,
    expand_catalogue,
)
from todoke.dmarc.identify.sources import OwnSource, identify_source, own_index

__all__ = [
    "Catalogue",
    "CatalogueCategory",
    "CatalogueError",
    "Expander",
    "ExpansionProblem",
    "NetworkIndex",
    "OwnSource",
    "PtrAnswer",
    "PtrResolver",
    "PtrStatus",
    "PublishedRanges",
    "SenderEntry",
    "catalogue_networks",
    "expand_catalogue",
    "identify_source",
    "load_catalogue",
    "own_index",
    "parse_catalogue",
    "parse_network",
]
