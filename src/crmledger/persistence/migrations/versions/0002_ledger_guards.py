"""ledger guards: the database refuses what the ledger service refuses

Posted entries are immutable (only ``posted -> reversed`` with its back-link may change),
cannot be deleted, must balance per weight commodity and carry the next gapless number;
postings of a posted entry cannot be added, changed or removed; nothing is posted or edited
on or before the lock date. Raw SQL cannot get past these rules.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_HASHED = (
    "chain_seq",
    "id",
    "journal",
    "fiscal_year",
    "number",
    "date",
    "narration",
    "payee",
    "party",
    "reference",
    "tags",
    "links",
    "meta",
    "reverses_id",
    "hash",
    "previous_hash",
)
_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _HASHED)
_PG_CHANGED = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _HASHED)

_UNBALANCED = """
    SELECT 1 FROM postings p LEFT JOIN posting_conversions c ON c.posting_id = p.id
    WHERE p.entry_id = {id}
    GROUP BY coalesce(c.weight_commodity, p.commodity)
    HAVING abs(sum(coalesce(c.weight_minor, p.amount_minor))) > count(c.posting_id)
"""
_NOT_NEXT = """
    {number} IS NULL OR ({number} > 1 AND NOT EXISTS (
        SELECT 1 FROM journal_entries p WHERE p.journal = {journal}
        AND p.fiscal_year = {year} AND p.number = {number} - 1 AND p.state <> 'draft'))
"""
_LOCK = "(SELECT value FROM settings WHERE key = 'lock_date')"

SQLITE = [
    # One trigger program for inserts (four checks), as inserts are the hot path.
    f"""CREATE TRIGGER je_insert_guard BEFORE INSERT ON journal_entries BEGIN
    SELECT RAISE(ABORT, 'ledger: entries are inserted as drafts or posted')
    WHERE NEW.state NOT IN ('draft', 'posted');
    SELECT RAISE(ABORT, 'ledger: date is on or before the lock date')
    WHERE NEW.date <= {_LOCK};
    SELECT RAISE(ABORT, 'ledger: entry does not balance')
    WHERE NEW.state = 'posted' AND (
        (SELECT count(*) FROM postings WHERE entry_id = NEW.id) < 2
        OR EXISTS ({_UNBALANCED.format(id="NEW.id")}));
    SELECT RAISE(ABORT, 'ledger: entry number is not the next in its sequence')
    WHERE NEW.state = 'posted' AND ({
        _NOT_NEXT.format(number="NEW.number", journal="NEW.journal", year="NEW.fiscal_year")
    });
    END""",
    f"""CREATE TRIGGER je_immutable BEFORE UPDATE ON journal_entries
    WHEN OLD.state <> 'draft' AND ({_CHANGED}
        OR NOT (NEW.state = OLD.state OR (OLD.state = 'posted' AND NEW.state = 'reversed'))
        OR (OLD.reversed_by_id IS NOT NULL AND NEW.reversed_by_id IS NOT OLD.reversed_by_id))
    BEGIN SELECT RAISE(ABORT, 'ledger: a posted entry is immutable; post a reversal'); END""",
    f"""CREATE TRIGGER je_draft_lock BEFORE UPDATE ON journal_entries
    WHEN OLD.state = 'draft' AND (OLD.date <= {_LOCK} OR NEW.date <= {_LOCK})
    BEGIN SELECT RAISE(ABORT, 'ledger: date is on or before the lock date'); END""",
    f"""CREATE TRIGGER je_post_balanced BEFORE UPDATE OF state ON journal_entries
    WHEN OLD.state = 'draft' AND NEW.state <> 'draft' AND (
        (SELECT count(*) FROM postings WHERE entry_id = NEW.id) < 2
        OR EXISTS ({_UNBALANCED.format(id="NEW.id")}))
    BEGIN SELECT RAISE(ABORT, 'ledger: entry does not balance'); END""",
    f"""CREATE TRIGGER je_post_gapless BEFORE UPDATE OF state ON journal_entries
    WHEN OLD.state = 'draft' AND NEW.state <> 'draft' AND ({
        _NOT_NEXT.format(number="NEW.number", journal="NEW.journal", year="NEW.fiscal_year")
    })
    BEGIN SELECT RAISE(ABORT, 'ledger: entry number is not the next in its sequence'); END""",
    """CREATE TRIGGER je_no_delete BEFORE DELETE ON journal_entries
    WHEN OLD.state <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'ledger: a posted entry cannot be deleted'); END""",
    """CREATE TRIGGER po_insert_guard BEFORE INSERT ON postings
    WHEN (SELECT state FROM journal_entries WHERE id = NEW.entry_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'ledger: postings of a posted entry are immutable'); END""",
    """CREATE TRIGGER po_update_guard BEFORE UPDATE ON postings
    WHEN (SELECT state FROM journal_entries WHERE id = OLD.entry_id) <> 'draft'
      OR (SELECT state FROM journal_entries WHERE id = NEW.entry_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'ledger: postings of a posted entry are immutable'); END""",
    """CREATE TRIGGER po_delete_guard BEFORE DELETE ON postings
    WHEN (SELECT state FROM journal_entries WHERE id = OLD.entry_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'ledger: postings of a posted entry are immutable'); END""",
    *(
        f"""CREATE TRIGGER pc_{op.lower()}_guard BEFORE {op} ON posting_conversions
    WHEN (SELECT e.state FROM postings p JOIN journal_entries e ON e.id = p.entry_id
          WHERE p.id = {row}.posting_id) <> 'draft'
    BEGIN SELECT RAISE(ABORT, 'ledger: postings of a posted entry are immutable'); END"""
        for op, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD"))
    ),
]

# Any change to the chart, by the application or by raw SQL, writes a new chart token, so
# processes that cache accounts and commodities know to read them again.
_CHART_TABLES = ("accounts", "commodities")
SQLITE += [
    f"""CREATE TRIGGER {table}_{op.lower()}_token AFTER {op} ON {table}
    BEGIN UPDATE ledger_state SET chart_token = lower(hex(randomblob(16))) WHERE id = 1; END"""
    for table in _CHART_TABLES
    for op in ("INSERT", "UPDATE", "DELETE")
]

_PG_CHART_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_chart_token() RETURNS trigger AS $$
BEGIN
  UPDATE ledger_state SET chart_token = md5(random()::text || clock_timestamp()::text)
  WHERE id = 1;
  RETURN NULL;
END $$ LANGUAGE plpgsql
"""

