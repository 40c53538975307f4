"""BIMI logos: SVG Tiny PS validation on the shared samples and hand-made cases, safe parsing,
and the allow-list sanitiser for display."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from todoke.domains.bimi import sanitised_svg, validate_svg
from todoke.domains.bimi.sanitise import ATTRIBUTES, ELEMENTS
from todoke.domains.bimi.svg import SVG_NS

BIMI_DATA = Path(__file__).resolve().parents[4] / "shared" / "testdata" / "bimi"
SAMPLES = BIMI_DATA / "samples"
PACKAGE_DATA = Path(__file__).resolve().parents[3] / "src" / "todoke" / "domains" / "bimi" / "data"

HEAD = (
    '<svg version="1.2" baseProfile="tiny-ps" xmlns="http://www.w3.org/2000/svg" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 100">'
)


def logo(body: str, head: str = HEAD) -> bytes:
    return f"{head}<title>Brand</title>{body}</svg>".encode()


@pytest.mark.parametrize(
    ("sample", "labels"),
    [
        ("valid-minimal.svg", []),
        ("valid-FM-good.svg", []),
        ("invalid-animate.svg", ["<animate>"]),
        ("invalid-baseprofile-tiny.svg", ["baseProfile", "version"]),
        ("invalid-no-title.svg", ["<title>"]),
        ("invalid-raster-image.svg", ["<image>"]),
        ("invalid-root-xy.svg", ["x/y"]),
        ("invalid-script.svg", ["<script>"]),
        ("invalid-style-attr-no-version.svg", ["version", "style="]),
    ],
)
def test_every_sample_is_judged_right_and_named(sample: str, labels: list[str]) -> None:
    report = validate_svg((SAMPLES / sample).read_bytes())
    assert report.valid == (not labels)
    own = [problem.label for problem in report.errors if problem.label != "SVG Tiny PS"]
    assert own == labels
    # The schema agrees with the named problems: invalid samples also fail RelaxNG.
    assert any(p.label == "SVG Tiny PS" for p in report.errors) == bool(labels)


def test_packaged_schema_is_the_shared_one() -> None:
    shipped = (PACKAGE_DATA / "SVG_PS-latest.rng").read_bytes()
    assert shipped == (BIMI_DATA / "SVG_PS-latest.from-rnc.rng").read_bytes()


def test_valid_logo_reports_title_size_and_dimensions() -> None:
    data = (SAMPLES / "valid-FM-good.svg").read_bytes()
    report = validate_svg(data)
    assert (report.title, report.size, report.dimensions) == (
        "FM-Icon-RGB",
        len(data),
        (1024, 1024),
    )
    assert report.warnings == ()


@pytest.mark.parametrize(
    ("body", "label"),
    [
        ('<rect width="1" height="1" onclick="alert(1)"/>', "onclick="),
        ('<use xlink:href="https://evil.test/x.svg#a"/>', "href"),
        ('<rect width="1" height="1" fill="url(https://evil.test/p)"/>', "url()"),
        ("<style>rect { fill: red }</style>", "<style>"),
        ('<foreignObject width="1" height="1"/>', "<foreignObject>"),
        ('<set attributeName="fill" to="red"/>', "<set>"),
    ],
)
def test_problems_the_profile_forbids_are_named(body: str, label: str) -> None:
    report = validate_svg(logo(body))
    assert not report.valid
    assert label in [problem.label for problem in report.errors]


def test_reference_inside_the_file_is_allowed() -> None:
    body = (
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#000"/></linearGradient>'
        '</defs><rect width="100" height="100" fill="url(#g)"/>'
    )
    assert validate_svg(logo(body)).valid


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (b"not xml at all", "XML"),
        (b'<html xmlns="http://www.w3.org/1999/xhtml"/>', "<svg>"),
        (b"\x1f\x8b garbage", "gzip"),
        (logo("").replace(b"<title>Brand</title>", b"<title>  </title>"), "<title>"),
    ],
)
def test_unreadable_logos_say_why(data: bytes, label: str) -> None:
    report = validate_svg(data)
    assert [problem.label for problem in report.errors][:1] == [label]


def test_entities_are_neither_expanded_nor_accepted() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        + logo("<desc>&c;</desc>")
    )
    report = validate_svg(laughs)
    assert [problem.label for problem in report.errors] == ["XML"]
    assert "entities" in report.errors[0].detail


def test_external_entity_is_never_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file://{secret}">]>'.encode()
        + logo("<desc>&x;</desc>")
    )
    report = validate_svg(xxe)
    assert not report.valid
    assert b"TOP-SECRET" not in report.svg
    assert sanitised_svg(xxe) is None


def test_gzipped_svgz_is_checked_after_decompression() -> None:
    data = (SAMPLES / "valid-minimal.svg").read_bytes()
    report = validate_svg(gzip.compress(data))
    assert report.valid
    assert report.svg == data


def test_gzip_bomb_is_refused_without_inflating_it() -> None:
    bomb = gzip.compress(b"<" + b" " * (20 * 1024 * 1024))
    report = validate_svg(bomb)
    assert [problem.label for problem in report.errors] == ["gzip"]
    assert report.svg == b""


def test_large_logo_is_a_warning_not_an_error() -> None:
    padding = "".join(f'<rect x="{n}" width="1" height="1" fill="#000"/>' for n in range(900))
    report = validate_svg(logo(padding))
    assert report.valid
    assert [warning.label for warning in report.warnings] == ["size"]


@pytest.mark.parametrize(
    ("head", "warned"),
    [
        (HEAD.replace('viewBox="0 0 100 100"', 'viewBox="0,0,200,100"'), True),
        (HEAD.replace('viewBox="0 0 100 100"', 'width="64" height="64"'), False),
        (HEAD.replace(' viewBox="0 0 100 100"', ""), True),
    ],
    ids=["wide-viewbox", "square-width-height", "no-size-at-all"],
)
def test_logo_that_is_not_shown_square_is_a_warning(head: str, warned: bool) -> None:
    report = validate_svg(logo('<rect width="1" height="1"/>', head))
    assert report.valid
    assert [warning.label for warning in report.warnings] == (["square"] if warned else [])


# --- the sanitiser -------------------------------------------------------------------------


def test_sanitised_valid_logo_keeps_the_drawing() -> None:
    data = (SAMPLES / "valid-FM-good.svg").read_bytes()
    cleaned = sanitised_svg(data)
    assert cleaned is not None
    assert validate_svg(cleaned).valid
    original, result = etree.fromstring(data), etree.fromstring(cleaned)
    assert [e.tag for e in result.iter()] == [e.tag for e in original.iter()]
    assert result.findall(f".//{{{SVG_NS}}}path")[0].get("d") == original.findall(
        f".//{{{SVG_NS}}}path"
    )[0].get("d")


@pytest.mark.parametrize("sample", sorted(path.name for path in SAMPLES.glob("invalid-*.svg")))
def test_invalid_logos_are_not_shown(sample: str) -> None:
    assert sanitised_svg((SAMPLES / sample).read_bytes()) is None


def test_sanitiser_drops_what_tiny_ps_allows_but_pages_do_not_need() -> None:
    body = (
        "<!-- made with an editor --><?editor data?>"
        "<metadata/>"
        '<g id="mark" about="x" property="y"><rect width="100" height="100" fill="#123456"/></g>'
    )
    cleaned = sanitised_svg(logo(body))
    assert cleaned is not None
    for dropped in (b"metadata", b"editor", b"about=", b"property="):
        assert dropped not in cleaned
    assert b'<g id="mark"><rect width="100" height="100" fill="#123456"/></g>' in cleaned


# Mostly what Tiny PS allows (so the sanitiser runs), some of what it must never let through.
ALLOWED_NAMES = ["g", "rect", "circle", "path", "desc", "defs", "linearGradient", "text"]
ELEMENT_NAMES = ALLOWED_NAMES * 3 + ["script", "image", "style", "a", "foreignObject", "animate"]
ATTRIBUTE_NAMES = ["fill", "stroke", "id", "transform", "fill", "onload", "style", "href", "class"]
_values = st.sampled_from(["0", "#fff", "url(#g)", "url(https://e.test/)", "javascript:1", "#g"])


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    """SVG-ish documents mixing allowed and forbidden elements and attributes."""
    children = ""
    if depth < 3:
        children = "".join(draw(st.lists(documents(depth + 1), max_size=3)))
    if depth == 0:
        return logo(children).decode()
    name = draw(st.sampled_from(ELEMENT_NAMES))
    attributes = draw(st.dictionaries(st.sampled_from(ATTRIBUTE_NAMES), _values, max_size=3))
    text = " ".join(f'{key}="{value}"' for key, value in attributes.items())
    return f"<{name} {text}>{children}</{name}>"


@settings(max_examples=200, deadline=None)
@given(documents())
def test_sanitised_output_holds_only_allowed_elements_and_attributes(document: str) -> None:
    cleaned = sanitised_svg(document.encode())
    if cleaned is None:
        assert not validate_svg(document.encode()).valid
        return
    root = etree.fromstring(cleaned)
    for element in root.iter():
        qname = etree.QName(element)
        assert (qname.namespace, qname.localname in ELEMENTS) == (SVG_NS, True)
        for attribute, value in element.attrib.items():
            local = etree.QName(attribute).localname
            assert local in ATTRIBUTES or (local == "href" and value.startswith("#"))
            assert "url(" not in value or value == "url(#g)"
    assert validate_svg(cleaned).valid


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_the_validator(data: bytes) -> None:
    report = validate_svg(data)
    assert report.valid is False
