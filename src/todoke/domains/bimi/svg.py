"""BIMI logos checked against SVG Tiny Portable/Secure (the BIMI Group's profile).

The RelaxNG schema decides what is allowed; the checks here name the usual mistakes in words a
person can act on (a script, a raster image, animation, a reference to another file, the wrong
baseProfile, x/y on the root, no title) and add what a schema cannot say: the 32 KB size
recommendation and the square aspect mailbox providers crop to. Parsing is safe by construction:
no entity expansion, no DTD or network access, no huge trees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from lxml import etree

from todoke.domains.bimi.logotype import LogotypeError, gunzip_bounded

SVG_NS: Final = "http://www.w3.org/2000/svg"
XLINK_NS: Final = "http://www.w3.org/1999/xlink"
#: the BIMI Group recommends logos of at most 32 KB
RECOMMENDED_MAX_BYTES: Final = 32 * 1024
ANIMATION: Final = frozenset(
    {"animate", "animateMotion", "animateColor", "animateTransform", "set"}
)
RASTER: Final = frozenset({"image", "foreignObject", "video", "audio", "iframe", "canvas"})
_URL_REFERENCE = re.compile(r"url\(\s*['\"]?\s*(?P<target>[^)'\"\s]*)", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_SCHEMA_MESSAGES: Final = 5


@dataclass(frozen=True, slots=True)
class SvgProblem:
    #: a short, language-neutral name of what is wrong: "<script>", "baseProfile", "x/y"
    label: str
    #: the detail in English, for the evidence
    detail: str


@dataclass(frozen=True, slots=True)
class SvgReport:
    errors: tuple[SvgProblem, ...]
    warnings: tuple[SvgProblem, ...]
    #: bytes as fetched (compressed size for .svgz)
    size: int
    #: the SVG document itself (decompressed); empty when it could not be read
    svg: bytes = b""
    title: str | None = None
    #: (width, height) from the viewBox, else the width/height attributes
    dimensions: tuple[float, float] | None = None

    @property
    def valid(self) -> bool:
        return not self.errors


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
    )


@cache
def _schema() -> etree.RelaxNG:
    source = resources.files("todoke.domains.bimi").joinpath("data/SVG_PS-latest.rng")
    return etree.RelaxNG(etree.fromstring(source.read_bytes(), _parser()))


def parse_svg(svg: bytes) -> etree._Element:
    """The document element, parsed safely; raises etree.XMLSyntaxError or ValueError."""
    root = etree.fromstring(svg, _parser())
    tree = root.getroottree()
    doctype = tree.docinfo.internalDTD
    if doctype is not None and any(True for _ in doctype.iterentities()):
        raise ValueError("the document declares entities (<!ENTITY>), which are not allowed")
    return root


def validate_svg(data: bytes) -> SvgReport:
    """Check a logo as fetched (SVG, or gzipped SVGZ) against SVG Tiny PS."""
    try:
        svg = gunzip_bounded(data) if data[:2] == b"\x1f\x8b" else data
    except LogotypeError as error:
        return SvgReport((SvgProblem("gzip", str(error)),), (), len(data))
    try:
        root = parse_svg(svg)
    except (etree.XMLSyntaxError, ValueError) as error:
        return SvgReport((SvgProblem("XML", f"not well-formed XML: {error}"),), (), len(data), svg)
    tag = etree.QName(root)
    if (tag.namespace, tag.localname) != (SVG_NS, "svg"):
        problem = SvgProblem("<svg>", f"the root element is {tag.text}, not an SVG <svg>")
        return SvgReport((problem,), (), len(data), svg)
    errors = _profile_errors(root)
    errors += _schema_errors(root)
    dimensions = _dimensions(root)
    return SvgReport(
        errors=tuple(errors),
        warnings=tuple(_warnings(len(data), dimensions)),
        size=len(data),
        svg=svg,
        title=_title(root),
        dimensions=dimensions,
    )


def _profile_errors(root: etree._Element) -> list[SvgProblem]:
    problems: list[SvgProblem] = []
    if root.get("baseProfile") != "tiny-ps":
        got = root.get("baseProfile")
        problems.append(SvgProblem("baseProfile", f'baseProfile is {got!r}, not "tiny-ps"'))
    if root.get("version") != "1.2":
        problems.append(SvgProblem("version", f'version is {root.get("version")!r}, not "1.2"'))
    if root.get("x") is not None or root.get("y") is not None:
        problems.append(SvgProblem("x/y", "the root <svg> has x or y attributes"))
    if _title(root) is None:
        problems.append(SvgProblem("<title>", "no <title> (with the brand name) under <svg>"))
    for element in root.iter(etree.Element):
        problems += _element_problems(element)
    return list(dict.fromkeys(problems))


def _element_problems(element: etree._Element) -> list[SvgProblem]:
    name = etree.QName(element).localname
    problems: list[SvgProblem] = []
    if name == "script":
        problems.append(SvgProblem("<script>", "a <script> element"))
    elif name in ANIMATION:
        problems.append(SvgProblem(f"<{name}>", f"animation (<{name}>)"))
    elif name in RASTER:
        problems.append(SvgProblem(f"<{name}>", f"embedded content (<{name}>)"))
    for attribute, value in element.attrib.items():
        local = etree.QName(attribute).localname
        if local.lower().startswith("on"):
            problems.append(SvgProblem(f"{local}=", f"an event handler ({local}) on <{name}>"))
        elif local == "href" and not _internal(name, value):
            problems.append(SvgProblem("href", f"a reference outside the file: {value[:80]!r}"))
        elif local == "style" and not attribute.startswith("{"):
            problems.append(SvgProblem("style=", f"a style attribute on <{name}>"))
        problems += _url_problems(name, value)
    if name == "style":
        problems.append(SvgProblem("<style>", "a <style> element (CSS is not part of Tiny PS)"))
    if name == "style" and element.text:
        problems += _url_problems(name, element.text)
        if "@import" in element.text:
            problems.append(SvgProblem("@import", "a style sheet importing another file"))
    return problems


def _internal(name: str, href: str) -> bool:
    # A data: URI inside <image> is already reported as a raster image, not as a reference.
    target = href.strip()
    return target.startswith("#") or (name in RASTER and target.lower().startswith("data:"))


def _url_problems(name: str, value: str) -> list[SvgProblem]:
    return [
        SvgProblem("url()", f"a reference outside the file in <{name}>: url({target[:80]})")
        for target in (match.group("target") for match in _URL_REFERENCE.finditer(value))
        if not target.startswith("#")
    ]


def _schema_errors(root: etree._Element) -> list[SvgProblem]:
    schema = _schema()
    if schema.validate(root.getroottree()):
        return []
    messages = list(dict.fromkeys(entry.message for entry in schema.error_log))
    return [SvgProblem("SVG Tiny PS", text) for text in messages[:_MAX_SCHEMA_MESSAGES]]


def _title(root: etree._Element) -> str | None:
    for child in root:
        if child.tag == f"{{{SVG_NS}}}title":
            text = "".join(child.itertext()).strip()
            return text or None
    return None


def _dimensions(root: etree._Element) -> tuple[float, float] | None:
    numbers = _NUMBER.findall(root.get("viewBox") or "")
    if len(numbers) == 4:
        return float(numbers[2]), float(numbers[3])
    width, height = _NUMBER.match(root.get("width") or ""), _NUMBER.match(root.get("height") or "")
    if width and height:
        return float(width.group()), float(height.group())
    return None


def _warnings(size: int, dimensions: tuple[float, float] | None) -> list[SvgProblem]:
    warnings: list[SvgProblem] = []
    if size > RECOMMENDED_MAX_BYTES:
        warnings.append(SvgProblem("size", f"{size} bytes, over the recommended 32 KB"))
    if dimensions is None:
        warnings.append(SvgProblem("square", "no viewBox or width/height to show it is square"))
    elif abs(dimensions[0] - dimensions[1]) > 1e-6 * max(dimensions):
        width, height = dimensions
        warnings.append(SvgProblem("square", f"the logo is {width:g}x{height:g}, not square"))
    return warnings
