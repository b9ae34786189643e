"""Integration tables: the outbox relay's progress, webhooks, inbound events, sync state.

The outbox itself (``outbox_events``) is written by the services in each change's own
transaction; the relay only records how far it got::

    outbox_relay         event 812  sent       worker w-1  sent 12:00:03
    outbox_relay         event 813  claimed    worker w-2  lease until 12:00:33
    relay_state          outbox  watermark 800   (every event up to 800 is sent)
    webhook_deliveries   sub 3  msg_812  pending  attempts 2  next 12:05:00
    webhook_attempts     delivery 41  503 after 212 ms
    inbound_events       connector 2  evt_1Nx...  (an inbound event id, applied once)
    sync_links           connector 2  customer  C-1001 <-> party 17  remote v 2026-06-01T..
    sync_runs / sync_log run 9: C-1001 updated (email, phone)

Secrets (webhook signing keys, connector passwords) and the remote values a conflict
holds for review are encrypted with the book's field cipher (``*_enc``); the sync state
keeps per-field keyed hashes of the last synced values, never the values.
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
    UniqueConstraint,
    text,
)

from crmledger.persistence.tables import metadata

_TS = DateTime(timezone=True)

outbox_relay = Table(
    "outbox_relay",
    metadata,
    Column("event_id", Integer, ForeignKey("outbox_events.id"), primary_key=True),
    Column("state", String(10), nullable=False),
    Column("worker", String(80), nullable=False),
    Column("lease_until", _TS, nullable=False),
    Column("claims", Integer, nullable=False, server_default="1"),
    Column("sent_at", _TS),
    CheckConstraint("state IN ('claimed','sent')", name="state_known"),
    CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name="sent_when_sent"),
)

relay_state = Table(
    "relay_state",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("watermark", Integer, nullable=False),
    Column("updated_at", _TS, nullable=False),
)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("event_types", Text, nullable=False),
    Column("description", String(200), nullable=False, server_default=""),
    Column("secrets_enc", Text, nullable=False, server_default=""),
    Column("previous_until", _TS),
    Column("status", String(10), nullable=False, server_default="active"),
    Column("disabled_reason", String(300), nullable=False, server_default=""),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    CheckConstraint("status IN ('active','disabled')", name="status_known"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, ForeignKey("webhook_subscriptions.id"), nullable=False),
    Column("msg_id", String(80), nullable=False),
    Column("event_type", String(60), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", _TS),
    Column("lease_until", _TS),
    Column("last_code", Integer),
    Column("last_error", String(500), nullable=False, server_default=""),
    Column("created_at", _TS, nullable=False),
    Column("delivered_at", _TS),
    CheckConstraint("status IN ('pending','delivered','failed')", name="status_known"),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    UniqueConstraint("subscription_id", "msg_id", name="uq_webhook_deliveries_message"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, ForeignKey("webhook_deliveries.id"), nullable=False),
    Column("attempted_at", _TS, nullable=False),
    Column("status_code", Integer),
    Column("error", String(500), nullable=False, server_default=""),
    Column("duration_ms", Integer, nullable=False),
    Index("ix_webhook_attempts_delivery", "delivery_id", "id"),
)

sync_connectors = Table(
    "sync_connectors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(50), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("config", Text, nullable=False),
    Column("secrets_enc", Text, nullable=False, server_default=""),
    Column("inbound_scheme", String(20)),
    Column("status", String(10), nullable=False, server_default="active"),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    CheckConstraint("status IN ('active','paused')", name="status_known"),
    CheckConstraint(
        "inbound_scheme IS NULL OR inbound_scheme IN ('standard','stripe')",
        name="inbound_scheme_known",
    ),
)

sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("connector_id", Integer, ForeignKey("sync_connectors.id"), primary_key=True),
    Column("object_type", String(30), primary_key=True),
    Column("cursor", Text, nullable=False),
    Column("updated_at", _TS, nullable=False),
)

sync_links = Table(
    "sync_links",
    metadata,
    Column("connector_id", Integer, ForeignKey("sync_connectors.id"), primary_key=True),
    Column("object_type", String(30), primary_key=True),
    Column("external_id", String(200), primary_key=True),
    Column("local_id", Integer, nullable=False),
    Column("remote_version", String(100), nullable=False, server_default=""),
    Column("local_version", Integer, nullable=False),
    Column("base", Text, nullable=False),
    Column("synced_at", _TS, nullable=False),
    # The merge that folded this link into a party linked already (0018); NULL for the
    # party's account link, the one outside record per party that pushes go to.
    Column("merge_id", Integer, ForeignKey("party_merges.id")),
    Index(
        "ux_sync_links_account",
        "connector_id",
        "object_type",
        "local_id",
        unique=True,
        sqlite_where=text("merge_id IS NULL"),
        postgresql_where=text("merge_id IS NULL"),
    ),
)

sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector_id", Integer, ForeignKey("sync_connectors.id"), nullable=False),
    Column("object_type", String(30), nullable=False),
    Column("mode", String(12), nullable=False),
    Column("status", String(10), nullable=False),
    Column("created", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("unchanged", Integer, nullable=False, server_default="0"),
    Column("conflicts", Integer, nullable=False, server_default="0"),
    Column("errors", Integer, nullable=False, server_default="0"),
    Column("cursor_from", Text, nullable=False, server_default=""),
    Column("cursor_to", Text, nullable=False, server_default=""),
    Column("message", Text, nullable=False, server_default=""),
    Column("actor", String(64), nullable=False),
    Column("started_at", _TS, nullable=False),
    Column("finished_at", _TS),
    CheckConstraint(
        "mode IN ('pull','push','dry_run','inbound','reconcile','export')", name="mode_known"
    ),
    CheckConstraint("status IN ('running','done','failed')", name="status_known"),
    Index("ix_sync_runs_connector", "connector_id", "id"),
)

sync_log = Table(
    "sync_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("sync_runs.id"), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("local_id", Integer),
    Column("outcome", String(10), nullable=False),
    Column("reason", String(500), nullable=False, server_default=""),
    Column("fields", Text, nullable=False, server_default=""),
    CheckConstraint(
        "outcome IN ('created','updated','unchanged','conflict','error')", name="outcome_known"
    ),
    Index("ix_sync_log_run", "run_id", "id"),
)

sync_conflicts = Table(
    "sync_conflicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("connector_id", Integer, ForeignKey("sync_connectors.id"), nullable=False),
    Column("object_type", String(30), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("local_id", Integer, nullable=False),
    Column("field", String(40), nullable=False),
    Column("remote_enc", Text, nullable=False, server_default=""),
    Column("remote_version", String(100), nullable=False, server_default=""),
    Column("status", String(12), nullable=False, server_default="open"),
    Column("created_at", _TS, nullable=False),
    Column("decided_at", _TS),
    Column("decided_by", String(64)),
    CheckConstraint("status IN ('open','kept_local','took_remote')", name="status_known"),
    CheckConstraint("(status = 'open') = (decided_at IS NULL)", name="decided_when_closed"),
    Index("ix_sync_conflicts_open", "status", "connector_id", "external_id", "field"),
)

sync_pending = Table(
    "sync_pending",
    metadata,
    Column("connector_id", Integer, ForeignKey("sync_connectors.id"), primary_key=True),
    Column("object_type", String(30), primary_key=True),
    Column("local_id", Integer, primary_key=True),
    Column("queued_at", _TS, nullable=False),
)

inbound_events = Table(
    "inbound_events",
    metadata,
    Column("connector_id", Integer, ForeignKey("sync_connectors.id"), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("received_at", _TS, nullable=False),
    Column("outcome", String(10), nullable=False),
)
