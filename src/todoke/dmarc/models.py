"""DMARC, failure and TLS reports as stored, and the roll-ups dashboards read.

Raw records are kept for drill-down and export; every summary reads the roll-ups
(`dmarc_day_stats`, `dmarc_source_day`), which ingest keeps in step in the same transaction, so
a dashboard over years of data never scans raw records.

A report that spans several days is stored with its real range; its records count towards the
UTC day on which the range begins (reporters send daily reports; a multi-day one is rare and
splitting message counts between days would invent numbers).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from todoke.db import Base, JSONValue, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits for raw records.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class DmarcReport(Base):
    """One aggregate report: a reporter's view of one domain over a date range."""

    __tablename__ = "dmarc_report"
    __table_args__ = (
        # RFC 7489 §7.2.1.1: report id is unique per reporter; the domain is part of the key
        # because some reporters reuse one id across the domains they report on.
        UniqueConstraint("organisation_id", "reporter_org", "report_id", "domain"),
        Index("ix_dmarc_report_org_domain_end", "organisation_id", "domain", "end_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    reporter_org: Mapped[str] = mapped_column(String(300))
    reporter_email: Mapped[str | None] = mapped_column(String(320))
    report_id: Mapped[str] = mapped_column(String(300))
    #: The domain whose published policy the report quotes.
    domain: Mapped[str] = mapped_column(String(253))
    begin_at: Mapped[datetime]
    end_at: Mapped[datetime]
    #: rfc9990, rfc7489 or draft
    schema: Mapped[str] = mapped_column(String(16))
    #: policy_published as the reporter saw it: p, sp, np, adkim, aspf, pct, fo, testing, ...
    policy: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    record_count: Mapped[int] = mapped_column(Integer)
    message_count: Mapped[int] = mapped_column(BigInteger)
    generator: Mapped[str | None] = mapped_column(String(300))
    #: Problems the parser worked around (skipped records and why).
    warnings: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    #: File (and archive member) it came from, and by which channel: upload, folder, imap, smtp.
    source_name: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class DmarcShape(Base):
    """A distinct authentication shape (see `dmarc.shapes.AuthShape`), stored once per tenant."""

    __tablename__ = "dmarc_shape"
    __table_args__ = (UniqueConstraint("organisation_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    fingerprint: Mapped[str] = mapped_column(String(40))
    header_from: Mapped[str] = mapped_column(String(253))
    dkim_aligned: Mapped[bool]
    spf_aligned: Mapped[bool]
    spf_domain: Mapped[str | None] = mapped_column(String(253))
    spf_result: Mapped[str | None] = mapped_column(String(16))
    dkim_domain: Mapped[str | None] = mapped_column(String(253))
    dkim_selector: Mapped[str | None] = mapped_column(String(253))
    dkim_result: Mapped[str | None] = mapped_column(String(16))
    override: Mapped[str | None] = mapped_column(String(32))
    disposition: Mapped[str] = mapped_column(String(16))


class DmarcRecord(Base):
    """One row of an aggregate report, kept for drill-down and export."""

    __tablename__ = "dmarc_record"
    __table_args__ = (
        Index("ix_dmarc_record_source", "organisation_id", "source_ip", "day"),
        Index("ix_dmarc_record_domain_day", "organisation_id", "domain", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_pk: Mapped[int] = mapped_column(
        ForeignKey("dmarc_report.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(Integer)
    domain: Mapped[str] = mapped_column(String(253))
    day: Mapped[date] = mapped_column(Date)
    source_ip: Mapped[str] = mapped_column(String(45))
    message_count: Mapped[int] = mapped_column(BigInteger)
    shape_id: Mapped[int] = mapped_column(ForeignKey("dmarc_shape.id"))
    envelope_to: Mapped[str | None] = mapped_column(String(253))
    envelope_from: Mapped[str | None] = mapped_column(String(253))
    #: Every SPF and DKIM result and override as reported, when there is more than the shape
    #: holds (several signatures, human_result, comments); None otherwise, to keep rows small.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONValue)


class DmarcDayStats(Base):
    """Per domain and day: the numbers of the summary chart."""

    __tablename__ = "dmarc_day_stats"

    organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)
    dmarc_pass: Mapped[int] = mapped_column(BigInteger, default=0)
    spf_aligned: Mapped[int] = mapped_column(BigInteger, default=0)
    dkim_aligned: Mapped[int] = mapped_column(BigInteger, default=0)
    quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    reports: Mapped[int] = mapped_column(Integer, default=0)


class DmarcSourceDay(Base):
    """Per domain, day, source address and shape: the numbers of the sources table."""

    __tablename__ = "dmarc_source_day"

    organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source_ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    shape_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, default=0)
    records: Mapped[int] = mapped_column(Integer, default=0)


class DmarcSource(Base):
    """A source address seen in reports, and who Todoke thinks it is.

    Ingest only adds the address; identification (PTR, catalogue, registered sources) runs
    later in the worker so a slow resolver never slows ingest.
    """

    __tablename__ = "dmarc_source"

    organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    first_seen: Mapped[date] = mapped_column(Date)
    last_seen: Mapped[date] = mapped_column(Date)
    ptr_name: Mapped[str | None] = mapped_column(String(253), default=None)
    ptr_status: Mapped[str | None] = mapped_column(String(16), default=None)
    sender_key: Mapped[str | None] = mapped_column(String(64), default=None)
    matched_by: Mapped[str | None] = mapped_column(String(16), default=None)
    identified_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class SourceNetwork(Base):
    """An address range the organisation sends from, registered with tags (送信元IP管理)."""

    __tablename__ = "dmarc_source_network"
    __table_args__ = (UniqueConstraint("organisation_id", "network"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: Canonical CIDR text, e.g. "203.0.113.0/26" or "2001:db8::/48".
    network: Mapped[str] = mapped_column(String(49))
    label: Mapped[str] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(JSONValue, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DmarcFailureReport(Base):
    """One failed message as a receiver reported it (RFC 6591). Holds personal data."""

    __tablename__ = "dmarc_failure_report"
    __table_args__ = (
        UniqueConstraint("organisation_id", "fingerprint"),
        Index("ix_dmarc_failure_report_domain", "organisation_id", "reported_domain"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    #: SHA-1 of what identifies the failure, so the same report delivered twice is kept once.
    fingerprint: Mapped[str] = mapped_column(String(40))
    reporter: Mapped[str] = mapped_column(String(300))
    feedback_type: Mapped[str] = mapped_column(String(32))
    arrival_date: Mapped[datetime | None]
    source_ip: Mapped[str | None] = mapped_column(String(45))
    reported_domain: Mapped[str | None] = mapped_column(String(253))
    auth_failure: Mapped[str | None] = mapped_column(String(32))
    delivery_result: Mapped[str | None] = mapped_column(String(32))
    header_from: Mapped[str | None] = mapped_column(String(253))
    dkim_domain: Mapped[str | None] = mapped_column(String(253))
    dkim_selector: Mapped[str | None] = mapped_column(String(253))
    #: Personal data: shown only to users with `dmarc.view_personal_data`.
    original_mail_from: Mapped[str | None] = mapped_column(String(320))
    original_rcpt_to: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(998))
    original_headers: Mapped[str | None] = mapped_column(Text)
    authentication_results: Mapped[str | None] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class TlsReport(Base):
    """One SMTP TLS report (RFC 8460): how senders fared delivering to our MX hosts."""

    __tablename__ = "tls_report"
    __table_args__ = (UniqueConstraint("organisation_id", "organization_name", "report_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    organization_name: Mapped[str] = mapped_column(String(300))
    report_id: Mapped[str] = mapped_column(String(300))
    begin_at: Mapped[datetime]
    end_at: Mapped[datetime]
    contact_info: Mapped[str | None] = mapped_column(String(320))
    #: Per policy: type, domain, strings, mx hosts, success/failure counts, failure details.
    policies: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue)
    total_successful: Mapped[int] = mapped_column(BigInteger)
    total_failure: Mapped[int] = mapped_column(BigInteger)
    source_name: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class DmarcMailbox(Base):
    """An IMAP mailbox the worker polls for reports (e.g. the address in `rua=`)."""

    __tablename__ = "dmarc_mailbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer)
    #: "ssl" (IMAPS, port 993), "starttls" (port 143 upgraded) or "none" (loopback tests only)
    security: Mapped[str] = mapped_column(String(16))
    username: Mapped[str] = mapped_column(String(320))
    #: Encrypted at rest (core.secrets.SecretBox, purpose "dmarc.mailbox.password").
    password_sealed: Mapped[str] = mapped_column(Text)
    folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    #: Where processed messages are moved; None leaves them in place, marked \\Seen.
    processed_folder: Mapped[str | None] = mapped_column(String(200), default=None)
    enabled: Mapped[bool] = mapped_column(default=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The last poll's outcome for people: counts, or the error that stopped it.
    last_result: Mapped[dict[str, Any] | None] = mapped_column(JSONValue, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DmarcSourceAnalysis(Base):
    """A domain's sources analysed over a standard window (the last 14, 30 or 90 days up to
    `until`), kept by the worker so the sources table, the error patterns and the readiness of
    a big domain are read, not recomputed (see `dmarc.analyses`). A recomputation is written
    beside the old one and becomes current when `ready`; readers take the newest ready one.
    """

    __tablename__ = "dmarc_source_analysis"
    __table_args__ = (
        Index("ix_dmarc_source_analysis_window", "organisation_id", "domain", "window_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    domain: Mapped[str] = mapped_column(String(253))
    window_days: Mapped[int] = mapped_column(Integer)
    #: all its rows are written (they are written in several transactions)
    ready: Mapped[bool]
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date] = mapped_column(Date)
    #: first day of the "last 14 days" split readiness reads (recent_* columns of the rows)
    recent_since: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime]
    compute_ms: Mapped[int] = mapped_column(Integer)
    #: what the analysis saw: the domain's newest report id and report count, the newest
    #: identification of the organisation's sources, and a digest of the other inputs
    #: (registered sources, sender catalogue, analysis version)
    report_max_id: Mapped[int] = mapped_column(Integer)
    report_count: Mapped[int] = mapped_column(Integer)
    identified_until: Mapped[datetime | None]
    inputs_digest: Mapped[str] = mapped_column(String(40))
    sources: Mapped[int] = mapped_column(Integer)
    messages: Mapped[int] = mapped_column(BigInteger)
    dmarc_pass: Mapped[int] = mapped_column(BigInteger)
    spf_aligned: Mapped[int] = mapped_column(BigInteger)
    dkim_aligned: Mapped[int] = mapped_column(BigInteger)
    #: per classification kind: sources, messages, passing (page totals of a kind filter)
    kinds: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    #: error patterns, largest first: id, messages, sources, the example shape and sender
    patterns: Mapped[list[dict[str, Any]]] = mapped_column(JSONValue)
    #: what readiness reads besides the listed rows: policy, days with data, volumes by kind
    readiness: Mapped[dict[str, Any]] = mapped_column(JSONValue)
    #: "changes": against the window of the same length before it, sources new in this one
    #: and sources failing now that failed nothing then, counted, with the largest by rank;
    #: "most_failing": ranks of the sources failing the most mail; tag, spoofing and
    #: header-From totals (`analyses.summaries`). Always written (migration 0005 dropped the
    #: analyses stored before); nullable only because the column was added to a table.
    highlights: Mapped[dict[str, Any] | None] = mapped_column(JSONValue, default=None)


class DmarcAnalysedSource(Base):
    """One source address of a `DmarcSourceAnalysis`, classified; `rank` is its position in
    the sources table (messages descending, then address)."""

    __tablename__ = "dmarc_analysed_source"
    __table_args__ = (
        Index("ix_dmarc_analysed_source_kind", "analysis_id", "kind", "rank"),
        Index("ix_dmarc_analysed_source_ip_key", "analysis_id", "ip_key"),
    )

    analysis_id: Mapped[int] = mapped_column(
        ForeignKey("dmarc_source_analysis.id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_ip: Mapped[str] = mapped_column(String(45))
    #: the address as 32 hex digits (IPv4 as IPv4-mapped IPv6), so a CIDR is a key range
    ip_key: Mapped[str | None] = mapped_column(String(32))
    ptr_name: Mapped[str | None] = mapped_column(String(253))
    #: identification as stored on `dmarc_source` when analysed (to notice it changing)
    known_sender_key: Mapped[str | None] = mapped_column(String(64))
    known_matched_by: Mapped[str | None] = mapped_column(String(16))
    #: the sender identity shown (registered source, else identification)
    sender_key: Mapped[str | None] = mapped_column(String(64))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    sender_name_ja: Mapped[str | None] = mapped_column(String(200))
    sender_category: Mapped[str | None] = mapped_column(String(32))
    sender_matched_by: Mapped[str | None] = mapped_column(String(16))
    sender_tags: Mapped[list[str] | None] = mapped_column(JSONValue)
    messages: Mapped[int] = mapped_column(BigInteger)
    dmarc_pass: Mapped[int] = mapped_column(BigInteger)
    dmarc_fail: Mapped[int] = mapped_column(BigInteger)
    spf_aligned: Mapped[int] = mapped_column(BigInteger)
    dkim_aligned: Mapped[int] = mapped_column(BigInteger)
    recent_messages: Mapped[int] = mapped_column(BigInteger)
    recent_pass: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(32))
    dominant_pattern: Mapped[str | None] = mapped_column(String(32))
    #: how many error patterns its failing mail falls into; with one, `dmarc_fail` is that
    #: pattern's volume, and only sources with more list them in `pattern_volumes`
    failing_patterns: Mapped[int] = mapped_column(Integer)
    pattern_volumes: Mapped[list[list[Any]] | None] = mapped_column(JSONValue)


class DmarcMonthDigest(Base):
    """One domain's monthly digest (`dmarc.digest`), computed ahead: by the worker for the last
    complete month and the running one, by a request for any other month it is asked for.

    It is recomputed when what it saw changes (`dmarc.digest_freshness`). A finished month
    rarely does: only a late report beginning in its days, a new registered source or sender
    catalogue, a newer published policy, or identification naming its addresses anew.
    """

    __tablename__ = "dmarc_month_digest"
    __table_args__ = (UniqueConstraint("organisation_id", "domain", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    domain: Mapped[str] = mapped_column(String(253))
    #: the month's first day
    month: Mapped[date] = mapped_column(Date)
    #: the last day it covers: the month's last, or the day it was computed on while it ran
    until: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime]
    compute_ms: Mapped[int] = mapped_column(Integer)
    #: what it saw: the newest id and the number of the domain's reports beginning on the days
    #: it reads, the newest identification of the organisation's sources, and a digest of its
    #: other inputs (registered sources, sender catalogue, published policy, digest version)
    report_max_id: Mapped[int] = mapped_column(Integer)
    report_count: Mapped[int] = mapped_column(Integer)
    identified_until: Mapped[datetime | None]
    inputs_digest: Mapped[str] = mapped_column(String(40))
    #: addresses sending for the domain in the month: what recomputing it costs
    sources: Mapped[int] = mapped_column(Integer)
    #: the digest without language (`dmarc.digest_data.DigestData`, as pydantic writes JSON)
    data: Mapped[dict[str, Any]] = mapped_column(JSONValue)
