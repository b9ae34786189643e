"""The SQL connector against real MariaDB and PostgreSQL databases: customers are pulled by
their change time, crmledger's changes are pushed back without echoing, a push repeated
after a crash updates the row it created instead of adding one, and invoices reconcile by
number with totals per currency.

The outside database is MariaDB (``CRMLEDGER_TEST_MARIADB_URL``, by default root on
127.0.0.1:3306, database ``test``) or PostgreSQL (``CRMLEDGER_TEST_POSTGRES_URL``, a schema
of its own); each is skipped, saying why, when it does not answer.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from crmledger.bootstrap import App, worker
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.core.errors import InvalidFieldError
from crmledger.integration.bus import InProcessBus
from crmledger.services.invoicing import DocumentLine, NewDocument
from tests.conftest import POSTGRES_URL

MARIADB_URL = os.environ.get(
    "CRMLEDGER_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)
#: The book itself is SQLite here: what varies is the outside database.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@dataclass
class Outside:
    """An outside database with a customers and an invoices table of this test's own."""

    url: str
    engine: Engine
    schema: str | None
    customers: str
    invoices: str

    def table(self, name: str) -> str:
        return f"{self.schema}.{name}" if self.schema else name

    def run(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.begin() as conn:
            found = conn.execute(text(sql), params)
            return list(found) if found.returns_rows else []


def _mariadb() -> Iterator[Outside]:
    engine = create_engine(MARIADB_URL)
    try:
        engine.connect().close()
    except OperationalError:
        pytest.skip(f"MariaDB does not answer at {MARIADB_URL}")
    suffix = uuid.uuid4().hex[:8]
    outside = Outside(MARIADB_URL, engine, None, f"customers_{suffix}", f"invoices_{suffix}")
    outside.run(
        f"CREATE TABLE {outside.customers} (id VARCHAR(20) PRIMARY KEY, company VARCHAR(200),"
        " email VARCHAR(200), country CHAR(2), updated_at DATETIME NOT NULL)"
    )
    outside.run(
        f"CREATE TABLE {outside.invoices} (number VARCHAR(30) PRIMARY KEY, customer VARCHAR(20),"
        " currency CHAR(3), total DECIMAL(12,2))"
    )
    try:
        yield outside
    finally:
        outside.run(f"DROP TABLE {outside.customers}")
        outside.run(f"DROP TABLE {outside.invoices}")
        engine.dispose()


def _postgres() -> Iterator[Outside]:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set CRMLEDGER_TEST_POSTGRES_URL")
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg").render_as_string(False)
    engine = create_engine(url)
    schema = f"outside_{uuid.uuid4().hex[:8]}"
    outside = Outside(url, engine, schema, "customers", "invoices")
    outside.run(f'CREATE SCHEMA "{schema}"')
    outside.run(
        f"CREATE TABLE {outside.table('customers')} (id VARCHAR(20) PRIMARY KEY,"
        " company VARCHAR(200), email VARCHAR(200), country CHAR(2),"
        " updated_at TIMESTAMP WITH TIME ZONE NOT NULL)"
    )
    outside.run(
        f"CREATE TABLE {outside.table('invoices')} (number VARCHAR(30) PRIMARY KEY,"
        " customer VARCHAR(20), currency CHAR(3), total NUMERIC(12,2))"
    )
    try:
        yield outside
    finally:
        outside.run(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


@pytest.fixture(params=["mariadb", "postgresql"])
def outside(request: pytest.FixtureRequest) -> Iterator[Outside]:
    yield from (_mariadb() if request.param == "mariadb" else _postgres())


def _config(outside: Outside, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "url": outside.url,
        "objects": {
            "customer": {
                "source": outside.customers,
                "id": "id",
                "version": "updated_at",
                "fields": {"name": "company", "email": "email", "country": "country"},
            },
            "invoice": {
                "source": outside.invoices,
                "id": "number",
                "fields": {
                    "number": "number",
                    "customer": "customer",
                    "currency": "currency",
                    "total": "total",
                },
            },
        },
        **extra,
    }
    if outside.schema:
        config["schema"] = outside.schema
    return config


def _insert(outside: Outside, ident: str, company: str, email: str, changed: str) -> None:
    outside.run(
        f"INSERT INTO {outside.table(outside.customers)} VALUES (:i, :c, :e, 'DE', :u)",
        i=ident,
        c=company,
        e=email,
        u=datetime.fromisoformat(changed),
    )


def test_customers_are_pulled_by_change_time(app: App, outside: Outside) -> None:
    _insert(outside, "K1", "Acme GmbH", "ap@acme.example", "2026-01-01T10:00:00")
    _insert(outside, "K2", "Bolt AG", "info@bolt.example", "2026-01-01T11:00:00")
    app.sync.add("erp", "sql", _config(outside))
    assert app.sync.run("erp", limit=1).counts["created"] == 2  # two pages of one
    outside.run(
        f"UPDATE {outside.table(outside.customers)} SET company = 'Acme AG',"
        " updated_at = :u WHERE id = 'K1'",
        u=datetime(2026, 1, 2, 9, 0),
    )
    report = app.sync.run("erp")
    assert [(r.external_id, r.outcome, r.fields) for r in report.results] == [
        ("K1", "updated", ("name",))
    ]
    party = app.parties.find_external("erp", "K1")
    assert party is not None
    assert app.parties.get(party).display_name == "Acme AG"


def test_changes_are_pushed_back_once_and_without_echo(app: App, outside: Outside) -> None:
    _insert(outside, "K1", "Acme GmbH", "ap@acme.example", "2026-01-01T10:00:00")
    app.sync.add("erp", "sql", _config(outside, push=True, push_new=True, id_prefix="CL-"))
    app.sync.run("erp")
    party = app.parties.find_external("erp", "K1")
    assert party is not None
    app.parties.update(party, {"display_name": "Acme Europe GmbH"}, None)
    new = app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Newco Ltd"))
    report = app.sync.push("erp")
    assert sorted((r.external_id, r.outcome) for r in report.results) == [
        ("CL-" + str(new.id), "created"),
        ("K1", "updated"),
    ]
    table = outside.table(outside.customers)
    rows = dict(outside.run(f"SELECT id, company FROM {table} ORDER BY id"))
    assert rows == {f"CL-{new.id}": "Newco Ltd", "K1": "Acme Europe GmbH"}
    # Pulling now sees both rows changed outside, by the push itself: nothing to do.
    echo = app.sync.run("erp")
    assert {r.outcome for r in echo.results} == {"unchanged"}
    assert app.parties.count() == 2
    # A push repeated after a crash (its links lost) updates the rows it made.
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM sync_links WHERE external_id LIKE 'CL-%'"))
    again = app.sync.push("erp")
    assert [(r.external_id, r.outcome) for r in again.results] == [(f"CL-{new.id}", "created")]
    assert len(outside.run(f"SELECT id FROM {table}")) == 2
    assert sum(app.sync.push("erp").counts.values()) == 0  # everything in step


def test_a_party_merged_before_its_push_is_not_created_outside(app: App, outside: Outside) -> None:
    app.sync.add("erp", "sql", _config(outside, push=True, push_new=True, id_prefix="CL-"))
    kept = app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Kept GmbH"))
    gone = app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Kept Gmbh."))
    assert kept.id is not None
    assert gone.id is not None
    app.party_merges.merge(kept.id, gone.id)
    loop = worker(app, InProcessBus(), "merge-test")
    for _ in range(3):  # relay the events, queue both parties, push what is queued
        loop.tick()
    table = outside.table(outside.customers)
    assert [r[0] for r in outside.run(f"SELECT id FROM {table}")] == [f"CL-{kept.id}"]
    assert app.sync.status("erp")["queued"] == 0  # the absorbed party left the queue too


def test_invoices_reconcile_by_number_with_totals(app: App, outside: Outside) -> None:
    _insert(outside, "K1", "Acme GmbH", "ap@acme.example", "2026-01-01T10:00:00")
    app.sync.add("erp", "sql", _config(outside))
    app.sync.run("erp")
    party = app.parties.find_external("erp", "K1")
    assert party is not None
    numbers = []
    for amount in ("100.00", "250.50"):
        line = DocumentLine(
            description="Consulting", unit_price=Decimal(amount), tax_category="zero"
        )
        draft = app.invoices.create(NewDocument(party_id=party, currency="EUR", lines=[line]))
        numbers.append(app.invoices.issue(draft.id, draft.version).number)
    invoices = outside.table(outside.invoices)
    for number, total in zip(numbers, ("100.00", "250.50"), strict=True):
        outside.run(
            f"INSERT INTO {invoices} VALUES (:n, 'K1', 'EUR', :t)", n=number, t=Decimal(total)
        )
    verdict = app.sync.reconcile("erp", "invoice")
    assert verdict.agree, verdict.differences
    assert verdict.totals == {"EUR": (Decimal("350.50"), Decimal("350.50"))}
    outside.run(f"UPDATE {invoices} SET total = 205.50 WHERE number = :n", n=numbers[1])
    outside.run(f"INSERT INTO {invoices} VALUES ('X-9', 'K1', 'EUR', 10)")
    verdict = app.sync.reconcile("erp", "invoice")
    assert not verdict.agree
    assert verdict.totals["EUR"] == (Decimal("350.50"), Decimal("315.50"))
    assert [(d.key, d.kind, d.field) for d in verdict.differences] == [
        (numbers[1], "field", "total"),
        ("X-9", "missing_local", ""),
    ]
    assert (verdict.missing_local, verdict.differing) == (1, 1)


def test_a_password_in_the_url_is_refused(app: App) -> None:
    outside = Outside("mysql+pymysql://root:secret@127.0.0.1:3306/test", None, None, "c", "i")  # type: ignore[arg-type]
    with pytest.raises(InvalidFieldError, match="secrets"):
        app.sync.add("erp", "sql", _config(outside))
    assert app.sync.list() == []
