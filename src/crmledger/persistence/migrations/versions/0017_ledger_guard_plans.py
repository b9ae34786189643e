"""ledger guards: plans that stay proportional to the batch, not to the ledger

PostgreSQL checks inserted entries once per statement over the transition table
``inserted`` (0002). A transition table has no statistics, and on a large book the planner
could drive the balance check from ``postings`` (a parallel scan of every posting, joined to
the batch) instead of from the batch: a COPY of a thousand entries into a book of a million
postings then took tens of seconds, and the cost grew with the book. The check is rewritten
so that each inserted entry looks up its own postings through the ``entry_id`` index
(``LATERAL``), and every transition-table check runs without parallel workers. What is
checked does not change.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_NOT_NEXT = """
    {number} IS NULL OR ({number} > 1 AND NOT EXISTS (
        SELECT 1 FROM journal_entries p WHERE p.journal = {journal}
        AND p.fiscal_year = {year} AND p.number = {number} - 1 AND p.state <> 'draft'))
"""

_UNBALANCED = """
    SELECT 1 FROM inserted n CROSS JOIN LATERAL (
        SELECT sum(coalesce(c.weight_minor, p.amount_minor)) AS total,
               count(c.posting_id) AS converted
        FROM postings p LEFT JOIN posting_conversions c ON c.posting_id = p.id
        WHERE p.entry_id = n.id
        GROUP BY coalesce(c.weight_commodity, p.commodity)
    ) s
    WHERE n.state = 'posted' AND abs(s.total) > s.converted
"""

_ENTRIES_INSERTED = f"""
CREATE OR REPLACE FUNCTION ledger_entries_inserted() RETURNS trigger AS $$
DECLARE lock_date date := (SELECT value::date FROM settings WHERE key = 'lock_date');
BEGIN
  IF EXISTS (SELECT 1 FROM inserted WHERE state NOT IN ('draft', 'posted')) THEN
    RAISE EXCEPTION 'ledger: entries are inserted as drafts or posted';
  END IF;
  IF EXISTS (SELECT 1 FROM inserted WHERE date <= lock_date) THEN
    RAISE EXCEPTION 'ledger: date is on or before the lock date';
  END IF;
  IF EXISTS ({_UNBALANCED}) OR EXISTS (
      SELECT 1 FROM inserted n WHERE n.state = 'posted'
      AND (SELECT count(*) FROM postings p WHERE p.entry_id = n.id) < 2) THEN
    RAISE EXCEPTION 'ledger: entry does not balance';
  END IF;
  IF EXISTS (SELECT 1 FROM inserted n WHERE n.state = 'posted' AND ({
    _NOT_NEXT.format(number="n.number", journal="n.journal", year="n.fiscal_year")
})) THEN
    RAISE EXCEPTION 'ledger: entry number is not the next in its sequence';
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off
SET max_parallel_workers_per_gather = 0
"""

#: The other checks over transition tables (0002, 0012).
_SET_BASED = (
    "ledger_postings_inserted",
    "ledger_conversions_inserted",
    "statement_conversions_inserted",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite checks row by row, through the indexes
    op.execute(_ENTRIES_INSERTED)
    for function in _SET_BASED:
        op.execute(f"ALTER FUNCTION {function}() SET max_parallel_workers_per_gather = 0")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in _SET_BASED:
        op.execute(f"ALTER FUNCTION {function}() RESET max_parallel_workers_per_gather")
    op.execute("ALTER FUNCTION ledger_entries_inserted() RESET max_parallel_workers_per_gather")
