"""crm satisfaction: NPS and CSAT responses of parties

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Kept here (not imported from the tables module): a migration is frozen history.
_SCORE_IN_SCALE = (
    "(kind = 'nps' AND score BETWEEN 0 AND 10) OR (kind = 'csat' AND score BETWEEN 1 AND 5)"
)


def upgrade() -> None:
    op.create_table(
        "satisfaction_responses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.CheckConstraint(
            "kind IN ('nps','csat')", name=op.f("ck_satisfaction_responses_kind_known")
        ),
        sa.CheckConstraint(_SCORE_IN_SCALE, name=op.f("ck_satisfaction_responses_score_in_scale")),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_satisfaction_responses_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_responses")),
    )
    op.create_index(
        "ix_satisfaction_responses_party",
        "satisfaction_responses",
        ["party_id", "answered_on", "id"],
    )
    op.create_index(
        "ix_satisfaction_responses_answered", "satisfaction_responses", ["answered_on", "id"]
    )


def downgrade() -> None:
    op.drop_table("satisfaction_responses")
