"""statements: base-currency conversion sums, statement layouts, cash-flow classes,
year-end closes

``statement_base_conversions`` is kept by triggers on ``journal_entries``: when an entry
is inserted as posted, or a draft is posted, the postings of it that are in another
currency than the base and carry a cost or price in the base currency add their amount
and weight to their account, commodity and month. PostgreSQL does it once per statement
over the inserted rows (a COPY of a million entries runs one set-based insert), SQLite per
entry. Existing books are filled from their postings on upgrade.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_CLASSES = "'cash', 'working_capital', 'non_cash', 'investing', 'financing'"
_BASE = "(SELECT value FROM settings WHERE key = 'base_currency')"
_UPSERT = """
INSERT INTO statement_base_conversions
    (account_id, commodity, period, amount_minor, weight_minor)
SELECT p.account_id, p.commodity, {period}, sum(p.amount_minor), sum(c.weight_minor)
FROM {source} JOIN postings p ON p.entry_id = e.id
JOIN posting_conversions c ON c.posting_id = p.id
WHERE {where} AND c.weight_commodity = {base} AND p.commodity <> c.weight_commodity
GROUP BY p.account_id, p.commodity, {period}
ON CONFLICT (account_id, commodity, period) DO UPDATE SET
    amount_minor = statement_base_conversions.amount_minor + excluded.amount_minor,
    weight_minor = statement_base_conversions.weight_minor + excluded.weight_minor
"""
_SQLITE_PERIOD = "CAST(strftime('%Y', {d}) AS INTEGER) * 100 + CAST(strftime('%m', {d}) AS INTEGER)"
_PG_PERIOD = "(extract(year FROM {d}) * 100 + extract(month FROM {d}))::integer"


def _upsert(period: str, source: str, where: str) -> str:
    return _UPSERT.format(period=period, source=source, where=where, base=_BASE)


_SQLITE_ROW = _upsert(_SQLITE_PERIOD.format(d="NEW.date"), "(SELECT NEW.id AS id) e", "true")
SQLITE = [
    f"""CREATE TRIGGER je_statement_conversions AFTER INSERT ON journal_entries
    WHEN NEW.state = 'posted'
    BEGIN {_SQLITE_ROW}; END""",
    f"""CREATE TRIGGER je_statement_conversions_posted AFTER UPDATE OF state ON journal_entries
    WHEN OLD.state = 'draft' AND NEW.state = 'posted'
    BEGIN {_SQLITE_ROW}; END""",
]
POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION statement_conversions_inserted() RETURNS trigger AS $$
BEGIN
  {_upsert(_PG_PERIOD.format(d="e.date"), "inserted e", "e.state = 'posted'")};
  RETURN NULL;
END $$ LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off""",
    f"""CREATE OR REPLACE FUNCTION statement_conversions_posted() RETURNS trigger AS $$
BEGIN
  IF OLD.state = 'draft' AND NEW.state = 'posted' THEN
    {_upsert(_PG_PERIOD.format(d="e.date"), "journal_entries e", "e.id = NEW.id")};
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER je_statement_conversions AFTER INSERT ON journal_entries
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION statement_conversions_inserted()""",
    """CREATE TRIGGER je_statement_conversions_posted AFTER UPDATE OF state ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION statement_conversions_posted()""",
]


def upgrade() -> None:
    op.create_table(
        "statement_base_conversions",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("commodity", sa.String(24), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("weight_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_statement_base_conversions_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["commodity"],
            ["commodities.code"],
            name=op.f("fk_statement_base_conversions_commodity_commodities"),
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "commodity", "period", name=op.f("pk_statement_base_conversions")
        ),
    )
    _triggers()
    op.create_table(
        "statement_flow_classes",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("flow_class", sa.String(32), nullable=False),
        sa.CheckConstraint(
            f"flow_class IN ({_CLASSES})", name=op.f("ck_statement_flow_classes_known")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_statement_flow_classes_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_statement_flow_classes")),
    )
    op.create_table(
        "statement_layouts",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_statement_layouts")),
    )
    op.create_table(
        "year_closes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("previous_lock", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(64), nullable=False),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopened_by", sa.String(64), nullable=True),
        sa.Column("reversal_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("year BETWEEN 1900 AND 2999", name=op.f("ck_year_closes_year_range")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_year_closes_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["reversal_id"],
            ["journal_entries.id"],
            name=op.f("fk_year_closes_reversal_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_year_closes")),
    )
    op.create_index(
        "uq_year_closes_open_year",
        "year_closes",
        ["year"],
        unique=True,
        sqlite_where=sa.text("reopened_at IS NULL"),
        postgresql_where=sa.text("reopened_at IS NULL"),
    )


def _triggers() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    period = (_PG_PERIOD if postgres else _SQLITE_PERIOD).format(d="e.date")
    op.execute(_upsert(period, "journal_entries e", "e.state <> 'draft'"))  # what exists
    for statement in POSTGRESQL if postgres else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in ("je_statement_conversions", "je_statement_conversions_posted"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON journal_entries")
        for function in ("statement_conversions_inserted", "statement_conversions_posted"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for name in ("je_statement_conversions", "je_statement_conversions_posted"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("statement_base_conversions")
    op.drop_index("uq_year_closes_open_year", table_name="year_closes")
    op.drop_table("year_closes")
    op.drop_table("statement_layouts")
    op.drop_table("statement_flow_classes")
