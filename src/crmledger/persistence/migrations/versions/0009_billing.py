"""billing: invoices, credit notes, bills, payments, allocations, rates, events

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_rates",
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("currency", "day", name=op.f("pk_exchange_rates")),
    )
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("aggregate", sa.String(length=40), nullable=False),
        sa.Column("aggregate_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
        sa.UniqueConstraint(
            "aggregate", "aggregate_id", "seq", name="uq_outbox_events_aggregate_seq"
        ),
    )
    op.create_table(
        "tax_rates",
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("rate", sa.String(length=20), nullable=False),
        sa.Column("per", sa.String(length=10), nullable=False),
        sa.CheckConstraint("per IN ('line','document')", name=op.f("ck_tax_rates_per_known")),
        sa.ForeignKeyConstraint(
            ["category"],
            ["tax_categories.category"],
            name=op.f("fk_tax_rates_category_tax_categories"),
        ),
        sa.PrimaryKeyConstraint("category", "valid_from", name=op.f("pk_tax_rates")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("bank_account", sa.String(length=400), nullable=False),
        sa.Column("reference", sa.String(length=100), server_default="", nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=True),
        sa.Column("base_minor", sa.BigInteger(), nullable=False),
        sa.Column("open_minor", sa.BigInteger(), nullable=False),
        sa.Column("open_base_minor", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('receipt','refund','vendor_payment','vendor_refund')",
            name=op.f("ck_payments_kind_known"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payments_amount_positive")),
        sa.CheckConstraint(
            "open_minor >= 0 AND open_minor <= amount_minor",
            name=op.f("ck_payments_open_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.id"], name=op.f("fk_payments_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_payments_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("number", name=op.f("uq_payments_number")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_party", ["party_id", "kind", "open_minor"], unique=False)

    op.create_table(
        "billing_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=True),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("billing_date", sa.Date(), nullable=True),
        sa.Column("refers_to", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=100), server_default="", nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=True),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("credited_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("open_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("open_base_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('invoice','credit_note','bill')", name=op.f("ck_billing_documents_kind_known")
        ),
        sa.CheckConstraint(
            "status = 'draft' OR number IS NOT NULL",
            name=op.f("ck_billing_documents_issued_numbered"),
        ),
        sa.CheckConstraint(
            "status IN ('draft','issued','partially_paid','paid','void')",
            name=op.f("ck_billing_documents_status_known"),
        ),
        sa.CheckConstraint(
            "gross_minor = net_minor + tax_minor", name=op.f("ck_billing_documents_gross_adds_up")
        ),
        sa.CheckConstraint(
            "open_minor >= 0 AND open_minor <= gross_minor",
            name=op.f("ck_billing_documents_open_within_gross"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_billing_documents_contract_id_contracts"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_billing_documents_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
            name=op.f("fk_billing_documents_order_id_sales_orders"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_billing_documents_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["refers_to"],
            ["billing_documents.id"],
            name=op.f("fk_billing_documents_refers_to_billing_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_documents")),
        sa.UniqueConstraint(
            "contract_id", "billing_date", name="uq_billing_documents_contract_date"
        ),
        sa.UniqueConstraint("number", name=op.f("uq_billing_documents_number")),
    )
    with op.batch_alter_table("billing_documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_billing_documents_due", ["kind", "status", "due_on"], unique=False
        )
        batch_op.create_index("ix_billing_documents_order", ["order_id"], unique=False)
        batch_op.create_index(
            "ix_billing_documents_party", ["party_id", "kind", "status"], unique=False
        )

    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("credit_note_id", sa.Integer(), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("allocated_on", sa.Date(), nullable=False),
        sa.Column("fx_entry_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(invoice_id IS NULL) <> (refund_id IS NULL)", name=op.f("ck_allocations_one_debit")
        ),
        sa.CheckConstraint(
            "(payment_id IS NULL) <> (credit_note_id IS NULL)",
            name=op.f("ck_allocations_one_credit"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_allocations_amount_positive")),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["billing_documents.id"],
            name=op.f("fk_allocations_credit_note_id_billing_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["fx_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_allocations_fx_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["billing_documents.id"],
            name=op.f("fk_allocations_invoice_id_billing_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_allocations_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["payments.id"], name=op.f("fk_allocations_refund_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
    )
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.create_index("ix_allocations_invoice", ["invoice_id"], unique=False)
        batch_op.create_index("ix_allocations_payment", ["payment_id"], unique=False)

    op.create_table(
        "billing_lines",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=20), server_default="", nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.String(length=40), nullable=False),
        sa.Column("tax_category", sa.String(length=40), nullable=False),
        sa.Column("tax_rate", sa.String(length=20), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("account", sa.String(length=400), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("cost_currency", sa.String(length=24), nullable=True),
        sa.Column("cost_account", sa.String(length=400), nullable=True),
        sa.CheckConstraint("position >= 1", name=op.f("ck_billing_lines_position_from_one")),
        sa.CheckConstraint(
            "unit_price_minor >= 0", name=op.f("ck_billing_lines_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["billing_documents.id"],
            name=op.f("fk_billing_lines_document_id_billing_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_billing_lines_product_id_products")
        ),
        sa.PrimaryKeyConstraint("document_id", "position", name=op.f("pk_billing_lines")),
    )
    _seed_tax_rates()


def _seed_tax_rates() -> None:
    """Each existing category's rate becomes its first dated rate, valid from the start."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT category, rate, per FROM tax_categories")).all()
    rates = sa.table(
        "tax_rates",
        sa.column("category", sa.String),
        sa.column("valid_from", sa.Date),
        sa.column("rate", sa.String),
        sa.column("per", sa.String),
    )
    if rows:
        start = date(1900, 1, 1)
        op.bulk_insert(
            rates,
            [{"category": c, "valid_from": start, "rate": r, "per": p} for c, r, p in rows],
        )


def downgrade() -> None:
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_index("ix_allocations_payment")
        batch_op.drop_index("ix_allocations_invoice")
    with op.batch_alter_table("billing_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_documents_party")
        batch_op.drop_index("ix_billing_documents_order")
        batch_op.drop_index("ix_billing_documents_due")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_party")
    op.drop_table("billing_lines")
    op.drop_table("allocations")
    op.drop_table("billing_documents")
    op.drop_table("payments")
    op.drop_table("tax_rates")
    op.drop_table("outbox_events")
    op.drop_table("exchange_rates")
