"""The domain page's filters over HTTP on both engines: tag, date range, reporter, their errors
and their combinations, as plain GET forms and as htmx swaps; and the readiness page's history
of the published policy. Figures are checked against the records the test inserted."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant, login
from tests.integration.test_dmarc_domain_filters import DOMAIN, REPORTERS, Data, load
from tests.integration.test_dmarc_pages import cells, text_of, use_language
from todoke.runtime import Runtime

TAGGED = {
    "mx": {"203.0.113.10", "203.0.113.11", "2001:db8:5a::25"},
    "newsletter": {"198.51.100.7"},
}
HTMX = {"HX-Request": "true", "HX-Target": "sources"}


@pytest.fixture
def data(runtime: Runtime, tenant: Tenant) -> Data:
    return load(runtime, tenant.org)


@pytest.fixture
def reader(data: Data, tenant: Tenant, client: TestClient) -> TestClient:
    return use_language(login(client, tenant.viewer.email), "en")


def shown(html: str) -> list[str]:
    return re.findall(r'<tr data-ip="([^"]+)">', html)


def ordered(expected: dict[str, tuple[int, int]]) -> list[str]:
    """The table's order: messages descending, then address."""
    return sorted(expected, key=lambda ip: (-expected[ip][0], ip))


def options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select id="{name}" name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_the_tag_filter_offers_the_organisations_tags_and_narrows_the_table(
    reader: TestClient, data: Data
) -> None:
    first = reader.get(f"/dmarc/domains/{DOMAIN}").text
    assert options(first, "tag") == ["", "mx", "newsletter", "v6", "本社"]
    month = data.expected(data.today - timedelta(days=29), data.today)
    for tag, addresses in TAGGED.items():
        html = reader.get(f"/dmarc/domains/{DOMAIN}", params={"tag": tag, "network": ""}).text
        expected = {ip: values for ip, values in month.items() if ip in addresses}
        assert shown(html) == ordered(expected)
        assert f"({len(expected):,} matching sources)" in text_of(html)
        assert f'<option value="{tag}" selected>' in html


def test_a_date_range_sets_the_figures_and_the_table(reader: TestClient, data: Data) -> None:
    since, until = data.today - timedelta(days=35), data.today - timedelta(days=10)
    params = {"since": since.isoformat(), "until": until.isoformat(), "days": "30"}
    response = reader.get(f"/dmarc/domains/{DOMAIN}", params=params)
    assert response.status_code == 200
    html = response.text
    expected = data.expected(since, until)
    messages = sum(count for count, _ in expected.values())
    failing = sum(count - passing for count, passing in expected.values())
    assert f'id="domain-messages">{messages:,}<' in html
    assert f'id="domain-fail">{failing:,}<' in html
    assert shown(html) == ordered(expected)
    assert f"{since.isoformat()} to {until.isoformat()} (UTC)." in text_of(html)
    assert "computed now for this period" in text_of(html)
    assert f"since={since.isoformat()}&amp;until={until.isoformat()}" in html  # the CSV export
    # the table's own form keeps the range when a filter is chosen
    filtered = reader.get(
        f"/dmarc/domains/{DOMAIN}", params={**params, "result": "fail"}, headers=HTMX
    ).text
    assert shown(filtered) == [ip for ip in ordered(expected) if expected[ip][0] > expected[ip][1]]


def test_the_last_30_days_named_by_date_are_read_from_the_stored_analysis(
    reader: TestClient, data: Data
) -> None:
    since = data.today - timedelta(days=29)
    html = reader.get(
        f"/dmarc/domains/{DOMAIN}",
        params={"since": since.isoformat(), "until": data.today.isoformat()},
    ).text
    assert "as of " in text_of(html)
    assert shown(html) == ordered(data.expected(since, data.today))


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2025-13-01", "", "'2025-13-01' is not a date: write it as YYYY-MM-DD"),
        ("1 April", "", "'1 April' is not a date"),
        (-5, -10, "The end date {until} is before the start date {since}."),
        (-400, 0, "A range spans at most 366 days; {since} to {until} is 401 days."),
        (-3, 2, "{until} is in the future: reports cover the days up to today ({today} UTC)."),
    ],
)
def test_a_refused_date_range_is_named_and_the_standard_period_shown(
    reader: TestClient, data: Data, since: str | int, until: str | int, message: str
) -> None:
    def day(value: str | int) -> str:
        return value if isinstance(value, str) else (data.today + timedelta(days=value)).isoformat()

    params = {"since": day(since), "until": day(until), "tag": "mx"}
    expected = message.format(since=day(since), until=day(until), today=data.today.isoformat())
    response = reader.get(f"/dmarc/domains/{DOMAIN}", params=params)
    assert response.status_code == 422
    assert expected in text_of(response.text)
    # the last 30 days instead, the other filters kept, the range nowhere in the links
    month = data.expected(data.today - timedelta(days=29), data.today)
    assert shown(response.text) == ordered({ip: month[ip] for ip in month if ip in TAGGED["mx"]})
    assert f'id="domain-messages">{sum(m for m, _ in month.values()):,}<' in response.text
    assert 'name="since"' not in response.text.split('id="range-form"')[0]
    assert 'name="since"' not in response.text.split('class="filters"')[1]
    swapped = reader.get(f"/dmarc/domains/{DOMAIN}", params=params, headers=HTMX)
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith('<div id="sources"')
    assert expected in text_of(swapped.text)


