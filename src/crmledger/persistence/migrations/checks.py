"""Changing the list of values a CHECK constraint allows, on PostgreSQL and SQLite.

PostgreSQL drops and re-creates the constraint. SQLite cannot alter a constraint, and
rebuilding a table would drop its triggers, so the table's stored definition is edited in
place (``PRAGMA writable_schema``), the documented way to change a CHECK that only widens
or narrows a value list::

    replace_check("sync_runs", "ck_sync_runs_mode_known", "mode IN ('pull')",
                  "mode IN ('pull','export')")
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def replace_check(table: str, name: str, old: str, new: str) -> None:
    """Replace ``table``'s check ``name`` reading ``old`` by one reading ``new``."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(op.f(name), table, new)
        return
    version = int(bind.exec_driver_sql("PRAGMA schema_version").scalar_one())
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    try:
        done = bind.execute(
            sa.text(
                "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
                "WHERE type = 'table' AND name = :table AND instr(sql, :old) > 0"
            ),
            {"old": old, "new": new, "table": table},
        )
        bind.exec_driver_sql(f"PRAGMA schema_version={version + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")
    if done.rowcount != 1:
        raise RuntimeError(f"{table} has no check {old!r} to replace")
