"""Report ingest end to end through the CLI, on both engines: counts, de-duplication, hostile
input refused by name without losing anything already stored, roll-ups in step with records."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from todoke.cli.main import app as cli
from todoke.dmarc.models import DmarcDayStats, DmarcRecord, DmarcReport, DmarcSourceDay
from todoke.runtime import Runtime
from todoke.settings import Settings

SAMPLES = Path(__file__).parents[2].parent / "shared" / "testdata" / "dmarc"


@pytest.fixture
def env(settings: Settings, runtime: Runtime) -> dict[str, str]:
    """CLI environment on the test database, initialised with one organisation."""
    environment = {
        "TODOKE_DATABASE_URL": settings.effective_database_url,
        "TODOKE_DATA_DIR": str(settings.data_dir),
        "TODOKE_CONFIG_FILE": "",
    }
    result = CliRunner().invoke(cli, ["init", "--json"], env=environment)
    assert result.exit_code == 0, result.output
    return environment


def ingest(env: dict[str, str], *paths: Path | str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(
        cli, ["dmarc", "ingest", "--json", *map(str, paths)], env=env, catch_exceptions=False
    )
    return result.exit_code, json.loads(result.stdout)


def test_samples_are_ingested_with_every_report_kind_counted(env: dict[str, str]) -> None:
    code, summary = ingest(env, SAMPLES)
    assert code == 6  # the folder's LICENSE file is not a report, so the run is partial
    assert summary["files"] == 6
    assert summary["reports"] == {"aggregate": 3, "failure": 1, "tls": 1}
    assert summary["records"] == 3
    assert summary["messages"] == 1 + 123 + 2
    assert [error["file"] for error in summary["errors"]] == [str(SAMPLES / "LICENSE")]  # type: ignore[index]


def test_report_seen_twice_is_stored_once(env: dict[str, str], tmp_path: Path) -> None:
    copy = tmp_path / "again"
    shutil.copytree(SAMPLES, copy)
    ingest(env, SAMPLES)
    _, summary = ingest(env, copy)
    assert summary["reports"] == {"aggregate": 0, "failure": 0, "tls": 0}
    assert summary["duplicates"] == 5
    listed = CliRunner().invoke(cli, ["dmarc", "reports", "--json"], env=env)
    rows = json.loads(listed.stdout)
    assert sorted(row["reporter"] for row in rows) == [
        "FastMail Pty Ltd",
        "Sample Reporter",
        "acme.com",
    ]


def test_reports_keep_their_real_date_range(env: dict[str, str], tmp_path: Path) -> None:
    xml = (SAMPLES / "old_draft_from_wiki.xml").read_text()
    report = tmp_path / "multi-day.xml"
    begin, end = 1_700_000_000, 1_700_000_000 + 3 * 86_400 - 1
    report.write_text(
        xml.replace("<report_id>9391651994964116463", "<report_id>multi-day-1")
        .replace(_between(xml, "<begin>", "</begin>"), str(begin))
        .replace(_between(xml, "<end>", "</end>"), str(end))
    )
    ingest(env, report)
    rows = json.loads(CliRunner().invoke(cli, ["dmarc", "reports", "--json"], env=env).stdout)
    assert rows[0]["begin"].startswith("2023-11-14T22:13:20")
    assert rows[0]["end"].startswith("2023-11-17T22:13:19")


def _between(text: str, start: str, end: str) -> str:
    index = text.index(start) + len(start)
    return text[index : text.index(end, index)]


HOSTILE = {
    "entity-bomb.xml": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<feedback>&lol2;</feedback>"
    ),
    "xxe.xml": (
        b'<?xml version="1.0"?><!DOCTYPE feedback [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<feedback><report_metadata><org_name>&x;</org_name></report_metadata></feedback>"
    ),
    "truncated.xml": b'<?xml version="1.0"?><feedback><report_metadata><org_name>Trunc',
    "empty.xml": b"",
    "wrong-root.xml": b'<?xml version="1.0"?><html><body>not a report</body></html>',
    "invalid-utf8.xml": b'<?xml version="1.0" encoding="UTF-8"?><feedback>\xff\xfe\xfa</feedback>',
}


def test_hostile_files_are_refused_by_name_and_nothing_stored_is_lost(
    env: dict[str, str], tmp_path: Path, runtime: Runtime
) -> None:
    ingest(env, SAMPLES)
    batch = tmp_path / "batch"
    batch.mkdir()
    for name, data in HOSTILE.items():
        (batch / name).write_bytes(data)
    with gzip.open(batch / "bomb.xml.gz", "wb") as bomb:
        chunk = b"\0" * 2**20
        for _ in range(3):  # 3 MiB of zeros against a 1 MiB cap
            bomb.write(chunk)
    good = (
        (SAMPLES / "rfc9990-sample.xml")
        .read_text()
        .replace("3v98abbp8ya9n3va8yr8oa3ya", "fresh-report-1")
    )
    (batch / "good.xml").write_text(good)
    result = CliRunner().invoke(
        cli, ["dmarc", "ingest", "--json", "--max-decompressed-mb", "1", str(batch)], env=env
    )
    summary = json.loads(result.stdout)
    assert result.exit_code == 6
    refused = {Path(error["file"]).name: error for error in summary["errors"]}
    assert set(refused) == {*HOSTILE, "bomb.xml.gz"}
    assert summary["reports"]["aggregate"] == 1
    assert "root:x:0:0" not in result.stdout  # the external entity was never resolved
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(DmarcReport)) == 4


def test_rollups_agree_with_raw_records(env: dict[str, str], runtime: Runtime) -> None:
    ingest(env, SAMPLES)
    with runtime.session() as session:
        raw = session.execute(
            select(DmarcRecord.domain, func.sum(DmarcRecord.message_count)).group_by(
                DmarcRecord.domain
            )
        ).all()
        daily = session.execute(
            select(DmarcDayStats.domain, func.sum(DmarcDayStats.messages)).group_by(
                DmarcDayStats.domain
            )
        ).all()
        by_source = session.execute(
            select(DmarcSourceDay.domain, func.sum(DmarcSourceDay.messages)).group_by(
                DmarcSourceDay.domain
            )
        ).all()
    assert dict(raw) == dict(daily) == dict(by_source)
    assert dict(raw) == {"example.com": 125, "indemed.com": 1}


def test_parallel_parsing_stores_the_same_as_one_process(
    env: dict[str, str], runtime: Runtime
) -> None:
    result = CliRunner().invoke(
        cli, ["dmarc", "ingest", "--json", "--workers", "2", str(SAMPLES)], env=env
    )
    summary = json.loads(result.stdout)
    assert summary["reports"] == {"aggregate": 3, "failure": 1, "tls": 1}
    assert summary["messages"] == 126
    with runtime.session() as session:
        assert session.scalar(select(func.sum(DmarcDayStats.messages))) == 126
