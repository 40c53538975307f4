"""What every check section receives: the domain, one shared DNS cache, and the options.

One `DnsCache` per run means a name asked by two sections (the DMARC record for both the DMARC
and the BIMI sections, an MX for MX and MTA-STS) goes on the wire once, and sections run
concurrently without repeating each other's lookups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from todoke.domains.spf.lookup import DnsCache, IPAddress

#: Selectors tried when the user names none: those of the mailbox providers, ESPs and signing
#: software our users meet most often.
COMMON_SELECTORS: Final = (
    "default",
    "google",
    "selector1",
    "selector2",
    "k1",
    "k2",
    "s1",
    "s2",
    "dkim",
    "mail",
    "smtp",
    "mxvault",
    "everlytickey1",
    "amazonses",
    "sendgrid",
    "sg",
    "mandrill",
    "pm",
    "zendesk1",
    "zendesk2",
)


@dataclass(frozen=True)
class HttpsOptions:
    """How policy and logo files are fetched over HTTPS (MTA-STS, BIMI, VMC).

    Tests point `port` and `ca_file` at a local HTTPS server signed by the test CA; production
    uses 443 and the system's trust store.
    """

    port: int = 443
    ca_file: Path | None = None
    timeout: float = 5.0
    max_bytes: int = 512 * 1024


@dataclass(frozen=True)
class CheckOptions:
    #: DKIM selectors the user named; checked in addition to COMMON_SELECTORS
    selectors: tuple[str, ...] = ()
    try_common_selectors: bool = True
    #: the organisation's sending IPs, for forward-confirmed reverse DNS and IP blocklists
    sending_ips: tuple[IPAddress, ...] = ()
    #: DNS blocklist zones (settings `check_ip_blocklists`, `check_domain_blocklists`)
    ip_blocklists: tuple[str, ...] = ()
    domain_blocklists: tuple[str, ...] = ()
    https: HttpsOptions = field(default_factory=HttpsOptions)
    #: extra roots (PEM files) VMC/CMC certificates may chain to, trusted beside the issuer
    #: roots shipped in todoke/domains/bimi/data/
    bimi_trust_roots: tuple[Path, ...] = ()


@dataclass
class CheckContext:
    domain: str
    dns: DnsCache
    options: CheckOptions
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def selectors(self) -> tuple[str, ...]:
        """The user's selectors first, then the common ones, each once."""
        names = list(self.options.selectors)
        if self.options.try_common_selectors:
            names += COMMON_SELECTORS
        return tuple(dict.fromkeys(name.strip().lower() for name in names if name.strip()))
