"""The DNS records a domain should publish: for sending through Todoke, or for never sending.

The generator reads what the domain publishes now and changes as little as it can: the SPF
record keeps every other sender's terms (only Todoke's are added, before `all`), an existing
DMARC record keeps its policy and gains Todoke's report address, MTA-STS lists the MX hosts the
domain really has. Each proposed record says whether it is new, a replacement or already right.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from todoke.core.texts import as_locale, fill, load_file, text
from todoke.dmarc.analysis.alignment import organizational_domain
from todoke.dmarc.analysis.record import parse_record as dmarc_tags
from todoke.dmarc.analysis.record import render, value, with_changes
from todoke.domains.spf import SpfSyntaxError, is_spf_record, parse_record
from todoke.domains.spf.lookup import DnsCache
from todoke.settings import Settings

NOTES_FILE: Final = Path(__file__).resolve().parent / "advice" / "records.toml"
#: RFC 8461 §3.2: policies should be cached for weeks; a week lets a mistake age out.
MTA_STS_MAX_AGE: Final = 604_800
#: DNS character-strings hold at most 255 octets (RFC 1035 §3.3); longer TXT values are split.
TXT_STRING_MAX: Final = 255

Action = Literal["add", "replace", "keep", "later"]


@dataclass(frozen=True)
class SendingProfile:
    """How the domain sends through Todoke."""

    #: SPF terms that authorise Todoke's senders, e.g. ("ip4:203.0.113.10",)
    spf_terms: tuple[str, ...] = ()
    #: (selector, TXT value) of each DKIM key that signs, or will sign, for the domain
    dkim_keys: tuple[tuple[str, str], ...] = ()
    #: where aggregate reports go: Todoke's receiver (`dmarc@<receiver_domain>`)
    report_address: str | None = None
    tls_report_address: str | None = None
    bimi_logo_url: str | None = None
    bimi_certificate_url: str | None = None


@dataclass(frozen=True)
class ProposedRecord:
    purpose: str  # spf, dkim, dmarc, dmarc_authorisation, mx, mta_sts, tlsrpt, bimi, dkim_revoke
    name: str
    rdtype: str
    value: str
    action: Action
    current: tuple[str, ...] = ()
    note: str = ""

    @property
    def zone_line(self) -> str:
        """The record as a line of a zone file (TXT split into 255-octet strings)."""
        if self.rdtype != "TXT":
            return f"{self.name}. 3600 IN {self.rdtype} {self.value}"
        return f"{self.name}. 3600 IN TXT {txt_strings(self.value)}"


@dataclass(frozen=True)
class RecordPlan:
    domain: str
    sends_mail: bool
    records: tuple[ProposedRecord, ...]
    #: files to serve over HTTPS: (URL, content), e.g. the MTA-STS policy
    files: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def txt_strings(value: str) -> str:
    """A TXT value as quoted character-strings of at most 255 octets each."""
    data = value.encode()
    chunks = [data[i : i + TXT_STRING_MAX] for i in range(0, len(data), TXT_STRING_MAX)] or [b""]
    quoted = (
        chunk.decode(errors="replace").replace("\\", "\\\\").replace('"', '\\"') for chunk in chunks
    )
    return " ".join(f'"{part}"' for part in quoted)


@dataclass(frozen=True)
class _Published:
    spf: tuple[str, ...]
    dmarc: tuple[str, ...]
    mx: tuple[str, ...]
    mta_sts: tuple[str, ...]
    tlsrpt: tuple[str, ...]
    bimi: tuple[str, ...]
    dkim: dict[str, tuple[str, ...]]


async def _texts(dns: DnsCache, name: str, prefix: str) -> tuple[str, ...]:
    answer = await dns.txt(name)
    found = (item.decode("utf-8", errors="replace") for item in answer.values)
    return tuple(item for item in found if item.lower().startswith(prefix.lower()))


async def _published(dns: DnsCache, domain: str, selectors: Sequence[str]) -> _Published:
    spf_answer, mx = await asyncio.gather(dns.txt(domain), dns.mx(domain))
    dmarc, mta_sts, tlsrpt, bimi, *dkim = await asyncio.gather(
        _texts(dns, f"_dmarc.{domain}", "v=DMARC1"),
        _texts(dns, f"_mta-sts.{domain}", "v=STSv1"),
        _texts(dns, f"_smtp._tls.{domain}", "v=TLSRPTv1"),
        _texts(dns, f"default._bimi.{domain}", "v=BIMI1"),
        *(_texts(dns, f"{selector}._domainkey.{domain}", "") for selector in selectors),
    )
    spf = tuple(
        item.decode("utf-8", errors="replace") for item in spf_answer.values if is_spf_record(item)
    )
    return _Published(
        spf=spf,
        dmarc=dmarc,
        mx=tuple(mx.values),
        mta_sts=mta_sts,
        tlsrpt=tlsrpt,
        bimi=bimi,
        dkim=dict(zip(selectors, dkim, strict=True)),
    )


def _note(key: str, locale: str, **values: object) -> str:
    return fill(text(load_file(NOTES_FILE), key, as_locale(locale)), values)


def _same_term(left: str, right: str) -> bool:
    return left.lstrip("+").lower() == right.lstrip("+").lower()


def merge_spf(
    current: Sequence[str], terms: Sequence[str], locale: str, *, name: str
) -> ProposedRecord:
    """One SPF record with `terms` added to what is published; other senders' terms kept."""
    if not current:
        value = " ".join(("v=spf1", *terms, "~all"))
        return ProposedRecord("spf", name, "TXT", value, "add", note=_note("spf_new", locale))
    words: list[str] = []
    for record in current:
        for word in record.split()[1:]:
            if not any(_same_term(word, seen) for seen in words):
                words.append(word)
    try:
        parse_record(" ".join(("v=spf1", *words)))
    except SpfSyntaxError as error:
        value = " ".join(("v=spf1", *terms, "~all"))
        note = _note("spf_invalid", locale, error=str(error))
        return ProposedRecord("spf", name, "TXT", value, "replace", tuple(current), note)
    # Mechanisms after `all` are never evaluated (RFC 7208 §4.6.2), and several records
    # may each end in one: keep the first `all`, and put it after every mechanism.
    alls = [w for w in words if w.lstrip("+-~?").lower() == "all"]
    modifiers = [w for w in words if "=" in w]
    mechanisms = [w for w in words if w not in alls and w not in modifiers]
    missing = [t for t in terms if not any(_same_term(t, w) for w in words)]
    merged = " ".join(("v=spf1", *mechanisms, *missing, *alls[:1], *modifiers))
    if not missing and len(current) == 1 and merged == " ".join(current[0].split()):
        return ProposedRecord("spf", name, "TXT", current[0], "keep", tuple(current))
    key = "spf_merged_several" if len(current) > 1 else "spf_merged"
    note = _note(key, locale, count=len(current), added=" ".join(missing) or "-")
    return ProposedRecord("spf", name, "TXT", merged, "replace", tuple(current), note)


