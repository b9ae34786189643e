"""crm deals: pipelines with stages, deals, stage history; the default sales pipeline

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)

# The default pipeline (core.crm.deals.DEFAULT_PIPELINE as of this revision), written out
# so later changes to the code do not change what this migration did.
_DEFAULT_STAGES = (
    ("lead", "Lead", 1000, "open"),
    ("qualified", "Qualified", 2500, "open"),
    ("proposal", "Proposal", 5000, "open"),
    ("negotiation", "Negotiation", 7500, "open"),
    ("won", "Won", 10000, "won"),
    ("lost", "Lost", 0, "lost"),
)


def _pipelines() -> None:
    op.create_table(
        "pipelines",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pipelines")),
    )
    op.create_table(
        "pipeline_stages",
        sa.Column("pipeline", sa.String(64), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("probability_bp", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.CheckConstraint(
            "kind IN ('open','won','lost')", name=op.f("ck_pipeline_stages_kind_known")
        ),
        sa.CheckConstraint(
            "probability_bp >= 0 AND probability_bp <= 10000",
            name=op.f("ck_pipeline_stages_probability_range"),
        ),
        sa.CheckConstraint(
            "(kind <> 'won' OR probability_bp = 10000) AND (kind <> 'lost' OR probability_bp = 0)",
            name=op.f("ck_pipeline_stages_closed_probability"),
        ),
        sa.ForeignKeyConstraint(
            ["pipeline"], ["pipelines.key"], name=op.f("fk_pipeline_stages_pipeline_pipelines")
        ),
        sa.PrimaryKeyConstraint("pipeline", "key", name=op.f("pk_pipeline_stages")),
    )


def _deals() -> None:
    op.create_table(
        "deals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pipeline", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("title_fold", sa.String(400), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(24), nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("probability_bp", sa.Integer(), nullable=True),
        sa.Column("lost_reason", sa.String(500), server_default="", nullable=False),
        sa.Column("won_at", _TS, nullable=True),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_deals_amount_not_negative")),
        sa.CheckConstraint(
            "probability_bp IS NULL OR (probability_bp >= 0 AND probability_bp <= 10000)",
            name=op.f("ck_deals_probability_range"),
        ),
        sa.CheckConstraint(
            "won_at IS NULL OR closed_at IS NOT NULL", name=op.f("ck_deals_won_is_closed")
        ),
        sa.ForeignKeyConstraint(
            ["pipeline", "stage"],
            ["pipeline_stages.pipeline", "pipeline_stages.key"],
            name="fk_deals_stage_pipeline_stages",
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_deals_party_id_parties")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_deals_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
    )
    op.create_index("ix_deals_board", "deals", ["pipeline", "stage", "id"])
    op.create_index("ix_deals_party", "deals", ["party_id", "id"])
    op.create_index("ix_deals_owner", "deals", ["owner_id", "id"])
    op.create_index("ix_deals_close", "deals", ["expected_close", "id"])
    op.create_table(
        "deal_stage_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(64), nullable=True),
        sa.Column("to_stage", sa.String(64), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("by_actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_deal_stage_changes_deal_id_deals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deal_stage_changes")),
    )
    op.create_index("ix_deal_stage_changes_deal", "deal_stage_changes", ["deal_id", "id"])


def _default_pipeline() -> None:
    """A fresh book has a board: the default sales pipeline (data migration)."""
    now = datetime.now(UTC)
    pipelines = sa.table(
        "pipelines",
        sa.column("key", sa.String),
        sa.column("name", sa.String),
        sa.column("version", sa.Integer),
        sa.column("created_at", _TS),
        sa.column("updated_at", _TS),
    )
    stages = sa.table(
        "pipeline_stages",
        sa.column("pipeline", sa.String),
        sa.column("key", sa.String),
        sa.column("name", sa.String),
        sa.column("position", sa.Integer),
        sa.column("probability_bp", sa.Integer),
        sa.column("kind", sa.String),
    )
    op.bulk_insert(
        pipelines,
        [{"key": "sales", "name": "Sales", "version": 1, "created_at": now, "updated_at": now}],
    )
    op.bulk_insert(
        stages,
        [
            {
                "pipeline": "sales",
                "key": k,
                "name": n,
                "position": i,
                "probability_bp": p,
                "kind": t,
            }
            for i, (k, n, p, t) in enumerate(_DEFAULT_STAGES)
        ],
    )


def upgrade() -> None:
    _pipelines()
    _deals()
    _default_pipeline()


def downgrade() -> None:
    op.drop_index("ix_deal_stage_changes_deal", table_name="deal_stage_changes")
    op.drop_table("deal_stage_changes")
    for index in ("ix_deals_close", "ix_deals_owner", "ix_deals_party", "ix_deals_board"):
        op.drop_index(index, table_name="deals")
    for table in ("deals", "pipeline_stages", "pipelines"):
        op.drop_table(table)
