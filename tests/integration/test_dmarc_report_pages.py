"""The mailbox settings (against the rig's Dovecot), TLS reports and failure reports pages on
both engines: the password never comes back, the connection test reports what the server
said, and a failure report's personal data shows only with `dmarc.view_personal_data`."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant, csrf_from, login
from tests.integration.test_dmarc_pages import RECEIVER, cells, text_of, use_language
from tests.rig.imap_server import DovecotServer
from todoke.authz import CLI_ACTOR
from todoke.dmarc import browse
from todoke.dmarc.intake import BatchIngestor, Blob, limits_from
from todoke.runtime import Runtime

SAMPLES = Path("/work/shared/testdata/dmarc")
TLS_SAMPLE = SAMPLES / "rfc8460.json"
RUF_SAMPLE = SAMPLES / "dmarc_ruf_report_linkedin.eml"
PASSWORD = "imap-password-h7"


def ingest(runtime: Runtime, tenant: Tenant, *paths: Path) -> None:
    ingestor = BatchIngestor(
        runtime.session, organisation_id=tenant.org.id, acting_user=CLI_ACTOR,
        channel="upload", limits=limits_from(runtime.settings),
    )  # fmt: skip
    for path in paths:
        ingestor.add(Blob(path.name, path.read_bytes()))
    summary = ingestor.add_all(())
    assert not summary.errors


def add_form(client: TestClient, server: DovecotServer, username: str, password: str,
             action: str) -> tuple[int, str]:  # fmt: skip
    token = csrf_from(client.get("/dmarc/mailboxes").text)
    response = client.post(
        "/dmarc/mailboxes",
        data={
            "label": "rua", "host": server.host, "port": str(server.port), "security": "none",
            "username": username, "password": password, "folder": "INBOX", "action": action,
            "csrf_token": token,
        },
    )  # fmt: skip
    return response.status_code, response.text


def test_an_owner_tests_and_saves_a_mailbox_and_the_password_never_comes_back(
    imap_server: DovecotServer, runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    runtime.settings.receiver_domain = RECEIVER
    account = imap_server.add_account(f"rua-{uuid4().hex[:8]}@kyokai.example.jp", PASSWORD)
    imap_server.deliver(account, b"From: a@example.jp\r\nSubject: hi\r\n\r\nbody\r\n")
    use_language(login(client, tenant.owner.email), "en")
    status, html = add_form(client, imap_server, account.username, PASSWORD, "test")
    assert status == 200
    assert "Connected: 1 unread message waits in the folder." in text_of(html)
    assert PASSWORD not in html
    status, html = add_form(client, imap_server, account.username, PASSWORD, "save")
    assert status == 200
    assert f"<code>{imap_server.host}:{imap_server.port}</code>" in html
    assert f"mailto:dmarc@{RECEIVER}" in html
    assert PASSWORD not in html
    mailbox_id = html.split('<tr data-mailbox="')[1].split('"')[0]
    token = csrf_from(html)
    tested = client.post(f"/dmarc/mailboxes/{mailbox_id}/test", data={"csrf_token": token})
    assert "Connected: 1 unread message" in text_of(tested.text)
    removed = client.post(f"/dmarc/mailboxes/{mailbox_id}/remove", data={"csrf_token": token})
    assert '<tr data-mailbox="' not in removed.text


def test_a_wrong_password_is_reported_by_the_connection_test(
    imap_server: DovecotServer, tenant: Tenant, client: TestClient
) -> None:
    account = imap_server.add_account(f"wrong-{uuid4().hex[:8]}@kyokai.example.jp", PASSWORD)
    use_language(login(client, tenant.owner.email), "en")
    _, html = add_form(client, imap_server, account.username, "not-the-password", "test")
    assert "The connection failed:" in text_of(html)
    assert "not-the-password" not in html


def test_an_analyst_sees_the_mailboxes_but_cannot_add_or_test_one(
    imap_server: DovecotServer, tenant: Tenant, client: TestClient
) -> None:
    use_language(login(client, tenant.analyst.email), "en")
    page = client.get("/dmarc/mailboxes").text
    assert 'action="/dmarc/mailboxes"' not in page
    assert "needs the administrator role" in text_of(page)
    status, _ = add_form(client, imap_server, "x@kyokai.example.jp", PASSWORD, "test")
    assert status == 403
    status, _ = add_form(client, imap_server, "x@kyokai.example.jp", PASSWORD, "save")
    assert status == 403


def test_the_tls_reports_page_shows_the_engines_policy_results(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    ingest(runtime, tenant, TLS_SAMPLE)
    use_language(login(client, tenant.viewer.email), "en")
    html = client.get("/dmarc/tls-reports").text
    with runtime.session() as session:
        found = browse.tls_reports(session, org=tenant.org, acting_user=CLI_ACTOR)
    assert found.total == 1
    policies = found.items[0].policies
    assert cells(html, "successful") == [f"{p.successful:,}" for p in policies]
    assert cells(html, "failed") == [f"{p.failed:,}" for p in policies]
    assert sum(p.failed for p in policies) > 0
    for policy in policies:
        for kind, _count in policy.failures:
            assert kind in html


@pytest.mark.parametrize(("role", "shown"), [("viewer", False), ("analyst", False),
                                             ("owner", True)])  # fmt: skip
def test_failure_reports_show_personal_data_only_to_who_may_see_it(
    runtime: Runtime, tenant: Tenant, client: TestClient, role: str, shown: bool
) -> None:
    ingest(runtime, tenant, RUF_SAMPLE)
    use_language(login(client, getattr(tenant, role).email), "en")
    listing = client.get("/dmarc/failure-reports").text
    with runtime.session() as session:
        found = browse.failure_reports(session, org=tenant.org, acting_user=CLI_ACTOR)
    report = found.items[0]
    assert report.subject
    detail = client.get(f"/dmarc/failure-reports/{report.id}").text
    for page in (listing, detail):
        assert (report.subject in text_of(page)) is shown
        assert ('id="personal-hidden"' in page) is not shown
    assert report.original_rcpt_to
    assert (report.original_rcpt_to in text_of(detail)) is shown
    assert report.source_ip is None or report.source_ip in detail


def test_the_engine_masks_personal_data_for_a_viewer(runtime: Runtime, tenant: Tenant) -> None:
    ingest(runtime, tenant, RUF_SAMPLE)
    with runtime.session() as session:
        found = browse.failure_reports(session, org=tenant.org, acting_user=tenant.viewer)
    masked = found.items[0]
    assert not masked.personal_shown
    assert all(getattr(masked, name) is None for name in browse.PERSONAL_FIELDS)
