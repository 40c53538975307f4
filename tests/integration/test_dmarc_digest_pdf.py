"""The monthly digest as a PDF (WeasyPrint): an A4 PDF with the Japanese text in an embedded
Noto CJK font, laid out without fetching anything; a page is saved as PNG for review."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ARTIFACTS, Tenant, login
from tests.integration.test_dmarc_analyses import DOMAIN, load_corpus
from tests.integration.test_dmarc_digest import last_month
from tests.integration.test_dmarc_pages import use_language
from todoke import i18n
from todoke.authz import CLI_ACTOR
from todoke.dmarc import insights
from todoke.runtime import Runtime
from todoke.web.pdf import RefuseAll, html_to_pdf

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils: make system-packages"
)


def poppler(tool: str, *args: str) -> str:
    done = subprocess.run([tool, *args], capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def pdf_ja(runtime: Runtime, tenant: Tenant, client: TestClient, tmp_path: Path) -> Path:
    load_corpus(runtime, tenant.org, runtime.clock.now().date(), reports=60)
    use_language(login(client, tenant.viewer.email), "ja")
    since, _ = last_month(runtime)
    answer = client.get(f"/dmarc/digest.pdf?month={since:%Y-%m}&domain={DOMAIN}")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    path = tmp_path / "digest.pdf"
    path.write_bytes(answer.content)
    return path


def test_the_pdf_is_an_a4_pdf(pdf_ja: Path) -> None:
    assert pdf_ja.read_bytes().startswith(b"%PDF-")
    info = poppler("pdfinfo", str(pdf_ja))
    assert "595.276 x 841.89 pts (A4)" in info


def test_the_pdf_carries_the_japanese_text_in_noto_cjk(
    pdf_ja: Path, runtime: Runtime, tenant: Tenant
) -> None:
    since, until = last_month(runtime)
    with runtime.session() as session:
        answer = insights.domain_patterns(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR, locale="ja",
            since=since, until=until,
        )  # fmt: skip
    # Table cells wrap: compare without the line breaks (Japanese has no spaces to lose).
    text = "".join(poppler("pdftotext", "-enc", "UTF-8", str(pdf_ja), "-").split())
    i18n.set_locale("ja")
    heading = i18n.gettext("Sources failing the most mail")
    assert heading != "Sources failing the most mail"  # part 1's catalogue translates it
    assert "".join(heading.split()) in text
    # A long title wraps in its cell and pdftotext interleaves columns: its start is one line.
    title = "".join(answer.patterns[0].advice.title.split())
    assert title[:10] in text
    assert "Noto-Sans-CJK-JP " in poppler("pdffonts", str(pdf_ja))


def test_a_pdf_page_renders_to_png_for_review(pdf_ja: Path, db_url: str) -> None:
    engine = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    target = ARTIFACTS / f"dmarc-digest-ja-{engine}"
    ARTIFACTS.mkdir(exist_ok=True)
    poppler("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
            str(pdf_ja), str(target))  # fmt: skip
    image = target.with_suffix(".png")
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_nothing_is_fetched_while_laying_out_a_pdf() -> None:
    fetcher = RefuseAll()
    html = (
        '<html><head><link rel="stylesheet" href="https://198.51.100.7/x.css">'
        "<style>@font-face { font-family: X; src: url(http://198.51.100.7/f.woff) }"
        " body { font-family: X }</style></head>"
        '<body><img src="file:///etc/passwd"><img src="data:image/png;base64,iVBORw0KGgo=">'
        "<p>届</p></body></html>"
    )
    assert html_to_pdf(html, fetcher).startswith(b"%PDF-")
    assert set(fetcher.refused) == {
        "https://198.51.100.7/x.css",
        "http://198.51.100.7/f.woff",
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
    }