def test_a_reporter_filter_shows_that_reporters_mail_counted_from_its_records(
    reader: TestClient, data: Data
) -> None:
    since, until = data.today - timedelta(days=29), data.today
    html = reader.get(f"/dmarc/domains/{DOMAIN}").text
    assert options(html, "reporter") == ["", *sorted(REPORTERS)]
    for reporter in REPORTERS:
        expected = data.expected(since, until, reporter)
        page = reader.get(f"/dmarc/domains/{DOMAIN}", params={"reporter": reporter}).text
        assert shown(page) == ordered(expected)
        assert cells(page, "messages") == [f"{expected[ip][0]:,}" for ip in ordered(expected)]
        messages = sum(count for count, _ in expected.values())
        assert f"Only the mail {reporter} reported: {messages:,} messages, counted live" in text_of(
            page
        )
        assert "computed now for this period" in text_of(page)


def test_reporter_tag_result_and_range_combine(reader: TestClient, data: Data) -> None:
    since, until = data.today - timedelta(days=40), data.today - timedelta(days=5)
    params = {
        "reporter": "google.com", "tag": "mx", "result": "fail",
        "since": since.isoformat(), "until": until.isoformat(),
    }  # fmt: skip
    expected = data.expected(since, until, "google.com")
    wanted = {
        ip: values
        for ip, values in expected.items()
        if ip in TAGGED["mx"] and values[0] > values[1]
    }
    assert wanted
    assert len(wanted) < len(expected)
    for headers in ({}, HTMX):
        html = reader.get(f"/dmarc/domains/{DOMAIN}", params=params, headers=headers).text
        assert shown(html) == ordered(wanted)
        assert all(value != "0" for value in cells(html, "failing"))
    # htmx swaps the period forms too (out of band), so they carry the table's new filters
    assert '<div id="period" hx-swap-oob="true">' in html
    assert 'name="reporter" value="google.com"' in html.split('id="period-form"')[1]
    full = reader.get(f"/dmarc/domains/{DOMAIN}", params=params).text
    # both forms carry the other's values, so neither loses what the other chose
    period = full[full.index('id="period-form"') : full.index('id="range-form"')]
    assert 'name="reporter" value="google.com"' in period
    assert 'name="tag" value="mx"' in period
    table = full[full.index('class="filters"') :]
    assert f'name="since" value="{since.isoformat()}"' in table


def test_the_readiness_page_shows_the_history_of_the_published_policy(
    reader: TestClient, data: Data
) -> None:
    html = reader.get(f"/dmarc/domains/{DOMAIN}/readiness").text
    table = html[html.index('id="policy-history"') :]
    records = re.findall(r"<code>([^<]+)</code>", table.split("</table>")[0])
    assert records == [
        "v=DMARC1; p=quarantine; adkim=r; aspf=r; pct=100",
        "v=DMARC1; p=none; adkim=r; aspf=r; pct=100",
    ]
    for p, first, last, reports in zip(
        ("quarantine", "none"),
        cells(table, "first"),
        cells(table, "last"),
        cells(table, "reports"),
        strict=True,
    ):
        quoting = [sent for sent in data.reports if sent.p == p]
        assert first == min(sent.day for sent in quoting).isoformat()
        assert last == max(sent.day for sent in quoting).isoformat()
        assert reports == f"{len(quoting):,}"
    assert cells(table, "reporters") == ["3", "3"]


def test_the_filters_and_their_errors_read_in_japanese(reader: TestClient, data: Data) -> None:
    use_language(reader, "ja")
    page = text_of(reader.get(f"/dmarc/domains/{DOMAIN}", params={"since": "2025-02-30"}).text)
    assert "'2025-02-30' は日付ではありません" in page
    assert "タグ" in page
    assert "送信元組織" in page
    history = text_of(reader.get(f"/dmarc/domains/{DOMAIN}/readiness").text)
    assert "レポートに見えるポリシーの変更" in history
