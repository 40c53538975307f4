"""The stored form of a monthly digest and its calendar months, without a database: whatever a
digest holds reads back from its JSON exactly as it was written, and a month's period covers
what its digest reads."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from todoke.core.errors import InvalidInput
from todoke.dmarc.digest_data import (
    DIGEST_DATA,
    DigestData,
    ReadinessData,
    month_period,
    next_month,
    parse_month,
)
from todoke.dmarc.schemas import DayPoint, DomainSummary

counts = st.integers(min_value=0, max_value=10**12)
words = st.text(max_size=12)
policies = st.none() | st.dictionaries(
    words, st.none() | st.booleans() | st.integers() | words, max_size=4
)
day_points = st.builds(
    DayPoint, day=st.dates(), messages=counts, dmarc_pass=counts, dmarc_fail=counts,
    spf_aligned=counts, dkim_aligned=counts, quarantined=counts, rejected=counts,
)  # fmt: skip
summaries = st.builds(
    DomainSummary, domain=words, since=st.dates(), until=st.dates(), messages=counts,
    dmarc_pass=counts, dmarc_fail=counts,
    pass_rate=st.none() | st.floats(min_value=0, max_value=1),
    spf_aligned=counts, dkim_aligned=counts, quarantined=counts, rejected=counts,
    reports=counts, records=counts, published_policy=policies,
    days=st.lists(day_points, max_size=3),
)  # fmt: skip
# Everything else (the engine's dataclasses: sources, patterns, senders, shapes, literals) is
# drawn from the type hints, so a field added to them is covered without touching this test.
digests = st.builds(
    DigestData,
    summary=summaries,
    previous=summaries,
    readiness=st.builds(ReadinessData, policy=policies),
)


@settings(max_examples=60, deadline=None)
@given(digests)
def test_whatever_a_digest_holds_reads_back_from_its_json(data: DigestData) -> None:
    # The database hands the column back as parsed JSON (JSONB on PostgreSQL).
    stored = json.loads(json.dumps(DIGEST_DATA.dump_python(data, mode="json")))
    assert DIGEST_DATA.validate_python(stored) == data


@given(st.dates(min_value=date(1970, 1, 1)), st.integers(min_value=0, max_value=400))
def test_a_months_period_covers_what_its_digest_reads(month: date, later: int) -> None:
    first = month.replace(day=1)
    today = first + timedelta(days=later)
    period = month_period(month, today)
    assert period.month == first
    assert first <= period.until < next_month(first)
    assert period.until == min(today, next_month(first) - timedelta(days=1))
    assert period.running(today) == (today < next_month(first))
    assert period.previous_until == first - timedelta(days=1)
    assert period.previous_since.day == 1
    assert (period.until - period.readiness_since).days == 29
    assert period.first_day <= min(period.previous_since, period.readiness_since)


def test_on_the_first_of_march_readiness_reaches_back_past_february() -> None:
    period = month_period(date(2026, 3, 1), date(2026, 3, 1))
    assert period.previous_since == date(2026, 2, 1)
    assert period.first_day == date(2026, 1, 31)


def test_a_month_not_begun_and_a_month_that_is_no_month_are_refused() -> None:
    with pytest.raises(InvalidInput, match="has not begun"):
        month_period(date(2026, 12, 1), date(2026, 11, 30))
    with pytest.raises(InvalidInput, match="not a month written YYYY-MM"):
        parse_month("2026-13")
    assert parse_month(" 2026-02 ") == date(2026, 2, 1)
