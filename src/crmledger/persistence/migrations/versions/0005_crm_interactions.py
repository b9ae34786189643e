"""crm interactions: the interactions table, its timeline / queue / owner indexes and full-text search

SQLite gets an FTS5 external-content table ``interactions_fts`` (subject, body) kept in step
by triggers on insert, update and delete; PostgreSQL a generated ``tsvector`` column
``search`` (the 'simple' configuration: no stemming, as on SQLite) with a GIN index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)

_KINDS = "kind IN ('order','inquiry','complaint','call','email','meeting','note','task')"
_CHANNELS = "channel IN ('email','phone','web','chat','in_person','letter','social','other')"
_DIRECTIONS = "direction IN ('inbound','outbound','internal')"
_STATUSES = "status IN ('open','in_progress','resolved','closed')"
_PRIORITIES = "priority IN ('low','normal','high','urgent')"
_COMPLAINT_HAS_SLA = (
    "kind <> 'complaint' OR (sla_first_response_due IS NOT NULL AND sla_resolution_due IS NOT NULL)"
)
_STAMPS_MATCH_STATUS = (
    "(resolved_at IS NULL OR status IN ('resolved','closed')) "
    "AND (closed_at IS NULL OR status = 'closed')"
)

_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE interactions_fts USING fts5("
    "subject, body, content='interactions', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER interactions_fts_insert AFTER INSERT ON interactions BEGIN "
    "INSERT INTO interactions_fts(rowid, subject, body) VALUES (new.id, new.subject, new.body); "
    "END",
    "CREATE TRIGGER interactions_fts_delete AFTER DELETE ON interactions BEGIN "
    "INSERT INTO interactions_fts(interactions_fts, rowid, subject, body) "
    "VALUES ('delete', old.id, old.subject, old.body); "
    "END",
    "CREATE TRIGGER interactions_fts_update AFTER UPDATE OF subject, body ON interactions BEGIN "
    "INSERT INTO interactions_fts(interactions_fts, rowid, subject, body) "
    "VALUES ('delete', old.id, old.subject, old.body); "
    "INSERT INTO interactions_fts(rowid, subject, body) VALUES (new.id, new.subject, new.body); "
    "END",
]

_POSTGRES_FTS = [
    "ALTER TABLE interactions ADD COLUMN search tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, subject || ' ' || body)) STORED",
    "CREATE INDEX ix_interactions_search ON interactions USING gin (search)",
]


def _table() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("occurred_at", _TS, nullable=False),
        sa.Column("due_at", _TS, nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), server_default="", nullable=False),
        sa.Column("sla_first_response_due", _TS, nullable=True),
        sa.Column("sla_resolution_due", _TS, nullable=True),
        sa.Column("first_response_at", _TS, nullable=True),
        sa.Column("resolved_at", _TS, nullable=True),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(_KINDS, name=op.f("ck_interactions_kind_known")),
        sa.CheckConstraint(_CHANNELS, name=op.f("ck_interactions_channel_known")),
        sa.CheckConstraint(_DIRECTIONS, name=op.f("ck_interactions_direction_known")),
        sa.CheckConstraint(_STATUSES, name=op.f("ck_interactions_status_known")),
        sa.CheckConstraint(_PRIORITIES, name=op.f("ck_interactions_priority_known")),
        sa.CheckConstraint(_COMPLAINT_HAS_SLA, name=op.f("ck_interactions_complaint_has_sla")),
        sa.CheckConstraint(_STAMPS_MATCH_STATUS, name=op.f("ck_interactions_stamps_match_status")),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_interactions_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_interactions_contact_id_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_interactions_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
    )
    op.create_index(
        "ix_interactions_timeline",
        "interactions",
        ["party_id", sa.text("occurred_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_interactions_queue", "interactions", ["kind", "status", "sla_resolution_due"]
    )
    op.create_index("ix_interactions_owner", "interactions", ["owner_id", "id"])


def upgrade() -> None:
    _table()
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRES_FTS if dialect == "postgresql" else _SQLITE_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS interactions_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS interactions_fts")
    op.drop_table("interactions")
