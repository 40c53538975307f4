"""Domain checks: SPF, DKIM, DMARC, BIMI, MTA-STS, TLS-RPT and MX findings with ja/en advice."""

from todoke.domains.checks.context import CheckContext, CheckOptions, HttpsOptions
from todoke.domains.checks.findings import SECTIONS, Finding, FindingText, Status, describe, worst
from todoke.domains.checks.runner import DomainCheck, check_domain

__all__ = [
    "SECTIONS",
    "CheckContext",
    "CheckOptions",
    "DomainCheck",
    "Finding",
    "FindingText",
    "HttpsOptions",
    "Status",
    "check_domain",
    "describe",
    "worst",
]
