"""The schema migrates up, down to nothing, and up again on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from crmledger.persistence.engine import make_engine
from crmledger.persistence.migrate import downgrade, upgrade


def test_migrations_go_up_down_and_up_again(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"journal_entries", "postings", "account_balances", "balance_assertions"} <= tables
        downgrade(engine)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()
