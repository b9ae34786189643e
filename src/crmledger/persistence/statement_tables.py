"""Tables of the financial statements: running sums of conversions into the base currency,
cash-flow class overrides, statement layouts and year-end closes.

``statement_base_conversions`` holds, per account, commodity and month, the amounts of the
postings in another currency that carry a cost or price in the base currency, and their
weights (their base value). The database keeps it in the posting transaction (triggers on
``journal_entries``, see migration 0012), so a statement corrects the monthly running
balances without reading a posting.

A year is closed at most once at a time: the partial unique index on ``year`` among the
closes not reopened backs up the service's rule, so two closes racing each other cannot
both be recorded::

    year_closes  id 1  year 2026  entry 4812  previous lock 2026-11-30  closed ...
                                              reopened ...  reversal 4815
    year_closes  id 2  year 2026  entry 4816  previous lock 2026-11-30  closed ...
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
    String,
    Table,
    Text,
    text,
)

from crmledger.persistence.tables import metadata

FLOW_CLASSES = ("cash", "working_capital", "non_cash", "investing", "financing")

statement_base_conversions = Table(
    "statement_base_conversions",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("commodity", String(24), ForeignKey("commodities.code"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("weight_minor", BigInteger, nullable=False),
)

statement_flow_classes = Table(
    "statement_flow_classes",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("flow_class", String(32), nullable=False),
    CheckConstraint(
        "flow_class IN ({})".format(", ".join(f"'{c}'" for c in FLOW_CLASSES)), name="known"
    ),
)

statement_layouts = Table(
    "statement_layouts",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("rules", Text, nullable=False),
)

year_closes = Table(
    "year_closes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("year", Integer, nullable=False),
    Column("entry_id", BigInteger, ForeignKey("journal_entries.id")),
    Column("previous_lock", Date),
    Column("closed_at", DateTime(timezone=True), nullable=False),
    Column("closed_by", String(64), nullable=False),
    Column("reopened_at", DateTime(timezone=True)),
    Column("reopened_by", String(64)),
    Column("reversal_id", BigInteger, ForeignKey("journal_entries.id")),
    CheckConstraint("year BETWEEN 1900 AND 2999", name="year_range"),
    Index(
        "uq_year_closes_open_year",
        "year",
        unique=True,
        sqlite_where=text("reopened_at IS NULL"),
        postgresql_where=text("reopened_at IS NULL"),
    ),
)
