"""From uploaded reports to answers, through the API on both engines, with sources identified
over real DNS: summary, sources and their classification, error patterns with the known
sender's fix, readiness, inventory, exports, and who may do what."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import OffsetClock, Tenant, csrf_from, login
from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.dmarc.identification import PUBLISHED_RANGES, identify_pending
from todoke.runtime import Runtime

DOMAIN = "example.jp"
DAYS = 20
FIRST_DAY = date(2026, 10, 1)
OWN, SENDGRID, SPOOFER = "203.0.113.10", "167.89.1.1", "198.51.100.7"
ZONES = """
$ORIGIN 89.167.in-addr.arpa.
@ IN SOA ns.test. host.test. 1 3600 600 86400 300
1.1 IN PTR o1.sendgrid.net.
$ORIGIN sendgrid.net.
@ IN SOA ns.test. host.test. 1 3600 600 86400 300
@ IN TXT "v=spf1 ip4:167.89.0.0/17 -all"
o1 IN A 167.89.1.1
"""


def row(
    ip: str,
    count: int,
    spf: tuple[str, str],
    dkim: tuple[str, str] | None,
    aligned: tuple[str, str],
) -> str:
    dkim_xml = (
        f"<dkim><domain>{dkim[0]}</domain><selector>s1</selector><result>{dkim[1]}</result></dkim>"
        if dkim
        else ""
    )
    return (
        f"<record><row><source_ip>{ip}</source_ip><count>{count}</count><policy_evaluated>"
        f"<disposition>none</disposition><dkim>{aligned[0]}</dkim><spf>{aligned[1]}</spf>"
        f"</policy_evaluated></row><identifiers><header_from>{DOMAIN}</header_from></identifiers>"
        f"<auth_results>{dkim_xml}<spf><domain>{spf[0]}</domain><result>{spf[1]}</result></spf>"
        f"</auth_results></record>"
    )


def daily_report(day: date) -> bytes:
    begin = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    rows = (
        row(OWN, 100, (DOMAIN, "pass"), (DOMAIN, "pass"), ("pass", "pass"))
        + row(
            SENDGRID,
            50,
            ("bounces.sendgrid.net", "pass"),
            ("sendgrid.net", "pass"),
            ("fail", "fail"),
        )
        + row(SPOOFER, 5, (DOMAIN, "fail"), None, ("fail", "fail"))
    )
    return (
        '<?xml version="1.0"?><feedback><version>1.0</version><report_metadata>'
        '<org_name>=HYPERLINK("http://x")</org_name><email>dmarc@reporter.example</email>'
        f"<report_id>r-{day.isoformat()}</report_id><date_range><begin>{begin}</begin>"
        f"<end>{begin + 86399}</end></date_range></report_metadata><policy_published>"
        f"<domain>{DOMAIN}</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp>"
        f"<pct>100</pct></policy_published>{rows}</feedback>"
    ).encode()


@pytest.fixture
def analysed(
    runtime: Runtime,
    clock: OffsetClock,
    tenant: Tenant,
    client: TestClient,
    dns_server: LocalDNSServer,
    resolver_factory: ResolverFactory,
) -> TestClient:
    """An analyst's session with 20 days of reports uploaded and sources identified."""
    clock.advance(datetime(2026, 10, DAYS, 12, tzinfo=UTC) - clock.now())
    login(client, tenant.analyst.email)
    files = [
        ("files", (f"day-{index}.xml", daily_report(FIRST_DAY + timedelta(days=index)), "text/xml"))
        for index in range(DAYS)
    ]
    uploaded = client.post("/api/v1/dmarc/reports", files=files, headers=csrf(client))
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["reports"]["aggregate"] == DAYS
    dns_server.add_zone(ZONES)
    PUBLISHED_RANGES.__init__()  # type: ignore[misc]  # a fresh cache for this DNS server
    result = asyncio.run(
        identify_pending(runtime.session, resolver=resolver_factory(), now=runtime.clock.now)
    )
    assert result.addresses == 3
    return client


def csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_from(client.get("/").text)}


def test_summary_counts_every_message_by_result(analysed: TestClient) -> None:
    summary = analysed.get("/api/v1/dmarc/summary", params={"domain": DOMAIN}).json()
    assert summary["messages"] == DAYS * 155
    assert summary["dmarc_pass"] == DAYS * 100
    assert len(summary["days"]) == DAYS
    assert summary["published_policy"]["p"] == "none"


