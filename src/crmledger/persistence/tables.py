"""The relational schema, as SQLAlchemy Core tables (no domain logic lives here).

Money is stored as integer minor units (``amount_minor``) with the scale of its commodity,
so SQLite and PostgreSQL agree to the last digit. Conversion numbers (costs and prices) are
stored as canonical decimal text because their precision is not bounded by a commodity.
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
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# SQLite only treats "INTEGER PRIMARY KEY" as the rowid; BIGINT elsewhere.
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

commodities = Table(
    "commodities",
    metadata,
    Column("code", String(24), primary_key=True),
    Column("scale", Integer, nullable=False),
    Column("name", String(200), nullable=False, server_default=""),
    CheckConstraint("scale >= 0 AND scale <= 12", name="scale_range"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(400), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("code", String(32), unique=True),
    Column("commodities", Text, nullable=False, server_default=""),
    Column("open_date", Date),
    Column("close_date", Date),
    Column("description", Text, nullable=False, server_default=""),
    Column("version", Integer, nullable=False, server_default="1"),
    CheckConstraint(
        "type IN ('Assets','Liabilities','Equity','Income','Expenses')", name="type_root"
    ),
)

journals = Table(
    "journals",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("last_hash", String(80), nullable=False),
    Column("entry_count", BigInteger, nullable=False, server_default="0"),
)

journal_sequences = Table(
    "journal_sequences",
    metadata,
    Column("journal", String(16), ForeignKey("journals.code"), primary_key=True),
    Column("fiscal_year", Integer, primary_key=True),
    Column("last_number", BigInteger, nullable=False),
)

# One row: the posting lock and the id counters (ids are handed out under the lock, so a
# batch of entries and their postings can be written with plain multi-row inserts), and a
# token that changes with every change to accounts or commodities (so a process can keep
# the chart cached and know when to read it again).
ledger_state = Table(
    "ledger_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("next_entry_id", BigInteger, nullable=False),
    Column("next_posting_id", BigInteger, nullable=False),
    Column("chart_token", String(32), nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=False),
    Column("journal", String(16), ForeignKey("journals.code"), nullable=False),
    Column("fiscal_year", Integer, nullable=False),
    Column("number", BigInteger),
    Column("date", Date, nullable=False),
    Column("narration", Text, nullable=False),
    Column("payee", Text),
    Column("party", String(64)),
    Column("reference", String(200)),
    Column("tags", Text, nullable=False, server_default=""),
    Column("links", Text, nullable=False, server_default=""),
    Column("meta", Text, nullable=False, server_default="[]"),
    Column("state", String(10), nullable=False),
    Column("reverses_id", BigInteger, ForeignKey("journal_entries.id")),
    Column("reversed_by_id", BigInteger, ForeignKey("journal_entries.id")),
    Column("import_id", Integer, ForeignKey("imports.id")),
    Column("hash", String(80)),
    Column("previous_hash", String(80)),
    # Position in the journal's hash chain (posting order; a draft posted late keeps its
    # early id, so ids do not give the order). Not indexed: only the verifier reads in this
    # order, and the hash links, not this column, are what proves the order.
    Column("chain_seq", BigInteger),
    Column("posted_at", DateTime(timezone=True)),
    UniqueConstraint("journal", "fiscal_year", "number", name="uq_entry_number"),
    CheckConstraint("state IN ('draft','posted','reversed')", name="state_known"),
    CheckConstraint(
        "state = 'draft' OR (number IS NOT NULL AND hash IS NOT NULL AND chain_seq IS NOT NULL)",
        name="posted_numbered",
    ),
)
Index("ix_journal_entries_date", journal_entries.c.date)

# Postings stay narrow (they are most of the rows); the rare conversions (cost / price) live
# in their own table, one row per converted posting.
postings = Table(
    "postings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=False),
    # Deferred: a batch writes its postings first, then inserts each entry as posted, which
    # is when the guard triggers check that the entry's postings balance.
    Column(
        "entry_id",
        BigInteger,
        ForeignKey("journal_entries.id", deferrable=True, initially="DEFERRED"),
        nullable=False,
    ),
    Column("line_no", Integer, nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("commodity", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("party", String(64)),
    Column("memo", Text),
    UniqueConstraint("entry_id", "line_no", name="uq_posting_line"),
)
Index("ix_postings_account", postings.c.account_id, postings.c.entry_id)

# The weight of a converted posting: its value in the cost or price commodity, rounded
# half-even to that commodity's scale, with the conversion as written (canonical text).
posting_conversions = Table(
    "posting_conversions",
    metadata,
    Column("posting_id", Id, ForeignKey("postings.id"), primary_key=True, autoincrement=False),
    Column("weight_commodity", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("weight_minor", BigInteger, nullable=False),
    Column("cost_number", String(64)),
    Column("cost_commodity", String(24)),
    Column("cost_total", Boolean),
    Column("price_number", String(64)),
    Column("price_commodity", String(24)),
    Column("price_total", Boolean),
    CheckConstraint("cost_number IS NOT NULL OR price_number IS NOT NULL", name="has_conversion"),
)

# Running balances per account, commodity and month (period = year * 100 + month), kept in
# the posting transaction so reports never have to re-read every posting.
account_balances = Table(
    "account_balances",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("commodity", String(24), ForeignKey("commodities.code"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("debit_minor", BigInteger, nullable=False),
    Column("credit_minor", BigInteger, nullable=False),
)

# What conversions (costs and prices) moved between commodities, per commodity and month:
# +weight in the cost/price commodity, -amount in the posting's own. A trial balance shows
# it, so that each commodity's column adds up to zero even across currencies.
conversion_balances = Table(
    "conversion_balances",
    metadata,
    Column("commodity", String(24), ForeignKey("commodities.code"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("net_minor", BigInteger, nullable=False),
)

# Balance assertions kept from imported files (beancount ``balance``, ledger ``= AMOUNT``):
# the account and its sub-accounts held ``amount_minor`` at the start of ``date``. They were
# checked when imported and are written out again by exports.
balance_assertions = Table(
    "balance_assertions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("commodity", String(24), ForeignKey("commodities.code"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("import_id", Integer, ForeignKey("imports.id")),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(80), nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("batches_done", Integer, nullable=False, server_default="0"),
    Column("complete", Boolean, nullable=False, server_default="0"),
    Column("entries", BigInteger, nullable=False, server_default="0"),
    Column("started_at", DateTime(timezone=True), nullable=False),
)
