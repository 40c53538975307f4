"""DKIM signing keys (private halves sealed), the history of domain checks, test-mail results.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from todoke.db.base import JSONValue, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dkim_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("selector", sa.String(length=63), nullable=False),
        sa.Column("key_type", sa.String(length=16), nullable=False),
        sa.Column("bits", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("private_key_sealed", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("verified_at", UTCDateTime(), nullable=True),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_dkim_key_domain_id_domain")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_dkim_key_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dkim_key")),
        sa.UniqueConstraint("domain_id", "selector", name=op.f("uq_dkim_key_domain_id")),
    )
    with op.batch_alter_table("dkim_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dkim_key_domain_id"), ["domain_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_dkim_key_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "domain_check_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("findings", JSONValue, nullable=False),
        sa.Column("worse", JSONValue, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_domain_check_run_domain_id_domain")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_domain_check_run_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_check_run")),
    )
    with op.batch_alter_table("domain_check_run", schema=None) as batch_op:
        batch_op.create_index(
            "ix_domain_check_run_domain_time", ["domain_id", "checked_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_domain_check_run_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "test_mail_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("verdict", JSONValue, nullable=False),
        sa.Column("with_tls", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_test_mail_result_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_test_mail_result_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_mail_result")),
    )
    with op.batch_alter_table("test_mail_result", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_test_mail_result_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_test_mail_result_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("test_mail_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_test_mail_result_user_id"))
        batch_op.drop_index(batch_op.f("ix_test_mail_result_organisation_id"))
    op.drop_table("test_mail_result")
    with op.batch_alter_table("domain_check_run", schema=None) as batch_op:
        batch_op.drop_index("ix_domain_check_run_domain_time")
        batch_op.drop_index(batch_op.f("ix_domain_check_run_organisation_id"))
    op.drop_table("domain_check_run")
    with op.batch_alter_table("dkim_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dkim_key_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_dkim_key_domain_id"))
    op.drop_table("dkim_key")
