"""Customer and vendor statements of account on SQLite and PostgreSQL, on the worked book of
:mod:`tests.db.test_aging_report`: the opening balance, every document and payment of the
period with the running balance, the closing balance (opening + documents - payments,
and the party's balance on the control account, summed here from the postings) and the
aging of what is open; the PDF read back as text in the party's language."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.errors import InvalidFieldError
from crmledger.core.party_statement import CurrencyStatement
from crmledger.services.billing_print import CompanyDetails
from crmledger.services.errors import NotFoundError
from tests.db.test_aging_report import PAYABLE, RECEIVABLE, TODAY, worked_book

D = Decimal
COMPANY = CompanyDetails(
    name="Example Consulting GmbH",
    street="Hafenstraße 1",
    postcode="20457",
    city="Hamburg",
    country="DE",
    vat_id="DE136695976",
    iban="DE89370400440532013000",
    bic="COBADEFFXXX",
)


def ledger(app: App, account: str, party: int, commodity: str, day: date) -> Decimal:
    """The party's postings to ``account`` in ``commodity`` up to ``day``."""
    sql = (
        "SELECT COALESCE(SUM(p.amount_minor), 0) FROM postings p "
        "JOIN accounts a ON a.id = p.account_id JOIN journal_entries e ON e.id = p.entry_id "
        "WHERE a.name = :account AND p.party = :party AND p.commodity = :commodity "
        "AND e.date <= :day"
    )
    values = {"account": account, "party": str(party), "commodity": commodity, "day": day}
    with app.engine.connect() as conn:
        return D(int(conn.execute(text(sql), values).scalar_one())) / 100


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with runs of white space (no-break spaces too) made one space."""
    found = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", found.replace("\u00a0", " ").replace("\u202f", " "))


def adds_up(section: CurrencyStatement) -> None:
    assert section.closing == section.opening + section.charges - section.credits
    assert section.closing == sum(section.aging) + section.credit
    running = section.opening
    for line in section.lines:
        running += line.amount
        assert line.balance == running


def test_a_customer_statement_runs_from_opening_to_closing_balance(app: App) -> None:
    book = worked_book(app)
    found = app.party_statements.statement(book.acme, date(2026, 4, 1), TODAY)
    assert (found.kind, found.language, found.buyer.name) == ("customer", "de", "Acme GmbH")
    (eur,) = found.sections
    assert eur.currency == "EUR"
    assert eur.opening == D("119.00")
    assert [(line.number, line.amount, line.balance) for line in eur.lines] == [
        ("INV-2026-0002", D("238.00"), D("357.00")),
        ("RC-2026-0001", D("-50.00"), D("307.00")),
        ("CN-2026-0001", D("-119.00"), D("188.00")),
    ]
    assert (eur.charges, eur.credits, eur.closing) == (D("238.00"), D("169.00"), D("188.00"))
    assert eur.aging == (D("0.00"), D("238.00"), D("0.00"), D("0.00"), D("0.00"))
    assert eur.credit == D("-50.00")
    adds_up(eur)
    assert eur.closing == ledger(app, RECEIVABLE, book.acme, "EUR", TODAY)
    before = app.party_statements.statement(book.acme, date(2026, 1, 1), date(2026, 3, 31))
    assert (
        before.sections[0].closing
        == eur.opening
        == ledger(app, RECEIVABLE, book.acme, "EUR", date(2026, 3, 31))
    )


def test_a_foreign_currency_statement_matches_the_party_in_that_currency(app: App) -> None:
    book = worked_book(app)
    found = app.party_statements.statement(book.globex, date(2026, 6, 1), TODAY)
    (usd,) = found.sections
    assert (usd.currency, usd.opening, usd.closing) == ("USD", D("119.00"), D("59.50"))
    assert [(line.number, line.amount) for line in usd.lines] == [("RC-2026-0002", D("-59.50"))]
    assert usd.aging[1] == D("59.50")  # due 31 May, 30 days overdue on 30 June
    adds_up(usd)
    # The realised gain went to the receivable in euros; the dollars match to the cent.
    assert usd.closing == ledger(app, RECEIVABLE, book.globex, "USD", TODAY)


def test_a_vendor_statement_for_a_party_with_payables_only(app: App) -> None:
    book = worked_book(app)
    found = app.party_statements.statement(book.vendor, date(2026, 5, 1), TODAY)
    assert found.kind == "vendor"
    (eur,) = found.sections
    assert [(line.kind, line.number, line.amount) for line in eur.lines] == [
        ("bill", "BILL-2026-0001", D("119.00")),
        ("vendor_payment", "PY-2026-0001", D("-19.00")),
    ]
    assert (eur.opening, eur.closing) == (D("0.00"), D("100.00"))
    adds_up(eur)
    assert eur.closing == -ledger(app, PAYABLE, book.vendor, "EUR", TODAY)
    quiet = app.party_statements.statement(book.beta, date(2026, 1, 1), date(2026, 5, 31))
    assert [(s.currency, s.opening, s.lines, s.closing) for s in quiet.sections] == [
        ("EUR", D("0.00"), (), D("0.00"))
    ]


def test_the_pdf_reads_in_the_partys_language_with_the_company_details(app: App) -> None:
    book = worked_book(app)
    app.printer.set_company(COMPANY)
    german = pdf_text(app.party_statements.pdf(book.acme, date(2026, 4, 1), TODAY))
    for expected in (
        "Kontoauszug",
        "Anfangssaldo 119,00 €",
        "Schlusssaldo 238,00 € 169,00 € 188,00 €",
        "INV-2026-0002",
        "RC-2026-0001",
        "CN-2026-0001",
        "Nicht zugeordnetes Guthaben",
        "-50,00 €",
        "Example Consulting GmbH",
        "IBAN DE89370400440532013000",
        "Acme GmbH",
    ):
        assert expected in german, expected
    english = pdf_text(app.party_statements.pdf(book.globex, date(2026, 4, 1), TODAY))
    for expected in (
        "Statement of account",
        "Opening balance $0.00",
        "INV-2026-0003",
        "RC-2026-0002",
        "Closing balance $119.00 $59.50 $59.50",
        "BIC COBADEFFXXX",
    ):
        assert expected in english, expected


def test_bad_periods_and_unknown_parties_are_refused(app: App) -> None:
    book = worked_book(app)
    with pytest.raises(InvalidFieldError) as refused:
        app.party_statements.statement(book.acme, TODAY, date(2026, 1, 1))
    assert refused.value.field == "to"
    with pytest.raises(InvalidFieldError) as refused:
        app.party_statements.statement(book.acme, kind="lender")
    assert refused.value.field == "kind"
    with pytest.raises(NotFoundError):
        app.party_statements.statement(9999)
