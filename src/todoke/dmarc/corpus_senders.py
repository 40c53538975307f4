"""Who sends mail, as the corpus generator models them: each sender carries the address ranges
and signing domains it really uses. Ranges are the providers' published ones where they are well
known; the rest are documentation ranges (RFC 5737, RFC 3849) so no real third party is named.
"""

from __future__ import annotations

import functools
import ipaddress
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sender:
    key: str
    networks: tuple[str, ...]
    #: the signing domain and MAIL FROM domain the sender uses when not set up for the customer
    dkim_domain: str | None = None
    dkim_selector: str = "s1"
    bounce_domain: str | None = None
    #: selector used when the sender signs with the customer's own domain
    custom_selector: str = "s1"

    def address(self, rng: random.Random) -> str:
        base, size = _network(self.networks[rng.randrange(len(self.networks))])
        return ipaddress.ip_address(base + rng.randrange(1, size - 1)).compressed


@functools.cache
def _network(cidr: str) -> tuple[int, int]:
    network = ipaddress.ip_network(cidr)
    return int(network.network_address), network.num_addresses


OWN = Sender(
    "own", ("203.0.113.0/26", "203.0.113.0/26", "2001:db8:5a::/64"), custom_selector="s2026"
)
GOOGLE = Sender("google", ("209.85.128.0/17", "2a00:1450::/32"), custom_selector="google")
MICROSOFT = Sender(
    "microsoft",
    ("40.92.0.0/15", "52.100.0.0/14", "2a01:111:f400::/48"),
    custom_selector="selector1",
)
AMAZON_SES = Sender(
    "amazonses",
    ("54.240.0.0/18",),
    "amazonses.com",
    "ug7nbtf4gccmlpwj322ax3p6ow6yfsug",
    "amazonses.com",
    custom_selector="224i4yxa5dv7c2xz3womw6peuasteono",
)
SENDGRID = Sender(
    "sendgrid",
    ("167.89.0.0/17",),
    "sendgrid.net",
    "smtpapi",
    "bounces.sendgrid.net",
    custom_selector="s1",
)
MAILCHIMP = Sender(
    "mailchimp",
    ("205.201.128.0/20",),
    "mcsv.net",
    "k2",
    "mail205.atl121.mcsv.net",
    custom_selector="k3",
)
SALESFORCE = Sender(
    "salesforce",
    ("13.111.0.0/16", "136.147.176.0/20"),
    "s11.exacttarget.com",
    "200608",
    "bounce.s11.exacttarget.com",
)
ZENDESK = Sender(
    "zendesk",
    ("192.161.144.0/20", "216.198.0.0/18"),
    "zendesk.com",
    "zendesk1",
    "zendesk.com",
    custom_selector="zendesk2",
)
JP_ESP = Sender(
    "jp_esp",
    ("198.51.100.0/24", "2001:db8:e5::/48"),
    "esp.example.net",
    "esp1",
    "bounce.esp.example.net",
    custom_selector="esp2026",
)
UNIVERSITY_RELAY = Sender("relay", ("192.0.2.0/25",), bounce_domain="relay.univ.example.ac.jp")
MAILING_LIST = Sender("list", ("198.18.0.0/15",), "lists.example.org", "list", "lists.example.org")

#: (sender, weight) for mail the organisation sends itself, aligned and passing
ALIGNED_SENDERS = (
    (OWN, 5),
    (GOOGLE, 3),
    (MICROSOFT, 2),
    (AMAZON_SES, 1),
    (SENDGRID, 1),
    (JP_ESP, 1),
)
THIRD_PARTY_SENDERS = (SENDGRID, MAILCHIMP, SALESFORCE, ZENDESK, AMAZON_SES, JP_ESP)
#: forwarders (mailbox providers forwarding users' mail, relays) and mailing lists
FORWARDERS = (GOOGLE, MICROSOFT, UNIVERSITY_RELAY, MAILING_LIST)
#: first octets of abused IPv4 space spoofers send from; IPv6 spoofing uses documentation space
SPOOF_OCTETS = (5, 31, 37, 45, 46, 77, 89, 91, 94, 103, 113, 117, 177, 185, 186, 190, 191, 212)
SPOOF_DOMAINS = ("mailer.example.biz", "bulk-promo.example.info", "secure-notice.example")


def spoof_address(rng: random.Random) -> str:
    if rng.random() < 0.1:
        return f"2001:db8:bad:{rng.getrandbits(16):x}::{rng.getrandbits(16):x}"
    first = SPOOF_OCTETS[rng.randrange(len(SPOOF_OCTETS))]
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
