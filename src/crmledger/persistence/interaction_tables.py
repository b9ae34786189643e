"""The CRM's ``interactions`` table: every touch with a party, and a complaint's SLA clock.

One row per order, inquiry, complaint, call, email, meeting, note or task. The enums of
``core.crm.interactions`` are CHECK constraints, so a raw SQL write cannot store a status
the rules do not know. Three indexes carry the hot reads:

- ``ix_interactions_timeline`` ``(party_id, occurred_at DESC, id DESC)``: a party's latest
  items by keyset (``WHERE party_id = ? AND (occurred_at, id) < (?, ?)``), never OFFSET;
- ``ix_interactions_queue`` ``(kind, status, sla_resolution_due)``: the open complaints;
- ``ix_interactions_owner`` ``(owner_id, id)``: someone's work.

Full-text search over subject and body is not part of this metadata: it differs per
database (an FTS5 table kept by triggers on SQLite, a generated ``tsvector`` column with a
GIN index on PostgreSQL) and is created by migration ``0005``.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from crmledger.persistence.tables import metadata

KINDS = ("order", "inquiry", "complaint", "call", "email", "meeting", "note", "task")
CHANNELS = ("email", "phone", "web", "chat", "in_person", "letter", "social", "other")
DIRECTIONS = ("inbound", "outbound", "internal")
STATUSES = ("open", "in_progress", "resolved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")


def one_of(column: str, values: tuple[str, ...]) -> str:
    """The CHECK expression ``column IN ('a','b',...)``."""
    listed = ",".join(f"'{v}'" for v in values)
    return f"{column} IN ({listed})"


#: A complaint always carries its SLA due times (``core.crm.interactions.new_interaction``).
COMPLAINT_HAS_SLA = (
    "kind <> 'complaint' OR (sla_first_response_due IS NOT NULL AND sla_resolution_due IS NOT NULL)"
)
#: Only resolved or closed interactions carry a resolution time, only closed ones a close time.
STAMPS_MATCH_STATUS = (
    "(resolved_at IS NULL OR status IN ('resolved','closed')) "
    "AND (closed_at IS NULL OR status = 'closed')"
)

_TS = DateTime(timezone=True)

interactions = Table(
    "interactions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(12), nullable=False),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("contact_id", Integer, ForeignKey("contacts.id")),
    # Deals, orders and invoices live in other rooms; plain ids until their tables exist.
    Column("deal_id", Integer),
    Column("order_id", Integer),
    Column("invoice_id", Integer),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False, server_default=""),
    Column("channel", String(12), nullable=False),
    Column("direction", String(10), nullable=False),
    Column("occurred_at", _TS, nullable=False),
    Column("due_at", _TS),
    Column("status", String(12), nullable=False),
    Column("priority", String(8), nullable=False),
    Column("owner_id", Integer, ForeignKey("users.id")),
    Column("resolution", Text, nullable=False, server_default=""),
    Column("sla_first_response_due", _TS),
    Column("sla_resolution_due", _TS),
    Column("first_response_at", _TS),
    Column("resolved_at", _TS),
    Column("closed_at", _TS),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    CheckConstraint(one_of("kind", KINDS), name="kind_known"),
    CheckConstraint(one_of("channel", CHANNELS), name="channel_known"),
    CheckConstraint(one_of("direction", DIRECTIONS), name="direction_known"),
    CheckConstraint(one_of("status", STATUSES), name="status_known"),
    CheckConstraint(one_of("priority", PRIORITIES), name="priority_known"),
    CheckConstraint(COMPLAINT_HAS_SLA, name="complaint_has_sla"),
    CheckConstraint(STAMPS_MATCH_STATUS, name="stamps_match_status"),
)

Index(
    "ix_interactions_timeline",
    interactions.c.party_id,
    interactions.c.occurred_at.desc(),
    interactions.c.id.desc(),
)
Index(
    "ix_interactions_queue",
    interactions.c.kind,
    interactions.c.status,
    interactions.c.sla_resolution_due,
)
Index("ix_interactions_owner", interactions.c.owner_id, interactions.c.id)
