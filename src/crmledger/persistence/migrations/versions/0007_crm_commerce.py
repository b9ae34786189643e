"""crm commerce: tax categories, products and prices, quotes, sales orders, contracts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)

# The CRM's default tax categories until the tax issue adds dated rates, written out so
# later changes to the code do not change what this migration did.
_TAX_CATEGORIES = (
    ("standard", "0.19", "line"),
    ("reduced", "0.07", "line"),
    ("zero", "0", "line"),
)
_QUOTE_STATUSES = "'draft','sent','accepted','rejected','expired','cancelled'"
_ORDER_STATUSES = "'draft','confirmed','fulfilled','cancelled'"


def _catalogue() -> None:
    categories = op.create_table(
        "tax_categories",
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("rate", sa.String(20), nullable=False),
        sa.Column("per", sa.String(10), nullable=False),
        sa.CheckConstraint("per IN ('line','document')", name=op.f("ck_tax_categories_per_known")),
        sa.PrimaryKeyConstraint("category", name=op.f("pk_tax_categories")),
    )
    op.bulk_insert(
        categories, [{"category": c, "rate": r, "per": p} for c, r, p in _TAX_CATEGORIES]
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("tax_category", sa.String(40), nullable=False),
        sa.Column("income_account", sa.String(400), nullable=False),
        sa.Column("cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("cost_currency", sa.String(24), nullable=True),
        sa.Column("cost_account", sa.String(400), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("kind IN ('good','service')", name=op.f("ck_products_kind_known")),
        sa.CheckConstraint(
            "cost_minor IS NULL OR cost_minor >= 0", name=op.f("ck_products_cost_not_negative")
        ),
        sa.CheckConstraint(
            "(cost_minor IS NULL) = (cost_currency IS NULL) "
            "AND (cost_minor IS NULL) = (cost_account IS NULL)",
            name=op.f("ck_products_cost_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["tax_category"],
            ["tax_categories.category"],
            name=op.f("fk_products_tax_category_tax_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("sku", name=op.f("uq_products_sku")),
    )
    op.create_index("ix_products_name", "products", ["name"])
    op.create_table(
        "product_prices",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(24), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_product_prices_not_negative")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_prices_product_id_products")
        ),
        sa.PrimaryKeyConstraint("product_id", "currency", name=op.f("pk_product_prices")),
    )


def _document(table: str, statuses: str, columns: list[sa.schema.SchemaItem]) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        *columns,
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("gross_minor", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(f"status IN ({statuses})", name=op.f(f"ck_{table}_status_known")),
        sa.CheckConstraint(
            "gross_minor = net_minor + tax_minor", name=op.f(f"ck_{table}_gross_adds_up")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f(f"fk_{table}_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("number", name=op.f(f"uq_{table}_number")),
    )
    op.create_index(f"ix_{table}_party", table, ["party_id", "id"])


def _lines(table: str, parent: str) -> None:
    op.create_table(
        table,
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.String(40), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.String(40), nullable=False),
        sa.Column("tax_category", sa.String(40), nullable=False),
        sa.Column("tax_rate", sa.String(20), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("unit_price_minor >= 0", name=op.f(f"ck_{table}_price_not_negative")),
        sa.CheckConstraint("position >= 1", name=op.f(f"ck_{table}_position_from_one")),
        sa.ForeignKeyConstraint(
            ["document_id"], [f"{parent}.id"], name=op.f(f"fk_{table}_document_id_{parent}")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f(f"fk_{table}_product_id_products")
        ),
        sa.PrimaryKeyConstraint("document_id", "position", name=op.f(f"pk_{table}")),
    )


def _documents() -> None:
    op.create_table(
        "document_sequences",
        sa.Column("series", sa.String(10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series", "year", name=op.f("pk_document_sequences")),
    )
    _document(
        "quotes",
        _QUOTE_STATUSES,
        [
            sa.Column("currency", sa.String(24), nullable=False),
            sa.Column("status", sa.String(10), nullable=False),
            sa.Column("valid_until", sa.Date(), nullable=True),
            sa.Column("issued_on", sa.Date(), nullable=False),
            sa.Column("sent_on", sa.Date(), nullable=True),
            sa.Column("decided_on", sa.Date(), nullable=True),
        ],
    )
    op.create_index("ix_quotes_deal", "quotes", ["deal_id"])
    _document(
        "sales_orders",
        _ORDER_STATUSES,
        [
            sa.Column("quote_id", sa.Integer(), nullable=True),
            sa.Column("currency", sa.String(24), nullable=False),
            sa.Column("status", sa.String(10), nullable=False),
            sa.Column("ordered_on", sa.Date(), nullable=False),
            sa.Column("confirmed_on", sa.Date(), nullable=True),
            sa.Column("fulfilled_on", sa.Date(), nullable=True),
            sa.ForeignKeyConstraint(
                ["quote_id"], ["quotes.id"], name=op.f("fk_sales_orders_quote_id_quotes")
            ),
            sa.UniqueConstraint("quote_id", name=op.f("uq_sales_orders_quote_id")),
        ],
    )
    _lines("quote_lines", "quotes")
    _lines("order_lines", "sales_orders")


def _contracts() -> None:
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(24), nullable=False),
        sa.Column("frequency", sa.String(10), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("next_billing", sa.Date(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "frequency IN ('monthly','quarterly','yearly')",
            name=op.f("ck_contracts_frequency_known"),
        ),
        sa.CheckConstraint(
            "status IN ('active','ended','cancelled')", name=op.f("ck_contracts_status_known")
        ),
        sa.CheckConstraint(
            '"end" IS NULL OR "end" >= start', name=op.f("ck_contracts_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_contracts_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_contracts_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
    )
    op.create_index("ix_contracts_due", "contracts", ["status", "next_billing"])
    op.create_index("ix_contracts_party", "contracts", ["party_id", "id"])
    op.create_table(
        "contract_prices",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("effective", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_contract_prices_not_negative")),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_contract_prices_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("contract_id", "effective", name=op.f("pk_contract_prices")),
    )


def upgrade() -> None:
    _catalogue()
    _documents()
    _contracts()


def downgrade() -> None:
    for table in (
        "contract_prices",
        "contracts",
        "order_lines",
        "quote_lines",
        "sales_orders",
        "quotes",
        "document_sequences",
        "product_prices",
        "products",
        "tax_categories",
    ):
        op.drop_table(table)
