"""The satisfaction table: one row per NPS or CSAT answer a party gave.

The score's range depends on the survey kind, and the database holds that rule too (a raw
``INSERT`` of a CSAT 7 fails), so a row read back always scores::

    kind  score  party_id  answered_on
    nps       9         7  2026-05-04      -- a promoter
    csat      2         7  2026-05-11      -- not satisfied

``interaction_id``, ``order_id`` and ``invoice_id`` say what the answer was about; they are
plain integers, not foreign keys, because those rooms keep their own tables.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from crmledger.persistence.tables import metadata

#: The scale of each survey kind, as SQL (``core.crm.satisfaction.SurveyKind.scale``).
SCORE_IN_SCALE = (
    "(kind = 'nps' AND score BETWEEN 0 AND 10) OR (kind = 'csat' AND score BETWEEN 1 AND 5)"
)

satisfaction_responses = Table(
    "satisfaction_responses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),
    Column("score", Integer, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("answered_on", Date, nullable=False),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("interaction_id", Integer),
    Column("order_id", Integer),
    Column("invoice_id", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    CheckConstraint("kind IN ('nps','csat')", name="kind_known"),
    CheckConstraint(SCORE_IN_SCALE, name="score_in_scale"),
    Index("ix_satisfaction_responses_party", "party_id", "answered_on", "id"),
    Index("ix_satisfaction_responses_answered", "answered_on", "id"),
)
