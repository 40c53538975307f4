"""Report parsers: bytes in, typed reports out. No database, no network, no file writes."""

from todoke.dmarc.parsing.dispatch import parse_report_bytes
from todoke.dmarc.parsing.errors import FileError, ParseOutcome
from todoke.dmarc.parsing.limits import DEFAULT_LIMITS, ParseLimits
from todoke.dmarc.report_types import ParsedReport

__all__ = [
    "DEFAULT_LIMITS",
    "FileError",
    "ParseLimits",
    "ParseOutcome",
    "ParsedReport",
    "parse_report_bytes",
]
