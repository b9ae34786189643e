"""integration: webhook subscriptions and deliveries, inbound events, sync state

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-23

``outbox_relay`` and ``relay_state`` record how far the outbox relay got (the events
themselves stay in ``outbox_events``); ``webhook_*`` hold subscriptions, the messages
queued for each and every HTTP attempt; ``sync_*`` hold connectors, cursors, the
external-id map with the state of the last sync, runs, their per-record log, conflicts held
for review and the push queue; ``inbound_events`` the ids of inbound events applied.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _relay() -> None:
    op.create_table(
        "relay_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("watermark", sa.Integer(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_relay_state")),
    )
    op.create_table(
        "outbox_relay",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("worker", sa.String(length=80), nullable=False),
        sa.Column("lease_until", _TS, nullable=False),
        sa.Column("claims", sa.Integer(), server_default="1", nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.CheckConstraint(
            "(state = 'sent') = (sent_at IS NOT NULL)", name=op.f("ck_outbox_relay_sent_when_sent")
        ),
        sa.CheckConstraint("state IN ('claimed','sent')", name=op.f("ck_outbox_relay_state_known")),
        sa.ForeignKeyConstraint(
            ["event_id"], ["outbox_events.id"], name=op.f("fk_outbox_relay_event_id_outbox_events")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_outbox_relay")),
    )


def _subscriptions() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("event_types", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=200), server_default="", nullable=False),
        sa.Column("secrets_enc", sa.Text(), server_default="", nullable=False),
        sa.Column("previous_until", _TS, nullable=True),
        sa.Column("status", sa.String(length=10), server_default="active", nullable=False),
        sa.Column("disabled_reason", sa.String(length=300), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "status IN ('active','disabled')", name=op.f("ck_webhook_subscriptions_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )


def _deliveries() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("msg_id", sa.String(length=80), nullable=False),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", _TS, nullable=True),
        sa.Column("lease_until", _TS, nullable=True),
        sa.Column("last_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), server_default="", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("delivered_at", _TS, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending','delivered','failed')",
            name=op.f("ck_webhook_deliveries_status_known"),
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_webhook_deliveries_attempts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("subscription_id", "msg_id", name="uq_webhook_deliveries_message"),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_deliveries_due", ["status", "next_attempt_at"])
        batch_op.create_index("ix_webhook_deliveries_subscription", ["subscription_id", "id"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", _TS, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), server_default="", nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    with op.batch_alter_table("webhook_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_webhook_attempts_delivery", ["delivery_id", "id"])


def _connectors() -> None:
    op.create_table(
        "sync_connectors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("secrets_enc", sa.Text(), server_default="", nullable=False),
        sa.Column("inbound_scheme", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="active", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "inbound_scheme IS NULL OR inbound_scheme IN ('standard','stripe')",
            name=op.f("ck_sync_connectors_inbound_scheme_known"),
        ),
        sa.CheckConstraint(
            "status IN ('active','paused')", name=op.f("ck_sync_connectors_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_connectors")),
        sa.UniqueConstraint("name", name=op.f("uq_sync_connectors_name")),
    )


def _connector_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["connector_id"],
        ["sync_connectors.id"],
        name=op.f(f"fk_{table}_connector_id_sync_connectors"),
    )


def _sync_state() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=30), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        _connector_key("sync_cursors"),
        sa.PrimaryKeyConstraint("connector_id", "object_type", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_links",
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=30), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=False),
        sa.Column("remote_version", sa.String(length=100), server_default="", nullable=False),
        sa.Column("local_version", sa.Integer(), nullable=False),
        sa.Column("base", sa.Text(), nullable=False),
        sa.Column("synced_at", _TS, nullable=False),
        _connector_key("sync_links"),
        sa.PrimaryKeyConstraint(
            "connector_id", "object_type", "external_id", name=op.f("pk_sync_links")
        ),
        sa.UniqueConstraint("connector_id", "object_type", "local_id", name="uq_sync_links_local"),
    )
    op.create_table(
        "sync_pending",
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=30), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", _TS, nullable=False),
        _connector_key("sync_pending"),
        sa.PrimaryKeyConstraint(
            "connector_id", "object_type", "local_id", name=op.f("pk_sync_pending")
        ),
    )
    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=30), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("remote_enc", sa.Text(), server_default="", nullable=False),
        sa.Column("remote_version", sa.String(length=100), server_default="", nullable=False),
        sa.Column("status", sa.String(length=12), server_default="open", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "(status = 'open') = (decided_at IS NULL)",
            name=op.f("ck_sync_conflicts_decided_when_closed"),
        ),
        sa.CheckConstraint(
            "status IN ('open','kept_local','took_remote')",
            name=op.f("ck_sync_conflicts_status_known"),
        ),
        _connector_key("sync_conflicts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_conflicts_open", ["status", "connector_id", "external_id", "field"]
        )


def _runs() -> None:
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=30), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        *(
            sa.Column(name, sa.Integer(), server_default="0", nullable=False)
            for name in ("created", "updated", "unchanged", "conflicts", "errors")
        ),
        sa.Column("cursor_from", sa.Text(), server_default="", nullable=False),
        sa.Column("cursor_to", sa.Text(), server_default="", nullable=False),
        sa.Column("message", sa.Text(), server_default="", nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.CheckConstraint(
            "mode IN ('pull','push','dry_run','inbound','reconcile')",
            name=op.f("ck_sync_runs_mode_known"),
        ),
        sa.CheckConstraint(
            "status IN ('running','done','failed')", name=op.f("ck_sync_runs_status_known")
        ),
        _connector_key("sync_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index("ix_sync_runs_connector", ["connector_id", "id"])
    op.create_table(
        "sync_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("fields", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "outcome IN ('created','updated','unchanged','conflict','error')",
            name=op.f("ck_sync_log_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["sync_runs.id"], name=op.f("fk_sync_log_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_log")),
    )
    with op.batch_alter_table("sync_log", schema=None) as batch_op:
        batch_op.create_index("ix_sync_log_run", ["run_id", "id"])


def _inbound() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        _connector_key("inbound_events"),
        sa.PrimaryKeyConstraint("connector_id", "event_id", name=op.f("pk_inbound_events")),
    )


def upgrade() -> None:
    _relay()
    _subscriptions()
    _deliveries()
    _connectors()
    _sync_state()
    _runs()
    _inbound()


_INDEXES = {
    "sync_log": ("ix_sync_log_run",),
    "sync_runs": ("ix_sync_runs_connector",),
    "sync_conflicts": ("ix_sync_conflicts_open",),
    "webhook_attempts": ("ix_webhook_attempts_delivery",),
    "webhook_deliveries": ("ix_webhook_deliveries_due", "ix_webhook_deliveries_subscription"),
}
_TABLES = (
    "inbound_events",
    "sync_log",
    "sync_runs",
    "sync_conflicts",
    "sync_pending",
    "sync_links",
    "sync_cursors",
    "sync_connectors",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_subscriptions",
    "outbox_relay",
    "relay_state",
)


def downgrade() -> None:
    for table in _TABLES:
        indexes = _INDEXES.get(table, ())
        if indexes:
            with op.batch_alter_table(table, schema=None) as batch_op:
                for name in indexes:
                    batch_op.drop_index(name)
        op.drop_table(table)
