"""Linking finance transactions to customers by a customer id that both exports spell
their own way, on DuckDB: no row is lost for a badly written id.

What people do today (read both files, ``drop_duplicates``, cast the id to an integer,
``merge``) drops every transaction whose id does not cast (``" 1042"``, ``"1042.0"``,
``"C-001042"``) and keeps customers that differ only in spacing or case twice. Here both
ids are read as text and brought to one canonical key (trimmed, upper case, a customer
prefix and leading zeros dropped, ``.0`` of a float export dropped), customers are cleaned
(whitespace, e-mail case) and kept once per key (the most complete row), and every
transaction is written with its customer's columns and how it was linked::

    report = link_transactions(JoinSpec(Path("crm.csv"), Path("finance.csv"), Path("out.csv")))
    report.matched, report.repaired, report.unknown, report.bad
    report.problems[0]      # Issue("finance", 17, "customer_id", "problem", "no customer ...")

``link`` in the output is ``matched``, ``repaired`` (matched once the id was cleaned),
``unknown`` (a readable id no customer has) or ``bad`` (no id). The work runs in a
temporary DuckDB database with a memory limit, so it spills to disk instead of growing.

The transactions file is read twice rather than held: once for the keys alone (counts and
located problems) and once streamed into the output. Reading a text file again costs less
than keeping ten million whole rows, which outgrow the memory limit and spill.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from crmledger.fusion.records import Issue

#: Values that stand for "no id" in exports (and spreadsheet errors: ``#REF!``, ``#N/A``).
NO_ID = ("", "N/A", "NA", "NULL", "NONE", "-", "?", "0", "UNKNOWN")
_NUMERIC = r"^(?:CUST|CUS|KD|NR|C)?[-_ #.]*0*([0-9]+)(?:\.0+)?$"


@dataclass(frozen=True, slots=True)
class JoinSpec:
    """Two delimited text files, the column holding the customer id in each, the output
    file, and the resources DuckDB may use."""

    customers: Path
    transactions: Path
    out: Path
    customer_key: str = "customer_id"
    transaction_key: str = "customer_id"
    threads: int = 2
    memory_limit: str = "1GB"
    keep_problems: int = 200


@dataclass
class JoinReport:
    """What a join did; ``problems`` holds the first located transactions without a
    customer (line in the file, the id field, why)."""

    customers_in: int = 0
    customers: int = 0
    transactions: int = 0
    matched: int = 0
    repaired: int = 0
    unknown: int = 0
    bad: int = 0
    seconds: float = 0.0
    problems: list[Issue] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        """Customer rows dropped as copies of another with the same key."""
        return self.customers_in - self.customers


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _macros(con: duckdb.DuckDBPyConnection) -> None:
    # "No id" is one regular expression, not ``IN (...)``: DuckDB plans a list of that
    # length as a join with the values, and that join gives up the file order of the rows
    # that the problems' line numbers are counted from.
    no_id = "(?:" + "|".join(re.escape(v) for v in NO_ID) + ")|#.*"
    # A plain number (most ids) is its own key and skips the regular expressions.
    con.execute(
        f"""
        CREATE MACRO id_text(raw) AS upper(trim(coalesce(raw, '')));
        CREATE MACRO id_slow(raw) AS CASE
            WHEN regexp_full_match(id_text(raw), {_lit(no_id)}) THEN NULL
            WHEN regexp_matches(id_text(raw), {_lit(_NUMERIC)})
                THEN regexp_extract(id_text(raw), {_lit(_NUMERIC)}, 1)
            ELSE regexp_replace(id_text(raw), '\\s+', '', 'g') END;
        CREATE MACRO id_key(raw) AS CASE
            WHEN CAST(TRY_CAST(raw AS UBIGINT) AS VARCHAR) = raw AND raw <> '0' THEN raw
            ELSE id_slow(raw) END;
        CREATE MACRO clean_text(raw) AS nullif(CASE
            WHEN contains(raw, '  ') OR contains(raw, chr(9)) OR contains(raw, chr(10))
                OR contains(raw, chr(13))
                THEN regexp_replace(trim(raw), '\\s+', ' ', 'g')
            ELSE trim(raw) END, '');
        """
    )


def _columns(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    found = con.execute(
        "SELECT * FROM read_csv(?, all_varchar = true, header = true) LIMIT 0", [str(path)]
    )
    return [d[0] for d in found.description]


def _check(columns: list[str], key: str, path: Path) -> None:
    if key not in columns:
        raise ValueError(f"{path.name}: no column {key!r} (it has {', '.join(columns)})")


def _load_customers(con: duckdb.DuckDBPyConnection, spec: JoinSpec, columns: list[str]) -> int:
    """One row per key: exact copies dropped, text cleaned, the most complete row kept;
    returns how many rows the file held."""
    con.execute(
        "CREATE TABLE customers_in AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
        [str(spec.customers)],
    )
    cleaned = ", ".join(
        f"lower(clean_text({_q(c)})) AS {_q(c)}"
        if "mail" in c.lower()
        else f"clean_text({_q(c)}) AS {_q(c)}"
        for c in columns
    )
    filled = " + ".join(f"({_q(c)} IS NOT NULL)::INTEGER" for c in columns)
    key = _q(spec.customer_key)
    con.execute(
        f"""
        CREATE TABLE customers AS
        SELECT * EXCLUDE (_rank) FROM (
            SELECT *, row_number() OVER (PARTITION BY _key ORDER BY {filled} DESC, {key})
                AS _rank
            FROM (SELECT id_key({key}) AS _key, {cleaned} FROM customers_in)
            WHERE _key IS NOT NULL)
        WHERE _rank = 1
        """
    )
    found = con.execute("SELECT count(*) FROM customers_in").fetchone()
    con.execute("DROP TABLE customers_in")
    assert found is not None
    return int(found[0])


def _transactions(spec: JoinSpec) -> str:
    return f"read_csv({_lit(str(spec.transactions))}, all_varchar = true, header = true)"


def _load_keys(con: duckdb.DuckDBPyConnection, spec: JoinSpec) -> None:
    """Only the key of every transaction and the id as written where cleaning changed it
    (``''`` for none): two narrow columns, so 10 million transactions stay well inside the
    memory limit where the whole rows would spill. Nothing joins in this statement, so the
    table keeps the file order and ``rowid`` + 2 is the line of the transaction."""
    key = _q(spec.transaction_key)
    con.execute(
        f"""
        CREATE TABLE keys AS
        SELECT _key, CASE WHEN _key IS DISTINCT FROM raw THEN coalesce(raw, '') END AS _raw
        FROM (SELECT {key} AS raw, id_key({key}) AS _key FROM {_transactions(spec)})
        """
    )


def _count(con: duckdb.DuckDBPyConnection, report: JoinReport) -> None:
    row = con.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE c._key IS NOT NULL),
               count(*) FILTER (WHERE c._key IS NOT NULL AND k._raw IS NOT NULL),
               count(*) FILTER (WHERE k._key IS NOT NULL AND c._key IS NULL),
               count(*) FILTER (WHERE k._key IS NULL)
        FROM keys k LEFT JOIN (SELECT _key FROM customers) c ON k._key = c._key
        """
    ).fetchone()
    assert row is not None
    report.transactions, report.matched, report.repaired, report.unknown, report.bad = map(int, row)
    customers = con.execute("SELECT count(*) FROM customers").fetchone()
    assert customers is not None
    report.customers = int(customers[0])


