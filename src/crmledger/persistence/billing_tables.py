"""Billing tables: invoices, credit notes and bills, payments, allocations, rates, events.

One table holds every billing document (``kind`` = invoice, credit_note or bill) with its
lines; the journal entry it posted is ``entry_id``. What is still open is kept on the row in
the document's currency (``open_minor``) and in the base currency (``open_base_minor``), and
every settlement is an ``allocations`` row, so a customer's balance is a sum over open rows,
not over history (``ix_billing_documents_party``; ``issued_on`` and ``(party_id,
issued_at)`` are indexed for the reads by date and the customer's timeline)::

    billing_documents  INV-2026-0001  issued  gross 11900  open 11900  open_base 11900
    payments           RC-2026-0001   amount 5000  open 0
    allocations        payment RC-2026-0001 → INV-2026-0001  5000

A contract's invoice carries ``(contract_id, billing_date)``, unique, so a billing run that
is repeated for the same date cannot bill twice. ``outbox_events`` receives a row in the
same transaction as every change other systems may care about.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from crmledger.persistence.tables import metadata

_TS = DateTime(timezone=True)

billing_documents = Table(
    "billing_documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(12), nullable=False),
    Column("number", String(30), unique=True),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("currency", String(24), nullable=False),
    Column("status", String(16), nullable=False),
    Column("issued_on", Date),
    Column("due_on", Date),
    Column("settled_on", Date),
    Column("order_id", Integer, ForeignKey("sales_orders.id")),
    Column("contract_id", Integer, ForeignKey("contracts.id")),
    Column("billing_date", Date),
    Column("refers_to", Integer, ForeignKey("billing_documents.id")),
    Column("reference", String(100), nullable=False, server_default=""),
    Column("rate", String(40)),
    Column("net_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("gross_minor", BigInteger, nullable=False),
    Column("paid_minor", BigInteger, nullable=False, server_default="0"),
    Column("credited_minor", BigInteger, nullable=False, server_default="0"),
    Column("open_minor", BigInteger, nullable=False, server_default="0"),
    Column("open_base_minor", BigInteger, nullable=False, server_default="0"),
    Column("entry_id", BigInteger, ForeignKey("journal_entries.id")),
    Column("note", Text, nullable=False, server_default=""),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    # The lines' unit prices include tax (the tax is taken out of each line's gross).
    Column("prices_include_tax", Boolean, nullable=False, server_default="0"),
    # When it was issued: what the customer's timeline dates it by.
    Column("issued_at", _TS),
    CheckConstraint("kind IN ('invoice','credit_note','bill')", name="kind_known"),
    CheckConstraint(
        "status IN ('draft','issued','partially_paid','paid','void')", name="status_known"
    ),
    CheckConstraint("gross_minor = net_minor + tax_minor", name="gross_adds_up"),
    CheckConstraint("open_minor >= 0 AND open_minor <= gross_minor", name="open_within_gross"),
    CheckConstraint("status = 'draft' OR number IS NOT NULL", name="issued_numbered"),
    UniqueConstraint("contract_id", "billing_date", name="uq_billing_documents_contract_date"),
    Index("ix_billing_documents_party", "party_id", "kind", "status"),
    Index("ix_billing_documents_due", "kind", "status", "due_on"),
    Index("ix_billing_documents_order", "order_id"),
    Index("ix_billing_documents_issued", "issued_on"),
    Index("ix_billing_documents_timeline", "party_id", "issued_at"),
)

billing_lines = Table(
    "billing_lines",
    metadata,
    Column("document_id", Integer, ForeignKey("billing_documents.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("product_id", Integer, ForeignKey("products.id")),
    Column("description", Text, nullable=False),
    Column("quantity", String(40), nullable=False),
    Column("unit", String(20), nullable=False, server_default=""),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("discount", String(40), nullable=False),
    Column("tax_category", String(40), nullable=False),
    Column("tax_rate", String(20), nullable=False),
    Column("net_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("account", String(400), nullable=False),
    Column("cost_minor", BigInteger),
    Column("cost_currency", String(24)),
    Column("cost_account", String(400)),
    CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
    CheckConstraint("position >= 1", name="position_from_one"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("number", String(30), nullable=False, unique=True),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("currency", String(24), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("method", String(20), nullable=False),
    Column("bank_account", String(400), nullable=False),
    Column("reference", String(100), nullable=False, server_default=""),
    Column("rate", String(40)),
    Column("base_minor", BigInteger, nullable=False),
    Column("open_minor", BigInteger, nullable=False),
    Column("open_base_minor", BigInteger, nullable=False),
    Column("entry_id", BigInteger, ForeignKey("journal_entries.id"), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    CheckConstraint(
        "kind IN ('receipt','refund','vendor_payment','vendor_refund')", name="kind_known"
    ),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint("open_minor >= 0 AND open_minor <= amount_minor", name="open_within_amount"),
    Index("ix_payments_party", "party_id", "kind", "open_minor"),
)

allocations = Table(
    "allocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("invoice_id", Integer, ForeignKey("billing_documents.id")),
    Column("refund_id", Integer, ForeignKey("payments.id")),
    Column("payment_id", Integer, ForeignKey("payments.id")),
    Column("credit_note_id", Integer, ForeignKey("billing_documents.id")),
    Column("amount_minor", BigInteger, nullable=False),
    Column("allocated_on", Date, nullable=False),
    Column("fx_entry_id", BigInteger, ForeignKey("journal_entries.id")),
    Column("created_at", _TS, nullable=False),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint("(invoice_id IS NULL) <> (refund_id IS NULL)", name="one_debit"),
    CheckConstraint("(payment_id IS NULL) <> (credit_note_id IS NULL)", name="one_credit"),
    Index("ix_allocations_invoice", "invoice_id"),
    Index("ix_allocations_payment", "payment_id"),
)

exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("currency", String(24), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("rate", String(40), nullable=False),
)

tax_rates = Table(
    "tax_rates",
    metadata,
    Column("category", String(40), ForeignKey("tax_categories.category"), primary_key=True),
    Column("valid_from", Date, primary_key=True),
    Column("rate", String(20), nullable=False),
    Column("per", String(10), nullable=False),
    CheckConstraint("per IN ('line','document')", name="per_known"),
)

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("aggregate", String(40), nullable=False),
    Column("aggregate_id", Integer, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(60), nullable=False),
    Column("payload", Text, nullable=False),
    Column("occurred_at", _TS, nullable=False),
    UniqueConstraint("aggregate", "aggregate_id", "seq", name="uq_outbox_events_aggregate_seq"),
)
