"""The catalogue of well-known senders (mailbox providers, ESPs, SaaS), read from senders.toml.

The catalogue is data, not code, so support staff can correct a provider's domains or advice
without touching logic. Every entry is checked on load; a mistake names the file, the entry and
the field, because a silently wrong entry would mislabel every report row from that sender.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal, get_args

from todoke.dmarc.shapes import MatchedBy, SenderIdentity

CatalogueCategory = Literal["mailbox_provider", "esp", "saas"]
Locale = Literal["en", "ja"]

_CATEGORIES: tuple[str, ...] = get_args(CatalogueCategory)
_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
# RFC 1035 §2.3.1 host names in lower case, plus "_" for SPF and DKIM owner names (RFC 8552);
# at least two labels, since a bare TLD would match half the Internet.
_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+{_LABEL}$")
_TEXT_FIELDS = ("key", "name", "name_ja", "category", "fix_en", "fix_ja")
_DOMAIN_FIELDS = ("ptr_suffixes", "spf_includes", "dkim_domains", "bounce_domains")
_KNOWN_FIELDS = frozenset((*_TEXT_FIELDS, *_DOMAIN_FIELDS, "docs_url"))


class CatalogueError(ValueError):
    """The catalogue file is malformed; `entry` and `field` say where (None if file-wide)."""

    def __init__(
        self, source: str, message: str, *, entry: str | None = None, field: str | None = None
    ) -> None:
        where = source
        if entry is not None:
            where += f": sender {entry}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.entry = entry
        self.field = field


@dataclass(frozen=True, slots=True)
class SenderEntry:
    key: str
    name: str
    name_ja: str
    category: CatalogueCategory
    #: reverse-DNS names of the sender's outbound servers end in one of these
    ptr_suffixes: tuple[str, ...]
    #: domains whose SPF records publish the sender's outbound ranges
    spf_includes: tuple[str, ...]
    #: d= domains the sender signs with until the customer sets up their own DKIM
    dkim_domains: tuple[str, ...]
    #: envelope-from (Return-Path) domains the sender uses until a custom one is configured
    bounce_domains: tuple[str, ...]
    fix_en: str
    fix_ja: str
    docs_url: str | None = None

    def fix(self, locale: Locale, domain: str) -> str:
        """How to make this sender's mail align for `domain`, in the reader's language."""
        template = self.fix_ja if locale == "ja" else self.fix_en
        return template.format(domain=domain)

    def identity(self, matched_by: MatchedBy) -> SenderIdentity:
        return SenderIdentity(
            key=self.key,
            name=self.name,
            name_ja=self.name_ja,
            category=self.category,
            matched_by=matched_by,
        )


def _suffixes(name: str) -> Iterator[str]:
    """`name` and each parent domain, longest first ("a.b.c" -> "a.b.c", "b.c", "c")."""
    labels = name.lower().rstrip(".").split(".")
    for start in range(len(labels)):
        yield ".".join(labels[start:])


@dataclass(frozen=True)
class Catalogue:
    entries: tuple[SenderEntry, ...]
    _by_key: Mapping[str, SenderEntry] = field(init=False, repr=False, compare=False)
    _by_ptr: Mapping[str, SenderEntry] = field(init=False, repr=False, compare=False)
    _by_dkim: Mapping[str, SenderEntry] = field(init=False, repr=False, compare=False)
    _by_bounce: Mapping[str, SenderEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {entry.key: entry for entry in self.entries})
        for attribute, source in (
            ("_by_ptr", "ptr_suffixes"),
            ("_by_dkim", "dkim_domains"),
            ("_by_bounce", "bounce_domains"),
        ):
            table = {domain: entry for entry in self.entries for domain in getattr(entry, source)}
            object.__setattr__(self, attribute, table)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[SenderEntry]:
        return iter(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __getitem__(self, key: str) -> SenderEntry:
        return self._by_key[key]

    def get(self, key: str) -> SenderEntry | None:
        return self._by_key.get(key)

    def match_ptr(self, ptr_name: str) -> SenderEntry | None:
        """The entry whose PTR suffix is the longest one `ptr_name` ends in at a label boundary.

        "mail-a1.google.com" and "google.com" match "google.com"; "evilgoogle.com" does not.
        """
        return _longest_suffix(self._by_ptr, ptr_name)

    def match_dkim_domain(self, domain: str) -> SenderEntry | None:
        return _longest_suffix(self._by_dkim, domain)

    def match_bounce_domain(self, domain: str) -> SenderEntry | None:
        return _longest_suffix(self._by_bounce, domain)


def _longest_suffix(table: Mapping[str, SenderEntry], name: str) -> SenderEntry | None:
    for suffix in _suffixes(name):
        entry = table.get(suffix)
        if entry is not None:
            return entry
    return None


def parse_catalogue(text: str, *, source: str = "<catalogue>") -> Catalogue:
    """Read and check catalogue TOML: a `[[sender]]` table per entry."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(source, f"not valid TOML: {error}") from None
    unknown = set(document) - {"sender"}
    if unknown:
        raise CatalogueError(source, f"unknown top-level keys {sorted(unknown)}")
    raw_entries = document.get("sender")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise CatalogueError(source, "expected one or more [[sender]] tables")
    entries = [_entry(raw, index, source) for index, raw in enumerate(raw_entries, start=1)]
    _check_unique(entries, source)
    return Catalogue(tuple(entries))


