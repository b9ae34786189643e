"""The platform's tables: users, credentials, idempotency records and the audit log.

Personal fields are stored encrypted (``*_enc``: AES-GCM text bound to table, column and
row) with a keyed blind index (``*_index``) where they must be looked up by equality. The
audit log is append-only and hash-chained like the journals; ``audit_state`` holds its head
and serialises appends.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from crmledger.persistence.tables import Id, metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email_index", String(64), nullable=False, unique=True),
    Column("email_enc", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default="1"),
    CheckConstraint(
        "role IN ('admin','accountant','sales','support','auditor','viewer')", name="role_known"
    ),
)

# Bearer tokens and web sessions are stored as SHA-256 of the secret: high-entropy random
# secrets need no slow hash, and a database leak reveals no usable credential.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# The first response to a create with an ``Idempotency-Key``, per principal, replayed byte
# for byte; ``status`` is NULL while the first request is still running.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer),
    Column("content_type", String(100)),
    Column("body", LargeBinary),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_idempotency_keys_created_at", idempotency_keys.c.created_at)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Id, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("via", String(16), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("resource", String(64), nullable=False),
    Column("resource_id", String(200), nullable=False),
    Column("changes", Text, nullable=False),
    Column("previous_hash", String(80), nullable=False),
    Column("hash", String(80), nullable=False),
)
Index("ix_audit_log_resource", audit_log.c.resource, audit_log.c.resource_id)

audit_state = Table(
    "audit_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(80), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)
