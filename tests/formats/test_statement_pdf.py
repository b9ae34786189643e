"""Statements of account printed: labels in the party's language (English where there are
none), money and dates in its locale with the currency's own decimals, and nothing loaded
from outside the document."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

from pypdf import PdfReader

from crmledger.core.billing.printable import Company, Customer, PostalAddress
from crmledger.core.party_statement import CurrencyStatement, PartyStatement, StatementLine
from crmledger.formats.statement_pdf import render_html, render_statement

D = Decimal


def statement(language: str, currency: str = "EUR", scale: int = 2) -> PartyStatement:
    def m(value: str) -> Decimal:
        return D(value).quantize(D(1).scaleb(-scale))

    lines = (
        StatementLine(date(2026, 3, 2), "invoice", "INV-2026-0001", date(2026, 4, 1),
                      m("1190"), m("1190")),
        StatementLine(date(2026, 3, 20), "receipt", "RC-2026-0001", None, m("-190"), m("1000")),
    )  # fmt: skip
    section = CurrencyStatement(
        currency, scale, m("0"), lines, m("1000"), (m("1000"), m("0"), m("0")), m("0")
    )
    return PartyStatement(
        kind="customer",
        party_id=7,
        start=date(2026, 1, 1),
        end=date(2026, 3, 31),
        language=language,
        seller=Company("Example GmbH", PostalAddress(("Hafenstraße 1",), "20457", "Hamburg",
                                                     "DE"), iban="DE89370400440532013000"),
        buyer=Customer("Acme SARL", PostalAddress(("1 rue de la Paix",), "75002", "Paris", "FR")),
        bounds=(30,),
        sections=(section,),
    )  # fmt: skip


def text_of(pdf: bytes) -> str:
    found = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", found.replace("\u00a0", " ").replace("\u202f", " "))


def test_a_language_without_labels_reads_english_in_its_own_formats() -> None:
    shown = text_of(render_statement(statement("fr")))
    assert "Statement of account" in shown
    assert "Opening balance 0,00 €" in shown
    assert "1 190,00 €" in shown  # French grouping, euro after the amount
    assert "31 mars 2026" in shown
    assert "Paris France" in shown


def test_german_labels_and_a_currency_without_decimals() -> None:
    shown = text_of(render_statement(statement("de", "JPY", 0)))
    assert "Kontoauszug" in shown
    assert "Schlusssaldo" in shown
    assert "1.190 ¥" in shown
    assert "1-30 Über 30" in shown


def test_the_html_refers_to_nothing_outside_itself() -> None:
    html = render_html(statement("en"))
    assert "http://" not in html
    assert "https://" not in html
    assert "<link" not in html
