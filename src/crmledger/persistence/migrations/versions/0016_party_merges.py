"""party merges: merges of two book parties and the journal of the rows each moved

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24

``party_merges`` records each merge (survivor, absorbed, status, what moved, who and
when, and who undid it); ``party_merge_rows`` names every row a merge moved, so undoing
it moves back exactly those rows. An absorbed party is absorbed by at most one active
merge (a partial unique index). ``party_external_ids`` gains an index on the external id
alone, for imports that name a party by an id of any system.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_ACTIVE = sa.text("status = 'active'")


def _merges() -> None:
    op.create_table(
        "party_merges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("absorbed_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="active", nullable=False),
        sa.Column("moved", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("merged_by", sa.String(length=64), nullable=False),
        sa.Column("merged_at", _TS, nullable=False),
        sa.Column("undone_by", sa.String(length=64), nullable=True),
        sa.Column("undone_at", _TS, nullable=True),
        sa.CheckConstraint(
            "status IN ('active','undone')", name=op.f("ck_party_merges_status_known")
        ),
        sa.CheckConstraint("survivor_id <> absorbed_id", name=op.f("ck_party_merges_not_self")),
        sa.CheckConstraint(
            "(status = 'active') = (undone_at IS NULL)",
            name=op.f("ck_party_merges_undone_when_undone"),
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"], ["parties.id"], name=op.f("fk_party_merges_survivor_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["absorbed_id"], ["parties.id"], name=op.f("fk_party_merges_absorbed_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["fusion_runs.id"], name=op.f("fk_party_merges_run_id_fusion_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_merges")),
    )
    with op.batch_alter_table("party_merges", schema=None) as batch_op:
        batch_op.create_index("ix_party_merges_survivor", ["survivor_id", "status"])
        batch_op.create_index(
            "ux_party_merges_absorbed_active",
            ["absorbed_id"],
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        )


def _rows() -> None:
    op.create_table(
        "party_merge_rows",
        sa.Column("merge_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("column_name", sa.String(length=40), nullable=False),
        sa.Column("row_key", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["merge_id"],
            ["party_merges.id"],
            name=op.f("fk_party_merge_rows_merge_id_party_merges"),
        ),
        sa.PrimaryKeyConstraint(
            "merge_id", "table_name", "column_name", "row_key", name=op.f("pk_party_merge_rows")
        ),
    )


def upgrade() -> None:
    _merges()
    _rows()
    with op.batch_alter_table("party_external_ids", schema=None) as batch_op:
        batch_op.create_index("ix_party_external_ids_external_id", ["external_id"])


def downgrade() -> None:
    with op.batch_alter_table("party_external_ids", schema=None) as batch_op:
        batch_op.drop_index("ix_party_external_ids_external_id")
    op.drop_table("party_merge_rows")
    with op.batch_alter_table("party_merges", schema=None) as batch_op:
        batch_op.drop_index("ux_party_merges_absorbed_active")
        batch_op.drop_index("ix_party_merges_survivor")
    op.drop_table("party_merges")
