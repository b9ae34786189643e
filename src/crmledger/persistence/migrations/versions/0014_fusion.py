"""fusion: runs, source records, lineage and review decisions

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23

``fusion_runs`` records each run (configuration with passwords masked, counts, timings,
report); ``fusion_lineage`` names, per golden party and field, the source record its value
came from; ``fusion_review`` holds the pairs a person decides, once per pair of records,
with the decision later runs respect. Source records are attached to their golden party as
external ids in ``party_external_ids`` (no new table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_COUNTS = ("records_in", "problems", "fixes", "clusters", "created", "updated", "unchanged")


def _runs() -> None:
    op.create_table(
        "fusion_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("merged", sa.Integer(), nullable=False),
        sa.Column("for_review", sa.Integer(), nullable=False),
        sa.Column("timings", sa.Text(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=False),
        sa.CheckConstraint(
            "records_in >= 0 AND problems >= 0 AND fixes >= 0 AND clusters >= 0 AND created >= 0"
            " AND updated >= 0 AND unchanged >= 0 AND merged >= 0 AND for_review >= 0",
            name=op.f("ck_fusion_runs_counts_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fusion_runs")),
    )


def _lineage() -> None:
    op.create_table(
        "fusion_lineage",
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("system", sa.String(length=50), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("source_row", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_fusion_lineage_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["fusion_runs.id"], name=op.f("fk_fusion_lineage_run_id_fusion_runs")
        ),
        sa.PrimaryKeyConstraint("party_id", "field", name=op.f("pk_fusion_lineage")),
    )
    with op.batch_alter_table("fusion_lineage", schema=None) as batch_op:
        batch_op.create_index("ix_fusion_lineage_run", ["run_id"])


def _review() -> None:
    op.create_table(
        "fusion_review",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("left_system", sa.String(length=50), nullable=False),
        sa.Column("left_id", sa.String(length=200), nullable=False),
        sa.Column("right_system", sa.String(length=50), nullable=False),
        sa.Column("right_id", sa.String(length=200), nullable=False),
        sa.Column("probability_ppm", sa.Integer(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("left_values", sa.Text(), nullable=False),
        sa.Column("right_values", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "status IN ('open','accepted','rejected')", name=op.f("ck_fusion_review_status_known")
        ),
        sa.CheckConstraint(
            "probability_ppm >= 0 AND probability_ppm <= 1000000",
            name=op.f("ck_fusion_review_probability_in_range"),
        ),
        sa.CheckConstraint(
            "(status = 'open') = (decided_at IS NULL)",
            name=op.f("ck_fusion_review_decided_when_not_open"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["fusion_runs.id"], name=op.f("fk_fusion_review_run_id_fusion_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fusion_review")),
        sa.UniqueConstraint(
            "left_system", "left_id", "right_system", "right_id", name=op.f("uq_fusion_review_pair")
        ),
    )
    with op.batch_alter_table("fusion_review", schema=None) as batch_op:
        batch_op.create_index("ix_fusion_review_status", ["status", "id"])


def upgrade() -> None:
    _runs()
    _lineage()
    _review()


def downgrade() -> None:
    with op.batch_alter_table("fusion_review", schema=None) as batch_op:
        batch_op.drop_index("ix_fusion_review_status")
    op.drop_table("fusion_review")
    with op.batch_alter_table("fusion_lineage", schema=None) as batch_op:
        batch_op.drop_index("ix_fusion_lineage_run")
    op.drop_table("fusion_lineage")
    op.drop_table("fusion_runs")
