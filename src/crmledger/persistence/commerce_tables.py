"""The CRM's commerce tables: the catalogue, tax categories, quotes, sales orders, contracts.

Money is integer minor units of the row's currency (``unit_price_minor``, ``gross_minor``),
never a float; quantities, discounts and tax rates are exact decimal text (``"2.5"``,
``"0.19"``), so SQLite and PostgreSQL give back exactly what was stored. A quote's or an
order's totals are stored with it as ``core.crm.documents.totals`` computed them, line by
line, so a later change of a tax rate never changes a document already written
(``prices_include_tax`` says whether its unit prices were gross)::

    quotes.number = "Q-2026-0001"      -- gapless per year: document_sequences
    quote_lines   = (quote_id, position, ..., net_minor, tax_minor)

``tax_categories`` is seeded by the migration with the CRM's defaults (``standard`` 19 %,
``reduced`` 7 %, ``zero``; each rounded per line) until the tax issue adds dated rates.
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
)

from crmledger.persistence.tables import metadata

_TS = DateTime(timezone=True)
QUOTE_STATUSES = "'draft','sent','accepted','rejected','expired','cancelled'"
ORDER_STATUSES = "'draft','confirmed','fulfilled','cancelled','paid'"

tax_categories = Table(
    "tax_categories",
    metadata,
    Column("category", String(40), primary_key=True),
    Column("rate", String(20), nullable=False),
    Column("per", String(10), nullable=False),
    CheckConstraint("per IN ('line','document')", name="per_known"),
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sku", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("unit", String(20), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("tax_category", String(40), ForeignKey("tax_categories.category"), nullable=False),
    Column("income_account", String(400), nullable=False),
    Column("cost_minor", BigInteger),
    Column("cost_currency", String(24)),
    Column("cost_account", String(400)),
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    CheckConstraint("kind IN ('good','service')", name="kind_known"),
    CheckConstraint("cost_minor IS NULL OR cost_minor >= 0", name="cost_not_negative"),
    CheckConstraint(
        "(cost_minor IS NULL) = (cost_currency IS NULL) "
        "AND (cost_minor IS NULL) = (cost_account IS NULL)",
        name="cost_complete",
    ),
    Index("ix_products_name", "name"),
)

product_prices = Table(
    "product_prices",
    metadata,
    Column("product_id", Integer, ForeignKey("products.id"), primary_key=True),
    Column("currency", String(24), primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    CheckConstraint("amount_minor >= 0", name="not_negative"),
)

document_sequences = Table(
    "document_sequences",
    metadata,
    Column("series", String(10), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_number", Integer, nullable=False),
)

quotes = Table(
    "quotes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    # The deals room is written alongside: a plain id, checked by the deals' won hook.
    Column("deal_id", Integer),
    Column("currency", String(24), nullable=False),
    Column("status", String(10), nullable=False),
    Column("valid_until", Date),
    Column("issued_on", Date, nullable=False),
    Column("sent_on", Date),
    Column("decided_on", Date),
    Column("net_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("gross_minor", BigInteger, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    Column("prices_include_tax", Boolean, nullable=False, server_default="0"),
    CheckConstraint(f"status IN ({QUOTE_STATUSES})", name="status_known"),
    CheckConstraint("gross_minor = net_minor + tax_minor", name="gross_adds_up"),
    Index("ix_quotes_party", "party_id", "id"),
    Index("ix_quotes_deal", "deal_id"),
)

sales_orders = Table(
    "sales_orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("deal_id", Integer),
    # One order per accepted quote, and the database says so.
    Column("quote_id", Integer, ForeignKey("quotes.id"), unique=True),
    Column("currency", String(24), nullable=False),
    Column("status", String(10), nullable=False),
    Column("ordered_on", Date, nullable=False),
    Column("confirmed_on", Date),
    Column("fulfilled_on", Date),
    Column("net_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("gross_minor", BigInteger, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    Column("prices_include_tax", Boolean, nullable=False, server_default="0"),
    CheckConstraint(f"status IN ({ORDER_STATUSES})", name="status_known"),
    CheckConstraint("gross_minor = net_minor + tax_minor", name="gross_adds_up"),
    Index("ix_sales_orders_party", "party_id", "id"),
)


def _lines(name: str, parent: str) -> Table:
    return Table(
        name,
        metadata,
        Column("document_id", Integer, ForeignKey(f"{parent}.id"), primary_key=True),
        Column("position", Integer, primary_key=True),
        Column("product_id", Integer, ForeignKey("products.id")),
        Column("description", Text, nullable=False),
        Column("quantity", String(40), nullable=False),
        Column("unit_price_minor", BigInteger, nullable=False),
        Column("discount", String(40), nullable=False),
        Column("tax_category", String(40), nullable=False),
        Column("tax_rate", String(20), nullable=False),
        Column("net_minor", BigInteger, nullable=False),
        Column("tax_minor", BigInteger, nullable=False),
        CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
        CheckConstraint("position >= 1", name="position_from_one"),
    )


quote_lines = _lines("quote_lines", "quotes")
order_lines = _lines("order_lines", "sales_orders")

contracts = Table(
    "contracts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("product_id", Integer, ForeignKey("products.id")),
    Column("description", Text, nullable=False),
    Column("currency", String(24), nullable=False),
    Column("frequency", String(10), nullable=False),
    Column("start", Date, nullable=False),
    Column("end", Date),
    Column("next_billing", Date, nullable=False),
    Column("status", String(10), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    CheckConstraint("frequency IN ('monthly','quarterly','yearly')", name="frequency_known"),
    CheckConstraint("status IN ('active','ended','cancelled')", name="status_known"),
    CheckConstraint('"end" IS NULL OR "end" >= start', name="ends_after_start"),
    Index("ix_contracts_due", "status", "next_billing"),
    Index("ix_contracts_party", "party_id", "id"),
)

contract_prices = Table(
    "contract_prices",
    metadata,
    Column("contract_id", Integer, ForeignKey("contracts.id"), primary_key=True),
    Column("effective", Date, primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    CheckConstraint("amount_minor >= 0", name="not_negative"),
)
