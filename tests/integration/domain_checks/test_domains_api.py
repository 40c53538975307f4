"""/api/v1/domains over HTTP, with DNS served by the local DNS server, on both engines."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Tenant, csrf_from, login
from tests.integration.domain_checks.test_message_check import message, signed, zones
from tests.rig.dns_server import LocalDNSServer
from todoke.runtime import Runtime

ZONE = """
$ORIGIN shop.test.
@     IN SOA ns1 hostmaster 1 3600 600 86400 120
@     IN TXT "v=spf1 include:_spf.partner.test -all"
@     IN MX 10 mx.shop.test.
"""


def serve(runtime: Runtime, dns_server: LocalDNSServer) -> None:
    dns_server.add_zone(ZONE)
    runtime.settings.dns_nameservers = [str(dns_server.nameserver)]
    runtime.settings.sending_ips = ["203.0.113.10", "2001:db8:5a::25"]
    runtime.settings.receiver_domain = "shop.test"


def test_viewer_gets_the_merged_records_in_japanese(
    runtime: Runtime, tenant: Tenant, client: TestClient, dns_server: LocalDNSServer
) -> None:
    serve(runtime, dns_server)
    login(client, tenant.viewer.email)
    response = client.get("/api/v1/domains/shop.test/records", headers={"Accept-Language": "ja"})
    assert response.status_code == 200, response.text
    records = {item["purpose"]: item for item in response.json()["records"]}
    assert records["spf"]["value"] == (
        "v=spf1 include:_spf.partner.test ip4:203.0.113.10 ip6:2001:db8:5a::25 -all"
    )
    assert records["dmarc"]["value"] == "v=DMARC1; p=none; rua=mailto:dmarc@shop.test"
    assert records["dmarc"]["note"].startswith("まず p=none")
    assert "dmarc_authorisation" not in records  # the receiver is in the domain's own zone


def test_records_need_a_login(client: TestClient) -> None:
    assert client.get("/api/v1/domains/shop.test/records").status_code == 401


def test_invalid_domain_is_refused_with_its_reason(
    runtime: Runtime, tenant: Tenant, client: TestClient, dns_server: LocalDNSServer
) -> None:
    serve(runtime, dns_server)
    login(client, tenant.viewer.email)
    response = client.get("/api/v1/domains/bad_label!.test/records")
    assert response.status_code == 422
    assert "invalid label" in response.text


def csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_from(client.get("/").text)}


def test_owner_registers_a_domain_and_brings_a_key_to_signing(
    runtime: Runtime, tenant: Tenant, client: TestClient, dns_server: LocalDNSServer
) -> None:
    serve(runtime, dns_server)
    login(client, tenant.owner.email)
    headers = csrf(client)
    created = client.post("/api/v1/domains", json={"name": "Shop.Test."}, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json() == {"name": "shop.test", "sends_mail": True}
    key = client.post(
        "/api/v1/domains/shop.test/dkim-keys", json={"type": "ed25519"}, headers=headers
    ).json()
    assert key["state"] == "generated"
    early = client.post(
        f"/api/v1/domains/shop.test/dkim-keys/{key['selector']}/activate", headers=headers
    )
    assert early.status_code == 422
    dns_server.add_zone(f'$ORIGIN shop.test.\n{key["selector"]}._domainkey IN TXT "{key["txt"]}"\n')
    verified = client.post(
        f"/api/v1/domains/shop.test/dkim-keys/{key['selector']}/verify", headers=headers
    )
    assert verified.json()["state"] == "published", verified.text
    active = client.post(
        f"/api/v1/domains/shop.test/dkim-keys/{key['selector']}/activate", headers=headers
    )
    assert active.json()["state"] == "active"
    assert [item["state"] for item in client.get("/api/v1/domains/shop.test/dkim-keys").json()] == [
        "active"
    ]


def test_viewer_cannot_register_domains(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    login(client, tenant.viewer.email)
    response = client.post("/api/v1/domains", json={"name": "shop.test"}, headers=csrf(client))
    assert response.status_code == 403


def test_uploaded_message_is_explained(
    runtime: Runtime, tenant: Tenant, client: TestClient, dns_server: LocalDNSServer
) -> None:
    dns_server.add_zone(zones())
    runtime.settings.dns_nameservers = [str(dns_server.nameserver)]
    login(client, tenant.viewer.email)
    saved = (
        b"Return-Path: <bounce@kyokai.test>\r\n"
        b"Received: from out.kyokai.test (out.kyokai.test [203.0.113.10])\r\n"
        b"\tby mx.example.net; Mon, 23 Nov 2026 10:00:01 +0900\r\n"
        + signed(message("From: office@kyokai.test"), "kyokai.test", "sel1")
    )
    response = client.post(
        "/api/v1/domains/test-mail",
        files={"file": ("mail.eml", saved, "message/rfc822")},
        headers=csrf(client),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["spf"], body["dmarc"], body["pattern"]) == ("pass", "pass", None)
    assert [s["result"] for s in body["dkim"]] == ["pass"]


def test_message_without_from_is_refused_with_the_reason(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    login(client, tenant.viewer.email)
    response = client.post(
        "/api/v1/domains/test-mail",
        files={"file": ("mail.eml", b"Subject: x\r\n\r\nbody\r\n", "message/rfc822")},
        headers=csrf(client),
    )
    assert response.status_code == 422
    assert "exactly one From header" in response.text


def test_checklist_without_a_check_claims_nothing(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    login(client, tenant.owner.email)
    client.post("/api/v1/domains", json={"name": "shop.test"}, headers=csrf(client))
    response = client.get("/api/v1/domains/shop.test/checklist")
    assert response.status_code == 200, response.text
    items = {item["id"]: item["status"] for item in response.json()}
    assert len(items) == 8
    assert set(items.values()) == {"unknown"}
