"""The CRM's deal tables: pipelines, their stages, deals and each deal's stage history.

A deal sits in one stage of one pipeline; the pair is a foreign key into
``pipeline_stages``, so no deal can point at a stage that is gone. Numbers are exact:
amounts in integer minor units of the deal's currency, probabilities in basis points
(``5000`` is 0.50)::

    deals(pipeline="sales", stage="proposal", amount_minor=1200000, currency="EUR")
    -- 12,000.00 EUR at the proposal stage of the sales pipeline

Board queries read ``(pipeline, stage)``; a party's and an owner's deals have their own
index, and the history of a deal is read by ``deal_id``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
)

from crmledger.persistence.tables import metadata

pipelines = Table(
    "pipelines",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

pipeline_stages = Table(
    "pipeline_stages",
    metadata,
    Column("pipeline", String(64), ForeignKey("pipelines.key"), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("position", Integer, nullable=False),
    Column("probability_bp", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    CheckConstraint("kind IN ('open','won','lost')", name="kind_known"),
    CheckConstraint("probability_bp >= 0 AND probability_bp <= 10000", name="probability_range"),
    CheckConstraint(
        "(kind <> 'won' OR probability_bp = 10000) AND (kind <> 'lost' OR probability_bp = 0)",
        name="closed_probability",
    ),
)

deals = Table(
    "deals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline", String(64), nullable=False),
    Column("stage", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    # The case-folded title: search matches it with LIKE on both databases alike.
    Column("title_fold", String(400), nullable=False),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(24), nullable=False),
    Column("expected_close", Date),
    Column("owner_id", Integer, ForeignKey("users.id")),
    Column("probability_bp", Integer),
    Column("lost_reason", String(500), nullable=False, server_default=""),
    Column("won_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["pipeline", "stage"],
        ["pipeline_stages.pipeline", "pipeline_stages.key"],
        name="fk_deals_stage_pipeline_stages",
    ),
    CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
    CheckConstraint(
        "probability_bp IS NULL OR (probability_bp >= 0 AND probability_bp <= 10000)",
        name="probability_range",
    ),
    CheckConstraint("won_at IS NULL OR closed_at IS NOT NULL", name="won_is_closed"),
    Index("ix_deals_board", "pipeline", "stage", "id"),
    Index("ix_deals_party", "party_id", "id"),
    Index("ix_deals_owner", "owner_id", "id"),
    Index("ix_deals_close", "expected_close", "id"),
)

deal_stage_changes = Table(
    "deal_stage_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deal_id", Integer, ForeignKey("deals.id"), nullable=False),
    Column("from_stage", String(64)),
    Column("to_stage", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("by_actor", String(100), nullable=False),
    Column("reason", String(500), nullable=False, server_default=""),
    Index("ix_deal_stage_changes_deal", "deal_id", "id"),
)
