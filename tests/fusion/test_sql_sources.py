"""SQL sources read legacy-looking tables (upper-case columns, CHAR-padded values, dates as
text) from the local MariaDB and PostgreSQL, and mapping plus cleaning make them canonical."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from crmledger.fusion.clean import clean_record
from crmledger.fusion.mapping import load_mapping
from crmledger.fusion.sources import SourceError, SourceSpec, read_all
from crmledger.persistence.fusion_sql import SqlSource, open_sql, redacted

MARIADB_URL = os.environ.get(
    "CRMLEDGER_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)
POSTGRES_URL = os.environ.get("CRMLEDGER_TEST_POSTGRES_URL", "")

_ROWS = [
    ("K0001", "ACME GMBH", "Hauptstr. 5", "10115", "Deutschland", "030 1234567", "12.03.1970"),
    ("K0002", "Müller, Hans", "Ringweg 2", "80331", "Deutschland", "+49 89 1234567", "01.01.1980"),
    ("K0003", "Beta Ltd", "1 High St", "SW1A1AA", "Vereinigtes Königreich", None, "31.02.1970"),
]
_MAPPING = """\
fields:
  external_id: {from: KUNDENNR, transforms: [trim]}
  kind: {from: ANREDE, map: {firma: organisation, herr: person}}
  full_name: NAME1
  street: STRASSE
  postcode: PLZ
  country: {from: LAND, map: {deutschland: DE, vereinigtes königreich: GB}}
  phone: TEL
  birth_date: {from: GEBDAT, date: "%d.%m.%Y"}
"""


def _fill(url: str, schema: str | None) -> None:
    engine = create_engine(url)
    quote = '"' if engine.dialect.name == "postgresql" else "`"
    q = lambda name: f"{quote}{name}{quote}"  # noqa: E731
    table = f"{schema}.{q('KUNDEN')}" if schema else q("KUNDEN")
    columns = ["KUNDENNR", "ANREDE", "NAME1", "STRASSE", "PLZ", "LAND", "TEL", "GEBDAT"]
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
            conn.execute(
                text(
                    f"CREATE TABLE {table} ({q('KUNDENNR')} CHAR(10) PRIMARY KEY, "
                    f"{q('ANREDE')} CHAR(6), {q('NAME1')} CHAR(40), {q('STRASSE')} VARCHAR(60), "
                    f"{q('PLZ')} CHAR(8), {q('LAND')} VARCHAR(40), {q('TEL')} VARCHAR(30), "
                    f"{q('GEBDAT')} CHAR(10))"
                )
            )
            names = ", ".join(q(c) for c in columns)
            marks = ", ".join(f":{c}" for c in columns)
            for ext, name, street, plz, land, tel, born in reversed(_ROWS):
                kind = "Herr" if "," in name else "Firma"
                conn.execute(
                    text(f"INSERT INTO {table} ({names}) VALUES ({marks})"),
                    dict(
                        zip(columns, [ext, kind, name, street, plz, land, tel, born], strict=True)
                    ),
                )
    finally:
        engine.dispose()


@pytest.fixture(params=["mariadb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def legacy(request: pytest.FixtureRequest) -> Iterator[tuple[str, str | None]]:
    """A database URL (and schema) holding the legacy ``KUNDEN`` table."""
    if request.param == "mariadb":
        try:
            _fill(MARIADB_URL, None)
        except OperationalError as exc:
            pytest.skip(f"MariaDB not reachable: {exc.args[0]}")
        yield MARIADB_URL, None
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set CRMLEDGER_TEST_POSTGRES_URL")
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg").render_as_string(False)
    schema = f"fusion_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        _fill(url, schema)
        yield url, schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def test_a_legacy_table_reads_in_key_order_with_its_padding(legacy: tuple[str, str | None]) -> None:
    url, schema = legacy
    source = SqlSource("erp", url, table="KUNDEN", schema=schema)
    assert source.columns()[:3] == ["KUNDENNR", "ANREDE", "NAME1"]
    chunks = list(source.chunks(2))
    assert [len(c) for c in chunks] == [2, 1]
    records = [r for c in chunks for r in c]
    assert [r.row for r in records] == [1, 2, 3]
    ext = [r.raw["KUNDENNR"] for r in records]
    assert [e.strip() for e in ext if e] == ["K0001", "K0002", "K0003"]
    assert records[2].raw["TEL"] is None
    assert records[0].raw["GEBDAT"] == "12.03.1970"


def test_mapping_and_cleaning_make_legacy_rows_canonical(legacy: tuple[str, str | None]) -> None:
    url, schema = legacy
    source = open_sql(
        SourceSpec("erp", "sql", {"url": url, "table": "KUNDEN", "schema": schema}),
        None,  # type: ignore[arg-type]
    )
    mapping = load_mapping(_MAPPING, "erp.yml", source.columns())
    out = []
    problems = []
    for record in read_all(source):
        fused, issues = mapping.apply(record, "erp")
        problems += issues
        assert fused is not None
        cleaned, issues = clean_record(fused, "DE")
        problems += [i for i in issues if i.kind == "problem"]
        out.append(cleaned.values)
    assert out[0]["display_name"] == "Acme GmbH"
    assert out[0]["phone"] == "+49301234567"
    assert out[0]["country"] == "DE"
    assert (out[1]["given_name"], out[1]["family_name"]) == ("Hans", "Müller")
    assert str(out[1]["birth_date"]) == "1980-01-01"
    assert out[2]["postcode"] == "SW1A 1AA"
    assert [str(p) for p in problems] == ["erp:3: birth_date: is not a date in the format %d.%m.%Y"]


def test_a_query_source_and_its_errors(legacy: tuple[str, str | None]) -> None:
    url, schema = legacy
    quote = '"' if url.startswith("postgresql") else "`"
    table = f"{schema}.{quote}KUNDEN{quote}" if schema else "KUNDEN"
    query = f"SELECT {quote}KUNDENNR{quote} AS id FROM {table} ORDER BY 1 DESC"
    records = read_all(SqlSource("erp", url, query=query))
    assert [r.raw["id"].strip() for r in records if r.raw["id"]] == ["K0003", "K0002", "K0001"]
    with pytest.raises(SourceError, match="erp: the database has no table 'NOPE'"):
        read_all(SqlSource("erp", url, table="NOPE", schema=schema))


def test_urls_are_stored_without_password() -> None:
    assert redacted("postgresql+psycopg://ann:secret@db:5432/erp") == (
        "postgresql+psycopg://ann:***@db:5432/erp"
    )
    with pytest.raises(SourceError, match="either a 'table' or a 'query'"):
        open_sql(SourceSpec("x", "sql", {"url": "sqlite://"}), None)  # type: ignore[arg-type]
