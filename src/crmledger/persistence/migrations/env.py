"""Alembic environment: runs against the connection or URL handed in by :mod:`.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from crmledger.persistence import (  # noqa: F401  (registers tables)
    billing_tables,
    commerce_tables,
    crm_tables,
    deal_tables,
    dunning_tables,
    expense_tables,
    fusion_tables,
    integration_tables,
    interaction_tables,
    platform_tables,
    satisfaction_tables,
)
from crmledger.persistence.engine import make_engine
from crmledger.persistence.tables import metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///crmledger.db")
    with engine.connect() as conn:
        _run(conn)