def _entry(raw: object, index: int, source: str) -> SenderEntry:
    label = f"#{index}"
    if not isinstance(raw, dict):
        raise CatalogueError(source, "is not a table", entry=label)
    if isinstance(raw.get("key"), str):
        label = raw["key"]
    unknown = sorted(set(raw) - _KNOWN_FIELDS)
    if unknown:
        raise CatalogueError(source, "unknown field (misspelt?)", entry=label, field=unknown[0])
    texts = {name: _text(raw, name, label, source) for name in _TEXT_FIELDS}
    if not _KEY.match(texts["key"]):
        raise CatalogueError(
            source, "must be lower-case letters, digits and _", entry=label, field="key"
        )
    if texts["category"] not in _CATEGORIES:
        raise CatalogueError(
            source, f"must be one of {', '.join(_CATEGORIES)}", entry=label, field="category"
        )
    for name in ("fix_en", "fix_ja"):
        _check_template(texts[name], label, name, source)
    domains = {name: _domains(raw, name, label, source) for name in _DOMAIN_FIELDS}
    if not any(domains.values()):
        raise CatalogueError(
            source, "needs at least one of " + ", ".join(_DOMAIN_FIELDS), entry=label
        )
    docs_url = raw.get("docs_url")
    if docs_url is not None and (
        not isinstance(docs_url, str) or not docs_url.startswith("https://")
    ):
        raise CatalogueError(source, "must be an https:// URL", entry=label, field="docs_url")
    return SenderEntry(
        key=texts["key"],
        name=texts["name"],
        name_ja=texts["name_ja"],
        category=texts["category"],  # type: ignore[arg-type]  # checked against _CATEGORIES
        ptr_suffixes=domains["ptr_suffixes"],
        spf_includes=domains["spf_includes"],
        dkim_domains=domains["dkim_domains"],
        bounce_domains=domains["bounce_domains"],
        fix_en=texts["fix_en"],
        fix_ja=texts["fix_ja"],
        docs_url=docs_url,
    )


def _text(raw: dict[str, object], name: str, label: str, source: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(
            source, "is required and must be non-empty text", entry=label, field=name
        )
    return value.strip()


def _domains(raw: dict[str, object], name: str, label: str, source: str) -> tuple[str, ...]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CatalogueError(source, "must be a list of domain names", entry=label, field=name)
    for item in value:
        if not _DOMAIN.match(item):
            raise CatalogueError(
                source,
                f"{item!r} is not a lower-case domain name without a trailing dot",
                entry=label,
                field=name,
            )
    if len(set(value)) != len(value):
        raise CatalogueError(source, "lists a domain twice", entry=label, field=name)
    return tuple(value)


def _check_template(text: str, label: str, name: str, source: str) -> None:
    try:
        text.format(domain="example.jp")
    except (KeyError, IndexError, ValueError) as error:
        raise CatalogueError(
            source,
            f"may only use the {{domain}} placeholder ({error!r})",
            entry=label,
            field=name,
        ) from None


def _check_unique(entries: list[SenderEntry], source: str) -> None:
    seen_keys: set[str] = set()
    owners: dict[tuple[str, str], str] = {}
    for entry in entries:
        if entry.key in seen_keys:
            raise CatalogueError(source, "key used by two entries", entry=entry.key, field="key")
        seen_keys.add(entry.key)
        # Two owners of one suffix would make identification depend on file order.
        for name in ("ptr_suffixes", "dkim_domains", "bounce_domains"):
            for domain in getattr(entry, name):
                owner = owners.setdefault((name, domain), entry.key)
                if owner != entry.key:
                    raise CatalogueError(
                        source,
                        f"{domain!r} already belongs to {owner}",
                        entry=entry.key,
                        field=name,
                    )


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """The catalogue at `path`, or the packaged senders.toml (read once, then cached)."""
    if path is None:
        return _default_catalogue()
    file = Path(path)
    return parse_catalogue(file.read_text(encoding="utf-8"), source=str(file))


@cache
def _default_catalogue() -> Catalogue:
    resource = resources.files("todoke.dmarc.identify") / "senders.toml"
    return parse_catalogue(resource.read_text(encoding="utf-8"), source="senders.toml")
