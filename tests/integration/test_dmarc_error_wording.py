"""Engine errors on the DMARC pages are in the reader's language, on both engines, while the
API keeps answering the English message: a bad network filter, a month that is no month, an
upload refused, a source that cannot be registered, a mailbox that does not answer, and an
action the role does not allow."""

from __future__ import annotations

import re
import socket

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from tests.conftest import Tenant, csrf_from, login
from tests.integration.test_dmarc_analyses import DOMAIN, load_corpus
from tests.integration.test_dmarc_pages import text_of, use_language
from todoke.core.errors import InvalidInput
from todoke.dmarc.intake import limits_from
from todoke.dmarc.mailboxes import MailboxSettings, add_mailbox, poll_mailbox
from todoke.i18n import LOCALE_DIR
from todoke.runtime import Runtime
from todoke.web.error_text import connection_failure, worded

PLACEHOLDER = re.compile(r"%\((\w+)\)([sdr])")
HTML = {"Accept": "text/html,application/xhtml+xml"}
DOCTYPE_XML = b'<?xml version="1.0"?>\n<!DOCTYPE feedback [<!ENTITY a "aaaa">]>\n<feedback/>\n'


def closed_port() -> int:
    """A loopback port nothing listens on (the probe is closed when this returns)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def api_csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_from(client.get("/").text)}


@pytest.fixture
def analyst(runtime: Runtime, tenant: Tenant, client: TestClient) -> TestClient:
    return use_language(login(client, tenant.analyst.email), "ja")


def test_a_bad_network_filter_is_named_in_japanese_and_in_english_by_the_api(
    runtime: Runtime, tenant: Tenant, analyst: TestClient
) -> None:
    load_corpus(runtime, tenant.org, runtime.clock.now().date(), reports=20)
    page = analyst.get(f"/dmarc/domains/{DOMAIN}", params={"network": "10.0.0.x"})
    assert page.status_code == 422
    assert "絞り込みの '10.0.0.x' は IP アドレスでも CIDR 範囲でもありません。" in text_of(
        page.text
    )
    api = analyst.get("/api/v1/dmarc/sources", params={"domain": DOMAIN, "network": "10.0.0.x"})
    assert api.status_code == 422
    assert api.json()["error"]["message"] == (
        "network filter '10.0.0.x' is not an IP address or CIDR range"
    )


def test_a_month_that_is_no_month_is_a_japanese_page_for_a_browser_and_json_otherwise(
    analyst: TestClient,
) -> None:
    page = analyst.get("/dmarc/digest", params={"month": "2025-13"}, headers=HTML)
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "'2025-13' は YYYY-MM 形式の月ではありません（例: 2025-04）。" in text_of(page.text)
    assert 'href="/dmarc/digest"' in page.text  # the same page without the bad month
    answer = analyst.get("/dmarc/digest", params={"month": "2025-13"})
    assert "'2025-13' is not a month written YYYY-MM" in answer.json()["error"]["message"]


def test_a_missing_failure_report_is_a_page_in_the_readers_language(
    tenant: Tenant, client: TestClient
) -> None:
    use_language(login(client, tenant.viewer.email), "en")
    page = client.get("/dmarc/failure-reports/987654", headers=HTML)
    assert page.status_code == 404
    assert "<h1>Not found</h1>" in page.text
    assert "no failure report 987654" in text_of(page.text)


def test_refused_uploads_are_explained_in_japanese_and_in_english_by_the_api(
    runtime: Runtime, analyst: TestClient
) -> None:
    runtime.settings.report_max_file_mb = 1
    files = [
        ("files", ("entity.xml", DOCTYPE_XML, "text/xml")),
        ("files", ("huge.xml", b"<feedback>" + b" " * (2**20 + 10), "text/xml")),
    ]
    token = csrf_from(analyst.get("/dmarc/reports").text)
    page = analyst.post("/dmarc/reports", files=files, data={"csrf_token": token})
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "XML に DOCTYPE 宣言が含まれています。" in shown
    assert "アップロードが上限の 1,048,576 バイトを超えています。" in shown
    api = analyst.post("/api/v1/dmarc/reports", files=files, headers=api_csrf(analyst))
    messages = {error["file"]: error["error"] for error in api.json()["errors"]}
    assert messages["entity.xml"].startswith("The XML contains a DOCTYPE declaration")
    assert messages["huge.xml"] == "upload is over the limit of 1,048,576 bytes"


def test_a_range_with_host_bits_is_refused_in_japanese_and_in_english_by_the_api(
    analyst: TestClient,
) -> None:
    token = csrf_from(analyst.get("/dmarc/sources").text)
    page = analyst.post(
        "/dmarc/sources", data={"network": "192.0.2.7/24", "label": "", "csrf_token": token}
    )
    assert page.status_code == 422
    assert (
        "送信元を登録できませんでした： '192.0.2.7/24' は範囲の先頭ではありません。"
        "192.0.2.0/24 の誤りではありませんか？" in text_of(page.text)
    )
    api = analyst.post(
        "/api/v1/dmarc/own-sources", json={"network": "192.0.2.7/24"}, headers=api_csrf(analyst)
    )
    assert api.status_code == 422
    assert api.json()["error"]["message"] == (
        "'192.0.2.7/24' is not the start of its range: did you mean 192.0.2.0/24?"
    )


def test_a_viewer_is_told_in_japanese_that_the_role_does_not_allow_an_upload(
    tenant: Tenant, client: TestClient
) -> None:
    use_language(login(client, tenant.viewer.email), "ja")
    token = csrf_from(client.get("/dmarc/reports").text)
    files = [("files", ("a.xml", DOCTYPE_XML, "text/xml"))]
    page = client.post("/dmarc/reports", files=files, data={"csrf_token": token})
    assert page.status_code == 403
    assert (
        f"{tenant.viewer.email} にはこの操作の権限がありません（必要な権限: 'dmarc.ingest'）。"
        in text_of(page.text)
    )


def test_a_closed_port_fails_the_connection_test_with_a_japanese_reason(
    tenant: Tenant, client: TestClient
) -> None:
    port = closed_port()
    use_language(login(client, tenant.owner.email), "ja")
    token = csrf_from(client.get("/dmarc/mailboxes").text)
    page = client.post(
        "/dmarc/mailboxes",
        data={
            "label": "rua", "host": "127.0.0.1", "port": str(port), "security": "none",
            "username": "rua@kyokai.example.jp", "password": "secret-never-shown-9",
            "folder": "INBOX", "action": "test", "csrf_token": token,
        },
    )  # fmt: skip
    shown = text_of(page.text)
    assert (
        "接続できませんでした： サーバーが接続を拒否しました。ポートを確認してください。" in shown
    )
    assert "ConnectionRefusedError" in shown  # the system's own words follow, for an admin
    assert "secret-never-shown-9" not in page.text


def test_a_message_the_catalogue_lacks_is_shown_as_written() -> None:
    unknown = InvalidInput("organisation %(id)s does not exist", id=7)
    assert worded(unknown, "ja") == "organisation 7 does not exist"
    assert connection_failure(TimeoutError, "ja").startswith("サーバーから時間内に応答")
    assert connection_failure("gaierror", "en") == (
        "The server's name was not found. Check the host name."
    )


def test_japanese_texts_name_the_same_values_with_the_same_conversion() -> None:
    # tests/unit/test_i18n.py checks %(name)s; engine messages also use %(name)r.
    with (LOCALE_DIR / "ja" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="ja")
    checked = 0
    for message in catalog:
        if isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            wanted = sorted(PLACEHOLDER.findall(message.id))
            assert sorted(PLACEHOLDER.findall(message.string)) == wanted, message.id
            checked += "%(" in message.id
    assert checked > 50


def test_a_poll_that_could_not_connect_is_explained_in_japanese_on_the_mailboxes_page(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    settings = MailboxSettings(
        label="rua", host="127.0.0.1", port=closed_port(), security="none",
        username="rua@kyokai.example.jp", password="secret-never-shown-9",
    )  # fmt: skip
    with runtime.session() as session, session.begin():
        mailbox = add_mailbox(
            session, org=tenant.org, settings=settings,
            secret_key=runtime.settings.secret_key_bytes(), acting_user=tenant.owner,
        )  # fmt: skip
        session.flush()
        mailbox_id = mailbox.id
    result = poll_mailbox(
        runtime.session, mailbox_id, secret_key=runtime.settings.secret_key_bytes(),
        limits=limits_from(runtime.settings), now=runtime.clock.now,
    )  # fmt: skip
    assert result.error is not None
    assert result.error.startswith("ConnectionRefusedError")
    use_language(login(client, tenant.owner.email), "ja")
    row = text_of(client.get("/dmarc/mailboxes").text)
    assert f"サーバーが接続を拒否しました。ポートを確認してください。 ({result.error})" in row
