"""Statements of account as PDF: a customer's or vendor's documents and payments of a
period with the running balance, per currency, and the aging of what is open, on A4.

A renderer reads one :class:`~crmledger.core.party_statement.PartyStatement` and nothing
else. Labels come from a small table per language (English where a language has none),
dates and money from Babel in the party's locale with exactly the currency's decimals;
the company's name, address and bank details head and foot every page::

    render_statement(statement)   # "Statement of account ... Closing balance €1,190.00"
    # a "de" customer reads "Kontoauszug ... Schlusssaldo 1.190,00 €"

Rendering is offline: the stylesheet is inlined, the logo is a ``data:`` URI and the URL
fetcher refuses every other scheme.
"""

from __future__ import annotations

import base64
import copy
from datetime import date
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from crmledger.core.billing.printable import PostalAddress
from crmledger.core.party_statement import CurrencyStatement, PartyStatement

# One row per label: English, German. A language without a column falls back to English.
_LABEL_ROWS: dict[str, tuple[str, str]] = {
    "title": ("Statement of account", "Kontoauszug"),
    "period": ("Period", "Zeitraum"),
    "issued_on": ("Date", "Datum"),
    "customer_number": ("Customer number", "Kundennummer"),
    "vendor_number": ("Supplier number", "Lieferantennummer"),
    "vat_id": ("VAT ID", "USt-IdNr."),
    "customer_vat_id": ("Your VAT ID", "Ihre USt-IdNr."),
    "currency": ("Currency", "Währung"),
    "date": ("Date", "Datum"),
    "document": ("Document", "Beleg"),
    "description": ("Description", "Beschreibung"),
    "due_on": ("Due", "Fällig"),
    "charges": ("Charges", "Belastungen"),
    "credits": ("Payments and credits", "Zahlungen und Gutschriften"),
    "balance": ("Balance", "Saldo"),
    "opening": ("Opening balance", "Anfangssaldo"),
    "closing": ("Closing balance", "Schlusssaldo"),
    "aging": ("Open items by days overdue", "Offene Posten nach Tagen überfällig"),
    "current": ("Current", "Nicht fällig"),
    "over": ("Over", "Über"),
    "unapplied": ("Unapplied credit", "Nicht zugeordnetes Guthaben"),
    "total": ("Total", "Summe"),
    "no_activity": ("No documents or payments in this period.", "Keine Belege im Zeitraum."),
    "bank": ("Bank details", "Bankverbindung"),
    "page": ("Page", "Seite"),
    "invoice": ("Invoice", "Rechnung"),
    "credit_note": ("Credit note", "Gutschrift"),
    "receipt": ("Payment received", "Zahlungseingang"),
    "refund": ("Refund", "Erstattung"),
    "bill": ("Bill", "Eingangsrechnung"),
    "vendor_payment": ("Payment made", "Zahlungsausgang"),
    "vendor_refund": ("Refund received", "Erstattung erhalten"),
    "customer_note": (
        "Please let us know within 14 days if this statement differs from your records.",
        "Bitte teilen Sie uns Abweichungen von Ihren Unterlagen innerhalb von 14 Tagen mit.",
    ),
    "vendor_note": (
        "This statement lists what we have booked on your account.",
        "Dieser Auszug zeigt, was wir auf Ihrem Konto gebucht haben.",
    ),
}
_LANGUAGES = ("en", "de")
_LABELS: dict[str, dict[str, str]] = {
    language: {key: row[column] for key, row in _LABEL_ROWS.items()}
    for column, language in enumerate(_LANGUAGES)
}

_TEMPLATES = Environment(
    loader=PackageLoader("crmledger.formats", "templates/statements"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)


def statement_locale(language: str) -> Locale:
    """The Babel locale of a party's language (English when Babel does not know it): its
    dates and money formats; the labels fall back to English where there are none."""
    try:
        return Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale("en")


def money(amount: Decimal, currency: str, scale: int, locale: Locale) -> str:
    """``amount`` in ``locale``'s currency format with exactly ``scale`` decimals."""
    pattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (scale, scale)
    return format_currency(amount, currency, format=pattern, locale=locale, currency_digits=False)


def render_html(statement: PartyStatement) -> str:
    """The HTML that :func:`render_statement` prints: self-contained."""
    return _TEMPLATES.get_template("statement.html").render(_context(statement))


def render_statement(statement: PartyStatement) -> bytes:
    """``statement`` as an A4 PDF in the party's language."""
    from weasyprint import HTML  # noqa: PLC0415 - half a second to import
    from weasyprint.urls import URLFetcher  # noqa: PLC0415

    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    pdf: bytes = HTML(string=render_html(statement), url_fetcher=fetcher).write_pdf()
    return pdf


class StatementPdfRenderer:
    """The ``StatementRenderer`` port: WeasyPrint loads when a statement is printed."""

    def pdf(self, statement: PartyStatement) -> bytes:
        """The statement as PDF."""
        return render_statement(statement)


# -- what the template sees ----------------------------------------------------------------


def _context(statement: PartyStatement) -> dict[str, Any]:
    locale = statement_locale(statement.language)
    labels = _LABELS.get(str(locale.language), _LABELS["en"])

    def day(value: date) -> str:
        return format_date(value, "medium", locale=locale)

    number_label = "customer_number" if statement.kind == "customer" else "vendor_number"
    return {
        "s": statement,
        "lang": str(locale.language) if str(locale.language) in _LABELS else "en",
        "t": labels,
        "number_label": labels[number_label],
        "note": labels[f"{statement.kind}_note"],
        "period": f"{day(statement.start)} - {day(statement.end)}",
        "issued_on": day(statement.end),
        "logo": _data_uri(statement.seller.logo_png),
        "seller_address": _address_lines(statement.seller.address, locale),
        "buyer_address": _address_lines(statement.buyer.address, locale),
        "buckets": _bucket_labels(statement.bounds, labels),
        "sections": [_section(s, locale, labels) for s in statement.sections],
    }


def _bucket_labels(bounds: tuple[int, ...], labels: dict[str, str]) -> list[str]:
    found = [labels["current"]]
    low = 1
    for bound in bounds:
        found.append(f"{low}-{bound}")
        low = bound + 1
    found.append(f"{labels['over']} {bounds[-1]}")
    return found


def _section(section: CurrencyStatement, locale: Locale, labels: dict[str, str]) -> dict[str, Any]:
    def fmt(amount: Decimal | None) -> str:
        return "" if amount is None else money(amount, section.currency, section.scale, locale)

    lines = [
        {
            "date": format_date(line.day, "short", locale=locale),
            "kind": labels.get(line.kind, line.kind),
            "number": line.number,
            "due_on": format_date(line.due_on, "short", locale=locale)
            if line.due_on is not None and line.amount > 0
            else "",
            "charge": fmt(line.charge),
            "credit": fmt(line.credit),
            "balance": fmt(line.balance),
        }
        for line in section.lines
    ]
    return {
        "currency": section.currency,
        "opening": fmt(section.opening),
        "closing": fmt(section.closing),
        "charges": fmt(section.charges),
        "credits": fmt(section.credits),
        "lines": lines,
        "aging": [fmt(a) for a in section.aging],
        "unapplied": fmt(section.credit),
        "total": fmt(sum(section.aging, section.credit)),
    }


def _address_lines(address: PostalAddress, locale: Locale) -> list[str]:
    city = " ".join(part for part in (address.postcode, address.city) if part)
    country = locale.territories.get(address.country.upper(), address.country)
    return [line for line in (*address.lines, city, country) if line]


def _data_uri(png: bytes | None) -> str:
    if not png:
        return ""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
