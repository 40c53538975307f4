"""Highlights stored with each source analysis: what changed against the period before and
the sources failing the most mail.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from todoke.db.base import JSONValue

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dmarc_source_analysis", schema=None) as batch_op:
        batch_op.add_column(sa.Column("highlights", JSONValue, nullable=True))
    # Analyses are derived data: the ones stored before highlights (and the condensed
    # readiness and pattern lists) are dropped, and recomputed on demand or by the worker,
    # rather than read through fallbacks kept for them.
    op.execute(sa.text("DELETE FROM dmarc_analysed_source"))
    op.execute(sa.text("DELETE FROM dmarc_source_analysis"))


def downgrade() -> None:
    with op.batch_alter_table("dmarc_source_analysis", schema=None) as batch_op:
        batch_op.drop_column("highlights")