def _problems(con: duckdb.DuckDBPyConnection, spec: JoinSpec, report: JoinReport) -> None:
    rows = con.execute(
        f"""
        SELECT k.rowid + 2, coalesce(k._raw, k._key), k._key IS NULL
        FROM keys k ANTI JOIN customers c ON k._key = c._key
        ORDER BY k.rowid LIMIT {int(spec.keep_problems)}
        """
    ).fetchall()
    source = spec.transactions.stem
    for line, raw, bad in rows:
        shown = "" if raw is None else str(raw)
        reason = (
            f"no customer id in {shown!r}" if bad else f"no customer has the id {shown.strip()!r}"
        )
        report.problems.append(Issue(source, int(line), spec.transaction_key, "problem", reason))


def _write(con: duckdb.DuckDBPyConnection, spec: JoinSpec, customer_columns: list[str]) -> None:
    """Read the file a second time, streamed: each transaction meets its customer on the
    way to the output and is never held as a whole row. A join does not keep the order of
    its input in DuckDB, so a large file comes out in blocks of rows from the file rather
    than in file order; each row carries its own fields, and the lines of the problems come
    from :func:`_load_keys`."""
    picked = ", ".join(
        f"c.{_q(c)} AS {_q('customer_' + c if not c.startswith('customer_') else c + '_crm')}"
        for c in customer_columns
    )
    key = _q(spec.transaction_key)
    link = (
        "CASE WHEN t._key IS NULL THEN 'bad' WHEN c._key IS NULL THEN 'unknown' "
        f"WHEN t._key <> t.{key} THEN 'repaired' ELSE 'matched' END"
    )
    con.execute(
        f"""
        COPY (
            SELECT t.* EXCLUDE (_key), {picked}, {link} AS link
            FROM (SELECT *, id_key({key}) AS _key FROM {_transactions(spec)}) t
            LEFT JOIN customers c ON t._key = c._key
        ) TO {_lit(str(spec.out))} (HEADER, DELIMITER ',')
        """
    )


def link_transactions(spec: JoinSpec) -> JoinReport:
    """Write every transaction of ``spec.transactions`` with its customer's columns (see
    the module docs); a missing id column is a :class:`ValueError` naming the file."""
    started = time.perf_counter()
    report = JoinReport()
    with tempfile.TemporaryDirectory(prefix="crmledger-join-") as folder:
        # In memory, spilling to ``folder`` beyond the limit.
        con = duckdb.connect()
        try:
            settings: dict[str, Any] = {
                "threads": spec.threads,
                "memory_limit": spec.memory_limit,
                "temp_directory": folder,
            }
            for name, value in settings.items():
                con.execute(f"SET {name} = {_lit(str(value))}")
            _macros(con)
            customer_columns = _columns(con, spec.customers)
            _check(customer_columns, spec.customer_key, spec.customers)
            _check(_columns(con, spec.transactions), spec.transaction_key, spec.transactions)
            report.customers_in = _load_customers(con, spec, customer_columns)
            _load_keys(con, spec)
            _count(con, report)
            _problems(con, spec, report)
            con.execute("DROP TABLE keys")
            _write(con, spec, customer_columns)
        finally:
            con.close()
    report.seconds = round(time.perf_counter() - started, 3)
    return report