def dmarc_record(
    current: Sequence[str],
    address: str | None,
    policy: dict[str, str],
    locale: str,
    *,
    name: str,
) -> ProposedRecord:
    """The DMARC record with Todoke's report address, and `policy` tags where they must change.

    For a sending domain `policy` is {"p": "none"} and only applies when there is no valid
    record (the owner's policy is kept; readiness says when to raise it); for a domain that never
    sends it is the full reject set, applied over whatever is published.
    """
    uri = f"mailto:{address}" if address else None
    parsed = [tags for tags in (dmarc_tags(item) for item in current) if tags is not None]
    if not parsed:
        tags = with_changes((("v", "DMARC1"),), {**policy, "rua": uri})
        action: Action = "replace" if current else "add"
        note = _note("dmarc_invalid" if current else "dmarc_new", locale)
        return ProposedRecord("dmarc", name, "TXT", render(tags), action, tuple(current), note)
    tags = parsed[0]
    changes: dict[str, str | None] = {
        key: val for key, val in policy.items() if len(policy) > 1 and value(tags, key) != val
    }
    rua = [item.strip() for item in (value(tags, "rua") or "").split(",") if item.strip()]
    if uri and not any(item.split("!")[0].lower() == uri.lower() for item in rua):
        changes["rua"] = ",".join([*rua, uri])
    if not changes and len(current) == 1:
        return ProposedRecord("dmarc", name, "TXT", current[0], "keep", tuple(current))
    note_key = "dmarc_several" if len(current) > 1 else "dmarc_changed"
    proposed = render(with_changes(tags, changes))
    note = _note(note_key, locale, changes=", ".join(sorted(changes)))
    return ProposedRecord("dmarc", name, "TXT", proposed, "replace", tuple(current), note)


def report_authorisation(domain: str, address: str | None, locale: str) -> ProposedRecord | None:
    """RFC 7489 §7.1: a report address outside the domain's organisation must say it accepts
    this domain's reports, with a record in the address' own zone."""
    if not address or "@" not in address:
        return None
    destination = address.rsplit("@", 1)[1].lower()
    if organizational_domain(destination) == organizational_domain(domain):
        return None
    name = f"{domain}._report._dmarc.{destination}"
    note = _note("dmarc_authorisation", locale, destination=destination)
    return ProposedRecord("dmarc_authorisation", name, "TXT", "v=DMARC1", "add", note=note)


def _single(
    purpose: str, name: str, current: Sequence[str], proposed: str, locale: str
) -> ProposedRecord:
    """A record that should read exactly `proposed`."""
    normal = " ".join(proposed.split()).lower()
    if len(current) == 1 and " ".join(current[0].split()).lower() == normal:
        return ProposedRecord(purpose, name, "TXT", current[0], "keep", tuple(current))
    action: Action = "replace" if current else "add"
    return ProposedRecord(
        purpose, name, "TXT", proposed, action, tuple(current), _note(purpose, locale)
    )


