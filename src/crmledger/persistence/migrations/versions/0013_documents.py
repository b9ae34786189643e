"""documents: tax-inclusive prices, paid orders, issue times

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23

Quotes, sales orders and billing documents get ``prices_include_tax`` (false for everything
written before: those prices excluded tax). Billing documents get ``issued_at``, filled from
``created_at`` for the ones already issued (they were issued when they were made, or the
draft's creation is the best time known), and indexes on ``issued_on`` and on ``(party_id,
issued_at)`` for the reads by date and the customer's timeline. A sales order may be
``paid``.

SQLite cannot alter a CHECK constraint, and the batch "move and copy" would drop
``sales_orders``, which order lines and invoices reference: with ``foreign_keys=ON`` (which
cannot be switched off inside the migration's transaction) SQLite refuses that as soon as one
order has a line. Widening the status check changes nothing stored, so SQLite takes the way
its documentation gives for such changes: the table's definition is rewritten in
``sqlite_master`` under ``writable_schema`` and the schema version is bumped. PostgreSQL
drops and re-creates the constraint. The downgrade turns paid orders back into fulfilled (or
confirmed, if never delivered) ones before it narrows the check again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmledger.persistence.migrations.checks import replace_check

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_FLAGGED = ("quotes", "sales_orders", "billing_documents")
_STATUS_CHECK = "ck_sales_orders_status_known"
_STATUSES = "'draft','confirmed','fulfilled','cancelled'"
_WITH_PAID = "'draft','confirmed','fulfilled','cancelled','paid'"


def _order_statuses(old: str, new: str) -> None:
    """Replace the sales order status check ``status IN (old)`` by ``status IN (new)``."""
    replace_check("sales_orders", _STATUS_CHECK, f"status IN ({old})", f"status IN ({new})")


def upgrade() -> None:
    for table in _FLAGGED:
        op.add_column(
            table,
            sa.Column("prices_include_tax", sa.Boolean(), server_default="0", nullable=False),
        )
    op.add_column("billing_documents", sa.Column("issued_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE billing_documents SET issued_at = created_at WHERE status <> 'draft'")
    op.create_index("ix_billing_documents_issued", "billing_documents", ["issued_on"])
    op.create_index("ix_billing_documents_timeline", "billing_documents", ["party_id", "issued_at"])
    _order_statuses(_STATUSES, _WITH_PAID)


def downgrade() -> None:
    op.execute(
        "UPDATE sales_orders SET status = CASE WHEN fulfilled_on IS NULL "
        "THEN 'confirmed' ELSE 'fulfilled' END WHERE status = 'paid'"
    )
    _order_statuses(_WITH_PAID, _STATUSES)
    op.drop_index("ix_billing_documents_timeline", table_name="billing_documents")
    op.drop_index("ix_billing_documents_issued", table_name="billing_documents")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy would drop tables that
    # others reference, as above.
    op.drop_column("billing_documents", "issued_at")
    for table in reversed(_FLAGGED):
        op.drop_column(table, "prices_include_tax")
