"""The reports page on both engines: the rua address, uploading several files with the refused
ones named, who may upload, and the stored reports a page at a time."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import Tenant, csrf_from, login
from tests.integration.test_dmarc_pages import RECEIVER, cells, text_of, use_language
from todoke.authz import CLI_ACTOR
from todoke.dmarc import queries
from todoke.dmarc.corpus import CorpusSpec, generate_reports
from todoke.runtime import Runtime

SAMPLES = Path("/work/shared/testdata/dmarc")
SAMPLE_FILES = sorted(SAMPLES.iterdir()) if SAMPLES.is_dir() else []


def upload(client: TestClient, files: list[tuple[str, bytes]]) -> tuple[int, str]:
    token = csrf_from(client.get("/dmarc/reports").text)
    response = client.post(
        "/dmarc/reports",
        data={"csrf_token": token},
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )
    return response.status_code, response.text


def field(html: str, name: str) -> int:
    match = re.search(rf'<dd data-field="{name}">([\d,]+)</dd>', html)
    assert match, name
    return int(match.group(1).replace(",", ""))


def test_the_page_gives_the_rua_address_of_this_installation(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    runtime.settings.receiver_domain = RECEIVER
    login(client, tenant.viewer.email)
    assert (
        f'<code id="rua-address">mailto:dmarc@{RECEIVER}</code>'
        in client.get("/dmarc/reports").text
    )


def test_an_analyst_uploads_several_files_and_sees_what_was_stored_and_refused(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    use_language(login(client, tenant.analyst.email), "en")
    files = [(path.name, path.read_bytes()) for path in SAMPLE_FILES]
    files.append(("notes.txt", b"this is not a report"))
    status, html = upload(client, files)
    assert status == 200
    with runtime.session() as session:
        stored = queries.list_reports(session, org=tenant.org, acting_user=CLI_ACTOR)
    assert field(html, "files") == len(files)
    assert field(html, "aggregate") == len(stored) > 0
    assert field(html, "messages") == sum(report.messages for report in stored)
    assert field(html, "records") == sum(report.records for report in stored)
    refused = text_of(html[html.index('id="refused-table"') :])
    assert "notes.txt" in refused
    assert "not XML, JSON, gzip, zip or an email message" in refused
    overview = client.get("/dmarc")
    assert overview.status_code == 200  # old reports quote partial policies
    assert 'data-domain="example.com"' in overview.text
    again_status, again = upload(client, files[:2])
    assert again_status == 200
    assert field(again, "duplicates") >= 1


def test_a_viewer_may_read_but_not_upload(tenant: Tenant, client: TestClient) -> None:
    login(client, tenant.viewer.email)
    page = client.get("/dmarc/reports").text
    assert 'id="upload"' not in page
    status, html = upload(client, [("a.xml", b"<feedback/>")])
    assert status == 403
    assert 'role="alert"' in html


def test_stored_reports_come_a_page_at_a_time_newest_first(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    today = runtime.clock.now().date()
    spec = CorpusSpec(reports=60, seed=5, domains=("example.jp",), start=today - timedelta(days=9),
                      days=10, duplicate_rate=0, records_per_report_mean=3)  # fmt: skip
    login(client, tenant.analyst.email)
    status, _html = upload(client, [(g.filename, g.data) for g in generate_reports(spec)])
    assert status == 200
    first = client.get("/dmarc/reports").text
    second = client.get("/dmarc/reports", params={"page": 2}).text
    with runtime.session() as session:
        newest = queries.list_reports(session, org=tenant.org, acting_user=CLI_ACTOR, limit=50)
        rest = queries.list_reports(
            session, org=tenant.org, acting_user=CLI_ACTOR, limit=50, offset=50
        )
    assert re.findall(r'<tr data-report="(\d+)">', first) == [str(r.id) for r in newest]
    assert re.findall(r'<tr data-report="(\d+)">', second) == [str(r.id) for r in rest]
    assert cells(second, "messages") == [f"{r.messages:,}" for r in rest]
    assert 'rel="next"' in first
    assert 'rel="next"' not in second