def _never_sends(
    domain: str, found: _Published, profile: SendingProfile, locale: str
) -> list[ProposedRecord]:
    records = [
        _single("spf", domain, found.spf, "v=spf1 -all", locale),
        dmarc_record(
            found.dmarc,
            profile.report_address,
            {"p": "reject", "sp": "reject", "adkim": "s", "aspf": "s"},
            locale,
            name=f"_dmarc.{domain}",
        ),
        ProposedRecord(
            "dkim_revoke",
            f"*._domainkey.{domain}",
            "TXT",
            "v=DKIM1; p=",
            "add",
            note=_note("dkim_revoke", locale),
        ),
    ]
    receives = [mx for mx in found.mx if mx != "."]
    if receives:
        note = _note("mx_receives", locale, hosts=", ".join(receives))
        records.append(ProposedRecord("mx", domain, "MX", "", "keep", tuple(receives), note))
    else:
        action: Action = "keep" if found.mx == (".",) else "add"
        records.append(
            ProposedRecord("mx", domain, "MX", "0 .", action, found.mx, _note("null_mx", locale))
        )
    return records


def _sending(
    domain: str, found: _Published, profile: SendingProfile, locale: str, now: datetime
) -> tuple[list[ProposedRecord], list[tuple[str, str]]]:
    records = [merge_spf(found.spf, profile.spf_terms, locale, name=domain)]
    for selector, key in profile.dkim_keys:
        records.append(
            _single(
                "dkim", f"{selector}._domainkey.{domain}", found.dkim.get(selector, ()), key, locale
            )
        )
    records.append(
        dmarc_record(
            found.dmarc, profile.report_address, {"p": "none"}, locale, name=f"_dmarc.{domain}"
        )
    )
    files: list[tuple[str, str]] = []
    exchanges = [mx for mx in found.mx if mx != "."]
    if exchanges:
        policy = "\n".join(
            [
                "version: STSv1",
                "mode: testing",
                *(f"mx: {mx}" for mx in exchanges),
                f"max_age: {MTA_STS_MAX_AGE}",
                "",
            ]
        )
        files.append((f"https://mta-sts.{domain}/.well-known/mta-sts.txt", policy))
        sts_id = now.strftime("%Y%m%d%H%M%S")
        if found.mta_sts:
            note = _note("mta_sts_keep", locale)
            records.append(
                ProposedRecord(
                    "mta_sts",
                    f"_mta-sts.{domain}",
                    "TXT",
                    found.mta_sts[0],
                    "keep",
                    found.mta_sts,
                    note,
                )
            )
        else:
            note = _note("mta_sts", locale, domain=domain)
            records.append(
                ProposedRecord(
                    "mta_sts",
                    f"_mta-sts.{domain}",
                    "TXT",
                    f"v=STSv1; id={sts_id}",
                    "add",
                    note=note,
                )
            )
    if profile.tls_report_address:
        records.append(
            _single(
                "tlsrpt",
                f"_smtp._tls.{domain}",
                found.tlsrpt,
                f"v=TLSRPTv1; rua=mailto:{profile.tls_report_address}",
                locale,
            )
        )
    if profile.bimi_logo_url:
        bimi = f"v=BIMI1; l={profile.bimi_logo_url}; a={profile.bimi_certificate_url or ''}"
        records.append(_single("bimi", f"default._bimi.{domain}", found.bimi, bimi, locale))
    else:
        records.append(
            ProposedRecord(
                "bimi",
                f"default._bimi.{domain}",
                "TXT",
                "",
                "later",
                found.bimi,
                _note("bimi_later", locale),
            )
        )
    return records, files


async def plan_records(
    domain: str,
    *,
    dns: DnsCache,
    sends_mail: bool,
    profile: SendingProfile,
    locale: str,
    now: datetime,
) -> RecordPlan:
    """The records `domain` should publish, read against what it publishes now."""
    selectors = [selector for selector, _ in profile.dkim_keys] if sends_mail else []
    found = await _published(dns, domain, selectors)
    if sends_mail:
        records, files = _sending(domain, found, profile, locale, now)
    else:
        records, files = _never_sends(domain, found, profile, locale), []
    authorisation = report_authorisation(domain, profile.report_address, locale)
    if authorisation is not None:
        records.append(authorisation)
    return RecordPlan(domain, sends_mail, tuple(records), tuple(files))


def profile_from(
    settings: Settings, *, bimi_logo: str | None = None, bimi_certificate: str | None = None
) -> SendingProfile:
    """Todoke's side of the records: its sending IPs and its report receiver."""
    terms = tuple(
        f"ip6:{address.strip()}" if ":" in address else f"ip4:{address.strip()}"
        for address in settings.sending_ips
    )
    receiver = settings.receiver_domain
    return SendingProfile(
        spf_terms=terms,
        report_address=f"dmarc@{receiver}",
        tls_report_address=f"tlsrpt@{receiver}",
        bimi_logo_url=bimi_logo,
        bimi_certificate_url=bimi_certificate,
    )
