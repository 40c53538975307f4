"""A seeded, deterministic generator of realistic DMARC aggregate reports.

Benchmarks, tests and the demo data need thousands of reports that look like what a real `rua`
mailbox receives: many reporters with their own quirks (corpus_reporters), mostly aligned mail
from the organisation's own servers and ESPs, plus forwarding, unaligned third parties,
misconfigured sources, DKIM broken in transit and spoofing, with the skewed counts real traffic
has. Every generated report carries the typed report a correct parser must read back from it.

XML is built with plain strings (not element trees): 2,000 reports take about a second.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import heapq
import io
import json
import math
import random
import re
import sys
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from todoke.dmarc import corpus_reporters as rp
from todoke.dmarc.corpus_render import render_xml
from todoke.dmarc.corpus_rows import ROW_KINDS, ROW_WEIGHTS, RowMaker, policy_for
from todoke.dmarc.report_types import (
    AggregateReport,
)

_DAY = 86400


@dataclass(frozen=True, slots=True)
class CorpusSpec:
    #: unique reports; duplicate deliveries come on top
    reports: int = 2000
    records_per_report_mean: float = 27.5
    seed: int = 7
    domains: tuple[str, ...] = ("example.jp", "mail.example.jp", "example.com")
    start: date = date(2026, 10, 1)
    days: int = 30
    #: share of reports delivered a second time under another file name
    duplicate_rate: float = 0.01


@dataclass(frozen=True, slots=True)
class GeneratedReport:
    filename: str
    data: bytes
    #: what a correct parser reads back: values normalised as report_types describes
    report: AggregateReport
    #: a second delivery of a report generated just before, under another file name
    duplicate: bool = False

    @property
    def records(self) -> int:
        return len(self.report.records)

    @property
    def messages(self) -> int:
        return self.report.message_count


@dataclass(frozen=True, slots=True)
class CorpusSummary:
    #: as written, duplicate deliveries included (one report per file)
    files: int
    records: int
    messages: int
    #: distinct reports (org_name, report_id, domain) and what they hold
    unique_reports: int
    unique_records: int
    unique_messages: int
    bytes: int

    @property
    def duplicates(self) -> int:
        return self.files - self.unique_reports


@dataclass(frozen=True, slots=True)
class _Slot:
    reporter: rp.Reporter
    domain_index: int
    day: int
    records: int


def _rng(*parts: object) -> random.Random:
    # Test data, not secrets. A string seed is hashed with SHA-512, so each stream is stable
    # across runs and Python processes (PYTHONHASHSEED does not touch it).
    return random.Random(":".join(map(str, parts)))  # noqa: S311


def _plan(spec: CorpusSpec) -> list[_Slot]:
    """Which reporter reports on which domain and day, and how many rows each report has."""
    rng = _rng("plan", spec.seed)
    per_reporter = len(spec.domains) * spec.days
    tail = max(12, math.ceil(2 * spec.reports / per_reporter) - len(rp.MAJOR_REPORTERS))
    reporters = rp.MAJOR_REPORTERS + rp.long_tail(tail)
    # Weighted sampling without replacement (Efraimidis-Spirakis): big receivers report on nearly
    # every domain and day, the long tail now and then, and no (reporter, domain, day) twice.
    keyed = [
        (rng.random() ** (1.0 / (reporter.reach * (1.0 if d == 0 else 0.6))), r, d, day)
        for r, reporter in enumerate(reporters)
        for d in range(len(spec.domains))
        for day in range(spec.days)
    ]
    chosen = sorted(heapq.nlargest(spec.reports, keyed), key=lambda k: (k[3], k[1], k[2]))
    sizes = [
        reporters[r].volume * (1.0 if d == 0 else 0.5) * rng.lognormvariate(0.0, 0.6)
        for _, r, d, _ in chosen
    ]
    scale = spec.reports * spec.records_per_report_mean / max(sum(sizes), 1e-9)
    return [
        _Slot(reporters[r], d, day, max(1, round(size * scale)))
        for (_, r, d, day), size in zip(chosen, sizes, strict=True)
    ]


def _date_range(rng: random.Random, style: rp.RangeStyle, day_start: int) -> tuple[int, int]:
    if style == "utc_day_exclusive":
        return day_start, day_start + _DAY
    if style == "jst_day":
        return day_start - 9 * 3600, day_start - 9 * 3600 + _DAY - 1
    if style == "rolling":
        begin = day_start + rng.randrange(3600, 6 * 3600)
        return begin, begin + _DAY
    if style == "multi_day":
        return day_start, day_start + rng.randint(2, 7) * _DAY - 1
    return day_start, day_start + _DAY - 1


def _aggregate(spec: CorpusSpec, slot: _Slot, rng: random.Random) -> AggregateReport:
    reporter, domain = slot.reporter, spec.domains[slot.domain_index]
    day_start = int(datetime.combine(spec.start, datetime.min.time(), UTC).timestamp())
    begin, end = _date_range(rng, reporter.range_style, day_start + slot.day * _DAY)
    policy = policy_for(domain, slot.domain_index, reporter)
    maker = RowMaker(rng, reporter, policy)
    kinds = rng.choices(ROW_KINDS, ROW_WEIGHTS, k=slot.records)
    schema = "rfc7489" if reporter.schema == "rfc7489-noversion" else reporter.schema
    return AggregateReport(
        schema=schema,
        org_name=reporter.org_name,
        report_id=rp.make_report_id(reporter.report_id, rng, begin, reporter.receiver),
        begin=datetime.fromtimestamp(begin, UTC),
        end=datetime.fromtimestamp(end, UTC),
        policy=policy,
        records=[maker.make(kind) for kind in kinds],
        email=reporter.email,
        extra_contact_info=reporter.extra_contact_info,
        generator=reporter.generator,
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SUFFIX = {"xml": ".xml", "gz": ".xml.gz", "zip": ".zip"}
_MIME = {"xml": "text/xml", "gz": "application/gzip", "zip": "application/zip"}


def _pack(xml: bytes, container: rp.Container, inner_name: str, mtime: int) -> bytes:
    if container == "gz":
        return gzip.compress(xml, compresslevel=6, mtime=mtime)
    if container == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            info = zipfile.ZipInfo(inner_name, date_time=time.gmtime(mtime)[:6])
            archive.writestr(info, xml, compress_type=zipfile.ZIP_DEFLATED)
        return buffer.getvalue()
    return xml


def _email(
    report: AggregateReport,
    reporter: rp.Reporter,
    attachment: bytes,
    name: str,
    container: rp.Container,
    rng: random.Random,
) -> bytes:
    sent = report.end + timedelta(seconds=rng.randrange(600, 8 * 3600))
    boundary = f"----=_Part_{rng.getrandbits(40):010x}"
    payload = base64.encodebytes(attachment).decode("ascii").replace("\n", "\r\n")
    # RFC 7489 §7.2.1.1 suggests this subject; receivers follow it closely.
    subject = (
        f"Report Domain: {report.domain} Submitter: {reporter.receiver} "
        f"Report-ID: {report.report_id}"
    )
    lines = [
        f"Return-Path: <{reporter.email}>",
        f'From: "{reporter.org_name}" <{reporter.email}>',
        f"To: dmarc-rua@{report.domain}",
        f"Subject: {subject}",
        f"Date: {format_datetime(sent)}",
        f"Message-ID: <{rng.getrandbits(64):016x}.{int(sent.timestamp())}@{reporter.receiver}>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        "This is a multi-part message in MIME format.",
        f"--{boundary}",
        'Content-Type: text/plain; charset="us-ascii"',
        "Content-Transfer-Encoding: 7bit",
        "",
        f"This is an aggregate report from {reporter.receiver}.",
        f"--{boundary}",
        f'Content-Type: {_MIME[container]}; name="{name}"',
        f'Content-Disposition: attachment; filename="{name}"',
        "Content-Transfer-Encoding: base64",
        "",
        payload,
        f"--{boundary}--",
        "",
    ]
    return "\r\n".join(lines).encode("ascii")


def generate_reports(spec: CorpusSpec) -> Iterator[GeneratedReport]:
    """Reports in delivery order; the same spec always yields the same bytes."""
    for index, slot in enumerate(_plan(spec)):
        rng = _rng("report", spec.seed, index)
        reporter = slot.reporter
        report = _aggregate(spec, slot, rng)
        begin, end = int(report.begin.timestamp()), int(report.end.timestamp())
        stem = f"{reporter.receiver}!{report.domain}!{begin}!{end}"
        if reporter.name_has_id:
            stem += "!" + _UNSAFE.sub("_", report.report_id.strip("<>"))
        xml = render_xml(report, reporter).encode("utf-8")
        name = stem + _SUFFIX[reporter.container]
        packed = _pack(xml, reporter.container, stem + ".xml", end)
        as_email = rng.random() < reporter.eml_share
        if as_email:
            data = _email(report, reporter, packed, name, reporter.container, rng)
            yield GeneratedReport(stem + ".eml", data, report)
        else:
            yield GeneratedReport(name, packed, report)
        if _rng("duplicate", spec.seed, index).random() < spec.duplicate_rate:
            # The same report reaching the rua mailbox and an upload: another name and wrapper.
            if as_email:
                yield GeneratedReport(name, packed, report, duplicate=True)
            else:
                data = _email(report, reporter, packed, name, reporter.container, rng)
                yield GeneratedReport(stem + ".eml", data, report, duplicate=True)


def write_corpus(spec: CorpusSpec, directory: Path) -> CorpusSummary:
    """Writes one file per generated report into directory and totals what was written."""
    directory.mkdir(parents=True, exist_ok=True)
    files = records = messages = unique = unique_records = unique_messages = size = 0
    for generated in generate_reports(spec):
        (directory / generated.filename).write_bytes(generated.data)
        files += 1
        size += len(generated.data)
        records += generated.records
        messages += generated.messages
        if not generated.duplicate:
            unique += 1
            unique_records += generated.records
            unique_messages += generated.messages
    return CorpusSummary(files, records, messages, unique, unique_records, unique_messages, size)


def main(argv: Sequence[str] | None = None) -> int:
    defaults = CorpusSpec()
    parser = argparse.ArgumentParser(description="Write a synthetic DMARC aggregate corpus.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--reports", type=int, default=defaults.reports)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument("--duplicate-rate", type=float, default=defaults.duplicate_rate)
    args = parser.parse_args(argv)
    spec = CorpusSpec(
        reports=args.reports, seed=args.seed, days=args.days, duplicate_rate=args.duplicate_rate
    )
    started = time.perf_counter()
    summary = write_corpus(spec, args.directory)
    result = asdict(summary) | {"seconds": round(time.perf_counter() - started, 3)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
