"""parse_report_bytes never raises: arbitrary bytes, and valid reports truncated or corrupted."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.dmarc_parsing.reports import (
    aggregate_xml,
    gzipped,
    record_xml,
    report_email,
    tls_json,
    zipped,
)
from todoke.dmarc.parsing import ParseLimits, ParseOutcome, parse_report_bytes

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "dmarc"
LIMITS = ParseLimits(max_decompressed_bytes=2 * 2**20)
FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

_REPORT = aggregate_xml(records=[record_xml(), record_xml(source_ip="2001:db8::1", count="4")])
SEEDS = [
    _REPORT,
    gzipped(_REPORT),
    zipped({"a.xml": _REPORT, "b.json": tls_json()}),
    report_email([(gzipped(_REPORT), "application/gzip", "r.xml.gz")]),
    tls_json(),
    (SAMPLES / "dmarc_ruf_report_linkedin.eml").read_bytes(),
    (SAMPLES / "rfc9990-sample.xml").read_bytes(),
]


def _check(outcome: ParseOutcome) -> None:
    assert isinstance(outcome, ParseOutcome)
    for error in outcome.errors:
        assert error.code
        assert error.file.startswith("fuzz")


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    _check(parse_report_bytes(data, name="fuzz", limits=LIMITS))


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    cut=st.floats(min_value=0, max_value=1),
    flips=st.lists(st.tuples(st.floats(min_value=0, max_value=1), st.integers(0, 255)), max_size=4),
)
def test_mutated_reports_never_raise(
    seed: bytes, cut: float, flips: list[tuple[float, int]]
) -> None:
    data = bytearray(seed[: max(1, int(len(seed) * cut))] if cut < 0.5 else seed)
    for where, value in flips:
        data[min(len(data) - 1, int(len(data) * where))] = value
    _check(parse_report_bytes(bytes(data), name="fuzz", limits=LIMITS))


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_field_text_never_raises(text: str) -> None:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;")
    data = aggregate_xml(
        records=[record_xml(source_ip=escaped, count=escaped, header_from=escaped)]
    )
    _check(parse_report_bytes(data, name="fuzz", limits=LIMITS))
