"""XML parsing that cannot be turned against us.

A DOCTYPE has no business in a DMARC report (RFC 7489 Appendix C and RFC 9990 define no DTD),
and it is the carrier of every XML attack we care about: entity expansion bombs ("billion
laughs") and external entities (XXE reading file:///etc/passwd or probing http://127.0.0.1).
So a document with a DOCTYPE is refused outright, before the parser sees it, and the parser is
configured to never resolve entities, load DTDs or touch the network in case the scan misses.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from io import BytesIO
from typing import Literal

from lxml import etree

from todoke.dmarc.parsing.errors import ParseRefused
from todoke.i18n import N_

_Event = Literal["start", "end"]
#: a prolog (declaration, comments, processing instructions) longer than this is not a report
_PROLOG_WINDOW = 64 * 1024
_DECLARED_ENCODING = re.compile(r"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_ENCODING_ERRORS = frozenset(
    {
        etree.ErrorTypes.ERR_INVALID_ENCODING,
        etree.ErrorTypes.ERR_UNSUPPORTED_ENCODING,
        etree.ErrorTypes.ERR_UNKNOWN_ENCODING,
    }
)
_TRUNCATION_ERRORS = frozenset(
    {
        etree.ErrorTypes.ERR_TAG_NOT_FINISHED,
        etree.ErrorTypes.ERR_DOCUMENT_END,
        etree.ErrorTypes.ERR_DOCUMENT_EMPTY,
        etree.ErrorTypes.ERR_LTSLASH_REQUIRED,
        etree.ErrorTypes.ERR_GT_REQUIRED,
    }
)


def _prolog_text(data: bytes) -> tuple[str, bool]:
    """The start of the document as text, and whether it is in a 16-bit encoding."""
    head = data[: _PROLOG_WINDOW * 2]
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:].decode("latin-1"), False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace"), True
    if head.startswith(b"<\x00"):
        return head.decode("utf-16-le", errors="replace"), True
    if head.startswith(b"\x00<"):
        return head.decode("utf-16-be", errors="replace"), True
    # latin-1 maps bytes 1:1, so markup in any ASCII-compatible encoding keeps its offsets
    return head.decode("latin-1"), False


def check_prolog(data: bytes) -> None:
    """Refuse a DOCTYPE, and a declared encoding the bytes plainly contradict."""
    text, wide = _prolog_text(data)
    declared = _DECLARED_ENCODING.match(text.lstrip())
    if declared and not wide and declared.group(1).lower().startswith(("utf-16", "utf-32", "ucs")):
        raise ParseRefused(
            "encoding.invalid",
            N_("The XML declares encoding %(encoding)r but its bytes are not in that encoding."),
            encoding=declared.group(1),
        )
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n\ufeff":
            position += 1
        if position >= _PROLOG_WINDOW:
            raise ParseRefused(
                "xml.malformed",
                N_("The XML prolog (before the root element) is longer than %(count)s characters."),
                count=_PROLOG_WINDOW,
            )
        if text.startswith("<?", position):
            end = text.find("?>", position + 2)
        elif text.startswith("<!--", position):
            end = text.find("-->", position + 4)
        elif text[position : position + 9].upper() == "<!DOCTYPE":
            raise ParseRefused(
                "xml.doctype_refused",
                N_(
                    "The XML contains a DOCTYPE declaration, which DMARC reports never need and "
                    "which can carry entity bombs or external entities; it was not parsed."
                ),
            )
        else:
            return
        if end < 0:
            return  # unterminated: the parser reports it with a line number
        position = end + 2


def syntax_error(error: etree.XMLSyntaxError) -> ParseRefused:
    line = error.lineno or 1
    detail = (error.msg or "syntax error").split(", line ")[0].strip()
    if error.code in _ENCODING_ERRORS:
        return ParseRefused(
            "encoding.invalid",
            N_("The XML is not valid in its declared encoding near line %(line)s: %(reason)s."),
            line=line,
            reason=detail,
        )
    if error.code in _TRUNCATION_ERRORS or "Premature end" in detail:
        return ParseRefused(
            "xml.truncated",
            N_("The XML ends early (truncated?) at line %(line)s: %(reason)s."),
            line=line,
            reason=detail,
        )
    return ParseRefused(
        "xml.malformed",
        N_("The XML is not well-formed at line %(line)s: %(reason)s."),
        line=line,
        reason=detail,
    )


def _iterparse(
    data: bytes, events: tuple[_Event, ...], tag: tuple[str, ...] | None
) -> Iterator[tuple[str, etree._Element]]:
    context = etree.iterparse(
        BytesIO(data),
        events=events,
        tag=tag,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        yield from context
    except etree.XMLSyntaxError as error:
        raise syntax_error(error) from None
    except (LookupError, ValueError) as error:  # unknown codec names surface as these
        raise ParseRefused(
            "encoding.invalid",
            N_("The XML encoding cannot be decoded: %(reason)s."),
            reason=str(error),
        ) from None


#: Largest document read as one tree. A tree costs about eleven times its source in memory
#: (measured with lxml 6.1 / libxml2 2.14: 4.9 MB for an indented 0.43 MiB report), so this
#: caps it near 45 MB; above it the document is streamed and each record freed once read.
TREE_LIMIT = 4 * 2**20
# lxml parsers keep per-parse state and must not be shared between threads.
_local = threading.local()


def _tree_parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        # the same options as the stream in _iterparse, so both read a document alike
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        _local.parser = parser
    return parser


def parse_tree(data: bytes) -> etree._Element | None:
    """The document as one tree when it is small and well-formed, else None.

    One parse into a tree is several times faster than an event stream, but a stream stops at
    the first problem, so the order in which problems are reported (a wrong root or a DOCTYPE
    before a syntax error further on) is the stream's. None tells the caller to stream: for a
    document over TREE_LIMIT, and for any document the tree parser refuses, so every error is
    reported exactly as the stream reports it. Entities are never expanded here either.
    """
    if len(data) > TREE_LIMIT:
        return None
    check_prolog(data)
    try:
        root = etree.fromstring(data, _tree_parser())
    except (etree.XMLSyntaxError, LookupError, ValueError):
        return None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        raise ParseRefused("xml.doctype_refused", N_("The XML contains a DOCTYPE declaration."))
    return root


def split_tag(tag: object) -> tuple[str, str | None]:
    """(local name, namespace) of an element tag."""
    # etree.QName would raise on names libxml2 tolerates ("feedbac:"), so split by hand
    name = tag if isinstance(tag, str) else ""
    if name.startswith("{"):
        namespace, _, local_name = name[1:].partition("}")
        return local_name, namespace
    return name, None


def root_name(data: bytes) -> tuple[str, str | None]:
    """Local name and namespace of the root element, reading only the start of the data."""
    check_prolog(data)
    for _event, element in _iterparse(data, ("start",), None):
        tree = element.getroottree()
        if tree.docinfo.internalDTD is not None or tree.docinfo.doctype:
            raise ParseRefused("xml.doctype_refused", N_("The XML contains a DOCTYPE declaration."))
        return split_tag(element.tag)
    raise ParseRefused("xml.malformed", N_("The XML has no root element."))


def iter_ends(data: bytes, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    """End events for the given tags (``{*}name`` matches any namespace)."""
    for _event, element in _iterparse(data, ("end",), tags):
        yield element
