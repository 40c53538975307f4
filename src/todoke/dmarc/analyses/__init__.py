"""Per-domain source analyses over standard windows, computed ahead by the worker and read by
the sources table, the error patterns and the readiness (see docs/dmarc.md, "Stored
analyses")."""

from todoke.dmarc.analyses.changes import WindowChanges
from todoke.dmarc.analyses.compute import SourceView, aggregate, analyse, shapes_by_id
from todoke.dmarc.analyses.freshness import ANALYSIS_VERSION, StaleReason, Watermark
from todoke.dmarc.analyses.job import (
    WORKER_ACTOR,
    RefreshResult,
    refresh_domain,
    refresh_stale_analyses,
)
from todoke.dmarc.analyses.read import (
    ResultFilter,
    SourceFilter,
    find_analysis,
    matcher,
    stored_listed,
    stored_page,
    stored_ranks,
    stored_tallies,
)
from todoke.dmarc.analyses.rows import AnalysedSource, from_view, ip_key, network_keys
from todoke.dmarc.analyses.serve import compute_on_demand, current_answer, usable_analysis
from todoke.dmarc.analyses.store import (
    ComputedAnalysis,
    compute_analyses,
    listed_for_readiness,
    store_analysis,
)
from todoke.dmarc.analyses.tally import (
    AffectedSource,
    PatternTally,
    PatternView,
    advise_patterns,
    tally_patterns,
)
from todoke.dmarc.analyses.windows import (
    RECENT_DAYS,
    STANDARD_WINDOWS,
    Window,
    standard_days,
    standard_windows,
    window_ending,
)

__all__ = [
    "ANALYSIS_VERSION",
    "RECENT_DAYS",
    "STANDARD_WINDOWS",
    "WORKER_ACTOR",
    "AffectedSource",
    "AnalysedSource",
    "ComputedAnalysis",
    "PatternTally",
    "PatternView",
    "RefreshResult",
    "ResultFilter",
    "SourceFilter",
    "SourceView",
    "StaleReason",
    "Watermark",
    "Window",
    "WindowChanges",
    "advise_patterns",
    "aggregate",
    "analyse",
    "compute_analyses",
    "compute_on_demand",
    "current_answer",
    "find_analysis",
    "from_view",
    "ip_key",
    "listed_for_readiness",
    "matcher",
    "network_keys",
    "refresh_domain",
    "refresh_stale_analyses",
    "shapes_by_id",
    "standard_days",
    "standard_windows",
    "store_analysis",
    "stored_listed",
    "stored_page",
    "stored_ranks",
    "stored_tallies",
    "tally_patterns",
    "usable_analysis",
    "window_ending",
]
