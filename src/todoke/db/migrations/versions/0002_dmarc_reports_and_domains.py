"""DMARC, failure and TLS reports with their roll-ups; the owned-domain inventory.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:41:33.329581
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from todoke.db.base import JSONValue, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dmarc_day_stats",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("dmarc_pass", sa.BigInteger(), nullable=False),
        sa.Column("spf_aligned", sa.BigInteger(), nullable=False),
        sa.Column("dkim_aligned", sa.BigInteger(), nullable=False),
        sa.Column("quarantined", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organisation_id", "domain", "day", name=op.f("pk_dmarc_day_stats")
        ),
    )
    op.create_table(
        "dmarc_source",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("source_ip", sa.String(length=45), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.Column("ptr_name", sa.String(length=253), nullable=True),
        sa.Column("ptr_status", sa.String(length=16), nullable=True),
        sa.Column("sender_key", sa.String(length=64), nullable=True),
        sa.Column("matched_by", sa.String(length=16), nullable=True),
        sa.Column("identified_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("organisation_id", "source_ip", name=op.f("pk_dmarc_source")),
    )
    with op.batch_alter_table("dmarc_source", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dmarc_source_identified_at"), ["identified_at"], unique=False
        )

    op.create_table(
        "dmarc_source_day",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source_ip", sa.String(length=45), nullable=False),
        sa.Column("shape_id", sa.Integer(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "organisation_id",
            "domain",
            "day",
            "source_ip",
            "shape_id",
            name=op.f("pk_dmarc_source_day"),
        ),
    )
    op.create_table(
        "dmarc_failure_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=40), nullable=False),
        sa.Column("reporter", sa.String(length=300), nullable=False),
        sa.Column("feedback_type", sa.String(length=32), nullable=False),
        sa.Column("arrival_date", UTCDateTime(), nullable=True),
        sa.Column("source_ip", sa.String(length=45), nullable=True),
        sa.Column("reported_domain", sa.String(length=253), nullable=True),
        sa.Column("auth_failure", sa.String(length=32), nullable=True),
        sa.Column("delivery_result", sa.String(length=32), nullable=True),
        sa.Column("header_from", sa.String(length=253), nullable=True),
        sa.Column("dkim_domain", sa.String(length=253), nullable=True),
        sa.Column("dkim_selector", sa.String(length=253), nullable=True),
        sa.Column("original_mail_from", sa.String(length=320), nullable=True),
        sa.Column("original_rcpt_to", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=998), nullable=True),
        sa.Column("original_headers", sa.Text(), nullable=True),
        sa.Column("authentication_results", sa.Text(), nullable=True),
        sa.Column("source_name", sa.String(length=500), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_dmarc_failure_report_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_failure_report")),
        sa.UniqueConstraint(
            "organisation_id", "fingerprint", name=op.f("uq_dmarc_failure_report_organisation_id")
        ),
    )
    with op.batch_alter_table("dmarc_failure_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dmarc_failure_report_domain", ["organisation_id", "reported_domain"], unique=False
        )

    op.create_table(
        "dmarc_source_network",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("network", sa.String(length=49), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "tags",
            JSONValue,
            nullable=False,
        ),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_dmarc_source_network_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_source_network")),
        sa.UniqueConstraint(
            "organisation_id", "network", name=op.f("uq_dmarc_source_network_organisation_id")
        ),
    )
    op.create_table(
        "dmarc_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("reporter_org", sa.String(length=300), nullable=False),
        sa.Column("reporter_email", sa.String(length=320), nullable=True),
        sa.Column("report_id", sa.String(length=300), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("begin_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=False),
        sa.Column("schema", sa.String(length=16), nullable=False),
        sa.Column(
            "policy",
            JSONValue,
            nullable=False,
        ),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("message_count", sa.BigInteger(), nullable=False),
        sa.Column("generator", sa.String(length=300), nullable=True),
        sa.Column(
            "warnings",
            JSONValue,
            nullable=False,
        ),
        sa.Column("source_name", sa.String(length=500), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_dmarc_report_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_report")),
        sa.UniqueConstraint(
            "organisation_id",
            "reporter_org",
            "report_id",
            "domain",
            name=op.f("uq_dmarc_report_organisation_id"),
        ),
    )
    with op.batch_alter_table("dmarc_report", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dmarc_report_org_domain_end", ["organisation_id", "domain", "end_at"], unique=False
        )

    op.create_table(
        "dmarc_shape",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=40), nullable=False),
        sa.Column("header_from", sa.String(length=253), nullable=False),
        sa.Column("dkim_aligned", sa.Boolean(), nullable=False),
        sa.Column("spf_aligned", sa.Boolean(), nullable=False),
        sa.Column("spf_domain", sa.String(length=253), nullable=True),
        sa.Column("spf_result", sa.String(length=16), nullable=True),
        sa.Column("dkim_domain", sa.String(length=253), nullable=True),
        sa.Column("dkim_selector", sa.String(length=253), nullable=True),
        sa.Column("dkim_result", sa.String(length=16), nullable=True),
        sa.Column("override", sa.String(length=32), nullable=True),
        sa.Column("disposition", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_dmarc_shape_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_shape")),
        sa.UniqueConstraint(
            "organisation_id", "fingerprint", name=op.f("uq_dmarc_shape_organisation_id")
        ),
    )
    op.create_table(
        "domain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("sends_mail", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_domain_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain")),
        sa.UniqueConstraint("organisation_id", "name", name=op.f("uq_domain_organisation_id")),
    )
    with op.batch_alter_table("domain", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_domain_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "tls_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("organization_name", sa.String(length=300), nullable=False),
        sa.Column("report_id", sa.String(length=300), nullable=False),
        sa.Column("begin_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=False),
        sa.Column("contact_info", sa.String(length=320), nullable=True),
        sa.Column(
            "policies",
            JSONValue,
            nullable=False,
        ),
        sa.Column("total_successful", sa.BigInteger(), nullable=False),
        sa.Column("total_failure", sa.BigInteger(), nullable=False),
        sa.Column("source_name", sa.String(length=500), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_tls_report_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tls_report")),
        sa.UniqueConstraint(
            "organisation_id",
            "organization_name",
            "report_id",
            name=op.f("uq_tls_report_organisation_id"),
        ),
    )
    op.create_table(
        "dmarc_record",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("report_pk", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source_ip", sa.String(length=45), nullable=False),
        sa.Column("message_count", sa.BigInteger(), nullable=False),
        sa.Column("shape_id", sa.Integer(), nullable=False),
        sa.Column("envelope_to", sa.String(length=253), nullable=True),
        sa.Column("envelope_from", sa.String(length=253), nullable=True),
        sa.Column(
            "details",
            JSONValue,
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["report_pk"],
            ["dmarc_report.id"],
            name=op.f("fk_dmarc_record_report_pk_dmarc_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shape_id"], ["dmarc_shape.id"], name=op.f("fk_dmarc_record_shape_id_dmarc_shape")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_record")),
    )
    with op.batch_alter_table("dmarc_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dmarc_record_domain_day", ["organisation_id", "domain", "day"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dmarc_record_report_pk"), ["report_pk"], unique=False)
        batch_op.create_index(
            "ix_dmarc_record_source", ["organisation_id", "source_ip", "day"], unique=False
        )
    op.create_table(
        "dmarc_mailbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=16), nullable=False),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("password_sealed", sa.Text(), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("processed_folder", sa.String(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_polled_at", UTCDateTime(), nullable=True),
        sa.Column("last_result", JSONValue, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_dmarc_mailbox_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_mailbox")),
    )
    with op.batch_alter_table("dmarc_mailbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dmarc_mailbox_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dmarc_mailbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dmarc_mailbox_organisation_id"))
    op.drop_table("dmarc_mailbox")
    with op.batch_alter_table("dmarc_record", schema=None) as batch_op:
        batch_op.drop_index("ix_dmarc_record_source")
        batch_op.drop_index(batch_op.f("ix_dmarc_record_report_pk"))
        batch_op.drop_index("ix_dmarc_record_domain_day")

    op.drop_table("dmarc_record")
    op.drop_table("tls_report")
    with op.batch_alter_table("domain", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_domain_organisation_id"))

    op.drop_table("domain")
    op.drop_table("dmarc_shape")
    with op.batch_alter_table("dmarc_report", schema=None) as batch_op:
        batch_op.drop_index("ix_dmarc_report_org_domain_end")

    op.drop_table("dmarc_report")
    op.drop_table("dmarc_source_network")
    with op.batch_alter_table("dmarc_failure_report", schema=None) as batch_op:
        batch_op.drop_index("ix_dmarc_failure_report_domain")

    op.drop_table("dmarc_failure_report")
    op.drop_table("dmarc_source_day")
    with op.batch_alter_table("dmarc_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dmarc_source_identified_at"))

    op.drop_table("dmarc_source")
    op.drop_table("dmarc_day_stats")
