"""ledger schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("commodities", sa.Text(), server_default="", nullable=False),
        sa.Column("open_date", sa.Date(), nullable=True),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "type IN ('Assets','Liabilities','Equity','Income','Expenses')",
            name=op.f("ck_accounts_type_root"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_accounts_code")),
        sa.UniqueConstraint("name", name=op.f("uq_accounts_name")),
    )
    op.create_table(
        "commodities",
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("scale", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.CheckConstraint("scale >= 0 AND scale <= 12", name=op.f("ck_commodities_scale_range")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_commodities")),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(length=80), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("batches_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("complete", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("entries", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_imports_fingerprint")),
    )
    op.create_table(
        "journals",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("last_hash", sa.String(length=80), nullable=False),
        sa.Column("entry_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_journals")),
    )
    op.create_table(
        "ledger_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("next_entry_id", sa.BigInteger(), nullable=False),
        sa.Column("next_posting_id", sa.BigInteger(), nullable=False),
        sa.Column("chart_token", sa.String(length=32), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_ledger_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_state")),
    )
    op.execute(
        "INSERT INTO ledger_state (id, next_entry_id, next_posting_id, chart_token) "
        "VALUES (1, 1, 1, 'initial')"
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "balance_assertions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_balance_assertions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["commodity"],
            ["commodities.code"],
            name=op.f("fk_balance_assertions_commodity_commodities"),
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_balance_assertions_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balance_assertions")),
    )
    op.create_table(
        "conversion_balances",
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commodity"],
            ["commodities.code"],
            name=op.f("fk_conversion_balances_commodity_commodities"),
        ),
        sa.PrimaryKeyConstraint("commodity", "period", name=op.f("pk_conversion_balances")),
    )
    op.create_table(
        "account_balances",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("debit_minor", sa.BigInteger(), nullable=False),
        sa.Column("credit_minor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_balances_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["commodity"],
            ["commodities.code"],
            name=op.f("fk_account_balances_commodity_commodities"),
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "commodity", "period", name=op.f("pk_account_balances")
        ),
    )
    op.create_table(
        "journal_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("journal", sa.String(length=16), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("narration", sa.Text(), nullable=False),
        sa.Column("payee", sa.Text(), nullable=True),
        sa.Column("party", sa.String(length=64), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("tags", sa.Text(), server_default="", nullable=False),
        sa.Column("links", sa.Text(), server_default="", nullable=False),
        sa.Column("meta", sa.Text(), server_default="[]", nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reverses_id", sa.BigInteger(), nullable=True),
        sa.Column("reversed_by_id", sa.BigInteger(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("hash", sa.String(length=80), nullable=True),
        sa.Column("previous_hash", sa.String(length=80), nullable=True),
        sa.Column("chain_seq", sa.BigInteger(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state = 'draft' OR (number IS NOT NULL AND hash IS NOT NULL "
            "AND chain_seq IS NOT NULL)",
            name=op.f("ck_journal_entries_posted_numbered"),
        ),
        sa.CheckConstraint(
            "state IN ('draft','posted','reversed')", name=op.f("ck_journal_entries_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_journal_entries_import_id_imports")
        ),
        sa.ForeignKeyConstraint(
            ["journal"], ["journals.code"], name=op.f("fk_journal_entries_journal_journals")
        ),
        sa.ForeignKeyConstraint(
            ["reversed_by_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_entries_reversed_by_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_entries_reverses_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("journal", "fiscal_year", "number", name="uq_entry_number"),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index("ix_journal_entries_date", ["date"], unique=False)

    op.create_table(
        "journal_sequences",
        sa.Column("journal", sa.String(length=16), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["journal"], ["journals.code"], name=op.f("fk_journal_sequences_journal_journals")
        ),
        sa.PrimaryKeyConstraint("journal", "fiscal_year", name=op.f("pk_journal_sequences")),
    )
    op.create_table(
        "postings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("commodity", sa.String(length=24), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("party", sa.String(length=64), nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_postings_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["commodity"], ["commodities.code"], name=op.f("fk_postings_commodity_commodities")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_postings_entry_id_journal_entries"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postings")),
        sa.UniqueConstraint("entry_id", "line_no", name="uq_posting_line"),
    )
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.create_index("ix_postings_account", ["account_id", "entry_id"], unique=False)

    op.create_table(
        "posting_conversions",
        sa.Column(
            "posting_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("weight_commodity", sa.String(length=24), nullable=False),
        sa.Column("weight_minor", sa.BigInteger(), nullable=False),
        sa.Column("cost_number", sa.String(length=64), nullable=True),
        sa.Column("cost_commodity", sa.String(length=24), nullable=True),
        sa.Column("cost_total", sa.Boolean(), nullable=True),
        sa.Column("price_number", sa.String(length=64), nullable=True),
        sa.Column("price_commodity", sa.String(length=24), nullable=True),
        sa.Column("price_total", sa.Boolean(), nullable=True),
        sa.CheckConstraint(
            "cost_number IS NOT NULL OR price_number IS NOT NULL",
            name=op.f("ck_posting_conversions_has_conversion"),
        ),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["postings.id"], name=op.f("fk_posting_conversions_posting_id_postings")
        ),
        sa.ForeignKeyConstraint(
            ["weight_commodity"],
            ["commodities.code"],
            name=op.f("fk_posting_conversions_weight_commodity_commodities"),
        ),
        sa.PrimaryKeyConstraint("posting_id", name=op.f("pk_posting_conversions")),
    )


def downgrade() -> None:

    op.drop_table("posting_conversions")
    with op.batch_alter_table("postings", schema=None) as batch_op:
        batch_op.drop_index("ix_postings_account")

    op.drop_table("postings")
    op.drop_table("journal_sequences")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entries_date")

    op.drop_table("journal_entries")
    op.drop_table("account_balances")
    op.drop_table("conversion_balances")
    op.drop_table("balance_assertions")
    op.drop_table("settings")
    op.drop_table("ledger_state")
    op.drop_table("journals")
    op.drop_table("imports")
    op.drop_table("commodities")
    op.drop_table("accounts")
