"""statements: the base-conversion sums stay proportional to the batch, not to the ledger

PostgreSQL adds the inserted entries' conversions into ``statement_base_conversions`` once
per statement over the transition table ``inserted`` (0012). A transition table has no
statistics, and with hash and merge joins off the planner could drive that insert from
``posting_conversions`` (a scan of every converted posting in the book, kept in memory and
compared with every inserted entry) instead of from the batch: on a book of a hundred
thousand entries a COPY of ten thousand took ten seconds, and the cost grew with the book
(posting a million entries slowed to a few hundred a second). The sum is rewritten so that
each inserted entry looks up its own postings through the ``entry_id`` index and each of
those its conversion through the primary key, whatever the statistics say: each lookup is
a ``LATERAL`` subquery fenced with ``OFFSET 0`` (which keeps the planner from flattening
it into a join it may reorder), run without parallel workers as the guard checks are since
0017. What is summed does not change.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_BASE = "(SELECT value FROM settings WHERE key = 'base_currency')"
_PERIOD = "(extract(year FROM e.date) * 100 + extract(month FROM e.date))::integer"

_INSERTED = f"""
CREATE OR REPLACE FUNCTION statement_conversions_inserted() RETURNS trigger AS $$
BEGIN
  INSERT INTO statement_base_conversions
      (account_id, commodity, period, amount_minor, weight_minor)
  SELECT p.account_id, p.commodity, {_PERIOD}, sum(p.amount_minor), sum(c.weight_minor)
  FROM inserted e
  CROSS JOIN LATERAL (
      SELECT p.id, p.account_id, p.commodity, p.amount_minor FROM postings p
      WHERE p.entry_id = e.id OFFSET 0
  ) p
  CROSS JOIN LATERAL (
      SELECT c.weight_minor FROM posting_conversions c
      WHERE c.posting_id = p.id AND c.weight_commodity = {_BASE}
        AND c.weight_commodity <> p.commodity OFFSET 0
  ) c
  WHERE e.state = 'posted'
  GROUP BY p.account_id, p.commodity, {_PERIOD}
  ON CONFLICT (account_id, commodity, period) DO UPDATE SET
      amount_minor = statement_base_conversions.amount_minor + excluded.amount_minor,
      weight_minor = statement_base_conversions.weight_minor + excluded.weight_minor;
  RETURN NULL;
END $$ LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off
SET max_parallel_workers_per_gather = 0
"""

#: The function as 0012 (and 0017's ``ALTER FUNCTION``) left it.
_BEFORE = f"""
CREATE OR REPLACE FUNCTION statement_conversions_inserted() RETURNS trigger AS $$
BEGIN
  INSERT INTO statement_base_conversions
      (account_id, commodity, period, amount_minor, weight_minor)
  SELECT p.account_id, p.commodity, {_PERIOD}, sum(p.amount_minor), sum(c.weight_minor)
  FROM inserted e JOIN postings p ON p.entry_id = e.id
  JOIN posting_conversions c ON c.posting_id = p.id
  WHERE e.state = 'posted' AND c.weight_commodity = {_BASE}
    AND p.commodity <> c.weight_commodity
  GROUP BY p.account_id, p.commodity, {_PERIOD}
  ON CONFLICT (account_id, commodity, period) DO UPDATE SET
      amount_minor = statement_base_conversions.amount_minor + excluded.amount_minor,
      weight_minor = statement_base_conversions.weight_minor + excluded.weight_minor;
  RETURN NULL;
END $$ LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off
SET max_parallel_workers_per_gather = 0
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite sums row by row, through the indexes
    op.execute(_INSERTED)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_BEFORE)
