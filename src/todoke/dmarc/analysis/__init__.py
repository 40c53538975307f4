"""DMARC analysis as pure logic: alignment, error patterns with ja/en advice, source
classification and policy readiness. No database, no DNS: the storage layer feeds it shapes
and roll-ups, the adapters render what it returns."""

from todoke.dmarc.analysis.advice import Advice, advise, describe_check, describe_shape
from todoke.dmarc.analysis.alignment import (
    AlignmentMode,
    IdentifierCheck,
    aligned,
    explain_shape,
    organizational_domain,
)
from todoke.dmarc.analysis.classify import (
    ALIGNED_PASS_SHARE,
    CLASSIFICATION_KINDS,
    Classification,
    ClassificationKind,
    classify_source,
)
from todoke.dmarc.analysis.patterns import PATTERN_IDS, PatternId, pattern_of
from todoke.dmarc.analysis.readiness import (
    Blocker,
    Readiness,
    Reason,
    RecordProposal,
    SourceSummary,
    Stage,
    assess_readiness,
    reason_text,
)

__all__ = [
    "ALIGNED_PASS_SHARE",
    "CLASSIFICATION_KINDS",
    "PATTERN_IDS",
    "Advice",
    "AlignmentMode",
    "Blocker",
    "Classification",
    "ClassificationKind",
    "IdentifierCheck",
    "PatternId",
    "Readiness",
    "Reason",
    "RecordProposal",
    "SourceSummary",
    "Stage",
    "advise",
    "aligned",
    "assess_readiness",
    "classify_source",
    "describe_check",
    "describe_shape",
    "explain_shape",
    "organizational_domain",
    "pattern_of",
    "reason_text",
]
