"""Check options from settings, so the CLI, the API and the worker check alike."""

from __future__ import annotations

from ipaddress import ip_address

from todoke.core.errors import InvalidInput
from todoke.domains.checks.context import CheckOptions, HttpsOptions
from todoke.settings import Settings


def options_from(settings: Settings, *, selectors: tuple[str, ...] = ()) -> CheckOptions:
    try:
        sending_ips = tuple(ip_address(text.strip()) for text in settings.sending_ips)
    except ValueError as error:
        raise InvalidInput(f"setting sending_ips: {error}") from None
    return CheckOptions(
        selectors=selectors,
        sending_ips=sending_ips,
        ip_blocklists=tuple(settings.check_ip_blocklists),
        domain_blocklists=tuple(settings.check_domain_blocklists),
        https=HttpsOptions(port=settings.check_https_port, ca_file=settings.check_https_ca_file),
    )