# PostgreSQL checks inserts once per statement over the inserted rows (transition tables):
# a COPY of a million postings runs one set-based check, not a million trigger calls.
# Transition tables carry no statistics, so the checks are told to use the indexes rather
# than scan the ledger. Updates and deletes are rare and checked row by row.
_PG_UNBALANCED_SET = """
    SELECT 1 FROM inserted n JOIN postings p ON p.entry_id = n.id
    LEFT JOIN posting_conversions c ON c.posting_id = p.id
    WHERE n.state = 'posted'
    GROUP BY n.id, coalesce(c.weight_commodity, p.commodity)
    HAVING abs(sum(coalesce(c.weight_minor, p.amount_minor))) > count(c.posting_id)
"""

_PG_ENTRIES_INSERTED = f"""
CREATE OR REPLACE FUNCTION ledger_entries_inserted() RETURNS trigger AS $$
DECLARE lock_date date := (SELECT value::date FROM settings WHERE key = 'lock_date');
BEGIN
  IF EXISTS (SELECT 1 FROM inserted WHERE state NOT IN ('draft', 'posted')) THEN
    RAISE EXCEPTION 'ledger: entries are inserted as drafts or posted';
  END IF;
  IF EXISTS (SELECT 1 FROM inserted WHERE date <= lock_date) THEN
    RAISE EXCEPTION 'ledger: date is on or before the lock date';
  END IF;
  IF EXISTS ({_PG_UNBALANCED_SET}) OR EXISTS (
      SELECT 1 FROM inserted n WHERE n.state = 'posted'
      AND (SELECT count(*) FROM postings p WHERE p.entry_id = n.id) < 2) THEN
    RAISE EXCEPTION 'ledger: entry does not balance';
  END IF;
  IF EXISTS (SELECT 1 FROM inserted n WHERE n.state = 'posted' AND ({
    _NOT_NEXT.format(number="n.number", journal="n.journal", year="n.fiscal_year")
})) THEN
    RAISE EXCEPTION 'ledger: entry number is not the next in its sequence';
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off
"""

