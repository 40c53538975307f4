"""Pages and API as a signed-in user sees them, in Japanese and English."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Tenant, csrf_from, login
from todoke.domains.services import register_domain
from todoke.runtime import Runtime
from todoke.web.app import create_app


def test_dashboard_speaks_the_browsers_language(client: TestClient, tenant: Tenant) -> None:
    login(client, tenant.owner.email)
    japanese = client.get("/", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})
    assert '<html lang="ja">' in japanese.text
    assert "ダッシュボード" in japanese.text
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.text
    assert "Nothing to show yet" in english.text


def test_users_own_language_beats_the_browser(client: TestClient, tenant: Tenant) -> None:
    login(client, tenant.owner.email)
    token = csrf_from(client.get("/").text)
    client.post("/language", data={"language": "en", "csrf_token": token, "next": "/"})
    page = client.get("/", headers={"Accept-Language": "ja"})
    assert '<html lang="en">' in page.text


def test_dashboard_without_data_shows_an_empty_state(client: TestClient, tenant: Tenant) -> None:
    login(client, tenant.owner.email)
    page = client.get("/", headers={"Accept-Language": "en"})
    assert "has no domains or reports for 届け協会 yet" in page.text
    assert "coming soon" in page.text  # areas of later issues are shown as such, not as links


def test_audit_page_lists_events_and_verifies(client: TestClient, tenant: Tenant) -> None:
    login(client, tenant.owner.email)
    page = client.get("/audit", headers={"Accept-Language": "en"})
    assert "accounts.login.succeeded" in page.text
    assert "(5 events)" in page.text  # organisation, three users, this login
    verify = client.get("/audit/verify", headers={"Accept-Language": "en"})
    assert "The chain is intact: 5 events recomputed" in verify.text


def test_viewer_may_not_read_the_audit_log(client: TestClient, tenant: Tenant) -> None:
    login(client, tenant.viewer.email)
    assert client.get("/audit").status_code == 403
    response = client.get("/api/v1/audit/events")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "/audit" not in client.get("/").text.split("<main")[0]  # not in the navigation


def test_api_me_and_error_shapes(client: TestClient, tenant: Tenant) -> None:
    anonymous = client.get("/api/v1/me")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"error": {"code": "login_required", "message": "log in first"}}
    login(client, tenant.analyst.email)
    me = client.get("/api/v1/me").json()
    assert me["role"] == "analyst"
    assert me["organisation"]["slug"] == "todoke-kyokai"
    assert "audit.view" not in me["permissions"]
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    token = csrf_from(client.get("/").text)
    invalid = client.put(
        "/api/v1/me/locale", json={"locale": "fr"}, headers={"X-CSRF-Token": token}
    )
    assert invalid.status_code == 422
    assert invalid.json()["error"]["code"] == "invalid_input"
    assert invalid.json()["error"]["message"].startswith("locale:")


def test_api_pagination_of_audit_events(client: TestClient, tenant: Tenant) -> None:
    login(client, tenant.owner.email)
    first = client.get("/api/v1/audit/events", params={"per_page": 2}).json()
    second = client.get("/api/v1/audit/events", params={"per_page": 2, "page": 2}).json()
    assert first["total"] == 5
    assert len(first["items"]) == 2
    assert first["items"][0]["seq"] == 5
    assert second["items"][0]["seq"] == 3


def test_openapi_documents_error_responses(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    responses = spec["paths"]["/api/v1/me"]["get"]["responses"]
    assert {"401", "403", "422", "429"} <= set(responses)
    schema = responses["401"]["content"]["application/json"]["schema"]["$ref"]
    assert schema.endswith("/ErrorResponse")


def test_healthz_reports_the_database(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"


def test_metrics_only_for_allowed_addresses(runtime: Runtime) -> None:
    app = create_app(runtime)
    with TestClient(app, base_url="https://testserver", client=("203.0.113.9", 5000)) as outsider:
        assert outsider.get("/metrics").status_code == 403
    with TestClient(app, base_url="https://testserver", client=("127.0.0.1", 5000)) as local:
        local.get("/login")
        metrics = local.get("/metrics")
    assert metrics.status_code == 200
    assert 'todoke_http_requests_total{method="GET",route="/login",status="200"}' in metrics.text


def test_static_vendor_files_are_served(client: TestClient) -> None:
    response = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert response.status_code == 200
    assert "htmx" in response.text[:2000]


def test_dashboard_with_domains_points_to_them(
    client: TestClient, tenant: Tenant, runtime: Runtime
) -> None:
    with runtime.session() as session, session.begin():
        for name in ("kyokai.test", "parked.test"):
            register_domain(
                session, org=tenant.org, name=name, sends_mail=True, acting_user=tenant.owner
            )
    login(client, tenant.viewer.email)
    page = client.get("/", headers={"Accept-Language": "ja"}).text
    assert "確認する場所" in page
    assert "登録済みのドメイン 2 件" in page
    assert "まだありません" not in page
