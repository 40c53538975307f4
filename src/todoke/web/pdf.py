"""HTML to PDF with WeasyPrint, never reaching the network or the file system for resources."""

from __future__ import annotations

from typing import NoReturn

import weasyprint
from weasyprint.urls import URLFetcher


class RefuseAll(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
    """A URL fetcher that fetches nothing: the documents carry everything inline, and a URL
    that slipped into one (a stylesheet link, an image, a font) must not reach the network,
    the file system or a data: payload."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(), fail_on_errors=False)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: object = None) -> NoReturn:  # noqa: ARG002
        self.refused.append(url)
        raise ValueError(f"external resources are refused: {url[:80]}")


def html_to_pdf(html: str, fetcher: RefuseAll | None = None) -> bytes:
    """The PDF of a self-contained HTML document (fonts from the system's fontconfig)."""
    fetcher = fetcher or RefuseAll()
    document = weasyprint.HTML(string=html, url_fetcher=fetcher, base_url=None)
    pdf: bytes = document.write_pdf()
    return pdf
