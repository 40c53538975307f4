"""The standard windows a domain's sources are analysed over, ahead of time.

A window is the last 14, 30 or 90 days *up to and including today* (UTC): the same ranges the
pages, API and CLI ask for by default (sources and patterns: 30 days; readiness: 30 days with
the last 14 split out; the long view: 90 days), so the defaults are always answered from the
stored analysis. Today is included although its reports are still arriving, because that is
what the live answer has always counted; the worker recomputes as reports land.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

STANDARD_WINDOWS: Final[tuple[int, ...]] = (14, 30, 90)
#: the split readiness judges separately (`posture.RECENT_WINDOW_DAYS`)
RECENT_DAYS: Final = 14


@dataclass(frozen=True, slots=True)
class Window:
    days: int
    since: date
    until: date
    #: first day of the last RECENT_DAYS days of the window (the window itself when shorter)
    recent_since: date


def window_ending(days: int, until: date) -> Window:
    since = until - timedelta(days=days - 1)
    recent = max(since, until - timedelta(days=RECENT_DAYS - 1))
    return Window(days, since, until, recent)


def standard_windows(today: date) -> list[Window]:
    return [window_ending(days, today) for days in STANDARD_WINDOWS]


def standard_days(since: date, until: date, today: date) -> int | None:
    """The standard window [since, until] is, or None when it is a range of its own."""
    days = (until - since).days + 1
    return days if until == today and days in STANDARD_WINDOWS else None
