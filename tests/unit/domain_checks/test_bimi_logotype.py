"""The RFC 3709 logotype reader and the DER underneath it, on built and hostile input."""

from __future__ import annotations

import base64
import contextlib
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.domain_checks.test_bimi_vmc import SVG, der, logotype_extension, oid
from todoke.domains.bimi.der import DerError, oid_text, read_all, read_one
from todoke.domains.bimi.logotype import (
    LogotypeError,
    data_uri,
    embedded_logo,
    gunzip_bounded,
    subject_images,
)


@pytest.mark.parametrize("explicit", [False, True], ids=["implicit", "explicit"])
def test_subject_logo_is_found_in_either_tagging(explicit: bool) -> None:
    (image,) = subject_images(logotype_extension(explicit=explicit))
    assert image.media_type == "image/svg+xml"
    assert [algorithm for algorithm, _ in image.hashes] == ["2.16.840.1.101.3.4.2.1"]
    assert image.uris == (data_uri(SVG),)


def test_embedded_logo_is_decompressed_and_its_hash_checked() -> None:
    (image,) = subject_images(logotype_extension())
    logo = embedded_logo(image)
    assert (logo.svg, logo.hash_matches, logo.algorithms) == (SVG, True, ("sha256",))
    assert logo.raw == gzip.compress(SVG, mtime=0)


def test_uncompressed_data_uri_is_read_as_is() -> None:
    uri = "data:image/svg+xml;base64," + base64.b64encode(SVG).decode()
    (image,) = subject_images(logotype_extension(uri=uri, hashed=SVG))
    assert embedded_logo(image).svg == SVG


@pytest.mark.parametrize("dotted", ["2.16.840.1.101.3.4.2.1", "1.3.6.1.5.5.7.1.12", "2.999.1"])
def test_oid_round_trip(dotted: str) -> None:
    assert oid_text(read_one(oid(dotted)).content) == dotted


def test_long_form_lengths_are_read() -> None:
    payload = b"x" * 300
    assert read_one(der(0x04, payload)).content == payload


@pytest.mark.parametrize(
    "data",
    [
        b"\x30",
        b"\x30\x05\x01",
        b"\x30\x80\x00\x00",
        b"\x1f\x01\x00",
        b"\x30\x85\x01\x01\x01\x01\x01",
    ],
    ids=["no-length", "short", "indefinite", "high-tag", "huge-length"],
)
def test_malformed_der_is_refused(data: bytes) -> None:
    with pytest.raises(DerError):
        read_all(data)


def test_gzip_output_is_bounded() -> None:
    with pytest.raises(LogotypeError, match="more than 1000 bytes"):
        gunzip_bounded(gzip.compress(b"a" * 5000), limit=1000)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_extension_bytes_give_a_logotype_error_at_worst(data: bytes) -> None:
    try:
        images = subject_images(data)
    except LogotypeError:
        return
    for image in images:
        with contextlib.suppress(LogotypeError):
            embedded_logo(image)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_arbitrary_der_gives_a_der_error_at_worst(data: bytes) -> None:
    try:
        items = read_all(data)
    except DerError:
        return
    assert sum(len(item.content) for item in items) <= len(data)
