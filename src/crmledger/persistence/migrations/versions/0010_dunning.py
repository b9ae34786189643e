"""dunning: reminder letters sent for overdue invoices

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dunning_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("open_minor", sa.BigInteger(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level >= 1", name=op.f("ck_dunning_notices_level_from_one")),
        sa.CheckConstraint("days_overdue >= 1", name=op.f("ck_dunning_notices_overdue")),
        sa.CheckConstraint("open_minor > 0", name=op.f("ck_dunning_notices_open_positive")),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["billing_documents.id"],
            name=op.f("fk_dunning_notices_invoice_id_billing_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_dunning_notices_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["interaction_id"],
            ["interactions.id"],
            name=op.f("fk_dunning_notices_interaction_id_interactions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dunning_notices")),
        sa.UniqueConstraint("invoice_id", "level", name="uq_dunning_notices_invoice_level"),
    )
    op.create_index("ix_dunning_notices_party", "dunning_notices", ["party_id", "sent_on"])


def downgrade() -> None:
    op.drop_index("ix_dunning_notices_party", table_name="dunning_notices")
    op.drop_table("dunning_notices")