_PG_ENTRY_CHANGED = f"""
CREATE OR REPLACE FUNCTION ledger_entry_guard() RETURNS trigger AS $$
DECLARE lock_date date := (SELECT value::date FROM settings WHERE key = 'lock_date');
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.state <> 'draft' THEN
      RAISE EXCEPTION 'ledger: a posted entry cannot be deleted';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.state <> 'draft' THEN
    IF {_PG_CHANGED}
       OR NOT (NEW.state = OLD.state OR (OLD.state = 'posted' AND NEW.state = 'reversed'))
       OR (OLD.reversed_by_id IS NOT NULL
           AND NEW.reversed_by_id IS DISTINCT FROM OLD.reversed_by_id) THEN
      RAISE EXCEPTION 'ledger: a posted entry is immutable; post a reversal';
    END IF;
    RETURN NEW;
  END IF;
  IF OLD.date <= lock_date OR NEW.date <= lock_date THEN
    RAISE EXCEPTION 'ledger: date is on or before the lock date';
  END IF;
  IF NEW.state <> 'draft' THEN
    IF (SELECT count(*) FROM postings WHERE entry_id = NEW.id) < 2
       OR EXISTS ({_UNBALANCED.format(id="NEW.id")}) THEN
      RAISE EXCEPTION 'ledger: entry does not balance';
    END IF;
    IF {_NOT_NEXT.format(number="NEW.number", journal="NEW.journal", year="NEW.fiscal_year")}
    THEN
      RAISE EXCEPTION 'ledger: entry number is not the next in its sequence';
    END IF;
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
"""

_PG_LINES_INSERTED = """
CREATE OR REPLACE FUNCTION ledger_lines_inserted() RETURNS trigger AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM inserted n {join} WHERE e.state <> 'draft') THEN
    RAISE EXCEPTION 'ledger: postings of a posted entry are immutable';
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off
"""

_PG_LINE_CHANGED = """
CREATE OR REPLACE FUNCTION ledger_{name}_guard() RETURNS trigger AS $$
BEGIN
  IF (SELECT e.state FROM {source} WHERE {key} = OLD.{column}) <> 'draft'
     OR (TG_OP = 'UPDATE'
         AND (SELECT e.state FROM {source} WHERE {key} = NEW.{column}) <> 'draft') THEN
    RAISE EXCEPTION 'ledger: postings of a posted entry are immutable';
  END IF;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql
"""

_POSTING_SOURCE = {"source": "journal_entries e", "key": "e.id", "column": "entry_id"}
_CONVERSION_SOURCE = {
    "source": "postings p JOIN journal_entries e ON e.id = p.entry_id",
    "key": "p.id",
    "column": "posting_id",
}

POSTGRESQL = [
    _PG_CHART_FUNCTION,
    *(
        f"""CREATE TRIGGER {table}_token AFTER INSERT OR UPDATE OR DELETE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_chart_token()"""
        for table in _CHART_TABLES
    ),
    _PG_ENTRIES_INSERTED,
    _PG_ENTRY_CHANGED,
    _PG_LINES_INSERTED.replace("ledger_lines_inserted", "ledger_postings_inserted").format(
        join="JOIN journal_entries e ON e.id = n.entry_id"
    ),
    _PG_LINES_INSERTED.replace("ledger_lines_inserted", "ledger_conversions_inserted").format(
        join="JOIN postings p ON p.id = n.posting_id JOIN journal_entries e ON e.id = p.entry_id"
    ),
    _PG_LINE_CHANGED.format(name="posting", **_POSTING_SOURCE),
    _PG_LINE_CHANGED.format(name="conversion", **_CONVERSION_SOURCE),
    """CREATE TRIGGER je_inserted AFTER INSERT ON journal_entries
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_inserted()""",
    """CREATE TRIGGER je_guard BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_guard()""",
    """CREATE TRIGGER po_inserted AFTER INSERT ON postings REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_inserted()""",
    """CREATE TRIGGER po_guard BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION ledger_posting_guard()""",
    """CREATE TRIGGER pc_inserted AFTER INSERT ON posting_conversions
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_conversions_inserted()""",
    """CREATE TRIGGER pc_guard BEFORE UPDATE OR DELETE ON posting_conversions
    FOR EACH ROW EXECUTE FUNCTION ledger_conversion_guard()""",
]

_PG_TRIGGERS = {
    "journal_entries": ("je_inserted", "je_guard"),
    "postings": ("po_inserted", "po_guard"),
    "posting_conversions": ("pc_inserted", "pc_guard"),
}
_PG_FUNCTIONS = (
    "ledger_chart_token",
    "ledger_entries_inserted",
    "ledger_entry_guard",
    "ledger_postings_inserted",
    "ledger_conversions_inserted",
    "ledger_posting_guard",
    "ledger_conversion_guard",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL if dialect == "postgresql" else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _CHART_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_token ON {table}")
        for table, names in _PG_TRIGGERS.items():
            for name in names:
                op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in _PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        return
    for name in (
        "je_insert_guard",
        "je_immutable",
        "je_draft_lock",
        "je_post_balanced",
        "je_post_gapless",
        "je_no_delete",
        "po_insert_guard",
        "po_update_guard",
        "po_delete_guard",
        "pc_insert_guard",
        "pc_update_guard",
        "pc_delete_guard",
        *(f"{t}_{o}_token" for t in _CHART_TABLES for o in ("insert", "update", "delete")),
    ):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
