"""Stored per-domain source analyses (the last 14, 30 and 90 days), kept by the worker.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:29:53
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from todoke.db.base import JSONValue, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dmarc_source_analysis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("ready", sa.Boolean(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("recent_since", sa.Date(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("compute_ms", sa.Integer(), nullable=False),
        sa.Column("report_max_id", sa.Integer(), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("identified_until", UTCDateTime(), nullable=True),
        sa.Column("inputs_digest", sa.String(length=40), nullable=False),
        sa.Column("sources", sa.Integer(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("dmarc_pass", sa.BigInteger(), nullable=False),
        sa.Column("spf_aligned", sa.BigInteger(), nullable=False),
        sa.Column("dkim_aligned", sa.BigInteger(), nullable=False),
        sa.Column("kinds", JSONValue, nullable=False),
        sa.Column("patterns", JSONValue, nullable=False),
        sa.Column("readiness", JSONValue, nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_dmarc_source_analysis_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_source_analysis")),
    )
    with op.batch_alter_table("dmarc_source_analysis", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dmarc_source_analysis_window",
            ["organisation_id", "domain", "window_days"],
            unique=False,
        )
    op.create_table(
        "dmarc_analysed_source",
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("source_ip", sa.String(length=45), nullable=False),
        sa.Column("ip_key", sa.String(length=32), nullable=True),
        sa.Column("ptr_name", sa.String(length=253), nullable=True),
        sa.Column("known_sender_key", sa.String(length=64), nullable=True),
        sa.Column("known_matched_by", sa.String(length=16), nullable=True),
        sa.Column("sender_key", sa.String(length=64), nullable=True),
        sa.Column("sender_name", sa.String(length=200), nullable=True),
        sa.Column("sender_name_ja", sa.String(length=200), nullable=True),
        sa.Column("sender_category", sa.String(length=32), nullable=True),
        sa.Column("sender_matched_by", sa.String(length=16), nullable=True),
        sa.Column("sender_tags", JSONValue, nullable=True),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("dmarc_pass", sa.BigInteger(), nullable=False),
        sa.Column("dmarc_fail", sa.BigInteger(), nullable=False),
        sa.Column("spf_aligned", sa.BigInteger(), nullable=False),
        sa.Column("dkim_aligned", sa.BigInteger(), nullable=False),
        sa.Column("recent_messages", sa.BigInteger(), nullable=False),
        sa.Column("recent_pass", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("dominant_pattern", sa.String(length=32), nullable=True),
        sa.Column("failing_patterns", sa.Integer(), nullable=False),
        sa.Column("pattern_volumes", JSONValue, nullable=True),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["dmarc_source_analysis.id"],
            name=op.f("fk_dmarc_analysed_source_analysis_id_dmarc_source_analysis"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("analysis_id", "rank", name=op.f("pk_dmarc_analysed_source")),
    )
    with op.batch_alter_table("dmarc_analysed_source", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dmarc_analysed_source_ip_key", ["analysis_id", "ip_key"], unique=False
        )
        batch_op.create_index(
            "ix_dmarc_analysed_source_kind", ["analysis_id", "kind", "rank"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dmarc_analysed_source", schema=None) as batch_op:
        batch_op.drop_index("ix_dmarc_analysed_source_kind")
        batch_op.drop_index("ix_dmarc_analysed_source_ip_key")
    op.drop_table("dmarc_analysed_source")
    with op.batch_alter_table("dmarc_source_analysis", schema=None) as batch_op:
        batch_op.drop_index("ix_dmarc_source_analysis_window")
    op.drop_table("dmarc_source_analysis")