def test_sources_are_identified_and_classified(analysed: TestClient) -> None:
    sources = {
        source["source_ip"]: source
        for source in analysed.get("/api/v1/dmarc/sources", params={"domain": DOMAIN}).json()[
            "sources"
        ]
    }
    assert sources[OWN]["classification"] == "aligned_pass"
    assert sources[SENDGRID]["sender"]["key"] == "sendgrid"
    assert sources[SENDGRID]["classification"] == "third_party_unaligned"
    assert sources[SPOOFER]["sender"] is None
    assert sources[SPOOFER]["classification"] == "spoofing_suspected"


def test_patterns_give_the_known_senders_own_fix(analysed: TestClient) -> None:
    found = analysed.get("/api/v1/dmarc/patterns", params={"domain": DOMAIN}).json()["patterns"]
    by_id = {pattern["pattern"]: pattern for pattern in found}
    assert by_id["both_unaligned"]["messages"] == DAYS * 50
    fixes = by_id["both_unaligned"]["sender_fixes"]
    sendgrid = next(fix for name, fix in fixes.items() if name.startswith("SendGrid"))
    assert "Sender Authentication" in sendgrid
    assert DOMAIN in sendgrid
    assert by_id["spf_fail_no_dkim"]["sources"][0]["source_ip"] == SPOOFER


def test_readiness_names_the_unaligned_sender_as_blocker(analysed: TestClient) -> None:
    answer = analysed.get("/api/v1/dmarc/readiness", params={"domain": DOMAIN}).json()
    assert answer["ready"] is False
    blockers = {blocker["source_ip"]: blocker for blocker in answer["blockers"]}
    assert blockers[SENDGRID]["blocking"] is True
    assert SPOOFER not in {ip for ip, b in blockers.items() if b["blocking"]}
    # the spoofer is not legitimate mail: 100 of 150 legitimate messages a day pass
    assert answer["pass_rate_30"] == pytest.approx(100 / 150)


def test_registering_a_source_names_it_with_its_tags(analysed: TestClient) -> None:
    created = analysed.post(
        "/api/v1/dmarc/own-sources",
        json={"network": "203.0.113.0/28", "label": "本社メールサーバー", "tags": ["本社", "mx"]},
        headers=csrf(analysed),
    )
    assert created.status_code == 201, created.text
    sources = analysed.get("/api/v1/dmarc/sources", params={"domain": DOMAIN}).json()["sources"]
    own = next(source for source in sources if source["source_ip"] == OWN)
    assert own["sender"]["name"] == "本社メールサーバー"
    assert own["sender"]["tags"] == ["mx", "本社"]


def test_export_csv_has_every_record_and_defuses_formulas(analysed: TestClient) -> None:
    response = analysed.get("/api/v1/dmarc/records.csv", params={"domain": DOMAIN})
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == DAYS * 3
    assert sum(int(row["messages"]) for row in rows) == DAYS * 155
    assert all(row["reporter"].startswith("'=") for row in rows)


def test_inventory_flags_an_unregistered_domain(analysed: TestClient) -> None:
    entries = analysed.get("/api/v1/dmarc/inventory").json()
    assert [(entry["domain"], entry["status"]) for entry in entries] == [(DOMAIN, "unregistered")]
    assert "rua=" in entries[0]["recommendation"] or "rua" in entries[0]["recommendation"]


def test_a_viewer_reads_but_may_not_upload_or_register(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    login(client, tenant.viewer.email)
    upload = client.post(
        "/api/v1/dmarc/reports",
        files=[("files", ("a.xml", daily_report(FIRST_DAY), "text/xml"))],
        headers=csrf(client),
    )
    assert upload.status_code == 403
    register = client.post(
        "/api/v1/dmarc/own-sources", json={"network": "192.0.2.0/24"}, headers=csrf(client)
    )
    assert register.status_code == 403
    assert client.get("/api/v1/dmarc/reports").status_code == 200


def test_an_oversized_upload_is_refused_by_name_and_the_rest_is_stored(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    runtime.settings.report_max_file_mb = 1
    login(client, tenant.analyst.email)
    files = [
        ("files", ("huge.xml", b"<feedback>" + b" " * (2**20 + 10), "text/xml")),
        ("files", ("day.xml", daily_report(FIRST_DAY), "text/xml")),
    ]
    response = client.post("/api/v1/dmarc/reports", files=files, headers=csrf(client))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reports"]["aggregate"] == 1
    assert [(error["file"], error["code"]) for error in body["errors"]] == [
        ("huge.xml", "input.too_large")
    ]
    assert len(client.get("/api/v1/dmarc/reports").json()) == 1
