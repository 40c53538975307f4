"""The BIMI logo on the domain page: only a valid one, only sanitised, under its own CSP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Tenant, csrf_from, login
from tests.integration.domain_checks.test_bimi_check import FM_SVG, HOST, ZONE, svg
from tests.rig.dns_server import LocalDNSServer
from tests.rig.https_server import LocalHTTPSServer
from tests.rig.tls import CertificateAuthority
from todoke.runtime import Runtime
from todoke.web.domain_pages import LOGO_POLICY


def checked(
    runtime: Runtime,
    tenant: Tenant,
    client: TestClient,
    dns_server: LocalDNSServer,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
    domain: str,
) -> str:
    dns_server.add_zone(ZONE)
    runtime.settings.dns_nameservers = [str(dns_server.nameserver)]
    runtime.settings.check_https_port = https_server.port
    runtime.settings.check_https_ca_file = test_ca.cert_path
    login(client, tenant.owner.email)
    token = csrf_from(client.get("/domains").text)
    client.post("/domains", data={"csrf_token": token, "name": domain})
    return client.post(f"/domains/{domain}/check", data={"csrf_token": token}).text


def test_valid_logo_is_served_rebuilt_under_a_closed_policy(
    runtime: Runtime,
    tenant: Tenant,
    client: TestClient,
    dns_server: LocalDNSServer,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    https_server.serve(f"{HOST}/good/logo.svg", svg(FM_SVG))
    page = checked(runtime, tenant, client, dns_server, https_server, test_ca, "good.test")
    assert 'src="/domains/good.test/bimi-logo.svg"' in page
    logo = client.get("/domains/good.test/bimi-logo.svg")
    assert logo.status_code == 200
    assert logo.headers["content-type"] == "image/svg+xml"
    assert logo.headers["content-security-policy"] == LOGO_POLICY
    assert logo.content.lstrip().startswith((b"<svg", b"<?xml"))
    assert b"<script" not in logo.content


def test_invalid_logo_is_never_served(
    runtime: Runtime,
    tenant: Tenant,
    client: TestClient,
    dns_server: LocalDNSServer,
    https_server: LocalHTTPSServer,
    test_ca: CertificateAuthority,
) -> None:
    scripted = FM_SVG.replace(b"</svg>", b"<script>alert(1)</script></svg>")
    https_server.serve(f"{HOST}/good/logo.svg", svg(scripted))
    page = checked(runtime, tenant, client, dns_server, https_server, test_ca, "good.test")
    assert "bimi.svg_invalid" in page
    assert "bimi-logo.svg" not in page
    assert client.get("/domains/good.test/bimi-logo.svg").status_code == 404
