"""A BIMI logo rebuilt from an allow-list, for pages that show it under a strict CSP.

Validation says whether a logo is SVG Tiny PS; this goes further for display: the document is
rebuilt element by element, keeping only static drawing elements and presentation attributes,
so nothing that could run, load or restyle (scripts, event handlers, style sheets, references to
other files, foreign namespaces, comments, processing instructions) survives, whatever a future
validator bug might let through. A logo that is not valid is not shown at all.
"""

from __future__ import annotations

import re
from typing import Final

from lxml import etree

from todoke.domains.bimi.svg import SVG_NS, XLINK_NS, parse_svg, validate_svg

ELEMENTS: Final = frozenset(
    {
        "svg", "g", "defs", "title", "desc", "path", "rect", "circle", "ellipse", "line",
        "polyline", "polygon", "linearGradient", "radialGradient", "stop", "solidColor",
        "text", "tspan", "textArea", "tbreak", "use",
    }
)  # fmt: skip
TEXT_ELEMENTS: Final = frozenset({"title", "desc", "text", "tspan", "textArea"})
ATTRIBUTES: Final = frozenset(
    {
        "id", "version", "baseProfile", "viewBox", "preserveAspectRatio", "width", "height",
        "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "d",
        "points", "transform", "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width",
        "stroke-opacity", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
        "stroke-dasharray", "stroke-dashoffset", "opacity", "color", "color-rendering",
        "shape-rendering", "text-rendering", "vector-effect", "display", "visibility",
        "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform",
        "spreadMethod", "solid-color", "solid-opacity", "font-family", "font-size",
        "font-style", "font-weight", "font-variant", "text-anchor", "display-align",
        "line-increment", "direction", "unicode-bidi",
    }
)  # fmt: skip
XML_ATTRIBUTES: Final = frozenset({"space", "lang"})
_XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
_LOCAL_URL = re.compile(r"url\(\s*#[A-Za-z_][\w.\-]*\s*\)\Z")
_LOCAL_HREF = re.compile(r"#[A-Za-z_][\w.\-]*\Z")
_MAX_DEPTH: Final = 64


def sanitised_svg(svg_bytes: bytes) -> bytes | None:
    """The logo reduced to the allow-list, as UTF-8 SVG; None when it is not a valid BIMI logo."""
    report = validate_svg(svg_bytes)
    if not report.valid:
        return None
    source = parse_svg(report.svg)
    root = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS, "xlink": XLINK_NS})
    _copy_attributes(source, root, is_root=True)
    _copy_children(source, root, "svg", 0)
    return etree.tostring(root, encoding="utf-8", xml_declaration=False)


def _copy_children(source: etree._Element, target: etree._Element, name: str, depth: int) -> None:
    if name in TEXT_ELEMENTS:
        target.text = source.text
    if depth > _MAX_DEPTH:
        return
    for child in source.iterchildren(etree.Element):
        qname = etree.QName(child)
        if qname.namespace != SVG_NS or qname.localname not in ELEMENTS:
            continue
        copy = etree.SubElement(target, f"{{{SVG_NS}}}{qname.localname}")
        _copy_attributes(child, copy, is_root=False)
        _copy_children(child, copy, qname.localname, depth + 1)
        if name in TEXT_ELEMENTS:
            copy.tail = child.tail


def _copy_attributes(source: etree._Element, target: etree._Element, *, is_root: bool) -> None:
    for attribute, value in source.attrib.items():
        qname = etree.QName(attribute)
        if qname.namespace is None and qname.localname in ATTRIBUTES:
            if is_root and qname.localname in ("x", "y"):
                continue
            if "url(" in value.lower() and not _LOCAL_URL.match(value.strip()):
                continue
            target.set(qname.localname, value)
        elif qname.namespace == _XML_NS and qname.localname in XML_ATTRIBUTES:
            target.set(attribute, value)
        elif (
            qname.localname == "href"
            and qname.namespace in (None, XLINK_NS)
            # Only a reference to an element of this same document (<use href="#mark">).
            and _LOCAL_HREF.match(value.strip())
        ):
            target.set(f"{{{XLINK_NS}}}href" if qname.namespace else "href", value.strip())
