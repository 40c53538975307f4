"""BIMI: assertion records, SVG Tiny PS logos, and VMC/CMC mark certificates. Pure, no I/O."""

from todoke.domains.bimi.chain import bundled_roots
from todoke.domains.bimi.record import (
    BimiRecord,
    BimiRecordError,
    is_bimi_record,
    parse_bimi_record,
)
from todoke.domains.bimi.sanitise import sanitised_svg
from todoke.domains.bimi.svg import RECOMMENDED_MAX_BYTES, SvgProblem, SvgReport, validate_svg
from todoke.domains.bimi.vmc import (
    MarkCertificateReport,
    MarkProblem,
    check_mark_certificate,
)

__all__ = [
    "RECOMMENDED_MAX_BYTES",
    "BimiRecord",
    "BimiRecordError",
    "MarkCertificateReport",
    "MarkProblem",
    "SvgProblem",
    "SvgReport",
    "bundled_roots",
    "check_mark_certificate",
    "is_bimi_record",
    "parse_bimi_record",
    "sanitised_svg",
    "validate_svg",
]
