"""Spend tables: expense claims with their lines and receipts, and recurring vendor bills.

A claim is one row with its lines; its receipts keep the file's bytes sealed with the field
encryption's keys (``content_enc``), with the type its content showed, its size and the
SHA-256 of the file as uploaded. Once approved, a claim names the entry that booked
it (``entry_id``) and, once reimbursed, the entry that paid it::

    expense_claims    7  EXP-2026-0001  user 3  posted  EUR  gross 11900  entry 42
    expense_receipts  1  claim 7  taxi.pdf  application/pdf  48211  sha256 9f2c...  v1:...

A recurring bill is a schedule with lines; ``recurring_bill_runs`` holds one row per
schedule and billing date (its primary key), written in the transaction that writes the
bill, so a date is billed once however often, or however concurrently, a run repeats.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from crmledger.persistence.tables import metadata

_TS = DateTime(timezone=True)
#: The largest receipt kept: the rule of ``core.billing.expenses``, backed up here.
MAX_RECEIPT_BYTES = 10 * 1024 * 1024

expense_claims = Table(
    "expense_claims",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(30), unique=True),
    Column("employee_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("status", String(12), nullable=False),
    Column("claimed_on", Date, nullable=False),
    Column("description", Text, nullable=False),
    Column("currency", String(24), nullable=False),
    Column("amounts", String(5), nullable=False),
    Column("net_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("gross_minor", BigInteger, nullable=False),
    Column("rate", String(40)),
    Column("base_minor", BigInteger),
    Column("entry_id", BigInteger, ForeignKey("journal_entries.id")),
    Column("decided_by", String(64)),
    Column("decided_at", _TS),
    Column("reason", Text, nullable=False, server_default=""),
    Column("reimbursed_on", Date),
    Column("bank_account", String(400)),
    Column("reimbursement_entry_id", BigInteger, ForeignKey("journal_entries.id")),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    CheckConstraint(
        "status IN ('draft','submitted','posted','reimbursed','rejected')", name="status_known"
    ),
    CheckConstraint("amounts IN ('gross','net')", name="amounts_known"),
    CheckConstraint("gross_minor = net_minor + tax_minor", name="gross_adds_up"),
    CheckConstraint("gross_minor > 0", name="gross_positive"),
    CheckConstraint(
        "status NOT IN ('posted','reimbursed') OR (entry_id IS NOT NULL AND number IS NOT NULL)",
        name="posted_booked",
    ),
    CheckConstraint(
        "status <> 'reimbursed' OR reimbursement_entry_id IS NOT NULL", name="reimbursed_paid"
    ),
    Index("ix_expense_claims_employee", "employee_id", "status"),
    Index("ix_expense_claims_status", "status"),
)

expense_lines = Table(
    "expense_lines",
    metadata,
    Column("claim_id", Integer, ForeignKey("expense_claims.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("account", String(400), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("amount_minor", BigInteger, nullable=False),
    Column("tax_category", String(40)),
    Column("tax_rate", String(20)),
    Column("net_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    CheckConstraint("position >= 1", name="position_from_one"),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
)

expense_receipts = Table(
    "expense_receipts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_id", Integer, ForeignKey("expense_claims.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("content_type", String(40), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content_enc", LargeBinary, nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("created_at", _TS, nullable=False),
    CheckConstraint(
        "content_type IN ('application/pdf','image/png','image/jpeg')", name="type_known"
    ),
    CheckConstraint(f"size > 0 AND size <= {MAX_RECEIPT_BYTES}", name="size_within_limit"),
    Index("ix_expense_receipts_claim", "claim_id"),
)

recurring_bills = Table(
    "recurring_bills",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("currency", String(24), nullable=False),
    Column("reference", String(100), nullable=False, server_default=""),
    Column("note", Text, nullable=False, server_default=""),
    Column("frequency", String(10), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date),
    Column("next_on", Date, nullable=False),
    Column("status", String(10), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    CheckConstraint("frequency IN ('monthly','quarterly','yearly')", name="frequency_known"),
    CheckConstraint("status IN ('active','ended')", name="status_known"),
    CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    CheckConstraint("next_on >= starts_on", name="next_from_start"),
    Index("ix_recurring_bills_due", "status", "next_on"),
)

recurring_bill_lines = Table(
    "recurring_bill_lines",
    metadata,
    Column("schedule_id", Integer, ForeignKey("recurring_bills.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("description", Text, nullable=False),
    Column("quantity", String(40), nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("tax_category", String(40), nullable=False),
    Column("account", String(400), nullable=False),
    CheckConstraint("position >= 1", name="position_from_one"),
    CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
)

recurring_bill_runs = Table(
    "recurring_bill_runs",
    metadata,
    Column("schedule_id", Integer, ForeignKey("recurring_bills.id"), primary_key=True),
    Column("bill_date", Date, primary_key=True),
    Column("document_id", Integer, ForeignKey("billing_documents.id"), unique=True),
    Column("created_at", _TS, nullable=False),
)
