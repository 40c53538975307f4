"""Every hostile or broken input is refused with its own code, naming the file, quickly and
in bounded memory; nothing raises."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable

import pytest

from tests.unit.dmarc_parsing import hostile
from tests.unit.dmarc_parsing.reports import aggregate_xml, report_email
from todoke.dmarc.parsing import FileError, ParseLimits, parse_report_bytes

_MB = 10**6
SMALL_CAP = ParseLimits(max_decompressed_bytes=10 * _MB)


def only_error(data: bytes, name: str = "input.bin", limits: ParseLimits = SMALL_CAP) -> FileError:
    outcome = parse_report_bytes(data, name=name, limits=limits)
    assert outcome.reports == []
    assert len(outcome.errors) == 1, outcome.errors
    return outcome.errors[0]


@pytest.mark.parametrize(
    ("builder", "code"),
    [
        (hostile.entity_bomb, "xml.doctype_refused"),
        (hostile.entity_bomb_in_attribute, "xml.doctype_refused"),
        (lambda: hostile.xxe("file:///etc/passwd"), "xml.doctype_refused"),
        (lambda: hostile.xxe("http://127.0.0.1:9/"), "xml.doctype_refused"),
        (hostile.external_dtd, "xml.doctype_refused"),
        (hostile.doctype_after_comment, "xml.doctype_refused"),
        (hostile.doctype_utf16, "xml.doctype_refused"),
        (hostile.truncated_xml, "xml.truncated"),
        (hostile.invalid_utf8, "encoding.invalid"),
        (hostile.wrong_declared_encoding, "encoding.invalid"),
        (hostile.unknown_declared_encoding, "encoding.invalid"),
        (hostile.wrong_root_html, "xml.wrong_root"),
        (hostile.wrong_root_foo, "xml.wrong_root"),
        (hostile.binary_junk, "input.unknown_format"),
        (hostile.empty, "input.empty"),
        (hostile.whitespace_only, "input.empty"),
        (hostile.json_not_tls, "tls.not_a_report"),
        (hostile.json_malformed, "tls.invalid_json"),
        (hostile.json_deeply_nested, "tls.invalid_json"),
        (hostile.truncated_gzip, "gzip.truncated"),
        (hostile.corrupt_gzip, "gzip.bad_archive"),
        (hostile.corrupt_zip, "zip.bad_archive"),
        (hostile.email_without_report, "email.no_report"),
        (hostile.email_deeply_nested, "email.too_deep"),
        (lambda: hostile.zip_with_too_many_members(1001), "zip.too_many_members"),
        (lambda: hostile.nested_zips(4), "input.too_deep"),
        (lambda: hostile.nested_gzips(4), "input.too_deep"),
    ],
)
def test_hostile_input_is_refused_with_its_code(builder: Callable[[], bytes], code: str) -> None:
    error = only_error(builder(), name="hostile-input")
    assert error.code == code, error
    assert error.file.startswith("hostile-input")
    assert error.message.endswith(".")


def test_entity_bomb_message_names_the_doctype() -> None:
    assert "DOCTYPE" in only_error(hostile.entity_bomb()).message


def test_xxe_content_never_reaches_a_report() -> None:
    outcome = parse_report_bytes(hostile.xxe("file:///etc/passwd"), name="x.xml")
    assert "root:" not in repr(outcome)


def test_wrong_root_message_names_the_element() -> None:
    assert "<html>" in only_error(hostile.wrong_root_html()).message


def test_nesting_up_to_the_limit_is_read() -> None:
    outcome = parse_report_bytes(hostile.nested_zips(3), name="n.zip")
    assert (len(outcome.reports), outcome.errors) == (1, [])


def test_member_with_a_lying_size_is_refused_as_corrupt() -> None:
    error = only_error(hostile.zip_bomb_lying(64 * 2**20), name="lie.zip")
    assert (error.file, error.code) == ("lie.zip!report.xml", "zip.bad_member")


def test_members_that_together_exceed_the_cap_are_refused() -> None:
    outcome = parse_report_bytes(
        hostile.zip_of_many_megabytes(20), name="many.zip", limits=SMALL_CAP
    )
    # The members read before the cap are judged on their own (zeros: unknown format); the
    # archive is then refused as a whole and the remaining members are never inflated.
    last = outcome.errors[-1]
    assert (last.file, last.code) == ("many.zip", "zip.too_large")
    assert len(outcome.errors) <= 11


def test_input_over_the_size_limit_is_refused_unread() -> None:
    error = only_error(aggregate_xml(), limits=ParseLimits(max_input_bytes=100))
    assert error.code == "input.too_large"


def _refused_fast_and_small(data: bytes, name: str) -> FileError:
    # Timed and measured in separate runs: tracemalloc slows allocation-heavy code (the email
    # parser) several-fold, which would make the timing meaningless.
    started = time.perf_counter()
    error = only_error(data, name=name)
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    try:
        assert only_error(data, name=name) == error
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5, f"took {elapsed:.2f} s"
    assert peak < 50 * _MB, f"peak {peak / _MB:.1f} MB"
    return error


def test_gzip_bomb_is_refused_fast_in_bounded_memory() -> None:
    bomb = hostile.gzip_bomb()
    error = _refused_fast_and_small(bomb, "bomb.xml.gz")
    assert (error.file, error.code) == ("bomb.xml.gz", "gzip.too_large")
    assert "10000000" in error.message


def test_zip_bomb_is_refused_fast_in_bounded_memory() -> None:
    error = _refused_fast_and_small(hostile.zip_bomb(), "bomb.zip")
    assert (error.file, error.code) == ("bomb.zip", "zip.too_large")


def test_gzip_bomb_in_an_email_is_refused_fast_in_bounded_memory() -> None:
    mail = report_email([(hostile.gzip_bomb(), "application/gzip", "bomb.xml.gz")])
    error = _refused_fast_and_small(mail, "bomb.eml")
    assert (error.file, error.code) == ("bomb.eml!part-2.gz", "gzip.too_large")
