"""Stored monthly DMARC digests, kept by the worker.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from todoke.db.base import JSONValue, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dmarc_month_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("compute_ms", sa.Integer(), nullable=False),
        sa.Column("report_max_id", sa.Integer(), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("identified_until", UTCDateTime(), nullable=True),
        sa.Column("inputs_digest", sa.String(length=40), nullable=False),
        sa.Column("sources", sa.Integer(), nullable=False),
        sa.Column("data", JSONValue, nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_dmarc_month_digest_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_month_digest")),
        sa.UniqueConstraint(
            "organisation_id", "domain", "month", name=op.f("uq_dmarc_month_digest_organisation_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("dmarc_month_digest")
