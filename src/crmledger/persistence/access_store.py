"""SQL implementation of :class:`crmledger.services.ports.AccessStore` and of the stores
for idempotency records and encrypted columns (key rotation)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crmledger.persistence.platform_tables import api_tokens, idempotency_keys, users, web_sessions
from crmledger.services.ports import IdempotentResponse, SessionRow, TokenRow, UserRow

#: Every encrypted column, with the table's key column (the row the value is bound to).
ENCRYPTED_COLUMNS: dict[tuple[str, str], str] = {
    ("users", "email_enc"): "id",
    ("parties", "personal_enc"): "id",
    ("webhook_subscriptions", "secrets_enc"): "id",
    ("sync_connectors", "secrets_enc"): "id",
    ("sync_conflicts", "remote_enc"): "id",
}


def aware(value: datetime | None) -> datetime | None:
    """Timestamps read back from SQLite are naive; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _user(row: Row[Any]) -> UserRow:
    return UserRow(
        id=row.id,
        email_enc=row.email_enc,
        role=row.role,
        password_hash=row.password_hash,
        disabled=bool(row.disabled),
        created_at=aware(row.created_at) or row.created_at,
        last_login_at=aware(row.last_login_at),
        version=row.version,
    )


def _token(row: Row[Any]) -> TokenRow:
    return TokenRow(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        created_at=aware(row.created_at) or row.created_at,
        expires_at=aware(row.expires_at),
        revoked_at=aware(row.revoked_at),
    )


class SqlAccessStore:
    """Users, API tokens and web sessions on one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_user(self, email_index: str, role: str, password_hash: str, at: datetime) -> int:
        result = self.conn.execute(
            insert(users).values(
                email_index=email_index,
                email_enc="",
                role=role,
                password_hash=password_hash,
                created_at=at,
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def user(self, user_id: int) -> UserRow | None:
        row = self.conn.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def user_by_index(self, email_index: str) -> UserRow | None:
        row = self.conn.execute(select(users).where(users.c.email_index == email_index)).first()
        return _user(row) if row else None

    def users(self) -> list[UserRow]:
        return [_user(r) for r in self.conn.execute(select(users).order_by(users.c.id))]

    def update_user(self, user_id: int, version: int | None, **values: object) -> bool:
        where = users.c.id == user_id
        if version is not None:
            where = and_(where, users.c.version == version)
        result = self.conn.execute(
            update(users).where(where).values(version=users.c.version + 1, **values)
        )
        return result.rowcount == 1

    def count_users(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(users)).scalar_one())

    def add_token(
        self, user_id: int, name: str, token_hash: str, at: datetime, expires: datetime | None
    ) -> int:
        result = self.conn.execute(
            insert(api_tokens).values(
                user_id=user_id, name=name, token_hash=token_hash, created_at=at, expires_at=expires
            )
        )
        return int(result.inserted_primary_key[0])  # type: ignore[index]

    def token_by_hash(self, token_hash: str) -> TokenRow | None:
        row = self.conn.execute(
            select(api_tokens).where(api_tokens.c.token_hash == token_hash)
        ).first()
        return _token(row) if row else None

    def tokens(self, user_id: int | None) -> list[TokenRow]:
        query = select(api_tokens).order_by(api_tokens.c.id)
        if user_id is not None:
            query = query.where(api_tokens.c.user_id == user_id)
        return [_token(r) for r in self.conn.execute(query)]

    def revoke_token(self, token_id: int, at: datetime) -> bool:
        result = self.conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return result.rowcount == 1

    def add_session(
        self, id_hash: str, user_id: int, csrf: str, at: datetime, expires: datetime
    ) -> None:
        self.conn.execute(
            insert(web_sessions).values(
                id_hash=id_hash, user_id=user_id, csrf_token=csrf, created_at=at, expires_at=expires
            )
        )

    def session(self, id_hash: str) -> SessionRow | None:
        row = self.conn.execute(
            select(web_sessions).where(web_sessions.c.id_hash == id_hash)
        ).first()
        if row is None:
            return None
        return SessionRow(row.user_id, row.csrf_token, aware(row.expires_at) or row.expires_at)

    def delete_session(self, id_hash: str) -> None:
        self.conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash))

    def delete_sessions_of(self, user_id: int) -> None:
        self.conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))


class SqlIdempotencyStore:
    """Stored first responses, claimed with an insert that does nothing on conflict."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert

    def claim(
        self, principal: str, key: str, request_hash: str, at: datetime
    ) -> IdempotentResponse | None:
        statement = (
            self._insert(idempotency_keys)
            .values(principal=principal, key=key, request_hash=request_hash, created_at=at)
            .on_conflict_do_nothing()
            .returning(idempotency_keys.c.key)
        )
        if self.conn.execute(statement).first() is not None:
            return None
        row = self.conn.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.principal == principal, idempotency_keys.c.key == key
            )
        ).one()
        return IdempotentResponse(
            row.request_hash,
            row.status,
            row.content_type,
            row.body,
            aware(row.created_at) or row.created_at,
        )

    def complete(
        self, principal: str, key: str, status: int, content_type: str, body: bytes
    ) -> None:
        self.conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.principal == principal, idempotency_keys.c.key == key)
            .values(status=status, content_type=content_type, body=body)
        )

    def release(self, principal: str, key: str) -> None:
        self.conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.principal == principal, idempotency_keys.c.key == key
            )
        )

    def purge(self, before: datetime) -> int:
        result = self.conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at < before)
        )
        return int(result.rowcount)


class SqlSecretStore:
    """Encrypted columns, read in row order and replaced value by value (compare-and-set),
    so key rotation runs beside normal traffic."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def encrypted_columns(self) -> list[tuple[str, str]]:
        return sorted(ENCRYPTED_COLUMNS)

    def encrypted_values(
        self, table: str, column: str, after_row: int, limit: int
    ) -> list[tuple[int, str]]:
        key = ENCRYPTED_COLUMNS[(table, column)]
        rows = self.conn.exec_driver_sql(
            f"SELECT {key}, {column} FROM {table} WHERE {key} > {int(after_row)} "
            f"AND {column} <> '' ORDER BY {key} LIMIT {int(limit)}"
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    def replace_encrypted(self, table: str, column: str, row: int, old: str, new: str) -> bool:
        key = ENCRYPTED_COLUMNS[(table, column)]
        mark = "?" if self.conn.dialect.name == "sqlite" else "%s"
        result = self.conn.exec_driver_sql(
            f"UPDATE {table} SET {column} = {mark} WHERE {key} = {mark} AND {column} = {mark}",
            (new, row, old),
        )
        return result.rowcount == 1
