"""Who is being checked: the client address and the domain and sender of RFC 7208 §2 and §4.3."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

IPAddress = IPv4Address | IPv6Address


def client_address(ip: str | IPAddress) -> IPAddress:
    """The client address, an IPv4-mapped IPv6 address read as IPv4 (RFC 7208 §5)."""
    address = ip_address(ip.strip() if isinstance(ip, str) else ip)
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def domain_problem(domain: str) -> str | None:
    """Why `domain` cannot have an SPF policy (RFC 7208 §4.3), or None if it can."""
    if domain.startswith("["):
        return "is an address literal, not a domain name"
    labels = domain.split(".")
    if len(labels) < 2:
        return "is not a fully qualified (multi-label) domain name"
    if any(not label for label in labels):
        return "has an empty label"
    if any(len(label) > 63 for label in labels):
        return "has a label longer than 63 characters"
    if len(domain) > 253:
        return "is longer than 253 characters"
    return None


def mail_from_identity(mail_from: str, helo: str) -> tuple[str, str]:
    """(domain, sender) to check for a MAIL FROM; the null sender checks the HELO name as
    postmaster@helo (RFC 7208 §2.4)."""
    address = mail_from.strip().removeprefix("<").removesuffix(">")
    if not address:
        return helo, f"postmaster@{helo}"
    return address.rpartition("@")[2], address
