"""Web security: CSRF, cookies, login throttling, headers, API error shapes."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.conftest import OffsetClock, Tenant, csrf_from, login
from todoke.runtime import Runtime
from todoke.web.app import create_app


def _login_form(client: TestClient, email: str, password: str) -> dict[str, str]:
    token = csrf_from(client.get("/login").text)
    return {"email": email, "password": password, "csrf_token": token}


def test_login_without_csrf_token_is_refused(client: TestClient, tenant: Tenant) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"email": tenant.owner.email, "password": tenant.password}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_rejected"
    assert "__Host-todoke_session" not in client.cookies


def test_csrf_token_of_another_browser_is_refused(runtime: Runtime, tenant: Tenant) -> None:
    app = create_app(runtime)
    with (
        TestClient(app, base_url="https://testserver") as alice,
        TestClient(app, base_url="https://testserver") as mallory,
    ):
        stolen = csrf_from(mallory.get("/login").text)
        alice.get("/login")
        response = alice.post(
            "/login",
            data={"email": tenant.owner.email, "password": tenant.password, "csrf_token": stolen},
        )
    assert response.status_code == 403


def test_cross_origin_post_is_refused_even_with_token(client: TestClient, tenant: Tenant) -> None:
    form = _login_form(client, tenant.owner.email, tenant.password)
    response = client.post("/login", data=form, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


def test_api_write_needs_the_csrf_header(client: TestClient, tenant: Tenant) -> None:
    login(client, tenant.viewer.email)
    refused = client.put("/api/v1/me/locale", json={"locale": "en"})
    assert refused.status_code == 403
    token = csrf_from(client.get("/").text)
    accepted = client.put(
        "/api/v1/me/locale", json={"locale": "en"}, headers={"X-CSRF-Token": token}
    )
    assert accepted.status_code == 200
    assert accepted.json()["locale"] == "en"


def test_session_cookie_attributes(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        "/login",
        data=_login_form(client, tenant.owner.email, tenant.password),
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = next(
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("__Host-todoke_session=")
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= attributes
    assert "domain" not in attributes
    assert "samesite=lax" in cookie.lower()
    assert "path=/" in cookie.lower()


def test_five_wrong_passwords_slow_the_account_down(
    client: TestClient, tenant: Tenant, clock: OffsetClock
) -> None:
    for attempt in range(5):
        response = client.post("/login", data=_login_form(client, tenant.analyst.email, "nope"))
        assert response.status_code == 401, attempt
    blocked = client.post("/login", data=_login_form(client, tenant.analyst.email, tenant.password))
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 31
    assert "__Host-todoke_session" not in client.cookies
    clock.advance(timedelta(seconds=31))
    allowed = client.post(
        "/login",
        data=_login_form(client, tenant.analyst.email, tenant.password),
        follow_redirects=False,
    )
    assert allowed.status_code == 303


def test_each_further_failure_doubles_the_wait(
    client: TestClient, tenant: Tenant, clock: OffsetClock
) -> None:
    waits = []
    for _ in range(7):
        client.post("/login", data=_login_form(client, tenant.viewer.email, "nope"))
        blocked = client.post("/login", data=_login_form(client, tenant.viewer.email, "nope"))
        if blocked.status_code == 429:
            waits.append(int(blocked.headers["retry-after"]))
            clock.advance(timedelta(seconds=waits[-1]))
    assert waits[:3] == [30, 60, 120]


def test_security_headers(client: TestClient) -> None:
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_no_hsts_over_plain_http(runtime: Runtime) -> None:
    with TestClient(create_app(runtime), base_url="http://testserver") as plain:
        assert "strict-transport-security" not in plain.get("/login").headers


def test_pages_need_login(client: TestClient) -> None:
    response = client.get("/audit?page=2", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/audit?page=2"


def test_login_refuses_open_redirects(client: TestClient, tenant: Tenant) -> None:
    form = _login_form(client, tenant.owner.email, tenant.password)
    response = client.post(
        "/login", data={**form, "next": "//evil.example/"}, follow_redirects=False
    )
    assert response.headers["location"] == "/"


def test_logout_ends_the_session_server_side(client: TestClient, tenant: Tenant) -> None:
    login(client, tenant.owner.email)
    token = client.cookies["__Host-todoke_session"]
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    client.cookies.set("__Host-todoke_session", token)  # replaying the old cookie
    assert client.get("/api/v1/me").status_code == 401


def test_idle_session_expires(client: TestClient, tenant: Tenant, clock: OffsetClock) -> None:
    login(client, tenant.owner.email)
    assert client.get("/api/v1/me").status_code == 200
    clock.advance(timedelta(minutes=61))
    assert client.get("/api/v1/me").status_code == 401
