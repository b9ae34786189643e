"""Dunning tables: one row per reminder letter sent for an overdue invoice.

``UNIQUE(invoice_id, level)`` means a level goes out once per invoice, whatever runs
overlap; the letter itself is recorded as an interaction on the customer's timeline
(``interaction_id``), which paying the invoice resolves::

    dunning_notices  invoice 7  level 1  2026-06-22  15 days  open 11900  interaction 31
    dunning_notices  invoice 7  level 2  2026-07-06  29 days  open 11900  interaction 44
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    UniqueConstraint,
)

from crmledger.persistence.tables import metadata

dunning_notices = Table(
    "dunning_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("invoice_id", Integer, ForeignKey("billing_documents.id"), nullable=False),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("level", Integer, nullable=False),
    Column("sent_on", Date, nullable=False),
    Column("days_overdue", Integer, nullable=False),
    Column("open_minor", BigInteger, nullable=False),
    Column("interaction_id", Integer, ForeignKey("interactions.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("level >= 1", name="level_from_one"),
    CheckConstraint("days_overdue >= 1", name="overdue"),
    CheckConstraint("open_minor > 0", name="open_positive"),
    UniqueConstraint("invoice_id", "level", name="uq_dunning_notices_invoice_level"),
    Index("ix_dunning_notices_party", "party_id", "sent_on"),
)
