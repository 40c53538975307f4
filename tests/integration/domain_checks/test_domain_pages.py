"""The domain pages over HTTP, DNS from the local server, on both engines."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Tenant, csrf_from, login
from tests.integration.domain_checks.test_message_check import message, signed, zones
from tests.rig.dns_server import LocalDNSServer
from todoke.domains.inventory import check_history
from todoke.domains.services import register_domain
from todoke.runtime import Runtime


def form(client: TestClient, path: str, data: dict[str, str] | None = None) -> str:
    token = csrf_from(client.get("/domains").text)
    response = client.post(path, data={"csrf_token": token, **(data or {})})
    assert response.status_code == 200, response.text
    return response.text


def test_owner_registers_checks_and_reads_the_findings_in_japanese(
    runtime: Runtime, tenant: Tenant, client: TestClient, dns_server: LocalDNSServer
) -> None:
    dns_server.add_zone(zones())
    runtime.settings.dns_nameservers = [str(dns_server.nameserver)]
    login(client, tenant.owner.email)
    client.post("/language", data={"language": "ja", "csrf_token": csrf_from(client.get("/").text)})
    page = form(client, "/domains", {"name": "kyokai.test", "sends_mail": "yes"})
    assert "まだチェックしていません" in page
    page = form(client, "/domains/kyokai.test/check")
    assert "spf.ok" in page
    assert "dmarc.policy_reject" in page
    assert "大量送信者向けチェックリスト" in page
    listing = client.get("/domains").text
    assert "kyokai.test" in listing
    with runtime.session() as session:
        (run,) = check_history(
            session, org=tenant.org, domain="kyokai.test", acting_user=tenant.owner
        )
    assert f'<span class="badge status-{run.status}">{run.status}</span>' in listing


def test_records_page_shows_the_merged_spf(
    runtime: Runtime, tenant: Tenant, client: TestClient, dns_server: LocalDNSServer
) -> None:
    dns_server.add_zone(zones())
    runtime.settings.dns_nameservers = [str(dns_server.nameserver)]
    runtime.settings.sending_ips = ["192.0.2.25"]
    login(client, tenant.owner.email)
    form(client, "/domains", {"name": "kyokai.test"})
    page = client.get("/domains/kyokai.test/records").text
    assert "v=spf1 ip4:203.0.113.10 ip4:192.0.2.25 -all" in page


def test_test_mail_page_explains_an_unaligned_message(
    runtime: Runtime, tenant: Tenant, client: TestClient, dns_server: LocalDNSServer
) -> None:
    dns_server.add_zone(zones())
    runtime.settings.dns_nameservers = [str(dns_server.nameserver)]
    login(client, tenant.viewer.email)
    saved = (
        b"Return-Path: <x@bounce.esp.test>\r\n"
        b"Received: from out.esp.test (out.esp.test [198.51.100.7])\r\n"
        b"\tby mx.example.net; Mon, 23 Nov 2026 10:00:01 +0900\r\n"
        + signed(message("From: office@kyokai.test"), "esp.test", "esp1")
    )
    token = csrf_from(client.get("/test-mail").text)
    response = client.post(
        "/test-mail",
        data={"csrf_token": token},
        files={"file": ("mail.eml", saved, "message/rfc822")},
    )
    assert response.status_code == 200, response.text
    assert "DMARC: fail" in response.text
    assert "bounce.esp.test" in response.text


def test_english_pages_speak_english(
    runtime: Runtime, tenant: Tenant, client: TestClient, dns_server: LocalDNSServer
) -> None:
    dns_server.add_zone(zones())
    runtime.settings.dns_nameservers = [str(dns_server.nameserver)]
    login(client, tenant.owner.email)
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client.get("/").text)})
    page = form(client, "/domains", {"name": "kyokai.test", "sends_mail": "yes"})
    assert "Not checked yet" in page
    page = form(client, "/domains/kyokai.test/check")
    assert "Bulk-sender checklist (Gmail, Yahoo, Outlook)" in page
    assert "SPF record published and valid" in page
    assert "まだ" not in page
    assert "Your test address" in client.get("/test-mail").text


def test_viewer_sees_no_forms_that_change_domains(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    with runtime.session() as session, session.begin():
        register_domain(
            session, org=tenant.org, name="kyokai.test", sends_mail=True, acting_user=tenant.owner
        )
    login(client, tenant.viewer.email)
    assert 'action="/domains"' not in client.get("/domains").text
    detail = client.get("/domains/kyokai.test").text
    assert "/keys" not in detail
    token = csrf_from(detail)
    refused = client.post("/domains/kyokai.test/keys", data={"csrf_token": token})
    assert refused.status_code == 403


def test_owner_brings_a_key_to_signing_from_the_page(
    runtime: Runtime, tenant: Tenant, client: TestClient, dns_server: LocalDNSServer
) -> None:
    dns_server.add_zone("$ORIGIN shop.test.\n@ IN SOA ns1 hostmaster 1 3600 600 86400 120\n")
    runtime.settings.dns_nameservers = [str(dns_server.nameserver)]
    login(client, tenant.owner.email)
    form(client, "/domains", {"name": "shop.test"})
    form(client, "/domains/shop.test/keys", {"key_type": "ed25519"})
    key = client.get("/api/v1/domains/shop.test/dkim-keys").json()[0]
    dns_server.add_zone(f'$ORIGIN shop.test.\n{key["selector"]}._domainkey IN TXT "{key["txt"]}"\n')
    page = form(client, f"/domains/shop.test/keys/{key['selector']}/verify")
    assert f"/keys/{key['selector']}/activate" in page  # published: the activate button shows
    form(client, f"/domains/shop.test/keys/{key['selector']}/activate")
    assert [k["state"] for k in client.get("/api/v1/domains/shop.test/dkim-keys").json()] == [
        "active"
    ]
