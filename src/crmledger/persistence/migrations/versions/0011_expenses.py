"""expenses: expense claims with receipts, recurring bills

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_MAX_RECEIPT = 10 * 1024 * 1024


def _claims() -> None:
    op.create_table(
        "expense_claims",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=30), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("claimed_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("amounts", sa.String(length=5), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=True),
        sa.Column("base_minor", sa.BigInteger(), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("reimbursed_on", sa.Date(), nullable=True),
        sa.Column("bank_account", sa.String(length=400), nullable=True),
        sa.Column("reimbursement_entry_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "status IN ('draft','submitted','posted','reimbursed','rejected')",
            name=op.f("ck_expense_claims_status_known"),
        ),
        sa.CheckConstraint(
            "amounts IN ('gross','net')", name=op.f("ck_expense_claims_amounts_known")
        ),
        sa.CheckConstraint(
            "gross_minor = net_minor + tax_minor", name=op.f("ck_expense_claims_gross_adds_up")
        ),
        sa.CheckConstraint("gross_minor > 0", name=op.f("ck_expense_claims_gross_positive")),
        sa.CheckConstraint(
            "status NOT IN ('posted','reimbursed') OR (entry_id IS NOT NULL AND number IS NOT NULL)",
            name=op.f("ck_expense_claims_posted_booked"),
        ),
        sa.CheckConstraint(
            "status <> 'reimbursed' OR reimbursement_entry_id IS NOT NULL",
            name=op.f("ck_expense_claims_reimbursed_paid"),
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["users.id"], name=op.f("fk_expense_claims_employee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_expense_claims_entry_id_journal_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["reimbursement_entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_expense_claims_reimbursement_entry_id_journal_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expense_claims")),
        sa.UniqueConstraint("number", name=op.f("uq_expense_claims_number")),
    )
    with op.batch_alter_table("expense_claims", schema=None) as batch_op:
        batch_op.create_index("ix_expense_claims_employee", ["employee_id", "status"])
        batch_op.create_index("ix_expense_claims_status", ["status"])
    op.create_table(
        "expense_lines",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=400), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_category", sa.String(length=40), nullable=True),
        sa.Column("tax_rate", sa.String(length=20), nullable=True),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_expense_lines_position_from_one")),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_expense_lines_amount_positive")),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["expense_claims.id"],
            name=op.f("fk_expense_lines_claim_id_expense_claims"),
        ),
        sa.PrimaryKeyConstraint("claim_id", "position", name=op.f("pk_expense_lines")),
    )
    op.create_table(
        "expense_receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_enc", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint(
            "content_type IN ('application/pdf','image/png','image/jpeg')",
            name=op.f("ck_expense_receipts_type_known"),
        ),
        sa.CheckConstraint(
            f"size > 0 AND size <= {_MAX_RECEIPT}",
            name=op.f("ck_expense_receipts_size_within_limit"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["expense_claims.id"],
            name=op.f("fk_expense_receipts_claim_id_expense_claims"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expense_receipts")),
    )
    with op.batch_alter_table("expense_receipts", schema=None) as batch_op:
        batch_op.create_index("ix_expense_receipts_claim", ["claim_id"])


def _recurring() -> None:
    op.create_table(
        "recurring_bills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=24), nullable=False),
        sa.Column("reference", sa.String(length=100), server_default="", nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("next_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "frequency IN ('monthly','quarterly','yearly')",
            name=op.f("ck_recurring_bills_frequency_known"),
        ),
        sa.CheckConstraint(
            "status IN ('active','ended')", name=op.f("ck_recurring_bills_status_known")
        ),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on",
            name=op.f("ck_recurring_bills_ends_after_start"),
        ),
        sa.CheckConstraint("next_on >= starts_on", name=op.f("ck_recurring_bills_next_from_start")),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_recurring_bills_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurring_bills")),
    )
    with op.batch_alter_table("recurring_bills", schema=None) as batch_op:
        batch_op.create_index("ix_recurring_bills_due", ["status", "next_on"])
    op.create_table(
        "recurring_bill_lines",
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.String(length=40), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_category", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=400), nullable=False),
        sa.CheckConstraint("position >= 1", name=op.f("ck_recurring_bill_lines_position_from_one")),
        sa.CheckConstraint(
            "unit_price_minor >= 0", name=op.f("ck_recurring_bill_lines_price_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["recurring_bills.id"],
            name=op.f("fk_recurring_bill_lines_schedule_id_recurring_bills"),
        ),
        sa.PrimaryKeyConstraint("schedule_id", "position", name=op.f("pk_recurring_bill_lines")),
    )
    op.create_table(
        "recurring_bill_runs",
        sa.Column("schedule_id", sa.Integer(), nullable=False),
        sa.Column("bill_date", sa.Date(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["recurring_bills.id"],
            name=op.f("fk_recurring_bill_runs_schedule_id_recurring_bills"),
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["billing_documents.id"],
            name=op.f("fk_recurring_bill_runs_document_id_billing_documents"),
        ),
        sa.PrimaryKeyConstraint("schedule_id", "bill_date", name=op.f("pk_recurring_bill_runs")),
        sa.UniqueConstraint("document_id", name=op.f("uq_recurring_bill_runs_document_id")),
    )


def upgrade() -> None:
    _claims()
    _recurring()


def downgrade() -> None:
    op.drop_table("recurring_bill_runs")
    op.drop_table("recurring_bill_lines")
    with op.batch_alter_table("recurring_bills", schema=None) as batch_op:
        batch_op.drop_index("ix_recurring_bills_due")
    op.drop_table("recurring_bills")
    with op.batch_alter_table("expense_receipts", schema=None) as batch_op:
        batch_op.drop_index("ix_expense_receipts_claim")
    op.drop_table("expense_receipts")
    op.drop_table("expense_lines")
    with op.batch_alter_table("expense_claims", schema=None) as batch_op:
        batch_op.drop_index("ix_expense_claims_status")
        batch_op.drop_index("ix_expense_claims_employee")
    op.drop_table("expense_claims")
